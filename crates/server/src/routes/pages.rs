//! Policy pages generated from the stored policy versions (rendering is in `assent-pages`):
//!
//! - `GET /sites/{site}/cookie-policy?lang=&version=` (HTML) and `/cookie-policy.json`;
//! - `GET /sites/{site}/privacy-policy?lang=&version=` (HTML);
//! - `GET /sites/{site}/policy-versions` (HTML) and `/policy-versions.json`;
//! - `GET /sites/{site}/policy-versions/diff?from=&to=` (HTML) and `/diff.json`;
//! - admin `GET /admin/v1/register?site=&format=csv|json|html&lang=` (Art. 30 record).
//!
//! Unknown site, unknown version: 404 (an HTML page for HTML routes, the JSON error body for
//! JSON ones). An unknown `lang` falls back to the site's default language. Versions are
//! immutable, so every page carries an `ETag` derived from site, version, language and
//! content, and a matching `If-None-Match` gets a 304 without rendering.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use assent_model::Registry;
use assent_model::clock::rfc3339;
use assent_model::registry::Service;
use assent_model::version::{Change, SiteSnapshot, diff};
use assent_pages::enforcement::{Enforcement, Enforcements};
pub use assent_pages::register::{Format, RegisterError};
use assent_pages::versions::{self, HistoryPage, VersionEntry};
use assent_pages::{Links, PolicyPage, cookie, privacy, resolve_lang};
use assent_store::PolicyVersionRow;

use crate::auth::Admin;
use crate::error::ApiError;
use crate::routes::headers::set_static;
use crate::state::AppState;
use assent_app::exports::{register_record, source_hash};
use assent_app::sites::SiteVersion;

/// Bumped when the rendering changes, so that cached pages are revalidated.
const RENDER_REV: &str = "pages-1";

// ---------------------------------------------------------------------------------------
// Query, errors, headers

/// Query parameters, taken as pairs so that no query string is ever rejected.
type Pairs = Query<Vec<(String, String)>>;

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The language of error pages and of the Art. 30 record: French when asked for, else English.
fn fr_or_en(q: &[(String, String)]) -> &'static str {
    if param(q, "lang") == Some("fr") {
        "fr"
    } else {
        "en"
    }
}

#[derive(Debug)]
enum PageError {
    UnknownSite,
    UnknownVersion,
    BadQuery(&'static str, &'static str),
    Internal(String),
}

impl From<assent_store::StoreError> for PageError {
    fn from(e: assent_store::StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl PageError {
    fn api(self) -> ApiError {
        match self {
            PageError::UnknownSite => ApiError::not_found("no such site").field("site"),
            PageError::UnknownVersion => {
                ApiError::not_found("no such policy version").field("version")
            }
            PageError::BadQuery(field, msg) => ApiError::bad_request(msg).field(field),
            PageError::Internal(e) => ApiError::internal(&e),
        }
    }

    fn html(self, lang: &str) -> Response {
        // (English, French)
        let (status, title, msg) = match self {
            PageError::UnknownSite => (
                StatusCode::NOT_FOUND,
                ("Page not found", "Page introuvable"),
                (
                    "No site of this name is served here. Check the address of the link.",
                    "Aucun site de ce nom n'est servi ici. Vérifiez l'adresse du lien.",
                ),
            ),
            PageError::UnknownVersion => (
                StatusCode::NOT_FOUND,
                ("Version not found", "Version introuvable"),
                (
                    "This version of the policy does not exist. See the site's version history.",
                    "Cette version de la politique n'existe pas. Consultez l'historique des versions du site.",
                ),
            ),
            PageError::BadQuery(_, msg) => (
                StatusCode::BAD_REQUEST,
                ("Bad request", "Requête invalide"),
                (msg, msg),
            ),
            PageError::Internal(e) => {
                tracing::error!(error = %e, "policy page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ("Internal error", "Erreur interne"),
                    (
                        "An internal error occurred; it has been logged.",
                        "Une erreur interne s'est produite ; elle a été journalisée.",
                    ),
                )
            }
        };
        let in_lang = |(en, fr): (&'static str, &'static str)| if lang == "fr" { fr } else { en };
        let mut resp = (
            status,
            versions::error_html(lang, in_lang(title), in_lang(msg)),
        )
            .into_response();
        uncached_html_headers(resp.headers_mut());
        resp
    }
}

/// Headers of every HTML page: the banner script may load from this server only.
fn html_headers(h: &mut HeaderMap, frame_hosts: Option<&[String]>) {
    let mut ancestors = String::from("'self'");
    for d in frame_hosts.unwrap_or_default() {
        let d = d.trim_start_matches('.');
        if !d.is_empty()
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            ancestors.push_str(&format!(" https://{d}"));
        }
    }
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    set_static(
        h,
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Not `no-referrer`: the banner's consent POST needs its Origin header.
            (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        ],
    );
}

/// Headers of an HTML page that is never cached (errors, the Art. 30 record).
fn uncached_html_headers(h: &mut HeaderMap) {
    html_headers(h, None);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A weak validator from the parts that determine a page.
fn etag(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(RENDER_REV.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

fn not_modified(req: &HeaderMap, tag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').map(str::trim).any(|x| {
                x == "*" || x == tag || x.trim_start_matches("W/") == tag.trim_start_matches("W/")
            })
        })
    })
}

