//! The requester's side over HTTP: the form (HTML), the JSON API, identity verification by
//! link or code, and the download of what a completed request sent.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use assent_app::rights::{self as svc, Submission, Verified, dpo};
use assent_app::sites::SiteVersion;

use super::reply::{deliver_later, html_error, html_response};
use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::json::ApiJson;
use crate::state::AppState;
use assent_pages::rights::{self as html, FormSite, FormValues};

/// What the request form says about a site.
fn form_site(s: &assent_model::version::SiteSnapshot) -> FormSite<'_> {
    FormSite {
        id: &s.site.id,
        name: &s.site.name,
        controller: &s.controller.name,
        authority: &s.controller.supervisory_authority,
        languages: &s.site.languages,
    }
}

/// The current version of a public form's site (an unknown one is shown the English error
/// page, see [`en_page`]).
fn form_site_version(st: &AppState, site: &str) -> Result<Arc<SiteVersion>, ApiError> {
    st.sites
        .current(site)
        .ok_or_else(|| ApiError::not_found("unknown site"))
}

/// For a form post: the client's rate limit first, then the site, or the English error page.
fn limited_site(
    st: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    site: &str,
) -> Result<Arc<SiteVersion>, ApiError> {
    rate_limit(st, peer, headers)?;
    form_site_version(st, site)
}

