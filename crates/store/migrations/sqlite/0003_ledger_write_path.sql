-- Assent schema, version 3 (SQLite). Keep in step with ../postgres/0003_ledger_write_path.sql.
--
-- The two tables every consent writes become ordinary rowid tables keyed by `seq`, and
-- `consents` loses its foreign key (see docs/benchmarks.md for the measurements):
--
-- * `ledger_entries` and `consents` were WITHOUT ROWID tables keyed by (chain, seq). Such a
--   table is an index B-tree whose interior cells hold whole rows; with ~650-byte entries an
--   interior page held ~5 of them, so the tree was ~8 levels deep and every group commit
--   rewrote its whole right edge. A rowid table's interior cells hold 8-byte keys and an
--   append goes straight to the last leaf: about a third fewer pages written per consent.
--   SQLite uses ledger chain 0 only (one server per file), so `seq` alone is the key and
--   `chain` is checked to be 0.
-- * The foreign key from `consents` to `ledger_entries` never caught anything (both rows are
--   written by the one writer in one transaction, and a redaction deletes the consent row in
--   the transaction that redacts the entry) but cost a B-tree search per consent. A deleted
--   ledger entry is what `assent ledger verify` reports.
--
-- SQLite cannot change a table's key or drop a constraint: both tables are copied. The child
-- table goes first so that dropping the old ledger table meets no foreign key.

CREATE TABLE consents_v3 (
    chain          INTEGER NOT NULL CHECK (chain = 0),
    seq            INTEGER PRIMARY KEY CHECK (seq >= 0),
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
    expires_at_ms  INTEGER NOT NULL
);

INSERT INTO consents_v3 (chain, seq, receipt_id, site, subject, policy_version, action, method,
                         channel, language, choices_json, fingerprint, created_at_ms, expires_at_ms)
SELECT chain, seq, receipt_id, site, subject, policy_version, action, method,
       channel, language, choices_json, fingerprint, created_at_ms, expires_at_ms
FROM consents ORDER BY seq;

DROP TABLE consents;

-- Append-only except that a payload may be set to NULL by a redaction (the entry keeps
-- committing to the payload's hash, so the chain still verifies).
CREATE TABLE ledger_entries_v3 (
    chain        INTEGER NOT NULL CHECK (chain = 0),
    seq          INTEGER PRIMARY KEY CHECK (seq >= 0),
    ts_ms        INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    payload_hash BLOB    NOT NULL CHECK (length(payload_hash) = 32),
    prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    payload      BLOB
);

INSERT INTO ledger_entries_v3 (chain, seq, ts_ms, kind, payload_hash, prev_hash, hash, payload)
SELECT chain, seq, ts_ms, kind, payload_hash, prev_hash, hash, payload
FROM ledger_entries ORDER BY seq;

DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v3 RENAME TO ledger_entries;
ALTER TABLE consents_v3 RENAME TO consents;

CREATE INDEX consents_site_subject ON consents (site, subject);
-- Export paging walks (site, created_at_ms, chain, seq); the rowid (seq) ends every index key.
CREATE INDEX consents_site_created ON consents (site, created_at_ms, chain);