/// Whether a route answers with an HTML page or a JSON document.
#[derive(Clone, Copy)]
enum Kind {
    Html,
    Json,
}

/// Renders unless the client already has this exact page.
fn cached(
    req: &HeaderMap,
    tag: String,
    max_age: u32,
    kind: Kind,
    frame_hosts: Option<&[String]>,
    render: impl FnOnce() -> String,
) -> Response {
    let mut resp = if not_modified(req, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, render()).into_response()
    };
    let h = resp.headers_mut();
    match kind {
        Kind::Html => html_headers(h, frame_hosts),
        Kind::Json => set_static(
            h,
            &[
                (header::CONTENT_TYPE, "application/json"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                // Public policy data: sites may fetch it to show it in their own pages.
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
        ),
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}

// ---------------------------------------------------------------------------------------
// Loading versions

/// The current version of a site and the one asked for (`version=N`, default: current).
async fn load(
    st: &AppState,
    site: &str,
    version_asked: Option<&str>,
) -> Result<(Arc<SiteVersion>, Arc<SiteVersion>), PageError> {
    let current = st.sites.current(site).ok_or(PageError::UnknownSite)?;
    let target = match version_asked {
        None => current.clone(),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| PageError::UnknownVersion)?;
            version(st, site, n).await?
        }
    };
    Ok((current, target))
}

/// Stored version `n` of a site; numbers start at 1.
async fn version(st: &AppState, site: &str, n: i64) -> Result<Arc<SiteVersion>, PageError> {
    if n < 1 {
        return Err(PageError::UnknownVersion);
    }
    st.sites
        .version(&st.store, site, n)
        .await?
        .ok_or(PageError::UnknownVersion)
}

/// Services the site's processing activities name but its banner does not use: read from the
/// registry file stored with the version (the snapshot keeps only the site's services).
fn extra_services(v: &SiteVersion) -> Vec<Service> {
    let snap = &v.snapshot;
    let wanted: Vec<&String> = snap
        .activities
        .iter()
        .flat_map(|a| a.processors.iter())
        .filter(|id| snap.service(id).is_none())
        .collect();
    if wanted.is_empty() {
        return vec![];
    }
    let Ok(reg) = toml::from_str::<Registry>(&v.row.source_toml) else {
        return vec![];
    };
    reg.services
        .into_iter()
        .filter(|s| wanted.contains(&&s.id))
        .collect()
}

fn entry(row: &PolicyVersionRow) -> VersionEntry {
    VersionEntry {
        version: row.version,
        created_at_ms: row.created_at_ms,
        requires_fresh_consent: row.requires_fresh_consent,
        consent_floor: row.consent_floor,
        content_hash: row.content_hash.clone(),
        changes: serde_json::from_str::<Vec<Change>>(&row.changes_json).unwrap_or_default(),
    }
}

