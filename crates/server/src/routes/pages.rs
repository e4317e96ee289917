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

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use assent_model::Registry;
use assent_model::clock::rfc3339;
use assent_model::registry::Service;
use assent_model::version::{Change, SiteSnapshot, diff};
pub use assent_pages::register::{Format, RegisterError};
use assent_pages::versions::{self, HistoryPage, VersionEntry};
use assent_pages::{Links, PolicyPage, cookie, privacy, resolve_lang};
use assent_store::PolicyVersionRow;

use crate::auth::Admin;
use crate::error::ApiError;
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

/// The language of an error page: French when asked for, else English.
fn error_lang(q: &[(String, String)]) -> &'static str {
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
        let fr = lang == "fr";
        let (status, title, msg) = match self {
            PageError::UnknownSite => (
                StatusCode::NOT_FOUND,
                if fr {
                    "Page introuvable"
                } else {
                    "Page not found"
                },
                if fr {
                    "Aucun site de ce nom n'est servi ici. Vérifiez l'adresse du lien."
                } else {
                    "No site of this name is served here. Check the address of the link."
                },
            ),
            PageError::UnknownVersion => (
                StatusCode::NOT_FOUND,
                if fr {
                    "Version introuvable"
                } else {
                    "Version not found"
                },
                if fr {
                    "Cette version de la politique n'existe pas. Consultez l'historique des versions du site."
                } else {
                    "This version of the policy does not exist. See the site's version history."
                },
            ),
            PageError::BadQuery(_, msg) => (
                StatusCode::BAD_REQUEST,
                if fr {
                    "Requête invalide"
                } else {
                    "Bad request"
                },
                msg,
            ),
            PageError::Internal(e) => {
                tracing::error!(error = %e, "policy page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    if fr {
                        "Erreur interne"
                    } else {
                        "Internal error"
                    },
                    if fr {
                        "Une erreur interne s'est produite ; elle a été journalisée."
                    } else {
                        "An internal error occurred; it has been logged."
                    },
                )
            }
        };
        let mut resp = (status, versions::error_html(lang, title, msg)).into_response();
        html_headers(resp.headers_mut(), None);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// Headers of every HTML page: the banner script may load from this server only.
fn html_headers(h: &mut HeaderMap, frame_hosts: Option<&[String]>) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
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
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: the banner's consent POST needs its Origin header.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
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
        Kind::Json => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            // Public policy data: sites may fetch it to show it in their own pages.
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
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
    version: Option<&str>,
) -> Result<(Arc<SiteVersion>, Arc<SiteVersion>), PageError> {
    let current = st.sites.current(site).ok_or(PageError::UnknownSite)?;
    let target = match version {
        None => current.clone(),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| PageError::UnknownVersion)?;
            if n < 1 {
                return Err(PageError::UnknownVersion);
            }
            st.sites
                .version(&st.store, site, n)
                .await?
                .ok_or(PageError::UnknownVersion)?
        }
    };
    Ok((current, target))
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

pub async fn cookie_html(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let p = match Policy::load(&st, &site, &q).await {
        Ok(p) => p,
        Err(e) => return e.html(error_lang(&q)),
    };
    let tag = p.tag("cookie-policy", &site, &[]);
    let frame_hosts = Some(&p.v.snapshot.site.domains[..]);
    cached(&headers, tag, p.max_age(), Kind::Html, frame_hosts, || {
        let links = Links::new("", &site);
        cookie::html(&page(&p.v, &p.current, &p.lang, &links, &[]))
    })
}

pub async fn cookie_json(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let p = match Policy::load(&st, &site, &q).await {
        Ok(p) => p,
        Err(e) => return e.api().into_response(),
    };
    let base = &st.public_base;
    let tag = p.tag("cookie-policy.json", &site, &[base]);
    cached(&headers, tag, p.max_age(), Kind::Json, None, || {
        let links = Links::new(base, &site);
        let doc = cookie::json(&page(&p.v, &p.current, &p.lang, &links, &[]));
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    })
}

