-- Assent schema, version 3 (SQLite). Keep in step with ../postgres/0003_consents_without_fk.sql.
--
-- `consents` loses its foreign key to `ledger_entries`. Both rows are written by the one
-- writer in the same transaction and a redaction deletes the consent row in the transaction
-- that redacts the entry, so the key never caught anything; checking it cost an extra B-tree
-- search per consent on the hot path (about 7% of the server's CPU per consent, measured in
-- docs/benchmarks.md). A deleted ledger entry is what `assent ledger verify` reports.
-- SQLite cannot drop a constraint: the table is rebuilt with the same columns and indexes.

CREATE TABLE consents_v3 (
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
    PRIMARY KEY (chain, seq)
) WITHOUT ROWID;

INSERT INTO consents_v3 (chain, seq, receipt_id, site, subject, policy_version, action, method,
                         channel, language, choices_json, fingerprint, created_at_ms, expires_at_ms)
SELECT chain, seq, receipt_id, site, subject, policy_version, action, method,
       channel, language, choices_json, fingerprint, created_at_ms, expires_at_ms
FROM consents;

DROP TABLE consents;
ALTER TABLE consents_v3 RENAME TO consents;

CREATE INDEX consents_site_subject ON consents (site, subject);
-- Export paging walks (site, created_at_ms, chain, seq): the key is implied by WITHOUT ROWID.
CREATE INDEX consents_site_created ON consents (site, created_at_ms);
