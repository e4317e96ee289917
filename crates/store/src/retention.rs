//! Retention (tables of migration `0009_retention`): the consents a rule makes due, the
//! run records, the DPO holds, and the lock that lets one process at a time purge. One SQL
//! text for both backends except the join of a consent to its ledger entry (SQLite has one
//! chain, keyed by `seq`).
//!
//! The store decides nothing: the app computes the cutoff and the persons held, and redacts
//! each due consent through [`Store::redact`] (payload erased, row deleted, tombstone left,
//! redaction entry appended, in one transaction).

use assent_model::retention::Hold;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::sql::{Cols, Dialect, V, chain_from_i64, i, insert, ot, seq_from_i64, t};
use crate::store::Store;
use crate::types::AppendItem;

/// A consent due for purging: its ledger entry and what its redaction record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueConsent {
    pub chain: u32,
    pub seq: u64,
    pub receipt_id: String,
    pub payload_hash: [u8; 32],
    pub created_at_ms: i64,
}

fn due_at(r: &dyn Cols) -> Result<DueConsent, StoreError> {
    Ok(DueConsent {
        chain: chain_from_i64(r.i64_(0)?)?,
        seq: seq_from_i64(r.i64_(1)?)?,
        receipt_id: r.str_(2)?,
        payload_hash: r.hash(3, "payload_hash")?,
        created_at_ms: r.i64_(4)?,
    })
}

/// One run of one rule, as recorded (and listed by the admin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRunRow {
    pub id: String,
    pub rule_id: String,
    pub applies_to: String,
    /// Real time the run started.
    pub started_at_ms: i64,
    /// The instant the run purged as of (`--at`, or the start).
    pub at_ms: i64,
    /// The largest anchor purged (records anchored at or before it were due).
    pub cutoff_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// `running`, `done`, `partial` (stopped by its budget) , `failed`, `interrupted`.
    pub status: String,
    pub deleted: i64,
    pub anonymised: i64,
    pub held: i64,
    /// sha256 (hex) over the keys of the records purged, in order.
    pub digest: Option<String>,
    pub error: Option<String>,
}

const RUN_COLS: &str = "id, rule_id, applies_to, started_at_ms, at_ms, cutoff_ms, finished_at_ms, \
     status, deleted, anonymised, held, digest, error";

fn run_at(r: &dyn Cols) -> Result<RetentionRunRow, StoreError> {
    Ok(RetentionRunRow {
        id: r.str_(0)?,
        rule_id: r.str_(1)?,
        applies_to: r.str_(2)?,
        started_at_ms: r.i64_(3)?,
        at_ms: r.i64_(4)?,
        cutoff_ms: r.i64_(5)?,
        finished_at_ms: r.oi64(6)?,
        status: r.str_(7)?,
        deleted: r.i64_(8)?,
        anonymised: r.i64_(9)?,
        held: r.i64_(10)?,
        digest: r.ostr(11)?,
        error: r.ostr(12)?,
    })
}

const HOLD_COLS: &str = "id, person, reason, until_ms, created_at_ms, lifted_at_ms";

fn hold_at(r: &dyn Cols) -> Result<Hold, StoreError> {
    Ok(Hold {
        id: r.str_(0)?,
        person: r.str_(1)?,
        reason: r.str_(2)?,
        until_ms: r.oi64(3)?,
        created_at_ms: r.i64_(4)?,
        lifted_at_ms: r.oi64(5)?,
    })
}

/// `AND c.subject NOT IN (?k, ...)` (or `IN`) for `n` subjects numbered from `first`.
fn subjects_clause(first: usize, n: usize, not: bool) -> String {
    if n == 0 {
        return if not {
            String::new()
        } else {
            " AND 1 = 0".into()
        };
    }
    let marks: Vec<String> = (first..first + n).map(|k| format!("?{k}")).collect();
    let op = if not { "NOT IN" } else { "IN" };
    format!(" AND c.subject {op} ({})", marks.join(", "))
}

