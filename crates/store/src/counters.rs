//! The dashboard's counters in the database (`consent_stats`, migration 0012): read per site
//! and day range, added to outside the writer (backfill, benchmark), and the backfill's
//! progress. The counting itself is `tally.rs`.

use crate::error::StoreError;
use crate::rows::i64_at;
use crate::sql::{Cols, V, i, t};
use crate::store::Store;
use crate::tally::{StatRow, upserts};

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
