//! Scans run by the server (tables of migration `0017_scans`): the schedules of periodic
//! scans, the queue, and each scan's report. One SQL text for both backends.
//!
//! The store decides nothing: the app validates what is scanned, runs the scanner and says
//! when a schedule is next due. A queued scan is claimed by a guarded `UPDATE` (only a
//! `queued` row becomes `running`), so two servers sharing PostgreSQL never run one twice;
//! the scan lock ([`Store::scan_lock`]) keeps to one scan at a time.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::sql::{Cols, V, i, insert, ot, t};
use crate::store::Store;

/// One scan, as recorded. `report` is only filled by [`Store::scan_get`] and
/// [`Store::scan_previous_done`] (lists leave it out: a report weighs tens of kilobytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRow {
    pub id: String,
    pub site: String,
    /// The page the crawl starts from.
    pub url: String,
    /// Same-site pages crawled per scenario.
    pub pages: i64,
    /// The schedule that queued it; `None`: asked for by a person or a machine.
    pub schedule_id: Option<String>,
    /// Who asked (`admin:TOKEN_ID`, `user:ID`, or `schedule`).
    pub requested_by: String,
    pub queued_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// `queued`, `running`, `done`, `failed` or `interrupted`.
    pub status: String,
    /// Findings that are violations, and all findings (`done` scans).
    pub violations: Option<i64>,
    pub findings: Option<i64>,
    /// The report (`assent-scan` JSON).
    pub report: Option<String>,
    /// Why a scan failed.
    pub error: Option<String>,
}

const LIST_COLS: &str = "id, site, url, pages, schedule_id, requested_by, queued_at_ms, \
     started_at_ms, finished_at_ms, status, violations, findings, error";
const FULL_COLS: &str = "id, site, url, pages, schedule_id, requested_by, queued_at_ms, \
     started_at_ms, finished_at_ms, status, violations, findings, error, report";

fn scan_at(r: &dyn Cols) -> Result<ScanRow, StoreError> {
    Ok(ScanRow {
        id: r.str_(0)?,
        site: r.str_(1)?,
        url: r.str_(2)?,
        pages: r.i64_(3)?,
        schedule_id: r.ostr(4)?,
        requested_by: r.str_(5)?,
        queued_at_ms: r.i64_(6)?,
        started_at_ms: r.oi64(7)?,
        finished_at_ms: r.oi64(8)?,
        status: r.str_(9)?,
        violations: r.oi64(10)?,
        findings: r.oi64(11)?,
        error: r.ostr(12)?,
        report: None,
    })
}

fn full_scan_at(r: &dyn Cols) -> Result<ScanRow, StoreError> {
    let mut s = scan_at(r)?;
    s.report = r.ostr(13)?;
    Ok(s)
}

/// A schedule: scan `url` every `every_hours`, next at `next_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanScheduleRow {
    pub id: String,
    pub site: String,
    pub url: String,
    pub pages: i64,
    pub every_hours: i64,
    pub next_at_ms: i64,
    pub created_by: String,
    pub created_at_ms: i64,
}

const SCHEDULE_COLS: &str =
    "id, site, url, pages, every_hours, next_at_ms, created_by, created_at_ms";

fn schedule_at(r: &dyn Cols) -> Result<ScanScheduleRow, StoreError> {
    Ok(ScanScheduleRow {
        id: r.str_(0)?,
        site: r.str_(1)?,
        url: r.str_(2)?,
        pages: r.i64_(3)?,
        every_hours: r.i64_(4)?,
        next_at_ms: r.i64_(5)?,
        created_by: r.str_(6)?,
        created_at_ms: r.i64_(7)?,
    })
}

/// What finishing a scan records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOutcome {
    /// `done` or `failed`.
    pub status: String,
    pub finished_at_ms: i64,
    pub violations: Option<i64>,
    pub findings: Option<i64>,
    pub report: Option<String>,
    pub error: Option<String>,
}

