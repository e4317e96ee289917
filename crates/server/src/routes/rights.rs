//! Data-subject rights requests over HTTP: the public form and JSON API, email
//! verification, attachment downloads, the admin API (`/admin/v1/requests...`) and the DPO's
//! server-rendered queue (`/admin/requests`, with a cookie login for browsers). The workflow
//! itself is in `crate::rights`.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use assent_model::clock::{parse_time, rfc3339};
use assent_model::rights::Status;
use assent_pages::rights::admin::{self, Detail, HistoryLine, QueueRow};
use assent_pages::rights::{self as html, FormSite, FormValues};
use assent_store::{RightsAttachmentRow, RightsPatch, RightsRequestRow, RightsTokenRow};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::rights::mailer::Outcome;
use crate::rights::{self as svc, Submission, Verified};
use crate::routes::consent::rate_limit;
use crate::state::AppState;

/// Public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{site}/rights", get(form_page).post(form_submit))
        .route(
            "/sites/{site}/rights/verify",
            get(code_page).post(code_submit),
        )
        .route("/v1/requests", post(api_submit))
        .route("/v1/requests/verify", get(verify_link))
        .route("/v1/requests/{id}/download/{attachment}", get(download))
        .route("/admin/requests", get(queue_page))
        .route("/admin/requests/{id}", get(detail_page))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
}

/// Admin routes, nested under `/admin/v1` (every handler must take `crate::auth::Admin`).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/notes", post(add_note))
        .route("/requests/{id}/start", post(start))
        .route("/requests/{id}/extend", post(extend))
        .route("/requests/{id}/complete", post(complete))
        .route("/requests/{id}/reject", post(reject))
}

// ---------------------------------------------------------------------------------------
// HTML helpers

/// An HTML answer with a strict content security policy (no script at all).
fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn html_error(lang: &str, e: &ApiError) -> Response {
    html_response(e.status, html::error_page(lang, &e.message))
}

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

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Public: form, JSON API, verification, downloads

pub async fn form_page(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let Some(cur) = st.sites.current(&site) else {
        return html_error("en", &ApiError::not_found("unknown site"));
    };
    let s = &cur.snapshot;
    let lang = html::pick_lang(q.lang.as_deref(), &s.site.languages);
    let body = html::request_form(lang, &form_site(s), &FormValues::default(), None);
    html_response(StatusCode::OK, body)
}

#[derive(Debug, Default, Deserialize)]
pub struct FormInput {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    receipt: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn form_submit(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    headers: HeaderMap,
    form: Result<Form<FormInput>, FormRejection>,
) -> Response {
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return html_error("en", &e);
    }
    let Some(cur) = st.sites.current(&site) else {
        return html_error("en", &ApiError::not_found("unknown site"));
    };
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => {
            let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return html_error(
                "en",
                &ApiError::new(status, "bad_request", "the form could not be read"),
            );
        }
    };
    let s = &cur.snapshot;
    let lang = html::pick_lang(f.lang.as_deref(), &s.site.languages);
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
            return html_response(e.status, body);
        }
    };
    if let Err(e) = svc::submit(&st, valid).await {
        return html_error(lang, &e);
    }
    html_response(StatusCode::ACCEPTED, html::received_page(lang))
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
    let valid = svc::validate(&sub, &cur.snapshot.site.languages)?;
    svc::submit(&st, valid).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "received", "message": svc::ACCEPTED_MESSAGE})),
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
        return html_error("en", &e);
    }
    match svc::verify_link(&st, &q.token).await {
        Ok(v) => verified_page(&v),
        Err(e) => html_error("en", &e),
    }
}

