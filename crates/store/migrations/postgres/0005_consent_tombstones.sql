-- Assent schema, version 5 (PostgreSQL). Keep in step with ../sqlite/0005_consent_tombstones.sql.
--
-- An erased consent (right to erasure, retention) leaves a tombstone: its receipt id and when
-- it was erased, nothing about the person, so that its receipt answers 410 Gone ("this record
-- was erased") instead of 404 ("there never was such a receipt"). The erasure writes it in the
-- transaction that nulls the payload and deletes the consent row.

CREATE TABLE consent_tombstones (
    receipt_id   TEXT   PRIMARY KEY,
    erased_at_ms BIGINT NOT NULL
);
