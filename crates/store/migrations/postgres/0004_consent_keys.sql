-- Assent schema, version 4 (PostgreSQL). Keep in step with ../sqlite/0004_consent_keys.sql.
--
-- `consents` keeps only what a consent is searched by; the decision itself (policy version,
-- action, method, channel, language, choices, text fingerprint, expiry) is read from the
-- consent record in the ledger entry's payload, which was always the authoritative copy.
-- On PostgreSQL the indexes stay as they were (the database server's own CPU does that
-- work, and receipt ids stay unique across the writers' chains); dropping columns only
-- changes the catalog, their space is reused as rows are rewritten.

ALTER TABLE consents
    DROP COLUMN policy_version,
    DROP COLUMN action,
    DROP COLUMN method,
    DROP COLUMN channel,
    DROP COLUMN language,
    DROP COLUMN choices_json,
    DROP COLUMN fingerprint,
    DROP COLUMN expires_at_ms;