/// The error page in English, for errors found before the page's language is known.
fn en_page(e: ApiError) -> Response {
    html_error("en", e)
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn form_page(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, Response> {
    let cur = form_site_version(&st, &site).map_err(en_page)?;
    let s = &cur.snapshot;
    let lang = svc::pick_lang(q.lang.as_deref(), &s.site.languages);
    let body = html::request_form(lang, &form_site(s), &FormValues::default(), None);
    Ok(html_response(StatusCode::OK, body))
}

/// Every field may be missing: the handler, not the decoder, refuses an incomplete form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FormInput {
    #[serde(rename = "type")]
    kind: String,
    email: String,
    name: String,
    details: Option<String>,
    receipt: Option<String>,
    lang: Option<String>,
}

pub async fn form_submit(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    headers: HeaderMap,
    form: Result<Form<FormInput>, FormRejection>,
) -> Result<Response, Response> {
    let cur = limited_site(&st, peer, &headers, &site).map_err(en_page)?;
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => {
            let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            let e = ApiError::new(status, "bad_request", "the form could not be read");
            return Err(en_page(e));
        }
    };
    let s = &cur.snapshot;
    let lang = svc::pick_lang(f.lang.as_deref(), &s.site.languages);
    let sub = Submission {
        site: site.clone(),
        kind: f.kind.clone(),
        email: f.email.clone(),
        name: f.name.clone(),
        details: f.details.clone(),
        receipt: f.receipt.clone(),
        language: Some(lang.to_owned()),
    };
    let valid = match svc::validate(&sub, &s.site.languages) {
        Ok(v) => v,
        Err(e) => {
            let e = ApiError::from(e);
            // Shown again with what was typed (escaped), minus anything over the limits.
            let clip = |x: &str, n: usize| x.chars().take(n).collect::<String>();
            let values = FormValues {
                kind: clip(&f.kind, 40),
                email: clip(&f.email, 254).replace(['\r', '\n'], " "),
                name: clip(&f.name, 200).replace(['\r', '\n'], " "),
                details: clip(f.details.as_deref().unwrap_or(""), 5_000),
                receipt: clip(f.receipt.as_deref().unwrap_or(""), 32),
            };
            let field = e.field.clone().unwrap_or_default();
            let body = html::request_form(lang, &form_site(s), &values, Some((&field, &e.message)));
            return Err(html_response(e.status, body));
        }
    };
    match svc::submit(&st, valid).await {
        Ok(pending) => deliver_later(&st, pending),
        Err(e) => return Err(html_error(lang, e)),
    }
    Ok(html_response(
        StatusCode::ACCEPTED,
        if st.settings.smtp.is_some() {
            html::received_page(lang)
        } else {
            html::received_no_mail_page(lang)
        },
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    site: String,
    #[serde(rename = "type")]
    kind: String,
    email: String,
    name: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    receipt: Option<String>,
    /// `en`, `fr`, or `de` on a site that lists it: the language of the emails (default: the
    /// site's first language when French or German, else English).
    #[serde(default)]
    language: Option<String>,
}

/// `POST /v1/requests`: the same 202 for every valid submission.
pub async fn api_submit(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<ApiJson<SubmitBody>, ApiError>,
) -> ApiResult<Response> {
    rate_limit(&st, peer, &headers)?;
    let ApiJson(b) = body?;
    let cur = st
        .sites
        .current(&b.site)
        .ok_or_else(|| ApiError::not_found("unknown site").field("site"))?;
    let sub = Submission {
        site: b.site.clone(),
        kind: b.kind,
        email: b.email,
        name: b.name,
        details: b.details,
        receipt: b.receipt,
        language: b.language,
    };
    let lang = svc::pick_lang(sub.language.as_deref(), &cur.snapshot.site.languages);
    let valid = svc::validate(&sub, &cur.snapshot.site.languages).map_err(|e| {
        // A refused field is explained in the request's language, as the form does.
        let mut e = ApiError::from(e);
        if let Some(text) = e.field.as_deref().and_then(|f| html::field_error(lang, f)) {
            e.message = text;
        }
        e
    })?;
    // The answer speaks the request's language (`language`, else the site's), like the form.
    let lang = valid.language.clone();
    deliver_later(&st, svc::submit(&st, valid).await?);
    // Without SMTP no link leaves: the answer says so instead of promising one.
    let (key, email) = if st.settings.smtp.is_some() {
        ("rights.received.text", "queued")
    } else {
        ("rights.received_no_mail.text", "not_sent")
    };
    let message = assent_pages::i18n::texts(&lang).get(key);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            json!({"status": "received", "language": lang, "message": message, "email": email}),
        ),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn verified_page(v: &Verified) -> Response {
    match v {
        Verified::Now(lang) | Verified::Already(lang) => {
            html_response(StatusCode::OK, html::confirmed_page(lang))
        }
        Verified::Invalid => html_response(StatusCode::GONE, html::invalid_link_page()),
    }
}

/// `GET /v1/requests/verify?token=...`: single use, 24 hours.
pub async fn verify_link(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return html_error("en", e);
    }
    match svc::verify_link(&st, &q.token).await {
        Ok(v) => verified_page(&v),
        Err(e) => html_error("en", e),
    }
}

pub async fn code_page(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, Response> {
    let cur = form_site_version(&st, &site).map_err(en_page)?;
    let lang = svc::pick_lang(q.lang.as_deref(), &cur.snapshot.site.languages);
    Ok(html_response(
        StatusCode::OK,
        html::code_form(lang, &site, false),
    ))
}

/// Every field may be missing: the handler, not the decoder, refuses an incomplete form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeInput {
    email: String,
    code: String,
    lang: Option<String>,
}

pub async fn code_submit(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    headers: HeaderMap,
    form: Result<Form<CodeInput>, FormRejection>,
) -> Result<Response, Response> {
    let cur = limited_site(&st, peer, &headers, &site).map_err(en_page)?;
    let Ok(Form(f)) = form else {
        let e = ApiError::bad_request("the form could not be read");
        return Err(en_page(e));
    };
    let lang = svc::pick_lang(f.lang.as_deref(), &cur.snapshot.site.languages);
    Ok(
        match svc::verify_code(&st, &site, &f.email, &f.code).await {
            Ok(Verified::Invalid) => html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                html::code_form(lang, &site, true),
            ),
            Ok(v) => verified_page(&v),
            Err(e) => html_error(lang, e),
        },
    )
}

fn safe_filename(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.trim_matches('.').is_empty() {
        "download".into()
    } else {
        s
    }
}

/// `GET /v1/requests/{id}/download/{attachment}?token=...`: valid for 7 days.
pub async fn download(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((id, att)): Path<(String, String)>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    rate_limit(&st, peer, &headers)?;
    let file = dpo::download(&st, &id, &att, &q.token).await?;
    Ok(file_response(
        &file.filename,
        &file.content_type,
        file.bytes,
    ))
}

/// A file to save (never to display inline, never cached).
pub(crate) fn file_response(filename: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", safe_filename(filename));
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    let ct = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        assert_eq!(safe_filename("export 2026.json"), "export_2026.json");
        assert_eq!(safe_filename("..."), "download");
    }
}
