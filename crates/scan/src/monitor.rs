//! Following one page's protocol events, and those of the frames and workers it attaches:
//! requests in flight (to know when the network is quiet), requests to third parties,
//! `Set-Cookie` headers, cookies the browser refused, and writes reported by the init script.
//!
//! Invariant: an odd or malformed event is ignored, never an error; the monitor's task ends
//! when the monitor is dropped.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use assent_cdp::{Browser, CdpError, Page, Session, Value, json};
use tokio::task::JoinHandle;

use crate::cookie_line::parse_cookie_line;
use crate::observed::{Blocked, HeaderCookie, RequestSeen, ScenarioRun, ScriptWrite, string_list};
use crate::report::Phase;
use crate::url::Url;

/// Name of the binding through which the init script reports writes.
const BINDING: &str = "__assentScanReport";

/// Runs in every document (and every iframe) before the page's own scripts: records cookie and
/// storage writes with the writing script's URL (first http(s) frame of the stack), and keeps
/// closed shadow roots reachable for banner clicks.
const INIT_SCRIPT: &str = include_str!("js/init.js");

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
pub(crate) struct Monitor {
    state: Arc<Mutex<MonitorState>>,
    task: JoinHandle<()>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Monitor {
    pub(crate) async fn start(browser: &Browser, page: &Page) -> Result<Monitor, CdpError> {
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

    pub(crate) fn set_position(&self, page: &str, phase: Phase) {
        let mut s = lock(&self.state);
        s.page = page.to_owned();
        s.phase = phase;
        s.inflight.clear();
        s.last_activity = Instant::now();
    }

    /// Waits until no request is in flight for `quiet`, at most `max`.
    pub(crate) async fn settle(&self, quiet: Duration, max: Duration) {
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

    pub(crate) fn drain_into(&self, run: &mut ScenarioRun) {
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
                    let parsed = parse_cookie_line(&line);
                    let cookie = b.get("cookie");
                    let name = cookie
                        .and_then(|c| str_of(c, "name"))
                        .or_else(|| parsed.as_ref().map(|p| p.name.clone()))
                        .unwrap_or_default();
                    let domain = cookie
                        .and_then(|c| str_of(c, "domain"))
                        .or_else(|| parsed.as_ref().and_then(|p| p.domain.clone()))
                        .unwrap_or_else(|| response_host.clone());
                    let reasons = string_list(b.get("blockedReasons"));
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