pub async fn privacy_html(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let p = match Policy::load(&st, &site, &q).await {
        Ok(p) => p,
        Err(e) => return e.html(error_lang(&q)),
    };
    // The privacy policy also shows processing activities read from the stored source.
    let tag = p.tag("privacy-policy", &site, &[&source_hash(&p.v)]);
    let frame_hosts = Some(&p.v.snapshot.site.domains[..]);
    cached(&headers, tag, p.max_age(), Kind::Html, frame_hosts, || {
        let links = Links::new("", &site);
        let extra = extra_services(&p.v);
        privacy::html(&page(&p.v, &p.current, &p.lang, &links, &extra))
    })
}

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
async fn history(
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

pub async fn history_html(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let (current, rows) = match history(&st, &site).await {
        Ok(x) => x,
        Err(e) => return e.html(error_lang(&q)),
    };
    let lang = resolve_lang(param(&q, "lang"), &current.snapshot.site);
    let tag = history_tag("policy-versions", &site, &rows, &lang, "");
    let frame = current.snapshot.site.domains.clone();
    cached(&headers, tag, 300, Kind::Html, Some(&frame), || {
        let links = Links::new("", &site);
        let entries: Vec<VersionEntry> = rows.iter().map(entry).collect();
        versions::history_html(&history_page(&current.snapshot, &lang, &links), &entries)
    })
}

pub async fn history_json(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let (current, rows) = match history(&st, &site).await {
        Ok(x) => x,
        Err(e) => return e.api().into_response(),
    };
    let lang = resolve_lang(param(&q, "lang"), &current.snapshot.site);
    let base = &st.public_base;
    let tag = history_tag("policy-versions.json", &site, &rows, &lang, base);
    cached(&headers, tag, 300, Kind::Json, None, || {
        let links = Links::new(base, &site);
        let entries: Vec<VersionEntry> = rows.iter().map(entry).collect();
        let doc = versions::history_json(&history_page(&current.snapshot, &lang, &links), &entries);
        serde_json::to_string_pretty(&doc).unwrap_or_default()
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
    let get = |n: i64| async move {
        if n < 1 {
            return Err(PageError::UnknownVersion);
        }
        st.sites
            .version(&st.store, site, n)
            .await?
            .ok_or(PageError::UnknownVersion)
    };
    let from = get(a).await?;
    let to = get(b).await?;
    let all = (1..=current.row.version).collect();
    Ok(DiffInput {
        current,
        from,
        to,
        all,
    })
}

pub async fn diff_html(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let d = match diff_input(&st, &site, &q).await {
        Ok(x) => x,
        Err(e) => return e.html(error_lang(&q)),
    };
    let lang = resolve_lang(param(&q, "lang"), &d.current.snapshot.site);
    let tag = etag(&[
        "diff",
        &site,
        &d.from.row.content_hash,
        &d.to.row.content_hash,
        &d.from.row.version.to_string(),
        &d.to.row.version.to_string(),
        &d.current.row.version.to_string(),
        &lang,
    ]);
    let frame = d.current.snapshot.site.domains.clone();
    cached(&headers, tag, 86_400, Kind::Html, Some(&frame), || {
        let links = Links::new("", &site);
        let changes = diff(&d.from.snapshot, &d.to.snapshot);
        versions::diff_html(
            &history_page(&d.current.snapshot, &lang, &links),
            &entry(&d.from.row),
            &entry(&d.to.row),
            &changes,
            &d.all,
        )
    })
}

pub async fn diff_json(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
) -> Response {
    let d = match diff_input(&st, &site, &q).await {
        Ok(x) => x,
        Err(e) => return e.api().into_response(),
    };
    let lang = resolve_lang(param(&q, "lang"), &d.current.snapshot.site);
    let tag = etag(&[
        "diff.json",
        &site,
        &d.from.row.content_hash,
        &d.to.row.content_hash,
        &d.from.row.version.to_string(),
        &d.to.row.version.to_string(),
        &lang,
    ]);
    cached(&headers, tag, 86_400, Kind::Json, None, || {
        let links = Links::new("", &site);
        let changes = diff(&d.from.snapshot, &d.to.snapshot);
        let doc = versions::diff_json(
            &history_page(&d.current.snapshot, &lang, &links),
            &entry(&d.from.row),
            &entry(&d.to.row),
            &changes,
        );
        serde_json::to_string_pretty(&doc).unwrap_or_default()
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
    let lang = if param(&q, "lang") == Some("fr") {
        "fr"
    } else {
        "en"
    };
    let record = register_record(&st, param(&q, "site"), lang)?;
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
        html_headers(h, None);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
