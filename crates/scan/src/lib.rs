//! Assent's cookie scanner: audits a live site in Chromium against its declared inventory.
//!
//! One browser, four scenarios run concurrently, each in its own browser context (a fresh
//! cookie jar, third-party cookies allowed): **before consent**, **after accept all**,
//! **after refuse all**, and **withdrawal** (accept, then refuse through the manage link).
//! Each crawls up to `max_pages` same-site pages breadth-first and records every cookie in the
//! browser's store (HttpOnly and third-party included) with who set it, cookies the browser
//! refused, storage keys, and requests to third-party hosts. The observations are compared with
//! the [`Declared`] inventory and classified with a [`Catalog`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), assent_scan::ScanError> {
//! use assent_scan::{Declared, ScanOptions, scan};
//! let declared: Declared = serde_json::from_str(r#"{"site_hosts": ["www.example.com"]}"#).unwrap();
//! let report = scan("https://www.example.com/", &declared, ScanOptions::default()).await?;
//! std::fs::write("report.html", report.to_html()).ok();
//! std::process::exit(report.exit_code());
//! # }
//! ```
//!
//! This crate does not depend on the server: the CLI converts the registry into a
//! [`Declared`].

mod analyze;
pub mod catalog;
mod collect;
mod declared;
mod html;
pub mod progress;
pub mod report;
pub mod url;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_cdp::{Browser, CdpError, LaunchOptions};

pub use analyze::{THIRTEEN_MONTHS_SECONDS, human_duration};
pub use catalog::{Catalog, CatalogEntry, CatalogError, Category};
pub use declared::{Declared, DeclaredCookie, DeclaredPurpose};
pub use html::escape as html_escape;
pub use report::{Finding, FindingKind, Phase, Report, Scenario, Severity, Subject};

/// Assent's banner buttons and manage link.
pub const ASSENT_ACCEPT: &str = "[data-assent-action=\"accept-all\"]";
/// Assent's "refuse all" button.
pub const ASSENT_REJECT: &str = "[data-assent-action=\"reject-all\"]";
/// Assent's "manage my choices" link.
pub const ASSENT_MANAGE: &str = "[data-assent-manage]";

/// One progress step, for a display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressEvent {
    /// The scenario it is about.
    pub scenario: Option<Scenario>,
    /// What happened (`accept_all: http://...`).
    pub message: String,
    /// Page loads done (estimated against `total`).
    pub done: usize,
    /// Page loads planned.
    pub total: usize,
}

/// A progress callback; see [`progress::stderr_progress`].
pub type ProgressFn = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// How to scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Pages crawled per scenario (after the choice, for the scenarios that make one).
    pub max_pages: usize,
    /// Scenarios to run (all four by default).
    pub scenarios: Vec<Scenario>,
    /// Known-cookie catalog (built-in by default).
    pub catalog: Catalog,
    /// CSS selector of another banner's "accept all" (tried before Assent's).
    pub accept_selector: Option<String>,
    /// CSS selector of another banner's "refuse all".
    pub reject_selector: Option<String>,
    /// CSS selector of another banner's "manage choices" link.
    pub manage_selector: Option<String>,
    /// Chromium executable (default: see [`assent_cdp::LaunchOptions::executable`]).
    pub chromium: Option<PathBuf>,
    /// `--host-resolver-rules` for the browser (tests map names to loopback addresses).
    pub host_resolver_rules: Option<String>,
    /// More Chromium flags.
    pub extra_args: Vec<String>,
    /// How long to wait for a banner control to become visible.
    pub banner_timeout: Duration,
    /// Quiet network time after which a page counts as settled.
    pub settle: Duration,
    /// Upper bound of the wait for a quiet network.
    pub max_settle: Duration,
    /// Upper bound of one page load.
    pub page_timeout: Duration,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("max_pages", &self.max_pages)
            .field("scenarios", &self.scenarios)
            .field("catalog_entries", &self.catalog.len())
            .field("accept_selector", &self.accept_selector)
            .field("reject_selector", &self.reject_selector)
            .field("manage_selector", &self.manage_selector)
            .field("chromium", &self.chromium)
            .field("host_resolver_rules", &self.host_resolver_rules)
            .field("banner_timeout", &self.banner_timeout)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_pages: 10,
            scenarios: Scenario::ALL.to_vec(),
            catalog: Catalog::builtin(),
            accept_selector: None,
            reject_selector: None,
            manage_selector: None,
            chromium: None,
            host_resolver_rules: None,
            extra_args: Vec::new(),
            banner_timeout: Duration::from_secs(5),
            settle: Duration::from_millis(250),
            max_settle: Duration::from_secs(5),
            page_timeout: Duration::from_secs(20),
            progress: None,
        }
    }
}

/// Why a scan could not produce a report (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The URL is not an absolute http(s) URL.
    #[error("not an absolute http(s) URL: {0}")]
    InvalidUrl(String),
    /// Chromium could not be started or driven.
    #[error(transparent)]
    Browser(#[from] CdpError),
    /// The start page could not be loaded in any scenario.
    #[error("cannot load {url}: {error}")]
    Unreachable {
        /// The start URL.
        url: String,
        /// Chromium's error.
        error: String,
    },
}

impl ScanError {
    /// Process exit code for CI.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

fn selectors(custom: &Option<String>, assent: &str) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = custom
        && !c.trim().is_empty()
    {
        v.push(c.trim().to_owned());
    }
    v.push(assent.to_owned());
    v
}

