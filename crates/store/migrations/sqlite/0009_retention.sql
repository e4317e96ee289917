-- Assent schema, version 9 (SQLite). Keep in step with ../postgres/0009_retention.sql.
--
-- Retention runs and DPO holds. A run row is written when a rule's purge starts and updated
-- after each chunk, so a run cut short shows what it did; its `retention.run` ledger entry is
-- appended in the transaction that finishes it. A hold names a person (a consent subject id,
-- a requester's email or a rights request id) whose records no run purges while it lasts.

CREATE TABLE retention_runs (
    id             TEXT    PRIMARY KEY NOT NULL,
    rule_id        TEXT    NOT NULL,
    applies_to     TEXT    NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    at_ms          INTEGER NOT NULL,
    cutoff_ms      INTEGER NOT NULL,
    finished_at_ms INTEGER,
    status         TEXT    NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    anonymised     INTEGER NOT NULL DEFAULT 0,
    held           INTEGER NOT NULL DEFAULT 0,
    digest         TEXT,
    error          TEXT
);

CREATE INDEX retention_runs_rule ON retention_runs (rule_id, started_at_ms);

CREATE TABLE retention_holds (
    id            TEXT    PRIMARY KEY NOT NULL,
    person        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    until_ms      INTEGER,
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    lifted_at_ms  INTEGER
);

CREATE INDEX retention_holds_person ON retention_holds (person);