impl Store {
    /// Queues a scan (its row as given, normally `queued`).
    pub async fn scan_insert(&self, s: &ScanRow) -> Result<(), StoreError> {
        let stmt = insert(
            "scans",
            FULL_COLS,
            vec![
                t(&s.id),
                t(&s.site),
                t(&s.url),
                i(s.pages),
                ot(&s.schedule_id),
                t(&s.requested_by),
                i(s.queued_at_ms),
                V::I(s.started_at_ms),
                V::I(s.finished_at_ms),
                t(&s.status),
                V::I(s.violations),
                V::I(s.findings),
                ot(&s.error),
                ot(&s.report),
            ],
        );
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// Claims the oldest queued scan: marks it `running` at `now_ms` and returns it, or `None`
    /// when the queue is empty. A scan claimed by another process meanwhile is skipped.
    pub async fn scan_claim_next(&self, now_ms: i64) -> Result<Option<ScanRow>, StoreError> {
        loop {
            let sql = format!(
                "SELECT {LIST_COLS} FROM scans WHERE status = 'queued' \
                 ORDER BY queued_at_ms, id LIMIT 1"
            );
            let Some(mut next) = self.row(sql, vec![], scan_at).await? else {
                return Ok(None);
            };
            let up = "UPDATE scans SET status = 'running', started_at_ms = ?2 \
                      WHERE id = ?1 AND status = 'queued'";
            let won = self
                .exec(
                    vec![(up.to_owned(), vec![t(&next.id), i(now_ms)])],
                    true,
                    None,
                )
                .await?;
            if won.is_some() {
                next.status = "running".into();
                next.started_at_ms = Some(now_ms);
                return Ok(Some(next));
            }
        }
    }

    /// Records how a running scan ended; `false` if it was not running.
    pub async fn scan_finish(&self, id: &str, o: &ScanOutcome) -> Result<bool, StoreError> {
        let sql = "UPDATE scans SET status = ?2, finished_at_ms = ?3, violations = ?4, \
                   findings = ?5, report = ?6, error = ?7 WHERE id = ?1 AND status = 'running'";
        let vals = vec![
            t(id),
            t(&o.status),
            i(o.finished_at_ms),
            V::I(o.violations),
            V::I(o.findings),
            ot(&o.report),
            ot(&o.error),
        ];
        Ok(self
            .exec(vec![(sql.to_owned(), vals)], true, None)
            .await?
            .is_some())
    }

    /// Marks scans left `running` by a process that stopped as `interrupted` (the caller holds
    /// the scan lock, so none is really running); returns how many.
    pub async fn scans_interrupted(&self, now_ms: i64) -> Result<u64, StoreError> {
        let up = "UPDATE scans SET status = 'interrupted', finished_at_ms = ?1, \
                  error = 'the server stopped during the scan' WHERE status = 'running'";
        let n = self
            .exec(vec![(up.to_owned(), vec![i(now_ms)])], false, None)
            .await?;
        Ok(n.and_then(|v| v.first().copied()).unwrap_or(0))
    }

    /// The scans of `site` (all sites: `None`), newest first, at most `limit`, without reports.
    pub async fn scans_list(
        &self,
        site: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ScanRow>, StoreError> {
        let (clause, vals) = match site {
            Some(s) => ("WHERE site = ?2", vec![i(i64::from(limit)), t(s)]),
            None => ("", vec![i(i64::from(limit))]),
        };
        let sql = format!(
            "SELECT {LIST_COLS} FROM scans {clause} ORDER BY queued_at_ms DESC, id DESC LIMIT ?1"
        );
        self.rows(sql, vals, scan_at).await
    }

    /// One scan with its report.
    pub async fn scan_get(&self, id: &str) -> Result<Option<ScanRow>, StoreError> {
        let sql = format!("SELECT {FULL_COLS} FROM scans WHERE id = ?1");
        self.row(sql, vec![t(id)], full_scan_at).await
    }

    /// The last `done` scan of the same site and start page queued before `before`, with its
    /// report: what a scan's findings are compared with.
    pub async fn scan_previous_done(
        &self,
        site: &str,
        url: &str,
        before_ms: i64,
        before_id: &str,
    ) -> Result<Option<ScanRow>, StoreError> {
        let sql = format!(
            "SELECT {FULL_COLS} FROM scans WHERE site = ?1 AND url = ?2 AND status = 'done' \
             AND (queued_at_ms < ?3 OR (queued_at_ms = ?3 AND id < ?4)) \
             ORDER BY queued_at_ms DESC, id DESC LIMIT 1"
        );
        self.row(
            sql,
            vec![t(site), t(url), i(before_ms), t(before_id)],
            full_scan_at,
        )
        .await
    }

    /// How many scans wait in the queue.
    pub async fn scans_queued(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM scans WHERE status = 'queued'";
        Ok(self
            .row(sql.to_owned(), vec![], crate::rows::i64_at)
            .await?
            .unwrap_or(0))
    }

    /// Finished scans (`done`, `failed`, `interrupted`) that ended at or before `cut_ms`,
    /// oldest first, at most `limit`: their ids and end times.
    pub async fn scans_ended_before(
        &self,
        cut_ms: i64,
        limit: u32,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT id, finished_at_ms FROM scans WHERE finished_at_ms IS NOT NULL \
                   AND finished_at_ms <= ?1 ORDER BY finished_at_ms, id LIMIT ?2";
        self.rows(sql.to_owned(), vec![i(cut_ms), i(i64::from(limit))], |r| {
            Ok((r.str_(0)?, r.i64_(1)?))
        })
        .await
    }

    /// How many finished scans ended at or before `cut_ms`, and the end of the first one
    /// after it (when the next fall due).
    pub async fn scans_due(&self, cut_ms: i64) -> Result<(i64, Option<i64>), StoreError> {
        let sql = "SELECT COUNT(*) FROM scans WHERE finished_at_ms IS NOT NULL \
                   AND finished_at_ms <= ?1";
        let n = self
            .row(sql.to_owned(), vec![i(cut_ms)], crate::rows::i64_at)
            .await?
            .unwrap_or(0);
        let sql = "SELECT MIN(finished_at_ms) FROM scans WHERE finished_at_ms > ?1";
        let next = self
            .rows(sql.to_owned(), vec![i(cut_ms)], |r| r.oi64(0))
            .await?
            .into_iter()
            .next()
            .flatten();
        Ok((n, next))
    }

    /// Deletes the given finished scans; returns how many went.
    pub async fn scans_delete(&self, ids: &[String]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let marks: Vec<String> = (1..=ids.len()).map(|k| format!("?{k}")).collect();
        let sql = format!(
            "DELETE FROM scans WHERE finished_at_ms IS NOT NULL AND id IN ({})",
            marks.join(", ")
        );
        let n = self
            .exec(vec![(sql, ids.iter().map(|s| t(s)).collect())], false, None)
            .await?;
        Ok(n.and_then(|v| v.first().copied()).unwrap_or(0))
    }

    /// Stores a schedule.
    pub async fn scan_schedule_insert(&self, s: &ScanScheduleRow) -> Result<(), StoreError> {
        let stmt = insert(
            "scan_schedules",
            SCHEDULE_COLS,
            vec![
                t(&s.id),
                t(&s.site),
                t(&s.url),
                i(s.pages),
                i(s.every_hours),
                i(s.next_at_ms),
                t(&s.created_by),
                i(s.created_at_ms),
            ],
        );
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// The schedules of `site` (all: `None`), by site then creation.
    pub async fn scan_schedules(
        &self,
        site: Option<&str>,
    ) -> Result<Vec<ScanScheduleRow>, StoreError> {
        let (clause, vals) = match site {
            Some(s) => ("WHERE site = ?1", vec![t(s)]),
            None => ("", vec![]),
        };
        let sql = format!(
            "SELECT {SCHEDULE_COLS} FROM scan_schedules {clause} ORDER BY site, created_at_ms, id"
        );
        self.rows(sql, vals, schedule_at).await
    }

    /// One schedule.
    pub async fn scan_schedule_get(&self, id: &str) -> Result<Option<ScanScheduleRow>, StoreError> {
        let sql = format!("SELECT {SCHEDULE_COLS} FROM scan_schedules WHERE id = ?1");
        self.row(sql, vec![t(id)], schedule_at).await
    }

    /// Deletes a schedule (its past scans stay); `false` if unknown.
    pub async fn scan_schedule_delete(&self, id: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM scan_schedules WHERE id = ?1";
        Ok(self
            .exec(vec![(sql.to_owned(), vec![t(id)])], true, None)
            .await?
            .is_some())
    }

    /// Schedules due at `now_ms`.
    pub async fn scan_schedules_due(
        &self,
        now_ms: i64,
    ) -> Result<Vec<ScanScheduleRow>, StoreError> {
        let sql = format!(
            "SELECT {SCHEDULE_COLS} FROM scan_schedules WHERE next_at_ms <= ?1 \
             ORDER BY next_at_ms, id"
        );
        self.rows(sql, vec![i(now_ms)], schedule_at).await
    }

    /// Moves a due schedule to its next time and queues its scan, in one transaction; `false`
    /// (nothing written) when another process moved it first (its `next_at_ms` changed).
    pub async fn scan_schedule_fire(
        &self,
        sched: &ScanScheduleRow,
        next_at_ms: i64,
        scan: &ScanRow,
    ) -> Result<bool, StoreError> {
        let up = "UPDATE scan_schedules SET next_at_ms = ?3 WHERE id = ?1 AND next_at_ms = ?2";
        let ins = insert(
            "scans",
            LIST_COLS,
            vec![
                t(&scan.id),
                t(&scan.site),
                t(&scan.url),
                i(scan.pages),
                ot(&scan.schedule_id),
                t(&scan.requested_by),
                i(scan.queued_at_ms),
                V::I(None),
                V::I(None),
                t(&scan.status),
                V::I(None),
                V::I(None),
                V::T(None),
            ],
        );
        Ok(self
            .exec(
                vec![
                    (
                        up.to_owned(),
                        vec![t(&sched.id), i(sched.next_at_ms), i(next_at_ms)],
                    ),
                    ins,
                ],
                true,
                None,
            )
            .await?
            .is_some())
    }

    /// Takes the scan lock: one process scans at a time (see [`Store::retention_lock`]).
    pub async fn scan_lock(&self) -> Result<Option<crate::retention::RetentionLock>, StoreError> {
        self.job_lock("assent-scans:").await
    }
}