/// Audits `url` against `declared`. Returns a report (violations included) or, when nothing
/// could be audited, an error.
pub async fn scan(
    url: &str,
    declared: &Declared,
    options: ScanOptions,
) -> Result<Report, ScanError> {
    let started = Instant::now();
    let start = url::Url::parse(url).ok_or_else(|| ScanError::InvalidUrl(url.to_owned()))?;
    let scope = url::SiteScope::new(
        &start.host,
        &declared.site_hosts,
        declared.cookie_domain.as_deref(),
    );
    let mut scenarios = options.scenarios.clone();
    scenarios.sort();
    scenarios.dedup();
    let total: usize = scenarios
        .iter()
        .map(|s| collect::planned_loads(*s, options.max_pages))
        .sum();
    let progress = collect::ProgressCounter::new(total, options.progress.clone());
    progress.message(
        None,
        format!("starting Chromium to scan {}", start.normalized()),
    );

    let browser = Browser::launch(LaunchOptions {
        executable: options.chromium.clone(),
        host_resolver_rules: options.host_resolver_rules.clone(),
        extra_args: options.extra_args.clone(),
        allow_third_party_cookies: true,
        navigation_timeout: options.page_timeout,
        ..LaunchOptions::default()
    })
    .await?;
    let version = browser.version().await.unwrap_or_default();

    let plan = collect::Plan {
        start: start.clone(),
        scope: scope.clone(),
        options: &options,
        accept: selectors(&options.accept_selector, ASSENT_ACCEPT),
        reject: selectors(&options.reject_selector, ASSENT_REJECT),
        manage: selectors(&options.manage_selector, ASSENT_MANAGE),
        progress: progress.clone(),
    };
    let runs = futures_util::future::join_all(
        scenarios
            .iter()
            .map(|s| collect::run_scenario(&browser, &plan, *s)),
    )
    .await;
    let _ = browser.close().await;

    // Nothing audited at all: that is an error, not a clean report.
    let loaded_any = runs
        .iter()
        .any(|r| r.pages.iter().any(|p| p.error.is_none()));
    if !loaded_any {
        let error = runs
            .iter()
            .flat_map(|r| r.pages.iter().filter_map(|p| p.error.clone()))
            .chain(runs.iter().flat_map(|r| r.notes.iter().cloned()))
            .next()
            .unwrap_or_else(|| "no page could be loaded".into());
        return Err(ScanError::Unreachable {
            url: start.normalized(),
            error,
        });
    }

    let cx = analyze::Context {
        declared,
        catalog: &options.catalog,
        scope: &scope,
    };
    let reports: Vec<report::ScenarioReport> = runs
        .iter()
        .map(|r| analyze::scenario_report(r, &cx))
        .collect();
    let findings = analyze::findings(&reports, &cx);

    let mut notes = Vec::new();
    let banner_found = reports.iter().any(|s| !s.banner.clicked.is_empty());
    let choice_scenarios = reports
        .iter()
        .any(|s| s.scenario != Scenario::BeforeConsent);
    if !banner_found {
        notes.push(format!(
            "No consent banner could be clicked (looked for {}). The before-consent audit stands; the scenarios after a choice could not be run past their first page.",
            plan.accept.join(" or ")
        ));
    }
    if banner_found || !choice_scenarios {
        for s in &reports {
            if let Some(n) = &s.banner.note
                && s.scenario != Scenario::BeforeConsent
            {
                notes.push(format!("{}: {n}", s.scenario.title()));
            }
        }
    }
    for s in &reports {
        if s.pages.iter().any(|p| p.error.is_some()) {
            let failed = s.pages.iter().filter(|p| p.error.is_some()).count();
            notes.push(format!(
                "{}: {failed} page(s) could not be loaded (see the inventory).",
                s.scenario.title()
            ));
        }
    }

    let mut by_kind = std::collections::BTreeMap::new();
    for f in &findings {
        *by_kind.entry(f.kind.as_str().to_owned()).or_insert(0) += 1;
    }
    let violations = findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .count();
    let summary = report::Summary {
        clean: violations == 0,
        violations,
        info: findings.len() - violations,
        by_kind,
        pages_visited: reports
            .iter()
            .map(|s| {
                s.pages
                    .iter()
                    .filter(|p| !p.url.contains(" (after clicking "))
                    .count()
            })
            .sum(),
        distinct_cookies: analyze::distinct_cookies(&reports),
        third_party_hosts: analyze::third_party_hosts(&reports),
        banner_found,
    };
    let started_at_ms = runs
        .iter()
        .flat_map(|r| r.snapshots.iter().map(|s| s.now_ms))
        .filter(|t| *t > 0)
        .min()
        .unwrap_or(0);
    let report = Report {
        schema: report::SCHEMA.to_owned(),
        url: start.normalized(),
        started_at_ms,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        browser: version,
        options: report::ReportOptions {
            max_pages: options.max_pages,
            scenarios,
            accept_selectors: plan.accept.clone(),
            reject_selectors: plan.reject.clone(),
            manage_selectors: plan.manage.clone(),
            catalog_entries: options.catalog.len(),
        },
        summary,
        notes,
        findings,
        scenarios: reports,
    };
    progress.message(
        None,
        format!(
            "done in {:.1} s: {} violation(s)",
            report.duration_ms as f64 / 1000.0,
            report.summary.violations
        ),
    );
    Ok(report)
}
