//! The dashboard's counters (`consent_stats`, schema 8): what a consent adds to them
//! ([`Tally`], computed by the application), their sums per batch ([`Counts`]), the
//! statements that add them, and the queries that read them back.
//!
//! Invariant: the group-commit writers add the tallies of a batch's consents in the batch's
//! own transaction (one upsert per distinct counter, not per consent), so the counters equal
//! what the ledger holds; a consent whose request failed adds nothing. The store decides
//! nothing here: which counters a consent adds to is the application's [`Tally`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::StoreError;
use crate::rows::i64_at;
use crate::sql::{Cols, Stmt, V, i, t};
use crate::store::Store;
use crate::writer::Op;

/// What one consent adds to the counters: one to each of `kinds[b]` whose bit `b` is set
/// in `bits`, under (site, `day`, `version`, `lang`). Built by the application, which knows
/// the controller's time zone and what the kinds mean; `kinds` is shared by every consent
/// of a policy version (no allocation per consent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Days since 1970-01-01 in the controller's time zone.
    pub day: i32,
    pub version: i64,
    pub lang: String,
    /// The counter kinds of the policy version (at most 128).
    pub kinds: Arc<[String]>,
    pub bits: u128,
}

impl Tally {
    /// The kinds of counter this consent adds one to.
    pub fn counted(&self) -> impl Iterator<Item = &str> {
        let mut bits = self.bits;
        std::iter::from_fn(move || {
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(kind) = self.kinds.get(b) {
                    return Some(kind.as_str());
                }
            }
            None
        })
    }
}

pub use assent_model::stats::StatRow;

/// The SQL that adds `n` to a counter (`?1..?7`: site, day, version, lang, kind, chain, n),
/// the same text on both backends.
pub(crate) const UPSERT: &str = "INSERT INTO consent_stats (site, day, version, lang, kind, \
     chain, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (site, day, version, lang, kind, \
     chain) DO UPDATE SET n = consent_stats.n + excluded.n";

/// PostgreSQL's writer: a batch's counters in one statement (keys are distinct: [`Counts`]
/// sums them first, as `ON CONFLICT` may touch a row once per statement).
pub(crate) const PG_UPSERT_MANY: &str = "INSERT INTO consent_stats (site, day, version, lang, \
     kind, chain, n) SELECT s, d, v, l, k, $6, n FROM UNNEST($1::text[], $2::int4[], \
     $3::int8[], $4::text[], $5::text[], $7::int8[]) AS u(s, d, v, l, k, n) \
     ON CONFLICT (site, day, version, lang, kind, chain) DO UPDATE SET n = consent_stats.n + \
     excluded.n";

/// Counter key borrowed from the batch: (site, day, version, lang, kind).
type Key<'a> = (&'a str, i32, i64, &'a str, &'a str);

/// The counters a batch adds to, summed per counter.
#[derive(Debug, Default)]
pub(crate) struct Counts<'a> {
    map: HashMap<Key<'a>, i64>,
}

impl<'a> Counts<'a> {
    /// Adds a consent's tally for `site`.
    pub(crate) fn add(&mut self, site: &'a str, t: &'a Tally) {
        for kind in t.counted() {
            *self
                .map
                .entry((site, t.day, t.version, &t.lang, kind))
                .or_insert(0) += 1;
        }
    }