fn max_age(pinned: bool) -> u32 {
    if pinned { 86_400 } else { 300 }
}

// ---------------------------------------------------------------------------------------
// Handlers

/// What the three policy pages start from: the version asked for (`version=N`, default the
/// current one), the current version, the language and whether the version was pinned.
struct Policy {
    current: Arc<SiteVersion>,
    v: Arc<SiteVersion>,
    lang: String,
    pinned: bool,
}

impl Policy {
    async fn load(st: &AppState, site: &str, q: &[(String, String)]) -> Result<Self, PageError> {
        let (current, v) = load(st, site, param(q, "version")).await?;
        let lang = resolve_lang(param(q, "lang"), &v.snapshot.site);
        Ok(Policy {
            current,
            v,
            lang,
            pinned: param(q, "version").is_some(),
        })
    }

    /// The validator of page `kind`: the versions, the content and the language, plus `extra`.
    fn tag(&self, kind: &str, site: &str, extra: &[&str]) -> String {
        let (version, current) = (
            self.v.row.version.to_string(),
            self.current.row.version.to_string(),
        );
        let mut parts = vec![
            kind,
            site,
            &version,
            &current,
            &self.v.row.content_hash,
            &self.lang,
        ];
        parts.extend_from_slice(extra);
        etag(&parts)
    }

    fn max_age(&self) -> u32 {
        max_age(self.pinned)
    }
}

/// What every public policy route reads from its request: the site, the query as pairs (so
/// that no query string is ever rejected) and the headers (for `If-None-Match`).
pub struct PageRequest {
    st: AppState,
    site: String,
    q: Vec<(String, String)>,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for PageRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Path(site) = Path::<String>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(q) = Pairs::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(PageRequest {
            st: st.clone(),
            site,
            q,
            headers: parts.headers.clone(),
        })
    }
}

impl PageRequest {
    fn param(&self, name: &str) -> Option<&str> {
        param(&self.q, name)
    }

    /// Answers `e` as this kind of route does: an HTML page in the asked language, or the JSON
    /// error body.
    fn refuse(&self, kind: Kind, e: PageError) -> Response {
        match kind {
            Kind::Html => e.html(fr_or_en(&self.q)),
            Kind::Json => e.api().into_response(),
        }
    }

    /// Base of the links in the answer: relative in pages, absolute in JSON documents (which
    /// other sites fetch).
    fn links_base(&self, kind: Kind) -> &str {
        match kind {
            Kind::Html => "",
            Kind::Json => &self.st.public_base,
        }
    }
}

/// Declares the HTML and the JSON handler of one route, both served by a function taking the
/// [`Kind`] of answer, so that the page and the document cannot drift apart.
macro_rules! html_and_json {
    ($html:ident, $json:ident => $serve:ident) => {
        pub async fn $html(req: PageRequest) -> Response {
            $serve(req, Kind::Html).await
        }

        pub async fn $json(req: PageRequest) -> Response {
            $serve(req, Kind::Json).await
        }
    };
}

html_and_json!(cookie_html, cookie_json => cookie);
html_and_json!(history_html, history_json => history);
html_and_json!(diff_html, diff_json => diff_page);

