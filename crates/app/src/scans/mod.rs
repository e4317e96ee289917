//! Scans run by the server: the DPO (or an admin, or a machine with their token) queues a
//! scan of one of a site's pages, or schedules periodic scans; the server runs them one at a
//! time (`run::run_next`, called by the server's scan loop), keeps their history, and shows
//! each report with what changed since the previous scan of the same page (`run::diff`).
//!
//! Only a site's own pages are scanned: the start URL's host must be one of the domains the
//! registry declares for the site (or under its cookie domain), so an admin token cannot turn
//! the server's browser against another host. Every change (queue, schedule, unschedule) is an
//! audit entry in the ledger with its actor. Reports hold no personal data; their retention
//! is the `scan_reports` rule (Assent's default: 3 years after the scan).

pub mod run;

use assent_store::{ScanRow, ScanScheduleRow};
use serde_json::json;

use crate::App;
use crate::error::{AppError, AppResult};

pub use assent_scan::ScanOptions;
pub use run::{ScanDetail, diff, run_next};

/// Pages crawled per scenario when the request does not say.
pub const DEFAULT_PAGES: i64 = 10;
/// The most pages per scenario a server scan may crawl.
pub const MAX_PAGES: i64 = 50;
/// Scans that may wait in the queue at once.
pub const MAX_QUEUED: i64 = 20;
/// Schedules: at least hourly is refused; at most yearly.
pub const MIN_EVERY_HOURS: i64 = 1;
pub const MAX_EVERY_HOURS: i64 = 24 * 366;

const HOUR_MS: i64 = 3_600_000;

/// Checks that `url` is an http(s) URL on one of `site`'s declared domains; returns it
/// trimmed.
fn site_url(st: &App, site: &str, url: &str) -> AppResult<String> {
    let cur = st
        .sites
        .current(site)
        .ok_or_else(|| AppError::not_found(format!("no site `{site}`")).field("site"))?;
    let url = url.trim();
    if url.len() > 2_000 || url.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "url",
            "an http(s) URL of at most 2,000 characters",
        ));
    }
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .and_then(|r| r.split(['/', '?', '#']).next())
        .map(|h| h.rsplit('@').next().unwrap_or(h))
        .map(|h| match h.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => h.split(':').next().unwrap_or(""),
        })
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.is_empty() {
        return Err(AppError::invalid(
            "url",
            "an http:// or https:// URL, like https://www.example.com/",
        ));
    }
    let declared = assent_scan::Declared::from_registry(&cur.snapshot.to_registry(), site)
        .ok_or_else(|| AppError::not_found(format!("no site `{site}`")).field("site"))?;
    if !declared.covers_host(&host) {
        return Err(AppError::invalid(
            "url",
            format!(
                "{host} is not one of the domains of site `{site}` ({}): the server scans only \
                 the site's own pages",
                cur.snapshot.site.domains.join(", ")
            ),
        ));
    }
    Ok(url.to_owned())
}

fn pages_of(pages: Option<i64>) -> AppResult<i64> {
    let p = pages.unwrap_or(DEFAULT_PAGES);
    if !(1..=MAX_PAGES).contains(&p) {
        return Err(AppError::invalid(
            "pages",
            format!("pages per scenario: from 1 to {MAX_PAGES}"),
        ));
    }
    Ok(p)
}

/// Queues a scan of `url` (a page of `site`), crawling `pages` pages per scenario.
pub async fn request(
    st: &App,
    actor: &str,
    site: &str,
    url: &str,
    pages: Option<i64>,
) -> AppResult<ScanRow> {
    let now = st.clock.now_ms();
    let url = site_url(st, site, url)?;
    let pages = pages_of(pages)?;
    if st.store.scans_queued().await? >= MAX_QUEUED {
        return Err(AppError::conflict(
            "queue_full",
            format!("{MAX_QUEUED} scans are already waiting: try again when some have run"),
        ));
    }
    let row = ScanRow {
        id: crate::rights::new_id(now)?,
        site: site.to_owned(),
        url,
        pages,
        schedule_id: None,
        requested_by: actor.to_owned(),
        queued_at_ms: now,
        started_at_ms: None,
        finished_at_ms: None,
        status: "queued".into(),
        violations: None,
        findings: None,
        report: None,
        error: None,
    };
    st.store.scan_insert(&row).await?;
    crate::ledger::audit(
        &st.store,
        now,
        "scan.queued",
        json!({"scan": row.id, "site": site, "by": actor}),
    )
    .await?;
    Ok(row)
}

