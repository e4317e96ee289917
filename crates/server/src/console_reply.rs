//! How the console answers: its navigation (only what the person's role may open, by the
//! one rights table), the page shell in the person's language and time zone, HTML answers
//! with a strict content security policy (no script) and a `same-origin` referrer policy,
//! errors as a console page in the person's language, and the redirect to the login form.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use assent_app::access::{Permission, Role};
use assent_app::accounts::users::User;
use assent_pages::console::{NavLink, Shell, pages};

use crate::error::ApiError;
use crate::routes::headers::set_static;

/// A person logged in to the console.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: User,
    /// The session's synchronizer token (every form carries it).
    pub csrf: String,
    /// The session cookie's value (to end it at logout).
    pub cookie: String,
}

/// The console's pages: `(path, catalog key, permission needed)`; `None`: any person.
/// A screen added to the console adds its line here.
pub const NAV: &[(&str, &str, Option<Permission>)] = &[
    ("/admin/", "console.nav.home", Some(Permission::Read)),
    (
        "/admin/requests",
        "console.nav.requests",
        Some(Permission::Read),
    ),
    ("/admin/audit", "console.nav.audit", Some(Permission::Read)),
    (
        "/admin/users",
        "console.nav.users",
        Some(Permission::ManageUsers),
    ),
    (
        "/admin/tokens",
        "console.nav.tokens",
        Some(Permission::ManageTokens),
    ),
    ("/admin/account", "console.nav.account", None),
];

/// The shell of a page for a caller of `role` (a person, or a token without one: English,
/// UTC, no forms), with `current` marked in the navigation.
pub fn shell(role: Role, person: Option<&Person>, title_key: &str, current: &str) -> Shell {
    let (lang, tz) = person.map_or(("en", "UTC"), |p| {
        (p.user.lang.as_str(), p.user.tz.as_str())
    });
    let mut s = Shell::new(lang, tz, title_key);
    s.nav = NAV
        .iter()
        .filter(|(_, _, need)| need.is_none_or(|p| role.may(p)))
        .filter(|(href, _, need)| person.is_some() || need.is_some() || *href != "/admin/account")
        .map(|(href, key, _)| NavLink {
            href,
            key,
            current: *href == current,
        })
        .collect();
    if let Some(p) = person {
        s.email = p.user.email.clone();
        s.csrf = p.csrf.clone();
    }
    s
}

/// The language of an anonymous page (login, setup): the first of en, fr, de in the
/// browser's `Accept-Language`, else English.
pub fn browser_lang(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for item in accept.split(',') {
        let tag = item.split(';').next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "en" => return "en",
            "fr" => return "fr",
            "de" => return "de",
            _ => {}
        }
    }
    "en"
}

/// No script, no frame, forms posted back here only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A console page.
pub fn page(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    set_static(
        resp.headers_mut(),
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
    );
    resp
}

/// `303 See Other` to `location` (a path of the console).
pub fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The login form, for a visitor without a live session.
pub fn to_login() -> Response {
    see_other("/admin/")
}

/// An upload above the console's body limit.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the upload is too large: at most {} MB",
            crate::csrf::MAX_FORM_BODY / (1024 * 1024)
        ),
    )
    .field("attachment")
}

/// What a refusal says in the person's language: the application's own message in English,
/// a sentence of the catalog in the other languages (never English filler).
pub fn error_text(lang: &str, e: &ApiError) -> String {
    let t = assent_pages::rights::Tr::new(lang);
    let field = e.field.as_deref().unwrap_or("");
    if field == "csrf" {
        return t.get("console.error.csrf").to_owned();
    }
    if e.status == StatusCode::PAYLOAD_TOO_LARGE {
        let mb = (crate::csrf::MAX_FORM_BODY / (1024 * 1024)).to_string();
        return t.fill("console.error.too_large", &[("mb", &mb)]);
    }
    if field.starts_with("attachments") && field.ends_with("content_type") {
        let types = assent_app::rights::dpo::ATTACHMENT_TYPES.join(", ");
        return t.fill("console.error.upload_type", &[("types", &types)]);
    }
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        let minutes = e.retry_after.unwrap_or(60).div_ceil(60).to_string();
        return t.fill("console.error.too_many", &[("minutes", &minutes)]);
    }
    if e.status.is_server_error() {
        return t.get("console.error.generic").to_owned();
    }
    if t.lang() == "en" {
        return e.message.clone();
    }
    match e.status {
        StatusCode::FORBIDDEN => t.get("console.error.forbidden").to_owned(),
        StatusCode::NOT_FOUND | StatusCode::GONE => t.get("console.error.not_found").to_owned(),
        StatusCode::CONFLICT => t.get("console.error.conflict").to_owned(),
        _ if !field.is_empty() => t.fill("console.error.field", &[("field", field)]),
        _ => t.get("console.error.generic").to_owned(),
    }
}

/// A refusal as a console page (`viewer`: the caller's role and person, when known).
pub fn error(viewer: Option<(Role, Option<&Person>)>, e: ApiError) -> Response {
    let s = match viewer {
        Some((role, person)) => shell(role, person, "console.title.error", ""),
        None => Shell::new("en", "UTC", "console.title.error"),
    };
    let text = error_text(s.lang, &e);
    let back = s.t().get("console.back");
    let mut resp = page(
        e.status,
        pages::message(&s, &text, None, Some(("/admin/", back))),
    );
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}