fn pretty(doc: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

async fn cookie(req: PageRequest, kind: Kind) -> Response {
    let p = match Policy::load(&req.st, &req.site, &req.q).await {
        Ok(p) => p,
        Err(e) => return req.refuse(kind, e),
    };
    let base = req.links_base(kind);
    let tag = match kind {
        Kind::Html => p.tag("cookie-policy", &req.site, &[]),
        Kind::Json => p.tag("cookie-policy.json", &req.site, &[base]),
    };
    let frame_hosts = Some(&p.v.snapshot.site.domains[..]);
    cached(&req.headers, tag, p.max_age(), kind, frame_hosts, || {
        let links = Links::new(base, &req.site);
        let page = page(&p.v, &p.current, &p.lang, &links, &[]);
        match kind {
            Kind::Html => cookie::html(&page),
            Kind::Json => pretty(&cookie::json(&page)),
        }
    })
}

pub async fn privacy_html(req: PageRequest) -> Response {
    let p = match Policy::load(&req.st, &req.site, &req.q).await {
        Ok(p) => p,
        Err(e) => return req.refuse(Kind::Html, e),
    };
    // The privacy policy also shows processing activities read from the stored source, and
    // how each retention rule is enforced (the day of the last purge run).
    let enforcement = assent_app::policy::enforcement(&req.st, &p.v.snapshot);
    let enforced = enforcement_tag(&enforcement, &p.v.snapshot.controller.timezone);
    let tag = p.tag(
        "privacy-policy",
        &req.site,
        &[&source_hash(&p.v), &enforced],
    );
    let frame_hosts = Some(&p.v.snapshot.site.domains[..]);
    cached(
        &req.headers,
        tag,
        p.max_age(),
        Kind::Html,
        frame_hosts,
        || {
            let links = Links::new("", &req.site);
            let extra = extra_services(&p.v);
            let mut page = page(&p.v, &p.current, &p.lang, &links, &extra);
            page.enforcement = &enforcement;
            privacy::html(&page)
        },
    )
}

/// What the privacy policy says of enforcement, for its validator: who applies each rule and
/// the day of the last run (the page shows the day).
fn enforcement_tag(e: &Enforcements, tz: &str) -> String {
    e.iter()
        .map(|(id, e)| match e {
            Enforcement::Assent {
                last_run_ms: Some(ms),
            } => format!("{id}:{}", assent_pages::words::iso_date(ms, tz)),
            Enforcement::Assent { last_run_ms: None } => format!("{id}:assent"),
            Enforcement::Controller => format!("{id}:controller"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Rules the caller says nothing about are the controller's: the cookie policy states no
/// enforcement.
static NO_ENFORCEMENT: std::sync::LazyLock<Enforcements> =
    std::sync::LazyLock::new(Enforcements::default);

fn page<'a>(
    v: &'a SiteVersion,
    current: &SiteVersion,
    lang: &'a str,
    links: &'a Links,
    extra: &'a [Service],
) -> PolicyPage<'a> {
    PolicyPage {
        snap: &v.snapshot,
        lang,
        version: v.row.version,
        created_at_ms: v.row.created_at_ms,
        current_version: current.row.version,
        links,
        extra_services: extra,
        enforcement: &NO_ENFORCEMENT,
    }
}

fn history_page<'a>(snap: &'a SiteSnapshot, lang: &'a str, links: &'a Links) -> HistoryPage<'a> {
    HistoryPage {
        site: &snap.site,
        timezone: &snap.controller.timezone,
        lang,
        links,
    }
}

/// The site's current version and all its stored versions.
async fn versions(
    st: &AppState,
    site: &str,
) -> Result<(Arc<SiteVersion>, Vec<PolicyVersionRow>), PageError> {
    let current = st.sites.current(site).ok_or(PageError::UnknownSite)?;
    let rows = st.store.list_policy_versions(site).await?;
    if rows.is_empty() {
        return Err(PageError::UnknownSite);
    }
    Ok((current, rows))
}

fn history_tag(
    kind: &str,
    site: &str,
    rows: &[PolicyVersionRow],
    lang: &str,
    base: &str,
) -> String {
    let last = rows
        .iter()
        .map(|r| r.version)
        .max()
        .unwrap_or(0)
        .to_string();
    let hashes: String = rows.iter().map(|r| r.content_hash.as_str()).collect();
    etag(&[
        kind,
        site,
        &last,
        &rows.len().to_string(),
        &hashes,
        lang,
        base,
    ])
}

async fn history(req: PageRequest, kind: Kind) -> Response {
    let (current, rows) = match versions(&req.st, &req.site).await {
        Ok(x) => x,
        Err(e) => return req.refuse(kind, e),
    };
    let lang = resolve_lang(req.param("lang"), &current.snapshot.site);
    let base = req.links_base(kind);
    let name = match kind {
        Kind::Html => "policy-versions",
        Kind::Json => "policy-versions.json",
    };
    let tag = history_tag(name, &req.site, &rows, &lang, base);
    let frame = Some(&current.snapshot.site.domains[..]);
    cached(&req.headers, tag, 300, kind, frame, || {
        let links = Links::new(base, &req.site);
        let page = history_page(&current.snapshot, &lang, &links);
        let entries: Vec<VersionEntry> = rows.iter().map(entry).collect();
        match kind {
            Kind::Html => versions::history_html(&page, &entries),
            Kind::Json => pretty(&versions::history_json(&page, &entries)),
        }
    })
}

struct DiffInput {
    current: Arc<SiteVersion>,
    from: Arc<SiteVersion>,
    to: Arc<SiteVersion>,
    all: Vec<i64>,
}

async fn diff_input(
    st: &AppState,
    site: &str,
    q: &[(String, String)],
) -> Result<DiffInput, PageError> {
    let current = st.sites.current(site).ok_or(PageError::UnknownSite)?;
    let num = |name: &'static str| -> Result<i64, PageError> {
        let v = param(q, name).ok_or(PageError::BadQuery(
            name,
            "give two versions to compare: ?from=A&to=B",
        ))?;
        v.trim()
            .parse::<i64>()
            .map_err(|_| PageError::UnknownVersion)
    };
    let (a, b) = (num("from")?, num("to")?);
    let from = version(st, site, a).await?;
    let to = version(st, site, b).await?;
    let all = (1..=current.row.version).collect();
    Ok(DiffInput {
        current,
        from,
        to,
        all,
    })
}