/// The scans of `site` (every site: `None`), newest first, without their reports.
pub async fn list(st: &App, site: Option<&str>, limit: Option<u32>) -> AppResult<Vec<ScanRow>> {
    if let Some(s) = site
        && st.sites.current(s).is_none()
    {
        return Err(AppError::not_found(format!("no site `{s}`")).field("site"));
    }
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "from 1 to 500"));
    }
    Ok(st.store.scans_list(site, limit).await?)
}

/// Schedules a scan of `url` every `every_hours`, the first one at once (at the next tick of
/// the server's scan loop).
pub async fn schedule(
    st: &App,
    actor: &str,
    site: &str,
    url: &str,
    pages: Option<i64>,
    every_hours: i64,
) -> AppResult<ScanScheduleRow> {
    let now = st.clock.now_ms();
    let url = site_url(st, site, url)?;
    let pages = pages_of(pages)?;
    if !(MIN_EVERY_HOURS..=MAX_EVERY_HOURS).contains(&every_hours) {
        return Err(AppError::invalid(
            "every_hours",
            format!("hours between scans: from {MIN_EVERY_HOURS} to {MAX_EVERY_HOURS}"),
        ));
    }
    let row = ScanScheduleRow {
        id: crate::rights::new_id(now)?,
        site: site.to_owned(),
        url,
        pages,
        every_hours,
        next_at_ms: now,
        created_by: actor.to_owned(),
        created_at_ms: now,
    };
    st.store.scan_schedule_insert(&row).await?;
    crate::ledger::audit(
        &st.store,
        now,
        "scan.scheduled",
        json!({"schedule": row.id, "site": site, "every_hours": every_hours, "by": actor}),
    )
    .await?;
    Ok(row)
}

/// The schedules of `site` (every site: `None`).
pub async fn schedules(st: &App, site: Option<&str>) -> AppResult<Vec<ScanScheduleRow>> {
    Ok(st.store.scan_schedules(site).await?)
}

/// Deletes a schedule; its past scans stay in the history.
pub async fn unschedule(st: &App, actor: &str, id: &str) -> AppResult<()> {
    if !st.store.scan_schedule_delete(id).await? {
        return Err(AppError::not_found("no such scan schedule").field("id"));
    }
    crate::ledger::audit(
        &st.store,
        st.clock.now_ms(),
        "scan.unscheduled",
        json!({"schedule": id, "by": actor}),
    )
    .await?;
    Ok(())
}

/// Queues the scans of the schedules due now, each schedule moved to its next time in the
/// same transaction (several servers may call this: a schedule fires once). A schedule late
/// by more than one period (the server was down) fires once and moves past now. Returns how
/// many scans were queued.
pub async fn enqueue_due(st: &App) -> AppResult<usize> {
    let now = st.clock.now_ms();
    let mut queued = 0;
    for s in st.store.scan_schedules_due(now).await? {
        let every = s.every_hours.clamp(MIN_EVERY_HOURS, MAX_EVERY_HOURS) * HOUR_MS;
        let mut next = s.next_at_ms.saturating_add(every);
        if next <= now {
            let missed = (now - next) / every + 1;
            next = next.saturating_add(missed.saturating_mul(every));
        }
        let scan = ScanRow {
            id: crate::rights::new_id(now)?,
            site: s.site.clone(),
            url: s.url.clone(),
            pages: s.pages,
            schedule_id: Some(s.id.clone()),
            requested_by: "schedule".into(),
            queued_at_ms: now,
            started_at_ms: None,
            finished_at_ms: None,
            status: "queued".into(),
            violations: None,
            findings: None,
            report: None,
            error: None,
        };
        if st.store.scan_schedule_fire(&s, next, &scan).await? {
            queued += 1;
        }
    }
    Ok(queued)
}
