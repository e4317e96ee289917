-- Assent schema, version 12 (PostgreSQL). Keep in step with ../sqlite/0012_consent_stats.sql,
-- which explains the counters.

CREATE TABLE consent_stats (
    site    TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    version BIGINT  NOT NULL,
    lang    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    chain   INTEGER NOT NULL,
    n       BIGINT  NOT NULL,
    PRIMARY KEY (site, day, version, lang, kind, chain)
);

CREATE TABLE consent_stats_backfill (
    chain    INTEGER PRIMARY KEY,
    upto_seq BIGINT  NOT NULL,
    done_seq BIGINT  NOT NULL
);

INSERT INTO consent_stats_backfill (chain, upto_seq, done_seq)
SELECT chain, MAX(seq), -1 FROM ledger_entries GROUP BY chain;