/// The changes between two versions; links stay relative in both kinds.
async fn diff_page(req: PageRequest, kind: Kind) -> Response {
    let d = match diff_input(&req.st, &req.site, &req.q).await {
        Ok(x) => x,
        Err(e) => return req.refuse(kind, e),
    };
    let lang = resolve_lang(req.param("lang"), &d.current.snapshot.site);
    let (from, to) = (d.from.row.version.to_string(), d.to.row.version.to_string());
    let current = d.current.row.version.to_string();
    let (from_hash, to_hash) = (&d.from.row.content_hash, &d.to.row.content_hash);
    let tag = match kind {
        Kind::Html => etag(&[
            "diff", &req.site, from_hash, to_hash, &from, &to, &current, &lang,
        ]),
        Kind::Json => etag(&[
            "diff.json",
            &req.site,
            from_hash,
            to_hash,
            &from,
            &to,
            &lang,
        ]),
    };
    let frame = Some(&d.current.snapshot.site.domains[..]);
    cached(&req.headers, tag, 86_400, kind, frame, || {
        let links = Links::new("", &req.site);
        let page = history_page(&d.current.snapshot, &lang, &links);
        let changes = diff(&d.from.snapshot, &d.to.snapshot);
        let (from, to) = (entry(&d.from.row), entry(&d.to.row));
        match kind {
            Kind::Html => versions::diff_html(&page, &from, &to, &changes, &d.all),
            Kind::Json => pretty(&versions::diff_json(&page, &from, &to, &changes)),
        }
    })
}

// ---------------------------------------------------------------------------------------
// Art. 30 record

/// `GET /admin/v1/register?site=ID&format=csv|json|html&lang=en|fr`: the record of one site's
/// processing activities, or (without `site`) of every registry applied to this server.
pub async fn register_export(
    _admin: Admin,
    State(st): State<AppState>,
    Query(q): Pairs,
) -> Result<Response, ApiError> {
    let format: Format = param(&q, "format")
        .unwrap_or("json")
        .parse()
        .map_err(|e: RegisterError| ApiError::invalid("format", e.to_string()))?;
    let record = register_record(&st, param(&q, "site"), fr_or_en(&q))?;
    let body = record
        .render(format, &rfc3339(st.clock.now_ms()))
        .map_err(|e| ApiError::internal(&e))?;
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if format == Format::Html {
        uncached_html_headers(h);
    }
    let name = format!(
        "attachment; filename=\"art30-record{}.{}\"",
        record
            .site
            .as_deref()
            .map(|s| format!(
                "-{}",
                s.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
            ))
            .unwrap_or_default(),
        format.extension()
    );
    if format != Format::Html
        && let Ok(v) = HeaderValue::from_str(&name)
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
