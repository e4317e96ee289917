-- Assent schema, version 11 (PostgreSQL). Keep in step with ../sqlite/0011_accounts.sql.
--
-- People of the DPO console: accounts with an Argon2id password hash (a PHC string, never
-- the password), one-time setup links (only their sha256), server-side sessions (only the
-- sha256 of the cookie's random id), failed-login counters per account and per client
-- network (so a lockout survives a restart), and when each API token was last used.

CREATE TABLE users (
    id             TEXT   PRIMARY KEY,
    email          TEXT   NOT NULL UNIQUE,
    role           TEXT   NOT NULL,
    password_hash  TEXT,
    totp_secret    TEXT,
    lang           TEXT   NOT NULL,
    tz             TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    disabled_at_ms BIGINT
);

CREATE TABLE user_setup_tokens (
    hash          BYTEA  PRIMARY KEY CHECK (octet_length(hash) = 32),
    user_id       TEXT   NOT NULL REFERENCES users (id),
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

CREATE TABLE user_sessions (
    id_hash       BYTEA  PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    user_id       TEXT   NOT NULL REFERENCES users (id),
    csrf          TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- `key`: `user:<id>` or `net:<salted hash of the client network>` (no address is stored).
CREATE TABLE login_failures (
    key             TEXT   PRIMARY KEY,
    failures        BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL
);

ALTER TABLE api_tokens ADD COLUMN last_used_at_ms BIGINT;

-- The console's audit trail: every ledger entry but consents, newest first. Partial, so that
-- the consent write path maintains no extra index.
CREATE INDEX ledger_entries_audit ON ledger_entries (ts_ms) WHERE kind <> 'consent';
