-- Marketing consent (SQLite). Keep in step with ../postgres/0006_marketing.sql.
--
-- One row per (site, channel, address, purpose): its current state. The address is stood for
-- by `addr_hash`, the keyed HMAC-SHA256 of its canonical form (key `marketing.key` in the data
-- directory), which is all the check before a campaign and the unsubscribe links need. The
-- address itself (`address`) and its plain SHA-256 (`sha256`, for processors' suppression
-- lists) are kept for the suppression export; an erasure nulls `address` and keeps the hashes,
-- so the person is never contacted again. Purpose `*` is a suppression of every purpose (an
-- objection, a withdrawal, "leave them all"). The history, with the provenance of each choice,
-- is in the ledger (`marketing.*` entries, keyed hash only).
CREATE TABLE marketing_subscriptions (
    site          TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    addr_hash     BLOB    NOT NULL CHECK (length(addr_hash) = 32),
    purpose       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    basis         TEXT,
    source        TEXT    NOT NULL,
    receipt_id    TEXT    NOT NULL,
    address       TEXT,
    sha256        TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (site, channel, purpose, addr_hash)
) WITHOUT ROWID;

CREATE INDEX marketing_subscriptions_updated ON marketing_subscriptions (status, updated_at_ms);
CREATE INDEX marketing_subscriptions_hash ON marketing_subscriptions (addr_hash);

-- Double opt-in requests waiting for their link: only the SHA-256 of the link's token is
-- stored. The address is kept to (re)send the confirmation email and deleted with the row
-- once confirmed or expired.
CREATE TABLE marketing_pending (
    token_hash      BLOB    PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    id              TEXT    NOT NULL UNIQUE,
    site            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    addr_hash       BLOB    NOT NULL,
    address         TEXT    NOT NULL,
    basis           TEXT    NOT NULL,
    provenance      TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    mail_sent_at_ms INTEGER,
    mail_attempts   INTEGER NOT NULL DEFAULT 0,
    mail_error      TEXT
);

CREATE INDEX marketing_pending_expires ON marketing_pending (expires_at_ms);