pub async fn code_page(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let Some(cur) = st.sites.current(&site) else {
        return html_error("en", &ApiError::not_found("unknown site"));
    };
    let lang = html::pick_lang(q.lang.as_deref(), &cur.snapshot.site.languages);
    html_response(StatusCode::OK, html::code_form(lang, &site, false))
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn code_submit(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    headers: HeaderMap,
    form: Result<Form<CodeInput>, FormRejection>,
) -> Response {
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return html_error("en", &e);
    }
    let Some(cur) = st.sites.current(&site) else {
        return html_error("en", &ApiError::not_found("unknown site"));
    };
    let Ok(Form(f)) = form else {
        return html_error("en", &ApiError::bad_request("the form could not be read"));
    };
    let lang = html::pick_lang(f.lang.as_deref(), &cur.snapshot.site.languages);
    match svc::verify_code(&st, &site, &f.email, &f.code).await {
        Ok(Verified::Invalid) => html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            html::code_form(lang, &site, true),
        ),
        Ok(v) => verified_page(&v),
        Err(e) => html_error(lang, &e),
    }
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
    let not_found = || ApiError::not_found("no such file, or the link is wrong");
    if q.token.len() != 64 || !q.token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let tok = st
        .store
        .rights_token(&svc::sha256(&q.token.to_ascii_lowercase()))
        .await?
        .ok_or_else(not_found)?;
    if tok.purpose != "download" || tok.request_id != id {
        return Err(not_found());
    }
    let now = st.clock.now_ms();
    if now >= tok.expires_at_ms {
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            "this download link has expired (links are valid for 7 days): ask the controller again",
        ));
    }
    let a = st
        .store
        .rights_attachment(&id, &att)
        .await?
        .ok_or_else(not_found)?;
    if now >= a.expires_at_ms {
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            "this download link has expired (links are valid for 7 days): ask the controller again",
        ));
    }
    let _ = st
        .store
        .rights_add_event(
            &svc::event(
                &id,
                now,
                "downloaded",
                "requester",
                Some(a.filename.clone()),
            ),
            None,
        )
        .await;
    let disposition = format!("attachment; filename=\"{}\"", safe_filename(&a.filename));
    let mut resp = Response::new(Body::from(a.bytes));
    let h = resp.headers_mut();
    let ct = HeaderValue::from_str(&a.content_type)
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
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// Admin API

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    overdue: Option<bool>,
    site: Option<String>,
}

fn is_overdue(r: &RightsRequestRow, now: i64) -> bool {
    r.status != Status::Received.as_str()
        && r.erased_at_ms.is_none()
        && svc::deadlines_of(r).is_overdue(now)
}

/// Overdue first, then by effective due date (the store returns them by due date).
fn queue_order(rows: &mut [RightsRequestRow], now: i64) {
    rows.sort_by_key(|r| (!is_overdue(r, now), svc::deadlines_of(r).effective_due()));
}

/// `GET /admin/v1/requests?status=&overdue=true&site=`. Without `status`, requests awaiting
/// email verification are left out (`status=received` lists them, `status=all` lists all).
pub async fn list(
    State(st): State<AppState>,
    _admin: Admin,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let now = st.clock.now_ms();
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some("all") => Some("all"),
        Some(s) => Some(
            Status::parse(s)
                .map(|x| x.as_str())
                .ok_or_else(|| ApiError::invalid("status", format!("unknown status `{s}`")))?,
        ),
    };
    let all = st.store.rights_list(None).await?;
    let awaiting = all
        .iter()
        .filter(|r| r.status == "received" && r.erased_at_ms.is_none())
        .count();
    let items: Vec<Value> = all
        .iter()
        .filter(|r| match status {
            None => r.status != "received",
            Some("all") => true,
            Some(s) => r.status == s,
        })
        .filter(|r| q.site.as_deref().is_none_or(|s| r.site == s))
        .filter(|r| !q.overdue.unwrap_or(false) || is_overdue(r, now))
        .map(|r| svc::summary(r, now))
        .collect();
    Ok(axum::Json(
        json!({"items": items, "awaiting_verification": awaiting}),
    ))
}

async fn load(st: &AppState, id: &str) -> ApiResult<RightsRequestRow> {
    st.store
        .rights_get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such request").field("id"))
}

