-- Assent schema, version 1 (SQLite). Keep in step with ../postgres/0001_init.sql.
-- Timestamps are epoch milliseconds (INTEGER); hashes are 32-byte BLOBs.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE policy_versions (
    site                   TEXT    NOT NULL,
    version                INTEGER NOT NULL CHECK (version >= 1),
    content_hash           TEXT    NOT NULL,
    requires_fresh_consent INTEGER NOT NULL CHECK (requires_fresh_consent IN (0, 1)),
    consent_floor          INTEGER NOT NULL CHECK (consent_floor >= 1 AND consent_floor <= version),
    changes_json           TEXT    NOT NULL,
    registry_json          TEXT    NOT NULL,
    source_toml            TEXT    NOT NULL,
    created_at_ms          INTEGER NOT NULL,
    PRIMARY KEY (site, version)
);

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY NOT NULL,
    hash          BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    role          TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);

-- Append-only except that a payload may be set to NULL by a redaction (the entry keeps
-- committing to the payload's hash, so the chain still verifies).
CREATE TABLE ledger_entries (
    chain        INTEGER NOT NULL CHECK (chain >= 0),
    seq          INTEGER NOT NULL CHECK (seq >= 0),
    ts_ms        INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    payload_hash BLOB    NOT NULL CHECK (length(payload_hash) = 32),
    prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    payload      BLOB,
    PRIMARY KEY (chain, seq)
) WITHOUT ROWID;

-- Bodies are stored as the exact signed text (never re-serialised).
CREATE TABLE ledger_checkpoints (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms     INTEGER NOT NULL,
    body_json TEXT    NOT NULL
);

-- Keyed by its ledger entry: rows are appended in key order (no random table insert), and
-- a redaction finds the row by (chain, seq). receipt_id is unique like PostgreSQL's key.
CREATE TABLE consents (
    chain          INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    receipt_id     TEXT    NOT NULL UNIQUE,
    site           TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    policy_version INTEGER NOT NULL,
    action         TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    choices_json   TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (chain, seq),
    FOREIGN KEY (chain, seq) REFERENCES ledger_entries (chain, seq)
) WITHOUT ROWID;

CREATE INDEX consents_site_subject ON consents (site, subject);
-- Export paging walks (site, created_at_ms, chain, seq): the key is implied by WITHOUT ROWID.
CREATE INDEX consents_site_created ON consents (site, created_at_ms);
