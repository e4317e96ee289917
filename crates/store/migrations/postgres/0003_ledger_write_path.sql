-- Assent schema, version 3 (PostgreSQL). Keep in step with ../sqlite/0003_ledger_write_path.sql.
--
-- `consents` loses its foreign key to `ledger_entries`: both rows are written by the one
-- writer in the same transaction and a redaction deletes the consent row in the transaction
-- that redacts the entry, so the key never caught anything, while checking it cost an index
-- search and a row lock on the parent entry per consent. A deleted ledger entry is what
-- `assent ledger verify` reports.

ALTER TABLE consents DROP CONSTRAINT IF EXISTS consents_chain_seq_fkey;

-- (The SQLite side also turns its two WITHOUT ROWID tables into rowid tables; PostgreSQL's
-- heap tables and B-tree indexes have no such cost.)
