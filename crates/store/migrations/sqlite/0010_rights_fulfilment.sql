-- Rights fulfilment (SQLite). Keep in step with ../postgres/0010_rights_fulfilment.sql.
--
-- rights_intake: how a request reached the controller (a request recorded by the DPO from an
-- email, a letter or a call; requests without a row came through the web form or API) and the
-- correction a rectification asks for (personal data: nulled when the request is erased).
-- rights_restrictions: Assent's own restriction list (Art. 18): a keyed hash of the person's
-- normalised email or phone, never the identifier itself.
-- rights_notifications: one Art. 19 task per recipient after a rectification, erasure or
-- restriction (the message is rendered when read, so nothing personal is stored here).
-- rights_runs: every fulfilment run of a request with its per-datastore outcome (counts and
-- names, no personal data) and its error, so that no request is stuck without a reason.
-- assent_secrets: keys generated once and shared by every server of the database (the key of
-- the subject hashes).

CREATE TABLE rights_intake (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES rights_requests (id),
    channel    TEXT NOT NULL,
    correction TEXT
);

CREATE TABLE rights_restrictions (
    id            TEXT    PRIMARY KEY NOT NULL,
    subject_hash  BLOB    NOT NULL CHECK (length(subject_hash) = 32),
    identity_kind TEXT    NOT NULL,
    request_id    TEXT    REFERENCES rights_requests (id),
    reason        TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    lifted_at_ms  INTEGER,
    lifted_by     TEXT,
    lift_reason   TEXT
);

CREATE INDEX rights_restrictions_subject ON rights_restrictions (subject_hash, lifted_at_ms);
CREATE INDEX rights_restrictions_request ON rights_restrictions (request_id);

CREATE TABLE rights_notifications (
    id             TEXT    PRIMARY KEY NOT NULL,
    request_id     TEXT    NOT NULL REFERENCES rights_requests (id),
    action         TEXT    NOT NULL,
    recipient      TEXT    NOT NULL,
    recipient_name TEXT    NOT NULL,
    provider       TEXT,
    created_at_ms  INTEGER NOT NULL,
    done_at_ms     INTEGER,
    done_by        TEXT,
    note           TEXT
);

CREATE UNIQUE INDEX rights_notifications_once
    ON rights_notifications (request_id, action, recipient);

CREATE TABLE rights_runs (
    id             TEXT    PRIMARY KEY NOT NULL,
    request_id     TEXT    NOT NULL REFERENCES rights_requests (id),
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    outcome        TEXT,
    error          TEXT
);

CREATE INDEX rights_runs_request ON rights_runs (request_id, started_at_ms);

CREATE TABLE assent_secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
