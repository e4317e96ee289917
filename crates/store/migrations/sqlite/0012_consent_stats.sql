-- Assent schema, version 12 (SQLite). Keep in step with ../postgres/0012_consent_stats.sql.
--
-- The dashboard's counters (docs/dashboard.md): one row per site, day (days since 1970-01-01
-- in the controller's time zone), policy version, language, kind of count and writer chain.
-- Kinds: `shown` (banner displays, the anonymous beacon), the consent actions (`accept_all`,
-- `reject_all`, `custom`, `withdraw`), `gpc` (choices made under a Global Privacy Control
-- signal) and `purpose:<id>` (choices that granted the purpose). The group-commit writer adds
-- a batch's consents to them in the batch's own transaction, so the counters always equal
-- what the ledger holds. Each writer chain has its own rows (PostgreSQL: no two servers ever
-- wait on one row); `shown` rows take the chain of the server that counted the displays and
-- the backfill below chain -1. Readers sum over chains.

CREATE TABLE consent_stats (
    site    TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    version INTEGER NOT NULL,
    lang    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    chain   INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (site, day, version, lang, kind, chain)
) WITHOUT ROWID;

-- Consents recorded before this migration are counted by the server at start (it needs the
-- controller's time zone, which SQL does not know): per chain, the entries up to `upto_seq`,
-- `done_seq` being the last one already counted. The writer counts everything after.
CREATE TABLE consent_stats_backfill (
    chain    INTEGER PRIMARY KEY,
    upto_seq INTEGER NOT NULL,
    done_seq INTEGER NOT NULL
);

INSERT INTO consent_stats_backfill (chain, upto_seq, done_seq)
SELECT 0, seq, -1 FROM ledger_entries ORDER BY seq DESC LIMIT 1;
