-- Data-subject rights requests (SQLite). Keep in step with ../postgres/0002_rights.sql.
-- Personal fields (email, name, details, response, extension_reason, subject, receipt_id)
-- are set to NULL when the record is erased at the end of its retention; the ledger keeps
-- only ids, types, statuses and times.

CREATE TABLE rights_requests (
    id                 TEXT    PRIMARY KEY NOT NULL,
    site               TEXT    NOT NULL,
    type               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    language           TEXT    NOT NULL,
    email              TEXT,
    name               TEXT,
    details            TEXT,
    received_at_ms     INTEGER NOT NULL,
    verified_at_ms     INTEGER,
    due_at_ms          INTEGER NOT NULL,
    extended_due_at_ms INTEGER,
    extension_reason   TEXT,
    closed_at_ms       INTEGER,
    response           TEXT,
    subject            TEXT,
    receipt_id         TEXT,
    mail_problem       TEXT,
    reminded_7d_at_ms  INTEGER,
    reminded_1d_at_ms  INTEGER,
    overdue_at_ms      INTEGER,
    erased_at_ms       INTEGER
);

CREATE INDEX rights_requests_status_due ON rights_requests (status, due_at_ms);
CREATE INDEX rights_requests_site_email ON rights_requests (site, email);

CREATE TABLE rights_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT    NOT NULL REFERENCES rights_requests (id),
    ts_ms      INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    note       TEXT
);

CREATE INDEX rights_events_request ON rights_events (request_id, id);

-- Only the sha256 of a token or code is stored.
CREATE TABLE rights_tokens (
    hash          BLOB    PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
    request_id    TEXT    NOT NULL REFERENCES rights_requests (id),
    purpose       TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX rights_tokens_request ON rights_tokens (request_id);

CREATE TABLE rights_attachments (
    id            TEXT    PRIMARY KEY NOT NULL,
    request_id    TEXT    NOT NULL REFERENCES rights_requests (id),
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    bytes         BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

CREATE INDEX rights_attachments_request ON rights_attachments (request_id);
