-- Assent schema, version 1 (PostgreSQL). Keep in step with ../sqlite/0001_init.sql.
-- Timestamps are epoch milliseconds (BIGINT); hashes are 32-byte BYTEA.
-- JSON is stored as TEXT on purpose: it is canonical/signed text and jsonb would re-order it.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE policy_versions (
    site                   TEXT    NOT NULL,
    version                BIGINT  NOT NULL CHECK (version >= 1),
    content_hash           TEXT    NOT NULL,
    requires_fresh_consent BOOLEAN NOT NULL,
    consent_floor          BIGINT  NOT NULL CHECK (consent_floor >= 1 AND consent_floor <= version),
    changes_json           TEXT    NOT NULL,
    registry_json          TEXT    NOT NULL,
    source_toml            TEXT    NOT NULL,
    created_at_ms          BIGINT  NOT NULL,
    PRIMARY KEY (site, version)
);

CREATE TABLE api_tokens (
    id            TEXT   PRIMARY KEY,
    hash          BYTEA  NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    role          TEXT   NOT NULL,
    label         TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);

-- Append-only except that a payload may be set to NULL by a redaction (the entry keeps
-- committing to the payload's hash, so the chain still verifies).
CREATE TABLE ledger_entries (
    chain        INTEGER NOT NULL CHECK (chain >= 0),
    seq          BIGINT  NOT NULL CHECK (seq >= 0),
    ts_ms        BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    payload_hash BYTEA   NOT NULL CHECK (octet_length(payload_hash) = 32),
    prev_hash    BYTEA   NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash         BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    payload      BYTEA,
    PRIMARY KEY (chain, seq)
);

-- Bodies are stored as the exact signed text (never re-serialised).
CREATE TABLE ledger_checkpoints (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts_ms     BIGINT NOT NULL,
    body_json TEXT   NOT NULL
);

CREATE TABLE consents (
    receipt_id     TEXT    PRIMARY KEY,
    site           TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    policy_version BIGINT  NOT NULL,
    action         TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    choices_json   TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,
    created_at_ms  BIGINT  NOT NULL,
    expires_at_ms  BIGINT  NOT NULL,
    chain          INTEGER NOT NULL,
    seq            BIGINT  NOT NULL,
    FOREIGN KEY (chain, seq) REFERENCES ledger_entries (chain, seq)
);

CREATE INDEX consents_site_subject ON consents (site, subject);
-- Export paging walks (site, created_at_ms, chain, seq).
CREATE INDEX consents_site_created ON consents (site, created_at_ms, chain, seq);
CREATE INDEX consents_entry ON consents (chain, seq);
