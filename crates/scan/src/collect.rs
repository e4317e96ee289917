//! Driving the browser: one browser context per scenario, banner clicks, and the
//! breadth-first crawl. Each page's protocol events are followed by `monitor`; what is seen
//! lands in an `observed::ScenarioRun`, uninterpreted.
//!
//! Invariant: a scenario never fails the scan: a page that cannot be loaded or a banner that
//! cannot be clicked becomes a page error or a note in its run.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use assent_cdp::{Browser, BrowserContext, CdpError, Page, Value};

use crate::monitor::Monitor;
use crate::observed::{ScenarioRun, Snapshot, string_list};
use crate::options::{ASSENT_CUSTOMIZE, ASSENT_SAVE, ScanOptions};
use crate::progress::ProgressCounter;
use crate::report::{PageVisit, Phase, Scenario};
use crate::url::{SiteScope, Url};

/// Clicks the first visible element matching one of the selectors (in order), searching open
/// and closed shadow roots too; polls until `ms` elapse. Returns the selector clicked or null.
const CLICK_SCRIPT: &str = include_str!("js/click.js");

/// Reads what a snapshot needs from the top document.
const SNAPSHOT_SCRIPT: &str = include_str!("js/snapshot.js");

/// Extensions of links that are not pages.
const NON_PAGE_EXTENSIONS: &[&str] = &[
    ".pdf", ".zip", ".gz", ".tgz", ".rar", ".7z", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg",
    ".ico", ".mp3", ".mp4", ".webm", ".mov", ".avi", ".doc", ".docx", ".xls", ".xlsx", ".ppt",
    ".pptx", ".odt", ".ods", ".csv", ".xml", ".json", ".txt", ".dmg", ".exe", ".msi", ".apk",
    ".css", ".js", ".woff", ".woff2", ".ttf",
];

/// The shared, read-only inputs of all scenarios.
pub(crate) struct Plan<'a> {
    pub start: Url,
    pub scope: SiteScope,
    pub options: &'a ScanOptions,
    pub accept: Vec<String>,
    pub reject: Vec<String>,
    pub manage: Vec<String>,
    pub progress: ProgressCounter,
}

/// Page loads planned for one scenario (for the progress bar).
pub(crate) fn planned_loads(scenario: Scenario, max_pages: usize) -> usize {
    match scenario {
        Scenario::BeforeConsent => max_pages,
        Scenario::AcceptAll | Scenario::RejectAll => max_pages + 1,
        Scenario::Withdrawal => max_pages + 2,
    }
}

/// Runs one scenario in its own browser context. Never fails: problems become notes.
pub(crate) async fn run_scenario(
    browser: &Browser,
    plan: &Plan<'_>,
    scenario: Scenario,
) -> ScenarioRun {
    let started = Instant::now();
    let mut run = ScenarioRun::new(scenario);
    let mut loads = 0usize;
    let result = drive(browser, plan, scenario, &mut run, &mut loads).await;
    if let Err(e) = result {
        run.notes.push(format!("The scenario stopped early: {e}"));
    }
    let planned = planned_loads(scenario, plan.options.max_pages);
    plan.progress.advance(
        Some(scenario),
        planned.saturating_sub(loads),
        format!("{} done", scenario.as_str()),
    );
    run.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    run
}

struct Driver<'a, 'p> {
    plan: &'a Plan<'p>,
    scenario: Scenario,
    context: BrowserContext,
    page: Page,
    monitor: Monitor,
    loads: &'a mut usize,
}

async fn drive(
    browser: &Browser,
    plan: &Plan<'_>,
    scenario: Scenario,
    run: &mut ScenarioRun,
    loads: &mut usize,
) -> Result<(), CdpError> {
    let context = browser.new_context().await?;
    let page = context.new_page().await?;
    page.set_viewport(1280, 800).await?;
    let monitor = Monitor::start(browser, &page).await?;
    let mut d = Driver {
        plan,
        scenario,
        context,
        page,
        monitor,
        loads,
    };
    let start = plan.start.normalized();
    let max = plan.options.max_pages;
    let outcome = async {
        match scenario {
            Scenario::BeforeConsent => {
                d.crawl(run, &start, Phase::BeforeChoice, max).await?;
                // Was there a banner at all? (It had every page load to appear.)
                let found = d
                    .page_has_visible(&plan.accept, plan.options.banner_timeout)
                    .await;
                run.banner.found = found;
                if !found {
                    run.banner.note = Some(no_banner_note(&plan.accept, false));
                }
            }
            Scenario::AcceptAll | Scenario::RejectAll => {
                let loaded = d.visit(run, &start, Phase::BeforeChoice).await?;
                if loaded.is_none() {
                    return Ok(());
                }
                let sels = if scenario == Scenario::AcceptAll {
                    &plan.accept
                } else {
                    &plan.reject
                };
                if d.choose(run, sels, scenario == Scenario::RejectAll, Phase::AfterChoice, &start)
                    .await?
                {
                    d.crawl(run, &start, Phase::AfterChoice, max).await?;
                }
            }
            Scenario::Withdrawal => {
                let loaded = d.visit(run, &start, Phase::BeforeChoice).await?;
                if loaded.is_none() {
                    return Ok(());
                }
                if !d
                    .choose(run, &plan.accept, false, Phase::AfterChoice, &start)
                    .await?
                {
                    return Ok(());
                }
                // A fresh load with consent given, so that consented scripts run.
                d.visit(run, &start, Phase::AfterChoice).await?;
                d.monitor.set_position(&start, Phase::AfterWithdrawal);
                let manage = d.click_first(&plan.manage).await?;
                let Some(manage) = manage else {
                    run.banner.note = Some(format!(
                        "No link to manage the choice could be clicked: no visible element matched {} within {} ms; withdrawal was not tested.",
                        plan.manage.join(" or "),
                        plan.options.banner_timeout.as_millis()
                    ));
                    return Ok(());
                };
                run.banner.clicked.push(manage);
                if d
                    .choose(run, &plan.reject, true, Phase::AfterWithdrawal, &start)
                    .await?
                {
                    d.crawl(run, &start, Phase::AfterWithdrawal, max).await?;
                }
            }
        }
        Ok::<(), CdpError>(())
    }
    .await;
    d.monitor.drain_into(run);
    let _ = d.context.close().await;
    outcome
}

