//! Raw observations of one scenario, as the browser reported them: written by `collect` and
//! `monitor`, read by `analyze`. Nothing here is interpreted yet (no declaration, no catalog).

use assent_cdp::{Cookie, Value};

use crate::report::{BannerOutcome, PageVisit, Phase, Scenario};

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
    /// An empty run, before the scenario starts.
    pub(crate) fn new(scenario: Scenario) -> Self {
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

/// The strings of a JSON array from the browser; anything else (absent, not an array, non-string
/// items) is left out rather than failing.
pub(crate) fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
