//! The banner's public routes: `GET /assent.js?site=ID[&lang=LANG]` (script, CSS and the site's
//! banner configuration in the visitor's language, in one cacheable response that varies
//! with `Accept-Language`; a one-line console error for a missing or unknown site),
//! `GET /assent-details.json` (the second layer's longer texts, fetched once the first layer is
//! shown), and the demo site under `/demo/` when `config.demo` is set.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use assent_app::sites::SiteVersion;

use crate::banner::{self, BannerCache, Built, Key, demo};
use crate::error::ApiError;
use crate::state::AppState;

/// `/assent.js`: short freshness, then revalidation (a new policy version changes the body and
/// its ETag); a stale copy may serve while revalidating.
const SCRIPT_CACHE: &str = "public, max-age=300, stale-while-revalidate=86400";

type Params = Query<HashMap<String, String>>;

/// Answers for a `site` that cannot be served. A page loads `/assent.js` with a `<script>` tag:
/// a JSON error (any status) is dropped by the browser before any script sees it (Chromium's
/// opaque-response blocking), and a script with an error status never runs. So the answer is a
/// 200 script that says, in the page's console, what is wrong. It defines no `assent` object:
/// blocked content stays blocked. The id is echoed only when it is a valid id (then it is plain
/// ASCII), and always through a JSON string literal with `<` escaped.
fn script_error(message: &str) -> Response {
    let literal = serde_json::to_string(&format!("Assent: {message}"))
        .unwrap_or_else(|_| "\"Assent: error\"".into())
        .replace('<', "\\u003c");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // never cached: the site may be added a minute later
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("console.error({literal});\n"),
    )
        .into_response()
}

/// The registry's rule for ids: lowercase ASCII letters, digits, `_` and `-`, starting with a
/// letter or digit, at most 64 bytes.
fn valid_site_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The script served instead of the banner when `site` is missing, invalid or unknown.
fn site_problem(site: Option<&str>) -> Response {
    match site.map(str::trim) {
        None | Some("") => script_error(
            "missing `site`: load the banner as <script src=\".../assent.js?site=SITE_ID\">, with the site's id from the registry. No banner is shown; blocked content stays blocked.",
        ),
        Some(s) if !valid_site_id(s) => script_error(
            "the `site` parameter of assent.js is not a valid site id (lowercase letters, digits, `_` and `-`). No banner is shown; blocked content stays blocked.",
        ),
        Some(s) => script_error(&format!(
            "unknown site \"{s}\" in assent.js?site={s}: this Assent server has no such site. Check the id against the registry's [[sites]] and that the registry was applied (`assent apply`). No banner is shown; blocked content stays blocked."
        )),
    }
}

/// Whether the client accepts gzip (`Accept-Encoding: gzip`, not refused with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// Whether `If-None-Match` names one of the body's ETags.
fn not_modified(headers: &HeaderMap, b: &Built) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == b.etag || t == b.etag_gzip)
}

