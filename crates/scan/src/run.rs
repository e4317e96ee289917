//! One scan from start to end: launch Chromium, run the scenarios concurrently (`collect`),
//! build each scenario's inventory (`analyze`), apply the rules (`rules`), and assemble the
//! report with its summary and notes.
//!
//! Invariant: a scan that could not load a single page is an error, never a clean report.

use std::time::Instant;

use assent_cdp::{Browser, LaunchOptions};

use crate::analyze::{self, Context};
use crate::collect::{self, Plan};
use crate::declared::Declared;
use crate::options::{
    ASSENT_ACCEPT, ASSENT_MANAGE, ASSENT_REJECT, ScanError, ScanOptions, selectors,
};
use crate::progress::ProgressCounter;
use crate::report::{self, Report, Scenario, Severity};
use crate::rules;
use crate::url;

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
    let progress = ProgressCounter::new(total, options.progress.clone());
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

    let plan = Plan {
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

    let cx = Context {
        declared,
        catalog: &options.catalog,
        scope: &scope,
    };
    let reports: Vec<report::ScenarioReport> = runs
        .iter()
        .map(|r| analyze::scenario_report(r, &cx))
        .collect();
    let findings = rules::findings(&reports, &cx);

    let mut notes = Vec::new();
    // Found means seen: the before-consent scenario never clicks (it only looks for a visible
    // accept control), the others click.
    let banner_found = reports
        .iter()
        .any(|s| s.banner.found || !s.banner.clicked.is_empty());
    let banner_clicked = reports.iter().any(|s| !s.banner.clicked.is_empty());
    let choice_scenarios = reports
        .iter()
        .any(|s| s.scenario != Scenario::BeforeConsent);
    if !banner_found {
        notes.push(format!(
            "No consent banner was found (looked for {}). The before-consent audit stands; the scenarios after a choice could not be run past their first page.",
            plan.accept.join(" or ")
        ));
    } else if choice_scenarios && !banner_clicked {
        notes.push(format!(
            "No consent banner could be clicked (looked for {}). The before-consent audit stands; the scenarios after a choice could not be run past their first page.",
            plan.accept.join(" or ")
        ));
    }
    if banner_clicked || !choice_scenarios {
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
        distinct_cookies: rules::distinct_cookies(&reports),
        third_party_hosts: rules::third_party_hosts(&reports),
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
