//! Driving the browser: one browser context per scenario, a monitor of protocol events per
//! page, banner clicks, and the breadth-first crawl.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use assent_cdp::{Browser, BrowserContext, CdpError, Cookie, Page, Session, Value, json};
use tokio::task::JoinHandle;

use crate::report::{BannerOutcome, PageVisit, Phase, Scenario};
use crate::url::{SiteScope, Url};
use crate::{ProgressEvent, ScanOptions};

/// Name of the binding through which the init script reports writes.
const BINDING: &str = "__assentScanReport";

/// Runs in every document (and every iframe) before the page's own scripts: records cookie and
/// storage writes with the writing script's URL (first http(s) frame of the stack), and keeps
/// closed shadow roots reachable for banner clicks.
const INIT_SCRIPT: &str = r#"(() => {
  if (window.__assentScanInstalled) return;
  try { Object.defineProperty(window, '__assentScanInstalled', { value: true }); } catch (e) { return; }
  const bind = window.__assentScanReport;
  const report = (kind, data) => {
    try { bind(JSON.stringify(Object.assign({ kind: kind, frame: String(location.href) }, data))); } catch (e) {}
  };
  const scriptUrl = (stack) => {
    const lines = String(stack || '').split('\n').slice(1);
    for (const l of lines) {
      const m = l.match(/(https?:\/\/[^\s()]+?):\d+:\d+\)?\s*$/);
      if (m) return m[1];
    }
    return null;
  };
  try {
    const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    if (d && d.get && d.set) {
      Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true, enumerable: d.enumerable,
        get: function () { return d.get.call(this); },
        set: function (v) {
          try { report('cookie', { line: String(v).slice(0, 4096), script: scriptUrl(new Error().stack) }); } catch (e) {}
          return d.set.call(this, v);
        }
      });
    }
  } catch (e) {}
  try {
    if (window.CookieStore && CookieStore.prototype.set) {
      const orig = CookieStore.prototype.set;
      CookieStore.prototype.set = function (a, b) {
        try {
          const o = typeof a === 'string' ? { name: a, value: b } : (a || {});
          let line = String(o.name) + '=' + String(o.value);
          if (o.expires) line += '; expires=' + new Date(o.expires).toUTCString();
          if (o.domain) line += '; domain=' + o.domain;
          report('cookie', { line: line, script: scriptUrl(new Error().stack) });
        } catch (e) {}
        return orig.apply(this, arguments);
      };
    }
  } catch (e) {}
  try {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      try {
        let kind = 'session_storage';
        try { if (this === window.localStorage) kind = 'local_storage'; } catch (e) {}
        report(kind, { name: String(k), script: scriptUrl(new Error().stack) });
      } catch (e) {}
      return setItem.apply(this, arguments);
    };
  } catch (e) {}
  try {
    const roots = [];
    const attach = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function () {
      const r = attach.apply(this, arguments);
      roots.push(r);
      return r;
    };
    Object.defineProperty(window, '__assentScanRoots', { value: () => roots.slice() });
  } catch (e) {}
})();"#;

/// Clicks the first visible element matching one of the selectors (in order), searching open
/// and closed shadow roots too; polls until `ms` elapse. Returns the selector clicked or null.
const CLICK_SCRIPT: &str = r#"(async (sels, ms) => {
  const roots = () => {
    const out = [document];
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot && !out.includes(el.shadowRoot)) { out.push(el.shadowRoot); walk(el.shadowRoot); }
      }
    };
    walk(document);
    const extra = typeof window.__assentScanRoots === 'function' ? window.__assentScanRoots() : [];
    for (const r of extra) if (!out.includes(r)) { out.push(r); walk(r); }
    return out;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  };
  const find = () => {
    const rs = roots();
    for (const sel of sels) {
      for (const root of rs) {
        let els = [];
        try { els = root.querySelectorAll(sel); } catch (e) { continue; }
        for (const el of els) if (visible(el)) return [el, sel];
      }
    }
    return null;
  };
  const end = performance.now() + ms;
  for (;;) {
    const f = find();
    if (f) { f[0].click(); return f[1]; }
    if (performance.now() >= end) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
})"#;

/// Reads what a snapshot needs from the top document.
const SNAPSHOT_SCRIPT: &str = r#"(() => {
  const r = { now: Date.now(), url: String(location.href), local: [], session: [], links: [], status: null };
  try { r.local = Object.keys(localStorage); } catch (e) {}
  try { r.session = Object.keys(sessionStorage); } catch (e) {}
  try { const n = performance.getEntriesByType('navigation')[0]; if (n && n.responseStatus) r.status = n.responseStatus; } catch (e) {}
  try { r.links = Array.from(document.querySelectorAll('a[href], area[href]'), (a) => String(a.href)).slice(0, 5000); } catch (e) {}
  return r;
})()"#;