/// Answers with `b` (gzip if accepted), or 304.
fn send(
    headers: &HeaderMap,
    b: &Built,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let gz = accepts_gzip(headers) && !b.gzip.is_empty();
    let etag = if gz { &b.etag_gzip } else { &b.etag };
    let mut resp = if not_modified(headers, b) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gz {
        let mut r = b.gzip.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        b.body.clone().into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Encoding, Accept-Language"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// The visitor's language for `cur`: `lang` of the query, else `Accept-Language`, else the
/// site's default (see [`banner::visitor_lang`]).
fn visitor_lang(cur: &SiteVersion, q: &HashMap<String, String>, headers: &HeaderMap) -> String {
    let accept_language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let asked = q.get("lang").map(String::as_str);
    banner::visitor_lang(&cur.snapshot, asked, accept_language).to_string()
}

/// The cache key of a `kind` body of `cur`'s version in `lang` (with the site's revalidation
/// `epoch` when the body carries it).
fn cache_key(
    kind: &'static str,
    cur: &SiteVersion,
    epoch: i64,
    public_base: &str,
    lang: &str,
) -> Key {
    Key {
        kind,
        site: cur.row.site.clone(),
        version: cur.row.version,
        content_hash: cur.row.content_hash.clone(),
        epoch,
        public_base: public_base.to_owned(),
        lang: lang.to_owned(),
    }
}

/// `GET /assent.js?site=ID[&lang=LANG]`: the texts in `lang` when it is a language of the site,
/// else in the best language of `Accept-Language`, else in the site's default language.
pub async fn script(
    State(st): State<AppState>,
    Extension(cache): Extension<Arc<BannerCache>>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let site = q.get("site").map(|s| s.trim()).unwrap_or("");
    let cur = match valid_site_id(site) {
        true => st.sites.current(site),
        false => None,
    };
    let Some(cur) = cur else {
        return site_problem(q.get("site").map(String::as_str));
    };
    let base = &st.public_base;
    let lang = visitor_lang(&cur, &q, &headers);
    let epoch = st.sites.epoch(site);
    let key = cache_key("js", &cur, epoch, base, &lang);
    let built = cache.get_or_build(key, || {
        banner::script(
            &cur.snapshot,
            cur.row.version,
            cur.row.consent_floor,
            epoch,
            base,
            &[lang],
        )
    });
    send(
        &headers,
        &built,
        "text/javascript; charset=utf-8",
        SCRIPT_CACHE,
    )
}

/// `GET /assent-details.json?site=ID&v=VERSION[&lang=LANG]`: each purpose's description and
/// refusal impact in the visitor's language, fetched by the banner once its first layer is
/// shown (so that opening the preferences never waits). Public data, read cross-origin by the
/// site's pages without credentials (`Access-Control-Allow-Origin: *`); `v` only makes a new
/// policy version a new URL.
pub async fn details(
    State(st): State<AppState>,
    Extension(cache): Extension<Arc<BannerCache>>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let site = match q.get("site").map(|s| s.trim()) {
        Some(s) if !s.is_empty() => s,
        _ => {
            return ApiError::bad_request("missing `site`")
                .field("site")
                .into_response();
        }
    };
    let Some(cur) = st.sites.current(site) else {
        return ApiError::not_found(format!("unknown site `{site}`"))
            .field("site")
            .into_response();
    };
    let lang = visitor_lang(&cur, &q, &headers);
    let key = cache_key("details", &cur, 0, "", &lang);
    let built = cache.get_or_build(key, || banner::details(&cur.snapshot, &lang));
    let mut resp = send(
        &headers,
        &built,
        "application/json; charset=utf-8",
        SCRIPT_CACHE,
    );
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn demo_off() -> Response {
    ApiError::not_found("the demo site is served by `assent demo` only").into_response()
}

pub async fn demo_redirect(State(st): State<AppState>) -> Response {
    if !st.config.demo {
        return demo_off();
    }
    Redirect::permanent("/demo/").into_response()
}

/// A demo page in the `lang` of the query (the demo's own pages take no other input but
/// `site`, see [`demo::site`]).
fn demo_page(
    st: &AppState,
    q: &HashMap<String, String>,
    page: fn(&str, &str) -> String,
) -> Response {
    if !st.config.demo {
        return demo_off();
    }
    let site = demo::site(q.get("site").map(String::as_str));
    html(page(&site, demo::lang(q.get("lang").map(String::as_str))))
}

pub async fn demo_home(State(st): State<AppState>, Query(q): Params) -> Response {
    demo_page(&st, &q, demo::home)
}

pub async fn demo_page2(State(st): State<AppState>, Query(q): Params) -> Response {
    demo_page(&st, &q, demo::page2)
}

pub async fn demo_embed(State(st): State<AppState>, Query(q): Params) -> Response {
    demo_page(&st, &q, |_, lang| demo::embed(lang))
}

/// `GET /demo/mail`: the demo's mail catcher (`assent demo` without SMTP only).
pub async fn demo_mail(State(st): State<AppState>) -> Response {
    let Some(outbox) = st.demo_outbox.as_ref().filter(|_| st.config.demo) else {
        return demo_off();
    };
    let mails: Vec<demo::MailView> = outbox
        .newest_first()
        .into_iter()
        .map(|m| demo::MailView {
            at: jiff::Timestamp::from_millisecond(m.at_ms)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            request: m.request_id,
            to: m.to,
            subject: m.subject,
            body: m.body,
        })
        .collect();
    let mut resp = html(demo::mail(&mails));
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}