async fn detail_json(st: &AppState, r: &RightsRequestRow) -> ApiResult<Value> {
    let now = st.clock.now_ms();
    let mut v = svc::summary(r, now);
    let history: Vec<Value> = st
        .store
        .rights_events(&r.id)
        .await?
        .into_iter()
        .map(|e| json!({"at": rfc3339(e.ts_ms), "kind": e.kind, "actor": e.actor, "note": e.note}))
        .collect();
    let attachments: Vec<Value> = st
        .store
        .rights_attachments(&r.id)
        .await?
        .into_iter()
        .map(|a| json!({"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "expires_at": rfc3339(a.expires_at_ms)}))
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("language".into(), json!(r.language));
        o.insert("email".into(), json!(r.email));
        o.insert("name".into(), json!(r.name));
        o.insert("details".into(), json!(r.details));
        o.insert("receipt".into(), json!(r.receipt_id));
        o.insert("subject".into(), json!(r.subject));
        o.insert("extension_reason".into(), json!(r.extension_reason));
        o.insert("response".into(), json!(r.response));
        o.insert("history".into(), json!(history));
        o.insert("attachments".into(), json!(attachments));
    }
    Ok(v)
}

/// `GET /admin/v1/requests/{id}`: the request with its history.
pub async fn show(
    State(st): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let r = load(&st, &id).await?;
    Ok(axum::Json(detail_json(&st, &r).await?))
}

fn actor(a: &Admin) -> String {
    format!("admin:{}", a.token_id)
}

fn text_field(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

fn live_email(r: &RightsRequestRow) -> ApiResult<String> {
    r.email
        .clone()
        .ok_or_else(|| ApiError::conflict("erased", "this request has been erased"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    note: String,
}

/// `POST /admin/v1/requests/{id}/notes`.
pub async fn add_note(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<Response> {
    admin.require_write()?;
    let r = load(&st, &id).await?;
    if r.erased_at_ms.is_some() {
        return Err(ApiError::conflict("erased", "this request has been erased"));
    }
    let note = text_field("note", &b.note, svc::MAX_DETAILS)?;
    let now = st.clock.now_ms();
    let entry = svc::ledger_item("rights.note", &r, &r.status, now, json!({}))?;
    st.store
        .rights_add_event(
            &svc::event(&id, now, "note", &actor(&admin), Some(note)),
            Some(entry),
        )
        .await?;
    svc::count_entry(&st);
    Ok((StatusCode::CREATED, axum::Json(detail_json(&st, &r).await?)).into_response())
}

/// `POST /admin/v1/requests/{id}/start`: verified -> in_progress.
pub async fn start(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    admin.require_write()?;
    let r = load(&st, &id).await?;
    svc::transition(
        &st,
        &r,
        Status::InProgress,
        RightsPatch::default(),
        &actor(&admin),
        None,
        json!({}),
    )
    .await?;
    let r = load(&st, &id).await?;
    Ok(axum::Json(detail_json(&st, &r).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    reason: String,
    /// When the requester was already told by other means (RFC 3339); otherwise Assent
    /// emails them first.
    #[serde(default)]
    notified_at: Option<String>,
}

/// `POST /admin/v1/requests/{id}/extend`: emails the requester the extension and its reason,
/// then records it.
pub async fn extend(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ExtendBody>,
) -> ApiResult<axum::Json<Value>> {
    admin.require_write()?;
    let r = load(&st, &id).await?;
    if b.reason.chars().count() > svc::MAX_DETAILS {
        return Err(ApiError::invalid(
            "reason",
            format!("`reason` is longer than {} characters", svc::MAX_DETAILS),
        ));
    }
    let reason = b.reason.trim().to_owned();
    let tz = svc::site_tz(&st, &r.site);
    let now = st.clock.now_ms();
    let mut d = svc::deadlines_of(&r);
    let new_due = d
        .check_extend(&reason, now, &tz)
        .map_err(svc::rights_error)?;
    let to = live_email(&r)?;
    let notified = match b.notified_at.as_deref() {
        Some(s) => {
            let t = parse_time(s)
                .ok_or_else(|| ApiError::invalid("notified_at", "expected an RFC 3339 time"))?;
            if t > now {
                return Err(ApiError::invalid(
                    "notified_at",
                    "notified_at is in the future",
                ));
            }
            t
        }
        None => {
            let cur = st
                .sites
                .current(&r.site)
                .ok_or_else(|| ApiError::internal(&"site vanished"))?;
            let mail =
                svc::extension_mail(&r, &cur.snapshot.controller, &to, &reason, new_due, &tz);
            match svc::send_and_record(&st, &r, &mail, false).await {
                Ok(Outcome::Sent) => st.clock.now_ms(),
                Ok(Outcome::NotConfigured) => {
                    return Err(ApiError::conflict(
                        "not_notified",
                        "the requester must be told of the extension first, and no SMTP server is configured: tell them by other means and send `notified_at`",
                    ));
                }
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "email_failed",
                        format!(
                            "could not email the requester, so the extension was not recorded: {e}"
                        ),
                    ));
                }
            }
        }
    };
    let now = st.clock.now_ms();
    d.extend(&reason, Some(notified), now, &tz)
        .map_err(svc::rights_error)?;
    let patch = RightsPatch {
        extended_due_at_ms: Some(new_due),
        extension_reason: Some(reason.clone()),
        ..RightsPatch::default()
    };
    svc::transition(
        &st,
        &r,
        Status::Extended,
        patch,
        &actor(&admin),
        Some(reason),
        json!({"extended_due_at": new_due, "notified_at": notified}),
    )
    .await?;
    let r = load(&st, &id).await?;
    Ok(axum::Json(detail_json(&st, &r).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    filename: String,
    content_type: String,
    content_base64: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    message: String,
    #[serde(default)]
    attachments: Vec<AttachmentIn>,
}

/// Content types accepted for attachments (exports and documents).
pub const ATTACHMENT_TYPES: &[&str] = &[
    "application/json",
    "text/csv",
    "text/plain",
    "application/pdf",
    "application/zip",
];

/// `POST /admin/v1/requests/{id}/complete`: records the answer, stores the attachments and
/// emails the requester the message with 7-day download links.
pub async fn complete(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CompleteBody>,
) -> ApiResult<axum::Json<Value>> {
    admin.require_write()?;
    let r = load(&st, &id).await?;
    let message = text_field("message", &b.message, 20_000)?;
    if b.attachments.len() > 10 {
        return Err(ApiError::invalid("attachments", "at most 10 attachments"));
    }
    let mut files = vec![];
    for (k, a) in b.attachments.iter().enumerate() {
        let f = |x: &str| format!("attachments[{k}].{x}");
        let name = a.filename.trim();
        if name.is_empty()
            || name.chars().count() > 200
            || name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
        {
            return Err(ApiError::invalid(
                f("filename"),
                "a file name of 1 to 200 characters, without control characters, quotes or slashes",
            ));
        }
        let ct = a.content_type.trim().to_ascii_lowercase();
        if !ATTACHMENT_TYPES.contains(&ct.as_str()) {
            return Err(ApiError::invalid(
                f("content_type"),
                format!("expected one of {}", ATTACHMENT_TYPES.join(", ")),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|_| ApiError::invalid(f("content_base64"), "not valid base64"))?;
        files.push((name.to_owned(), ct, bytes));
    }
    let to = live_email(&r)?;
    let now = st.clock.now_ms();
    let patch = RightsPatch {
        closed_at_ms: Some(now),
        response: Some(message.clone()),
        ..RightsPatch::default()
    };
    svc::transition(
        &st,
        &r,
        Status::Completed,
        patch,
        &actor(&admin),
        None,
        json!({"attachments": files.len()}),
    )
    .await?;
    let expires = now + svc::DOWNLOAD_TTL_MS;
    let mut links = vec![];
    if !files.is_empty() {
        let secret = svc::new_secret()?;
        st.store
            .rights_insert_token(&RightsTokenRow {
                hash: svc::sha256(&secret),
                request_id: id.clone(),
                purpose: "download".into(),
                expires_at_ms: expires,
                used_at_ms: None,
                attempts: 0,
            })
            .await?;
        let base = &st.public_base;
        for (name, ct, bytes) in files {
            let aid = svc::new_id(now)?;
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            st.store
                .rights_insert_attachment(&RightsAttachmentRow {
                    id: aid.clone(),
                    request_id: id.clone(),
                    filename: name.clone(),
                    content_type: ct,
                    bytes,
                    size,
                    created_at_ms: now,
                    expires_at_ms: expires,
                })
                .await?;
            links.push((
                name,
                format!("{base}/v1/requests/{id}/download/{aid}?token={secret}"),
            ));
        }
    }
    let cur = st
        .sites
        .current(&r.site)
        .ok_or_else(|| ApiError::internal(&"site vanished"))?;
    let tz = svc::site_tz(&st, &r.site);
    let mail = svc::completion_mail(
        &r,
        &cur.snapshot.controller,
        &to,
        &message,
        &links,
        expires,
        &tz,
    );
    let sent = matches!(
        svc::send_and_record(&st, &r, &mail, false).await,
        Ok(Outcome::Sent)
    );
    let r = load(&st, &id).await?;
    let mut v = detail_json(&st, &r).await?;
    v["email_sent"] = json!(sent);
    Ok(axum::Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    reasons: String,
}

/// `POST /admin/v1/requests/{id}/reject`: records the refusal and emails the reasons with
/// the right to complain to the supervisory authority and to go to court.
pub async fn reject(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RejectBody>,
) -> ApiResult<axum::Json<Value>> {
    admin.require_write()?;
    let r = load(&st, &id).await?;
    let reasons = text_field("reasons", &b.reasons, svc::MAX_DETAILS)?;
    let to = live_email(&r)?;
    let now = st.clock.now_ms();
    let patch = RightsPatch {
        closed_at_ms: Some(now),
        response: Some(reasons.clone()),
        ..RightsPatch::default()
    };
    svc::transition(
        &st,
        &r,
        Status::Rejected,
        patch,
        &actor(&admin),
        None,
        json!({}),
    )
    .await?;
    let cur = st
        .sites
        .current(&r.site)
        .ok_or_else(|| ApiError::internal(&"site vanished"))?;
    let mail = svc::rejection_mail(&r, &cur.snapshot.controller, &to, &reasons);
    let sent = matches!(
        svc::send_and_record(&st, &r, &mail, false).await,
        Ok(Outcome::Sent)
    );
    let r = load(&st, &id).await?;
    let mut v = detail_json(&st, &r).await?;
    v["email_sent"] = json!(sent);
    Ok(axum::Json(v))
}

// ---------------------------------------------------------------------------------------
// Admin HTML: the queue, one request, login/logout

const COOKIE: &str = "assent_admin";

/// The admin token of a browser (cookie) or a script (Bearer header), if valid.
async fn page_admin(st: &AppState, headers: &HeaderMap) -> ApiResult<Option<String>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == COOKIE).then(|| v.to_owned())
        });
    let Some(token) = bearer.or(cookie).filter(|t| !t.is_empty() && t.len() < 200) else {
        return Ok(None);
    };
    let row = st.store.find_token(&crate::ops::token_hash(&token)).await?;
    Ok(row.filter(|r| r.revoked_at_ms.is_none()).map(|r| r.id))
}

fn to_login() -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/admin/login"));
    resp
}

/// `GET /admin/requests`: the DPO's queue, overdue first, then by due date.
pub async fn queue_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match page_admin(&st, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return to_login(),
        Err(e) => return html_error("en", &e),
    }
    let now = st.clock.now_ms();
    let all = match st.store.rights_list(None).await {
        Ok(a) => a,
        Err(e) => return html_error("en", &ApiError::from(e)),
    };
    let awaiting = all
        .iter()
        .filter(|r| r.status == "received" && r.erased_at_ms.is_none())
        .count();
    let mut open: Vec<RightsRequestRow> = all
        .into_iter()
        .filter(|r| {
            r.erased_at_ms.is_none()
                && r.status != "received"
                && !Status::parse(&r.status).is_some_and(Status::is_closed)
        })
        .collect();
    queue_order(&mut open, now);
    let rows: Vec<QueueRow> = open
        .iter()
        .map(|r| QueueRow {
            id: r.id.clone(),
            site: r.site.clone(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            received_at_ms: r.received_at_ms,
            due_at_ms: svc::deadlines_of(r).effective_due(),
            overdue: is_overdue(r, now),
            extended: r.extended_due_at_ms.is_some(),
            mail_problem: r.mail_problem.is_some(),
        })
        .collect();
    html_response(StatusCode::OK, admin::queue_page(&rows, awaiting, now))
}

/// `GET /admin/requests/{id}`: one request and its history (all values escaped).
pub async fn detail_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match page_admin(&st, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return to_login(),
        Err(e) => return html_error("en", &e),
    }
    let r = match load(&st, &id).await {
        Ok(r) => r,
        Err(e) => return html_error("en", &e),
    };
    let events = st.store.rights_events(&id).await.unwrap_or_default();
    let d = svc::deadlines_of(&r);
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let detail = Detail {
        id: r.id.clone(),
        site: r.site.clone(),
        kind: r.kind.clone(),
        status: r.status.clone(),
        received_at_ms: r.received_at_ms,
        due_at_ms: d.effective_due(),
        overdue: is_overdue(&r, st.clock.now_ms()),
        email: opt(&r.email),
        name: opt(&r.name),
        details: opt(&r.details),
        receipt: opt(&r.receipt_id),
        extension_reason: opt(&r.extension_reason),
        answer: opt(&r.response),
        mail_problem: opt(&r.mail_problem),
    };
    let history: Vec<HistoryLine> = events
        .into_iter()
        .map(|e| HistoryLine {
            ts_ms: e.ts_ms,
            kind: e.kind,
            actor: e.actor,
            note: e.note,
        })
        .collect();
    html_response(StatusCode::OK, admin::detail_page(&detail, &history))
}

pub async fn login_page() -> Response {
    html_response(StatusCode::OK, admin::login_page(false))
}

/// Browser form posts must come from Assent's own origin (with SameSite=Strict cookies,
/// this is the CSRF protection of the admin pages).
fn same_origin(st: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) => o.trim_end_matches('/') == st.public_base,
        None => true,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginInput {
    #[serde(default)]
    token: String,
}

pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginInput>, FormRejection>,
) -> Response {
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return html_error("en", &e);
    }
    if !same_origin(&st, &headers) {
        return html_error("en", &ApiError::forbidden("cross-origin form post refused"));
    }
    let token = form
        .map(|Form(f)| f.token.trim().to_owned())
        .unwrap_or_default();
    let valid_chars = !token.is_empty()
        && token.len() < 200
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let ok = valid_chars
        && matches!(st.store.find_token(&crate::ops::token_hash(&token)).await, Ok(Some(r)) if r.revoked_at_ms.is_none());
    if !ok {
        return html_response(StatusCode::UNAUTHORIZED, admin::login_page(true));
    }
    let secure = if st.public_base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=28800{secure}");
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_static("/admin/requests"),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(header::SET_COOKIE, v);
    }
    resp
}

pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if !same_origin(&st, &headers) {
        return html_error("en", &ApiError::forbidden("cross-origin form post refused"));
    }
    let mut resp = to_login();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "assent_admin=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0",
        ),
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