impl Store {
    fn consent_join(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "FROM consents c JOIN ledger_entries e ON e.seq = c.seq",
            Dialect::Postgres => {
                "FROM consents c JOIN ledger_entries e ON e.chain = c.chain AND e.seq = c.seq"
            }
        }
    }

    /// Consents of `site` created at or before `created_max` whose subject is not in
    /// `held`, oldest first, at most `limit`.
    pub async fn retention_consents_due(
        &self,
        site: &str,
        created_max: i64,
        held: &[String],
        limit: u32,
    ) -> Result<Vec<DueConsent>, StoreError> {
        let chain = match self.dialect() {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "c.chain",
        };
        let sql = format!(
            "SELECT {chain}, c.seq, c.receipt_id, e.payload_hash, c.created_at_ms {} \
             WHERE c.site = ?1 AND c.created_at_ms <= ?2{} ORDER BY c.created_at_ms LIMIT ?3",
            self.consent_join(),
            subjects_clause(4, held.len(), true)
        );
        let mut vals = vec![t(site), i(created_max), i(i64::from(limit))];
        vals.extend(held.iter().map(|s| t(s)));
        self.rows(sql, vals, due_at).await
    }

    /// How many consents of `site` created at or before `created_max` there are: all of
    /// them (`only = None`), or those of the given subjects.
    pub async fn retention_consents_count(
        &self,
        site: &str,
        created_max: i64,
        only: Option<&[String]>,
    ) -> Result<i64, StoreError> {
        let clause = only.map_or(String::new(), |s| subjects_clause(3, s.len(), false));
        let sql = format!(
            "SELECT COUNT(*) FROM consents c WHERE c.site = ?1 AND c.created_at_ms <= ?2{clause}"
        );
        let mut vals = vec![t(site), i(created_max)];
        vals.extend(only.unwrap_or_default().iter().map(|s| t(s)));
        Ok(self.row(sql, vals, crate::rows::i64_at).await?.unwrap_or(0))
    }

    /// The creation time of the oldest consent of `site` created after `created_after`.
    pub async fn retention_consents_next(
        &self,
        site: &str,
        created_after: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(created_at_ms) FROM consents WHERE site = ?1 AND created_at_ms > ?2";
        let v = self
            .rows(sql.to_owned(), vec![t(site), i(created_after)], |r| {
                r.oi64(0)
            })
            .await?;
        Ok(v.into_iter().next().flatten())
    }

    /// Records the start of a run (status `running`).
    pub async fn retention_run_start(&self, run: &RetentionRunRow) -> Result<(), StoreError> {
        let stmt = insert(
            "retention_runs",
            RUN_COLS,
            vec![
                t(&run.id),
                t(&run.rule_id),
                t(&run.applies_to),
                i(run.started_at_ms),
                i(run.at_ms),
                i(run.cutoff_ms),
                V::I(run.finished_at_ms),
                t(&run.status),
                i(run.deleted),
                i(run.anonymised),
                i(run.held),
                ot(&run.digest),
                ot(&run.error),
            ],
        );
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// Updates a run's counts, status and end; with `ledger`, appends its `retention.run`
    /// entry in the same transaction.
    pub async fn retention_run_update(
        &self,
        run: &RetentionRunRow,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE retention_runs SET finished_at_ms = ?2, status = ?3, deleted = ?4, \
                   anonymised = ?5, held = ?6, digest = ?7, error = ?8 WHERE id = ?1";
        let vals = vec![
            t(&run.id),
            V::I(run.finished_at_ms),
            t(&run.status),
            i(run.deleted),
            i(run.anonymised),
            i(run.held),
            ot(&run.digest),
            ot(&run.error),
        ];
        self.exec(vec![(sql.to_owned(), vals)], false, ledger)
            .await?;
        Ok(())
    }

    /// Marks runs left `running` by a process that stopped (the caller holds the retention
    /// lock, so none is really running) as `interrupted`; returns them.
    pub async fn retention_runs_interrupted(
        &self,
        now_ms: i64,
    ) -> Result<Vec<RetentionRunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLS} FROM retention_runs WHERE status = 'running'");
        let stale = self.rows(sql, vec![], run_at).await?;
        if !stale.is_empty() {
            let up = "UPDATE retention_runs SET status = 'interrupted', finished_at_ms = ?1 \
                      WHERE status = 'running'";
            self.exec(vec![(up.to_owned(), vec![i(now_ms)])], false, None)
                .await?;
        }
        Ok(stale)
    }

    /// The latest run of each rule, by rule id.
    pub async fn retention_last_runs(&self) -> Result<Vec<RetentionRunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM retention_runs r WHERE r.started_at_ms = \
             (SELECT MAX(o.started_at_ms) FROM retention_runs o WHERE o.rule_id = r.rule_id) \
             ORDER BY rule_id, id"
        );
        self.rows(sql, vec![], run_at).await
    }

    /// Stores a hold. A duplicate id is [`StoreError::Conflict`] (the backend's error).
    pub async fn retention_hold_insert(&self, h: &Hold, by: &str) -> Result<(), StoreError> {
        let stmt = insert(
            "retention_holds",
            "id, person, reason, until_ms, created_at_ms, lifted_at_ms, created_by",
            vec![
                t(&h.id),
                t(&h.person),
                t(&h.reason),
                V::I(h.until_ms),
                i(h.created_at_ms),
                V::I(h.lifted_at_ms),
                t(by),
            ],
        );
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// Lifts a hold; `false` if unknown or already lifted.
    pub async fn retention_hold_lift(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let sql =
            "UPDATE retention_holds SET lifted_at_ms = ?2 WHERE id = ?1 AND lifted_at_ms IS NULL";
        let n = self
            .exec(vec![(sql.to_owned(), vec![t(id), i(now_ms)])], true, None)
            .await?;
        Ok(n.is_some())
    }

    /// Every hold, lifted or not, newest first.
    pub async fn retention_holds(&self) -> Result<Vec<Hold>, StoreError> {
        let sql =
            format!("SELECT {HOLD_COLS} FROM retention_holds ORDER BY created_at_ms DESC, id");
        self.rows(sql, vec![], hold_at).await
    }

    /// Takes the retention lock: on PostgreSQL a session advisory lock on a connection taken
    /// out of the pool (closing it releases the lock, even if the process dies); `None` when
    /// another process holds it. SQLite has one server per database: always granted.
    pub async fn retention_lock(&self) -> Result<Option<RetentionLock>, StoreError> {
        self.job_lock("assent-retention:").await
    }

    /// A job's lock (retention, scans): on PostgreSQL a session advisory lock named by
    /// `prefix`; always granted on SQLite.
    pub(crate) async fn job_lock(&self, prefix: &str) -> Result<Option<RetentionLock>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(Some(RetentionLock { pg: None })),
            Store::Postgres(p) => Ok(p
                .try_job_lock(prefix)
                .await?
                .map(|c| RetentionLock { pg: Some(c) })),
        }
    }
}

/// Held while a process runs retention; dropping it releases the lock.
pub struct RetentionLock {
    pg: Option<crate::postgres::JobLock>,
}

impl RetentionLock {
    /// Releases the lock at once (dropping it releases it too, a moment later on PostgreSQL).
    pub async fn release(self) {
        if let Some(l) = self.pg {
            l.release().await;
        }
    }
}
