-- Data-subject rights requests (PostgreSQL). Keep in step with ../sqlite/0002_rights.sql.
-- Personal fields (email, name, details, response, extension_reason, subject, receipt_id)
-- are set to NULL when the record is erased at the end of its retention; the ledger keeps
-- only ids, types, statuses and times.

CREATE TABLE rights_requests (
    id                 TEXT    PRIMARY KEY,
    site               TEXT    NOT NULL,
    type               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    language           TEXT    NOT NULL,
    email              TEXT,
    name               TEXT,
    details            TEXT,
    received_at_ms     BIGINT  NOT NULL,
    verified_at_ms     BIGINT,
    due_at_ms          BIGINT  NOT NULL,
    extended_due_at_ms BIGINT,
    extension_reason   TEXT,
    closed_at_ms       BIGINT,
    response           TEXT,
    subject            TEXT,
    receipt_id         TEXT,
    mail_problem       TEXT,
    reminded_7d_at_ms  BIGINT,
    reminded_1d_at_ms  BIGINT,
    overdue_at_ms      BIGINT,
    erased_at_ms       BIGINT
);

CREATE INDEX rights_requests_status_due ON rights_requests (status, due_at_ms);
CREATE INDEX rights_requests_site_email ON rights_requests (site, email);

CREATE TABLE rights_events (
    id         BIGSERIAL PRIMARY KEY,
    request_id TEXT    NOT NULL REFERENCES rights_requests (id),
    ts_ms      BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    note       TEXT
);

CREATE INDEX rights_events_request ON rights_events (request_id, id);

-- Only the sha256 of a token or code is stored.
CREATE TABLE rights_tokens (
    hash          BYTEA   PRIMARY KEY CHECK (octet_length(hash) = 32),
    request_id    TEXT    NOT NULL REFERENCES rights_requests (id),
    purpose       TEXT    NOT NULL,
    expires_at_ms BIGINT  NOT NULL,
    used_at_ms    BIGINT,
    attempts      BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX rights_tokens_request ON rights_tokens (request_id);

CREATE TABLE rights_attachments (
    id            TEXT    PRIMARY KEY,
    request_id    TEXT    NOT NULL REFERENCES rights_requests (id),
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    bytes         BYTEA   NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    expires_at_ms BIGINT  NOT NULL
);

CREATE INDEX rights_attachments_request ON rights_attachments (request_id);