/// Extensions of links that are not pages.
const NON_PAGE_EXTENSIONS: &[&str] = &[
    ".pdf", ".zip", ".gz", ".tgz", ".rar", ".7z", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg",
    ".ico", ".mp3", ".mp4", ".webm", ".mov", ".avi", ".doc", ".docx", ".xls", ".xlsx", ".ppt",
    ".pptx", ".odt", ".ods", ".csv", ".xml", ".json", ".txt", ".dmg", ".exe", ".msi", ".apk",
    ".css", ".js", ".woff", ".woff2", ".ttf",
];

/// A `Set-Cookie` header line seen on a response.
#[derive(Debug, Clone)]
pub(crate) struct HeaderCookie {
    pub line: String,
    pub url: String,
}

/// A cookie or storage write reported by the init script.
#[derive(Debug, Clone)]
pub(crate) struct ScriptWrite {
    /// `cookie`, `local_storage` or `session_storage`.
    pub kind: String,
    /// Cookie line (for cookies).
    pub line: Option<String>,
    /// Storage key (for storage).
    pub name: Option<String>,
    /// The writing script's URL, when the stack had one.
    pub script: Option<String>,
    /// The frame's URL.
    pub frame: String,
    pub page: String,
    pub phase: Phase,
}

/// A refused `Set-Cookie`.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    pub name: String,
    pub domain: String,
    pub reasons: Vec<String>,
    pub url: String,
    pub page: String,
    pub phase: Phase,
}

/// A request seen on the network.
#[derive(Debug, Clone)]
pub(crate) struct RequestSeen {
    pub url: String,
    pub host: String,
    pub resource_type: String,
    pub page: String,
    pub phase: Phase,
}

/// The state of the store and the document after one page visit or click.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub page: String,
    pub phase: Phase,
    /// The browser's clock, epoch ms.
    pub now_ms: i64,
    pub cookies: Vec<Cookie>,
    /// Host of the top document's origin.
    pub origin_host: String,
    pub local: Vec<String>,
    pub session: Vec<String>,
}

/// Everything one scenario collected.
#[derive(Debug, Clone)]
pub(crate) struct ScenarioRun {
    pub scenario: Scenario,
    pub duration_ms: u64,
    pub banner: BannerOutcome,
    pub pages: Vec<PageVisit>,
    pub snapshots: Vec<Snapshot>,
    pub header_cookies: Vec<HeaderCookie>,
    pub script_writes: Vec<ScriptWrite>,
    pub blocked: Vec<Blocked>,
    pub requests: Vec<RequestSeen>,
    pub notes: Vec<String>,
}

