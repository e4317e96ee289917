-- Assent schema, version 4 (SQLite). Keep in step with ../postgres/0004_consent_keys.sql.
--
-- `consents` keeps only what a consent is searched by; the decision itself (policy version,
-- action, method, channel, language, choices, text fingerprint, expiry) is read from the
-- consent record in the ledger entry's payload, which was always the authoritative copy.
-- Measured on the consent write path (docs/benchmarks.md, session 5): every byte and every
-- B-tree a consent touches is written to the WAL, fsynced and copied again by a checkpoint;
-- the full row with its three indexes cost ~20% of the server's CPU per consent.
--
-- * The unique index on `receipt_id` is gone. Receipt ids made by Assent start with their
--   creation time (12 hex digits of epoch milliseconds), so the time index finds a receipt
--   among the few consents of its millisecond; the same index serves exports by time. An id
--   of any other form (none is made today) is also listed in `consent_receipt_ids`.
-- * The export index no longer starts with the site: one SQLite file serves one company's
--   few sites, and an export reads the period's consents anyway.
-- * `chain` is gone: SQLite uses ledger chain 0 only (schema 3 checked it was 0).

CREATE TABLE consents_v4 (
    seq           INTEGER PRIMARY KEY CHECK (seq >= 0),  -- the ledger entry (chain 0)
    receipt_id    TEXT    NOT NULL,
    site          TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);

INSERT INTO consents_v4 (seq, receipt_id, site, subject, created_at_ms)
SELECT seq, receipt_id, site, subject, created_at_ms FROM consents ORDER BY seq;

-- Receipt ids that do not start with their consent's creation time (see above).
CREATE TABLE consent_receipt_ids (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 0),
    receipt_id TEXT    NOT NULL UNIQUE
);

INSERT INTO consent_receipt_ids (seq, receipt_id)
SELECT seq, receipt_id FROM consents
WHERE NOT (length(receipt_id) = 32
           AND receipt_id NOT GLOB '*[^0-9a-f]*'
           AND substr(receipt_id, 1, 12) = printf('%012x', created_at_ms))
ORDER BY seq;

DROP TABLE consents;
ALTER TABLE consents_v4 RENAME TO consents;

CREATE INDEX consents_site_subject ON consents (site, subject);
-- Receipt lookups and exports; the rowid (seq) ends every index key.
CREATE INDEX consents_created ON consents (created_at_ms);
