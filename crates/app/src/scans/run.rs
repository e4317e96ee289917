//! Running a queued scan, and reading one back with what changed since the previous scan of
//! the same page.
//!
//! One scan at a time: [`run_next`] holds the scan lock (a PostgreSQL advisory lock shared by
//! every server of a scale-out; SQLite has one server) while it runs, and a scan claimed by a
//! process that stopped is marked `interrupted` by the next holder. The browser runs on a
//! blocking thread with its own runtime, so a scan never slows the consent path's workers.

use std::collections::BTreeMap;

use assent_scan::{Finding, Report, ScanOptions};
use assent_store::{ScanOutcome, ScanRow};
use serde::Serialize;
use serde_json::{Value, json};

use crate::App;
use crate::error::{AppError, AppResult};

/// Claims and runs the oldest queued scan, if any, and records its outcome (`done` with the
/// report, or `failed` with the reason). `Ok(None)`: nothing queued, or another server is
/// scanning. `options` shapes the browser (the defaults find Debian's `chromium`).
pub async fn run_next(st: &App, options: fn() -> ScanOptions) -> AppResult<Option<ScanRow>> {
    let Some(lock) = st.store.scan_lock().await? else {
        return Ok(None);
    };
    let out = run_locked(st, options).await;
    lock.release().await;
    out
}

async fn run_locked(st: &App, options: fn() -> ScanOptions) -> AppResult<Option<ScanRow>> {
    let stale = st.store.scans_interrupted(st.clock.now_ms()).await?;
    if stale > 0 {
        tracing::warn!(
            scans = stale,
            "scans left running by a stopped server marked interrupted"
        );
    }
    let Some(mut scan) = st.store.scan_claim_next(st.clock.now_ms()).await? else {
        return Ok(None);
    };
    let result = match declared_of(st, &scan) {
        Ok(declared) => scan_on_own_thread(scan.url.clone(), declared, scan.pages, options).await,
        Err(e) => Err(e),
    };
    let now = st.clock.now_ms();
    let outcome = match result {
        Ok(report) => {
            let violations = report
                .findings
                .iter()
                .filter(|f| f.severity == assent_scan::Severity::Violation)
                .count();
            ScanOutcome {
                status: "done".into(),
                finished_at_ms: now,
                violations: Some(i64::try_from(violations).unwrap_or(i64::MAX)),
                findings: Some(i64::try_from(report.findings.len()).unwrap_or(i64::MAX)),
                report: Some(report.to_json()),
                error: None,
            }
        }
        Err(message) => ScanOutcome {
            status: "failed".into(),
            finished_at_ms: now,
            violations: None,
            findings: None,
            report: None,
            error: Some(message),
        },
    };
    st.store.scan_finish(&scan.id, &outcome).await?;
    crate::ledger::audit(
        &st.store,
        now,
        "scan.finished",
        json!({
            "scan": scan.id,
            "site": scan.site,
            "status": outcome.status,
            "violations": outcome.violations,
        }),
    )
    .await?;
    tracing::info!(scan = %scan.id, site = %scan.site, status = %outcome.status, "scan finished");
    scan.status = outcome.status;
    scan.finished_at_ms = Some(now);
    scan.violations = outcome.violations;
    scan.findings = outcome.findings;
    scan.error = outcome.error;
    Ok(Some(scan))
}

/// The site's declared inventory from its current policy version; a start page on a host the
/// registry no longer lists for the site is refused (the registry changed since it was
/// queued).
fn declared_of(st: &App, scan: &ScanRow) -> Result<assent_scan::Declared, String> {
    let cur = st
        .sites
        .current(&scan.site)
        .ok_or_else(|| format!("site `{}` no longer exists", scan.site))?;
    assent_scan::Declared::from_registry(&cur.snapshot.to_registry(), &scan.site)
        .ok_or_else(|| format!("site `{}` no longer exists", scan.site))
}