    /// Adds the tallies of an operation's consents (appends, and statements with a ledger
    /// entry).
    pub(crate) fn add_op(&mut self, op: &'a Op) {
        let items = match op {
            Op::Append(items, _) => items.as_slice(),
            Op::Stmts(r, _) => r.ledger.as_slice(),
            _ => &[],
        };
        for it in items {
            if let Some(k) = &it.consent
                && let Some(t) = &k.tally
            {
                self.add(&k.site, t);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The counters, in key order (so that concurrent transactions lock rows in one order).
    pub(crate) fn sorted(&self) -> Vec<(Key<'a>, i64)> {
        let mut v: Vec<(Key<'a>, i64)> = self.map.iter().map(|(k, n)| (*k, *n)).collect();
        v.sort_unstable();
        v
    }

    /// The SQLite writer: one upsert per counter, on `chain`.
    pub(crate) fn write_sqlite(
        &self,
        c: &rusqlite::Connection,
        chain: u32,
    ) -> Result<(), StoreError> {
        let mut st = c.prepare_cached(UPSERT)?;
        for ((site, day, version, lang, kind), n) in self.sorted() {
            st.execute(rusqlite::params![site, day, version, lang, kind, chain, n])?;
        }
        Ok(())
    }
}

/// Upserts adding `rows` to the counters of `chain`, in key order.
pub(crate) fn upserts(rows: &[StatRow], chain: i64) -> Vec<Stmt> {
    let mut rows: Vec<&StatRow> = rows.iter().filter(|r| r.n != 0).collect();
    rows.sort_unstable_by(|a, b| {
        (&a.site, a.day, a.version, &a.lang, &a.kind)
            .cmp(&(&b.site, b.day, b.version, &b.lang, &b.kind))
    });
    rows.into_iter()
        .map(|r| {
            (
                UPSERT.to_owned(),
                vec![
                    t(&r.site),
                    V::I4(r.day),
                    i(r.version),
                    t(&r.lang),
                    t(&r.kind),
                    V::I4(i32::try_from(chain).unwrap_or(-1)),
                    i(r.n),
                ],
            )
        })
        .collect()
}

fn stat_at(r: &dyn Cols) -> Result<StatRow, StoreError> {
    Ok(StatRow {
        site: r.str_(0)?,
        day: i32::try_from(r.i64_(1)?)
            .map_err(|_| StoreError::Corrupt("consent_stats.day out of range".to_owned()))?,
        version: r.i64_(2)?,
        lang: r.str_(3)?,
        kind: r.str_(4)?,
        n: r.i64_(5)?,
    })
}

/// Chain of the counters written by the backfill of consents recorded before schema 8.
pub const BACKFILL_CHAIN: i64 = -1;

impl Store {
    /// The counters of `site` from day `from` to day `to` (inclusive), summed over chains,
    /// by (day, version, lang, kind).
    pub async fn stats_between(
        &self,
        site: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<StatRow>, StoreError> {
        let sql = "SELECT site, day, version, lang, kind, CAST(SUM(n) AS BIGINT) FROM consent_stats \
                   WHERE site = ?1 AND day >= ?2 AND day <= ?3 \
                   GROUP BY site, day, version, lang, kind ORDER BY day, version, lang, kind";
        self.rows(
            sql.to_owned(),
            vec![t(site), V::I4(from), V::I4(to)],
            stat_at,
        )
        .await
    }

    /// Adds `rows` to the counters of this process's chain (the banner displays it counted
    /// in memory). Rows of `n = 0` are skipped.
    pub async fn stats_add(&self, rows: &[StatRow]) -> Result<(), StoreError> {
        self.stats_add_on(rows, i64::from(self.writer_chain()))
            .await
    }

    /// [`Store::stats_add`] on the rows of `chain` (the dashboard benchmark spreads its
    /// counters over several writers' chains, as PostgreSQL scale-out does).
    pub async fn stats_add_on(&self, rows: &[StatRow], chain: i64) -> Result<(), StoreError> {
        let stmts = upserts(rows, chain);
        if stmts.is_empty() {
            return Ok(());
        }
        self.exec(stmts, false, None).await?;
        Ok(())
    }

    /// The backfill still to do: `(chain, next seq to count, last seq to count)` per chain.
    pub async fn stats_backfill_pending(&self) -> Result<Vec<(u32, u64, u64)>, StoreError> {
        let sql = "SELECT chain, done_seq, upto_seq FROM consent_stats_backfill \
                   WHERE done_seq < upto_seq ORDER BY chain";
        let rows = self
            .rows(sql.to_owned(), vec![], |r| {
                Ok((r.i64_(0)?, r.i64_(1)?, r.i64_(2)?))
            })
            .await?;
        rows.into_iter()
            .map(|(c, done, upto)| {
                let bad = || StoreError::Corrupt("consent_stats_backfill row".to_owned());
                Ok((
                    u32::try_from(c).map_err(|_| bad())?,
                    u64::try_from(done + 1).map_err(|_| bad())?,
                    u64::try_from(upto).map_err(|_| bad())?,
                ))
            })
            .collect()
    }

    /// One step of the backfill of `chain`: adds `rows` (counted from the entries after
    /// `done_seq` up to `new_done`) and records the progress, in one transaction, only if no
    /// other process did this step meanwhile. `false`: someone else did; nothing written.
    pub async fn stats_backfill_step(
        &self,
        chain: u32,
        done_seq: i64,
        new_done: i64,
        rows: &[StatRow],
    ) -> Result<bool, StoreError> {
        let mut stmts = vec![(
            "UPDATE consent_stats_backfill SET done_seq = ?3 WHERE chain = ?1 AND done_seq = ?2"
                .to_owned(),
            vec![
                V::I4(crate::sql::chain_i32(chain)?),
                i(done_seq),
                i(new_done),
            ],
        )];
        stmts.extend(upserts(rows, BACKFILL_CHAIN));
        Ok(self.exec(stmts, true, None).await?.is_some())
    }

    /// Open rights requests of `site` by their effective due date against `now_ms`:
    /// `(open, due within 10 days, due within 5 days, overdue)`; "due within" counts the
    /// requests not yet overdue.
    pub async fn rights_due_counts(
        &self,
        site: &str,
        now_ms: i64,
    ) -> Result<(i64, i64, i64, i64), StoreError> {
        const DAY: i64 = 86_400_000;
        let sql = "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN d >= ?2 AND d < ?3 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN d >= ?2 AND d < ?4 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN d < ?2 THEN 1 ELSE 0 END), 0) \
             FROM (SELECT COALESCE(extended_due_at_ms, due_at_ms) AS d FROM rights_requests \
                   WHERE site = ?1 AND status NOT IN ('completed', 'rejected') \
                   AND erased_at_ms IS NULL) open_requests";
        let vals = vec![
            t(site),
            i(now_ms),
            i(now_ms + 10 * DAY),
            i(now_ms + 5 * DAY),
        ];
        let row = self
            .row(sql.to_owned(), vals, |r| {
                Ok((r.i64_(0)?, r.i64_(1)?, r.i64_(2)?, r.i64_(3)?))
            })
            .await?;
        Ok(row.unwrap_or((0, 0, 0, 0)))
    }

    /// The counter rows in the table (for tests and the benchmark).
    pub async fn stats_row_count(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM consent_stats";
        Ok(self.row(sql.to_owned(), vec![], i64_at).await?.unwrap_or(0))
    }
}