impl ScenarioRun {
    fn new(scenario: Scenario) -> Self {
        ScenarioRun {
            scenario,
            duration_ms: 0,
            banner: BannerOutcome::default(),
            pages: Vec::new(),
            snapshots: Vec::new(),
            header_cookies: Vec::new(),
            script_writes: Vec::new(),
            blocked: Vec::new(),
            requests: Vec::new(),
            notes: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct MonitorState {
    page: String,
    phase: Phase,
    sessions: HashSet<String>,
    urls: HashMap<String, String>,
    inflight: HashSet<String>,
    last_activity: Instant,
    header_cookies: Vec<HeaderCookie>,
    script_writes: Vec<ScriptWrite>,
    blocked: Vec<Blocked>,
    requests: Vec<RequestSeen>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Follows the protocol events of one page and of the frames and workers it attaches.
struct Monitor {
    state: Arc<Mutex<MonitorState>>,
    task: JoinHandle<()>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Monitor {
    async fn start(browser: &Browser, page: &Page) -> Result<Monitor, CdpError> {
        let state = Arc::new(Mutex::new(MonitorState {
            page: String::new(),
            phase: Phase::BeforeChoice,
            sessions: HashSet::from([page.session_id().to_owned()]),
            urls: HashMap::new(),
            inflight: HashSet::new(),
            last_activity: Instant::now(),
            header_cookies: Vec::new(),
            script_writes: Vec::new(),
            blocked: Vec::new(),
            requests: Vec::new(),
        }));
        // Subscribe before enabling anything so that no event is missed.
        let mut events = browser.events();
        let root = browser.session().clone();
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                let Some(sid) = ev.session_id.as_deref() else {
                    continue;
                };
                if !lock(&st).sessions.contains(sid) {
                    continue;
                }
                handle_event(&st, &root, &ev.method, &ev.params);
            }
        });
        let monitor = Monitor { state, task };
        setup_target(page.session(), true).await?;
        Ok(monitor)
    }

    fn set_position(&self, page: &str, phase: Phase) {
        let mut s = lock(&self.state);
        s.page = page.to_owned();
        s.phase = phase;
        s.inflight.clear();
        s.last_activity = Instant::now();
    }

    /// Waits until no request is in flight for `quiet`, at most `max`.
    async fn settle(&self, quiet: Duration, max: Duration) {
        let start = Instant::now();
        loop {
            {
                let s = lock(&self.state);
                if s.inflight.is_empty() && s.last_activity.elapsed() >= quiet {
                    return;
                }
            }
            if start.elapsed() >= max {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn drain_into(&self, run: &mut ScenarioRun) {
        let mut s = lock(&self.state);
        run.header_cookies.append(&mut s.header_cookies);
        run.script_writes.append(&mut s.script_writes);
        run.blocked.append(&mut s.blocked);
        run.requests.append(&mut s.requests);
    }
}

/// Enables what the monitor needs on a page or frame target. Iframes and workers attached
/// automatically are paused until this has run (`waitForDebuggerOnStart`).
async fn setup_target(session: &Session, strict: bool) -> Result<(), CdpError> {
    let steps: [(&str, Value); 7] = [
        ("Page.enable", json!({})),
        ("Network.enable", json!({})),
        ("Network.setCacheDisabled", json!({ "cacheDisabled": true })),
        ("Runtime.enable", json!({})),
        ("Runtime.addBinding", json!({ "name": BINDING })),
        (
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": INIT_SCRIPT }),
        ),
        (
            "Target.setAutoAttach",
            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
        ),
    ];
    for (method, params) in steps {
        match session.call(method, params).await {
            Ok(_) => {}
            Err(e) if strict => return Err(e),
            Err(_) => {}
        }
    }
    Ok(())
}

/// Handles one event of a followed session. Never fails: odd events are ignored.
fn handle_event(state: &Arc<Mutex<MonitorState>>, root: &Session, method: &str, params: &Value) {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match method {
        "Target.attachedToTarget" => {
            let Some(sid) = str_of(params, "sessionId") else {
                return;
            };
            let kind = params
                .get("targetInfo")
                .and_then(|t| str_of(t, "type"))
                .unwrap_or_default();
            lock(state).sessions.insert(sid.clone());
            let child = root.with_id(sid);
            tokio::spawn(async move {
                match kind.as_str() {
                    "iframe" | "page" => {
                        let _ = setup_target(&child, false).await;
                    }
                    "worker" | "shared_worker" | "service_worker" => {
                        let _ = child.call("Network.enable", json!({})).await;
                    }
                    _ => {}
                }
                let _ = child
                    .call("Runtime.runIfWaitingForDebugger", json!({}))
                    .await;
            });
        }
        "Target.detachedFromTarget" => {
            if let Some(sid) = str_of(params, "sessionId") {
                lock(state).sessions.remove(&sid);
            }
        }
        "Network.requestWillBeSent" => {
            let (Some(id), Some(url)) = (
                str_of(params, "requestId"),
                params.get("request").and_then(|r| str_of(r, "url")),
            ) else {
                return;
            };
            let mut s = lock(state);
            s.last_activity = Instant::now();
            s.inflight.insert(id.clone());
            s.urls.insert(id, url.clone());
            if let Some(u) = Url::parse(&url) {
                let record = RequestSeen {
                    host: u.host,
                    url,
                    resource_type: str_of(params, "type").unwrap_or_else(|| "Other".into()),
                    page: s.page.clone(),
                    phase: s.phase,
                };
                s.requests.push(record);
            }
        }
        "Network.loadingFinished" | "Network.loadingFailed" => {
            if let Some(id) = str_of(params, "requestId") {
                let mut s = lock(state);
                s.inflight.remove(&id);
                s.last_activity = Instant::now();
            }
        }
        "Network.responseReceivedExtraInfo" => {
            let id = str_of(params, "requestId").unwrap_or_default();
            let mut s = lock(state);
            let url = s.urls.get(&id).cloned().unwrap_or_default();
            let (page, phase) = (s.page.clone(), s.phase);
            if let Some(headers) = params.get("headers").and_then(Value::as_object) {
                for (k, v) in headers {
                    if !k.eq_ignore_ascii_case("set-cookie") {
                        continue;
                    }
                    for line in v.as_str().unwrap_or_default().split('\n') {
                        if line.trim().is_empty() {
                            continue;
                        }
                        s.header_cookies.push(HeaderCookie {
                            line: line.to_owned(),
                            url: url.clone(),
                        });
                    }
                }
            }
            if let Some(blocked) = params.get("blockedCookies").and_then(Value::as_array) {
                let response_host = Url::parse(&url).map(|u| u.host).unwrap_or_default();
                for b in blocked {
                    let line = str_of(b, "cookieLine").unwrap_or_default();
                    let parsed = crate::analyze::parse_cookie_line(&line);
                    let cookie = b.get("cookie");
                    let name = cookie
                        .and_then(|c| str_of(c, "name"))
                        .or_else(|| parsed.as_ref().map(|p| p.name.clone()))
                        .unwrap_or_default();
                    let domain = cookie
                        .and_then(|c| str_of(c, "domain"))
                        .or_else(|| parsed.as_ref().and_then(|p| p.domain.clone()))
                        .unwrap_or_else(|| response_host.clone());
                    let reasons = b
                        .get("blockedReasons")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    s.blocked.push(Blocked {
                        name,
                        domain,
                        reasons,
                        url: url.clone(),
                        page: page.clone(),
                        phase,
                    });
                }
            }
        }
        "Runtime.bindingCalled" => {
            if params.get("name").and_then(Value::as_str) != Some(BINDING) {
                return;
            }
            let Some(payload) = params
                .get("payload")
                .and_then(Value::as_str)
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
            else {
                return;
            };
            let mut s = lock(state);
            let write = ScriptWrite {
                kind: str_of(&payload, "kind").unwrap_or_default(),
                line: str_of(&payload, "line"),
                name: str_of(&payload, "name"),
                script: str_of(&payload, "script"),
                frame: str_of(&payload, "frame").unwrap_or_default(),
                page: s.page.clone(),
                phase: s.phase,
            };
            s.script_writes.push(write);
        }
        _ => {}
    }
}

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

/// Counts page loads for the progress display.
#[derive(Clone)]
pub(crate) struct ProgressCounter {
    done: Arc<Mutex<usize>>,
    pub total: usize,
    sink: Option<crate::ProgressFn>,
}

impl ProgressCounter {
    pub(crate) fn new(total: usize, sink: Option<crate::ProgressFn>) -> Self {
        ProgressCounter {
            done: Arc::new(Mutex::new(0)),
            total,
            sink,
        }
    }

    fn advance(&self, scenario: Option<Scenario>, by: usize, message: String) {
        let done = {
            let mut d = lock(&self.done);
            *d = (*d + by).min(self.total);
            *d
        };
        if let Some(sink) = &self.sink {
            sink(&ProgressEvent {
                scenario,
                message,
                done,
                total: self.total,
            });
        }
    }

    pub(crate) fn message(&self, scenario: Option<Scenario>, message: String) {
        self.advance(scenario, 0, message);
    }
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

fn no_banner_note(selectors: &[String], stopped: bool) -> String {
    format!(
        "No consent banner could be clicked: no visible element matched {}{}.",
        selectors.join(" or "),
        if stopped {
            "; the scenario stopped after the first page"
        } else {
            ""
        }
    )
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
            Err(CdpError::Navigation { error, .. }) => {
                run.pages.push(PageVisit {
                    url: url.to_owned(),
                    phase,
                    status: None,
                    error: Some(error),
                });
                return Ok(None);
            }
            Err(CdpError::JavaScript(e))
            | Err(CdpError::Protocol { message: e, .. })
            | Err(CdpError::UnexpectedResponse { detail: e, .. }) => {
                run.pages.push(PageVisit {
                    url: url.to_owned(),
                    phase,
                    status: None,
                    error: Some(e),
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
        let strings = |k: &str| -> Vec<String> {
            info.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
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
            sels.push(CUSTOMIZE.to_owned());
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
        if clicked == CUSTOMIZE {
            let mut second = selectors.to_vec();
            second.push(SAVE.to_owned());
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

/// Assent's "customize" and "save" buttons.
pub(crate) const CUSTOMIZE: &str = "[data-assent-action=\"customize\"]";
pub(crate) const SAVE: &str = "[data-assent-action=\"save\"]";

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