/// Why no banner control was used: `stopped` for a scenario that needed to click one (the
/// before-consent scenario only looks, it never clicks).
fn no_banner_note(selectors: &[String], stopped: bool) -> String {
    if stopped {
        format!(
            "No consent banner could be clicked: no visible element matched {}; the scenario stopped after the first page.",
            selectors.join(" or ")
        )
    } else {
        format!(
            "No consent banner was found: no visible element matched {}.",
            selectors.join(" or ")
        )
    }
}

impl Driver<'_, '_> {
    /// Loads `url` and takes a snapshot. Returns the page's links (`None` if it failed).
    async fn visit(
        &mut self,
        run: &mut ScenarioRun,
        url: &str,
        phase: Phase,
    ) -> Result<Option<Vec<String>>, CdpError> {
        let opts = self.plan.options;
        self.monitor.set_position(url, phase);
        *self.loads += 1;
        self.plan.progress.advance(
            Some(self.scenario),
            1,
            format!("{}: {url}", self.scenario.as_str()),
        );
        match self
            .page
            .navigate_with_timeout(url, opts.page_timeout)
            .await
        {
            Ok(_) => {}
            Err(CdpError::Timeout { .. }) => {
                run.notes.push(format!(
                    "{url}: the load event did not fire within {} ms; observed as is.",
                    opts.page_timeout.as_millis()
                ));
            }
            // The page could not be loaded: recorded as such, the scenario goes on.
            Err(
                CdpError::Navigation { error, .. }
                | CdpError::JavaScript(error)
                | CdpError::Protocol { message: error, .. }
                | CdpError::UnexpectedResponse { detail: error, .. },
            ) => {
                run.pages.push(PageVisit {
                    url: url.to_owned(),
                    phase,
                    status: None,
                    error: Some(error),
                });
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        self.monitor.settle(opts.settle, opts.max_settle).await;
        let (status, links) = self.snapshot(run, url, phase).await?;
        run.pages.push(PageVisit {
            url: url.to_owned(),
            phase,
            status,
            error: None,
        });
        Ok(Some(links))
    }

    /// Records the cookie store and storage keys; returns the document's status and links.
    async fn snapshot(
        &mut self,
        run: &mut ScenarioRun,
        label: &str,
        phase: Phase,
    ) -> Result<(Option<u16>, Vec<String>), CdpError> {
        let info = match self.page.evaluate(SNAPSHOT_SCRIPT).await {
            Ok(v) => v,
            Err(CdpError::JavaScript(e)) => {
                // Typically a navigation started by the page itself: wait and retry once.
                self.monitor
                    .settle(self.plan.options.settle, self.plan.options.max_settle)
                    .await;
                match self.page.evaluate(SNAPSHOT_SCRIPT).await {
                    Ok(v) => v,
                    Err(_) => {
                        run.notes
                            .push(format!("{label}: could not read the document ({e})."));
                        Value::Null
                    }
                }
            }
            Err(CdpError::Protocol { message, .. }) => {
                run.notes
                    .push(format!("{label}: could not read the document ({message})."));
                Value::Null
            }
            Err(e) => return Err(e),
        };
        let cookies = self.context.cookies().await?;
        let strings = |k: &str| string_list(info.get(k));
        let now_ms = info
            .get("now")
            .and_then(Value::as_f64)
            .map(|f| f as i64)
            .unwrap_or_else(|| {
                // Without the page's clock, fall back to the newest snapshot's.
                run.snapshots.last().map_or(0, |s| s.now_ms)
            });
        let doc_url = info.get("url").and_then(Value::as_str).unwrap_or(label);
        let origin_host = Url::parse(doc_url)
            .map(|u| u.host)
            .unwrap_or_else(|| self.plan.start.host.clone());
        run.snapshots.push(Snapshot {
            page: label.to_owned(),
            phase,
            now_ms,
            cookies,
            origin_host,
            local: strings("local"),
            session: strings("session"),
        });
        let status = info
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok());
        Ok((status, strings("links")))
    }

    /// Whether one of `selectors` is visible (or becomes so within `timeout`).
    async fn page_has_visible(&self, selectors: &[String], timeout: Duration) -> bool {
        // Reuse the click script's search without clicking: a selector list is searched with a
        // zero timeout in a variant that only reports.
        let probe = CLICK_SCRIPT.replace("f[0].click(); return f[1];", "return f[1];");
        let sels = serde_json::to_string(selectors).unwrap_or_else(|_| "[]".into());
        let ms = timeout.as_millis();
        matches!(
            self.page
                .evaluate_with_timeout(
                    &format!("({probe})({sels}, {ms})"),
                    timeout + Duration::from_secs(10)
                )
                .await,
            Ok(Value::String(_))
        )
    }

    /// Clicks the first visible element among `selectors`, waiting up to the banner timeout.
    async fn click_first(&self, selectors: &[String]) -> Result<Option<String>, CdpError> {
        let sels = serde_json::to_string(selectors).unwrap_or_else(|_| "[]".into());
        let ms = self.plan.options.banner_timeout.as_millis();
        let expr = format!("({CLICK_SCRIPT})({sels}, {ms})");
        match self
            .page
            .evaluate_with_timeout(
                &expr,
                self.plan.options.banner_timeout + Duration::from_secs(10),
            )
            .await
        {
            Ok(Value::String(sel)) => Ok(Some(sel)),
            Ok(_) => Ok(None),
            // The click navigated away before the answer: it was clicked.
            Err(CdpError::JavaScript(e)) if e.contains("destroyed") => {
                Ok(Some(selectors.first().cloned().unwrap_or_default()))
            }
            Err(CdpError::JavaScript(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Clicks accept (or refuse) in the banner, settles, and snapshots. For a refusal, a
    /// "customize" button followed by "save" (all optional purposes left off) also counts.
    /// Returns whether a choice was made.
    async fn choose(
        &mut self,
        run: &mut ScenarioRun,
        selectors: &[String],
        refusal: bool,
        phase: Phase,
        start: &str,
    ) -> Result<bool, CdpError> {
        self.monitor.set_position(start, phase);
        let mut sels = selectors.to_vec();
        if refusal {
            sels.push(ASSENT_CUSTOMIZE.to_owned());
        }
        let Some(clicked) = self.click_first(&sels).await? else {
            run.banner.found = false;
            let note = match phase {
                Phase::AfterWithdrawal => format!(
                    "The preferences opened by the manage link had no visible refuse control ({}); withdrawal was not tested.",
                    sels.join(" or ")
                ),
                _ => no_banner_note(&sels, true),
            };
            run.banner.note = Some(note);
            return Ok(false);
        };
        run.banner.found = true;
        run.banner.clicked.push(clicked.clone());
        let mut last = clicked.clone();
        if clicked == ASSENT_CUSTOMIZE {
            let mut second = selectors.to_vec();
            second.push(ASSENT_SAVE.to_owned());
            match self.click_first(&second).await? {
                Some(s) => {
                    run.banner.clicked.push(s.clone());
                    last = s;
                }
                None => {
                    run.banner.note = Some(
                        "After \"customize\", neither a refuse-all nor a save button could be clicked.".into(),
                    );
                    return Ok(false);
                }
            }
        }
        self.monitor
            .settle(self.plan.options.settle, self.plan.options.max_settle)
            .await;
        let label = format!("{start} (after clicking {last})");
        self.snapshot(run, &label, phase).await?;
        run.pages.push(PageVisit {
            url: label,
            phase,
            status: None,
            error: None,
        });
        Ok(true)
    }

    /// Breadth-first crawl of same-site pages from `start`, at most `max` loads.
    async fn crawl(
        &mut self,
        run: &mut ScenarioRun,
        start: &str,
        phase: Phase,
        max: usize,
    ) -> Result<(), CdpError> {
        let mut queue = VecDeque::from([start.to_owned()]);
        let mut seen = HashSet::from([start.to_owned()]);
        let mut count = 0;
        while let Some(url) = queue.pop_front() {
            if count >= max {
                break;
            }
            count += 1;
            let Some(links) = self.visit(run, &url, phase).await? else {
                continue;
            };
            for link in links {
                let Some(u) = Url::parse(&link) else {
                    continue;
                };
                if !self.plan.scope.is_first_party(&u.host) || !looks_like_page(&u.path) {
                    continue;
                }
                let n = u.normalized();
                if seen.insert(n.clone()) {
                    queue.push_back(n);
                }
            }
        }
        Ok(())
    }
}

fn looks_like_page(path: &str) -> bool {
    let p = path.split('?').next().unwrap_or("").to_ascii_lowercase();
    !NON_PAGE_EXTENSIONS.iter().any(|e| p.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_filter() {
        assert!(looks_like_page("/about"));
        assert!(looks_like_page("/"));
        assert!(looks_like_page("/shop?x=a.pdf"));
        assert!(!looks_like_page("/files/a.PDF"));
        assert!(!looks_like_page("/img/logo.png?v=2"));
    }
}