/// Runs the scanner on a blocking thread with a current-thread runtime of its own; the error
/// is the scanner's message (it names the URL or the browser, never a person).
async fn scan_on_own_thread(
    url: String,
    declared: assent_scan::Declared,
    pages: i64,
    options: fn() -> ScanOptions,
) -> Result<Report, String> {
    let joined = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the scanner's runtime: {e}"))?;
        let opts = ScanOptions {
            max_pages: usize::try_from(pages).unwrap_or(1).max(1),
            ..options()
        };
        rt.block_on(assent_scan::scan(&url, &declared, opts))
            .map_err(|e| e.to_string())
    })
    .await;
    joined.map_err(|e| format!("the scan stopped unexpectedly: {e}"))?
}

/// A finding's identity across scans: what it is about, not when or where it was first seen.
fn key(f: &Finding) -> (String, String, String, String) {
    (
        f.kind.as_str().to_owned(),
        f.subject.as_str().to_owned(),
        f.name.clone(),
        f.domain.clone().unwrap_or_default(),
    )
}

/// What changed between two reports of the same page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingsDiff {
    /// The scan compared with.
    pub previous: String,
    /// Findings of this scan the previous one did not have.
    pub new: Vec<Finding>,
    /// Findings of the previous scan gone from this one.
    pub resolved: Vec<Finding>,
    /// How many findings both have.
    pub unchanged: usize,
}

/// Compares the findings of `current` with those of `previous` (scan id `previous_id`).
pub fn diff(previous_id: &str, previous: &Report, current: &Report) -> FindingsDiff {
    let before: BTreeMap<_, &Finding> = previous.findings.iter().map(|f| (key(f), f)).collect();
    let after: BTreeMap<_, &Finding> = current.findings.iter().map(|f| (key(f), f)).collect();
    FindingsDiff {
        previous: previous_id.to_owned(),
        new: after
            .iter()
            .filter(|(k, _)| !before.contains_key(*k))
            .map(|(_, f)| (*f).clone())
            .collect(),
        resolved: before
            .iter()
            .filter(|(k, _)| !after.contains_key(*k))
            .map(|(_, f)| (*f).clone())
            .collect(),
        unchanged: after.keys().filter(|k| before.contains_key(*k)).count(),
    }
}

/// One scan with its report and the diff to the previous `done` scan of the same page.
#[derive(Debug, Clone, Serialize)]
pub struct ScanDetail {
    #[serde(flatten)]
    pub scan: ScanRow,
    /// The report (JSON), for a `done` scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_json: Option<Value>,
    /// `null` for the first scan of a page (or one that did not finish).
    pub changes: Option<FindingsDiff>,
}

fn parse_report(id: &str, text: &str) -> AppResult<Report> {
    Report::from_json(text)
        .map_err(|e| AppError::internal(&format!("scan {id}: stored report: {e}")))
}

/// A scan by id, with its report and what changed since the previous scan of the same page.
pub async fn show(st: &App, id: &str) -> AppResult<ScanDetail> {
    let mut scan = st
        .store
        .scan_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such scan").field("id"))?;
    let text = scan.report.take();
    let mut changes = None;
    let mut report_json = None;
    if let Some(text) = &text {
        let current = parse_report(id, text)?;
        if let Some(prev) = st
            .store
            .scan_previous_done(&scan.site, &scan.url, scan.queued_at_ms, &scan.id)
            .await?
            && let Some(ptext) = &prev.report
        {
            changes = Some(diff(&prev.id, &parse_report(&prev.id, ptext)?, &current));
        }
        report_json = Some(serde_json::from_str(text).map_err(|e| AppError::internal(&e))?);
    }
    Ok(ScanDetail {
        scan,
        report_json,
        changes,
    })
}

/// A `done` scan's report as the scanner's HTML page.
pub async fn report_html(st: &App, id: &str) -> AppResult<String> {
    let scan = st
        .store
        .scan_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such scan").field("id"))?;
    let text = scan.report.ok_or_else(|| {
        AppError::conflict(
            "no_report",
            format!("scan {id} has no report: it is {}", scan.status),
        )
    })?;
    Ok(parse_report(id, &text)?.to_html())
}
