//! Marketing consent over HTTP (issue 17): the mailer's API (record a choice, check a batch
//! before sending; bearer tokens of role `marketing` or `admin`), the person's links (the
//! double opt-in confirmation, the one-click unsubscribe and its preference page: no cookie,
//! no login), the SMS aggregator's inbound webhook (a shared secret), and the DPO's
//! suppression list, import and failed confirmation emails. Each handler calls one
//! operation of `assent_app::marketing`.
//!
//! The one-click POST and the SMS webhook are not rate limited: mailbox providers and
//! aggregators send from few addresses, and an opt-out must never be dropped. A forged token
//! costs an HMAC, no database read.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use assent_app::marketing::check::{self as chk, CheckRequest};
use assent_app::marketing::inbound::{self, InboundSms};
use assent_app::marketing::record::{self, ChoiceRequest, Recorded};
use assent_app::marketing::{suppress, unsubscribe};
use assent_model::marketing::MarketingChannel;
use assent_pages::marketing as pages;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::json::ApiJson;
use crate::routes::rights::reply::html_response;
use crate::state::AppState;

/// Largest body of the mailer's API: a check of 10,000 recipients.
pub const MARKETING_MAX_BODY: usize = 4 * 1024 * 1024;

/// `POST /v1/sites/{site}/marketing/consents`: 201 recorded, 202 waiting for confirmation.
pub async fn create(
    State(st): State<AppState>,
    admin: Admin,
    Path(site): Path<String>,
    ApiJson(req): ApiJson<ChoiceRequest>,
) -> ApiResult<Response> {
    let actor = format!("token:{}", admin.token_id);
    Ok(match record::record(&st, &site, &actor, req).await? {
        Recorded::Done(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Recorded::Pending(v) => (StatusCode::ACCEPTED, axum::Json(v)).into_response(),
    })
}

/// `POST /v1/marketing/check`.
pub async fn check(
    State(st): State<AppState>,
    _admin: Admin,
    ApiJson(req): ApiJson<CheckRequest>,
) -> ApiResult<Response> {
    let out = chk::check(&st, req).await?;
    Ok(axum::Json(out).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /m/confirm/{token}`: the double opt-in link.
pub async fn confirm(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return e.into_response();
    }
    match record::confirm(&st, &token).await {
        Ok(c) => {
            let status = if c.ok {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            let lang = pages::lang(Some(&c.language), &[]);
            html_response(status, pages::confirmed_page(lang, c.ok))
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The language of a link's page: `?lang=` when offered, else the site's.
fn link_lang(q: &LangQuery, site_langs: &[String]) -> &'static str {
    pages::lang(q.lang.as_deref(), site_langs)
}

fn pref_lines(p: &unsubscribe::Preferences) -> Vec<pages::PrefLine> {
    p.purposes
        .iter()
        .map(|x| pages::PrefLine {
            id: x.id.clone(),
            name: x.name.clone(),
            description: x.description.clone(),
            subscribed: x.subscribed,
        })
        .collect()
}

/// The preference page of a link, after an optional save (`saved`: whether everything was
/// left).
async fn preference_answer(
    st: &AppState,
    token: &str,
    q: &LangQuery,
    saved: Option<(Vec<String>, bool)>,
) -> Response {
    let lang = link_lang(q, &[]);
    let res = match &saved {
        None => unsubscribe::preferences(st, token, lang).await,
        Some((keep, all)) => unsubscribe::save_preferences(st, token, keep, *all, lang).await,
    };
    match res {
        Ok(p) => {
            let lang = link_lang(q, &p.languages);
            let action = format!("/u/{token}?lang={lang}");
            let page = pages::preferences_page(
                lang,
                &p.site_name,
                p.channel,
                &action,
                &pref_lines(&p),
                saved.map(|(_, all)| all),
            );
            html_response(StatusCode::OK, page)
        }
        Err(e) if e.code == "invalid_token" => {
            html_response(StatusCode::BAD_REQUEST, pages::invalid_link_page(lang))
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /u/{token}`: the preference page.
pub async fn preferences(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    preference_answer(&st, &token, &q, None).await
}

/// What a POST to `/u/{token}` carries: the RFC 8058 one-click body, or the preference form.
enum LinkPost {
    OneClick,
    Form { keep: Vec<String>, leave_all: bool },
}

/// Reads the body of a POST to a link. Mailbox providers send
/// `List-Unsubscribe=One-Click` form-encoded (RFC 8058 also allows multipart/form-data).
fn link_post(headers: &HeaderMap, body: &[u8]) -> Result<LinkPost, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let text = String::from_utf8_lossy(body);
        if text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click") {
            return Ok(LinkPost::OneClick);
        }
        return Err(ApiError::bad_request("expected List-Unsubscribe=One-Click"));
    }
    if !ct.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected application/x-www-form-urlencoded",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| ApiError::bad_request("malformed form body"))?;
    if pairs
        .iter()
        .any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
    {
        return Ok(LinkPost::OneClick);
    }
    let keep = pairs
        .iter()
        .filter(|(k, _)| k == "keep")
        .map(|(_, v)| v.clone())
        .collect();
    match pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
    {
        Some("save") => Ok(LinkPost::Form {
            keep,
            leave_all: false,
        }),
        Some("leave_all") => Ok(LinkPost::Form {
            keep,
            leave_all: true,
        }),
        _ => Err(ApiError::bad_request(
            "expected List-Unsubscribe=One-Click, or the preference form (action=save|leave_all)",
        )),
    }
}

/// `POST /u/{token}`: the one-click unsubscribe (answered 200 once recorded), or the
/// preference form posted back.
pub async fn post_link(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let post = match link_post(&headers, &body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match post {
        LinkPost::OneClick => match unsubscribe::one_click(&st, &token).await {
            Ok(()) => {
                let lang = link_lang(&q, &[]);
                html_response(StatusCode::OK, pages::unsubscribed_page(lang))
            }
            Err(e) => ApiError::from(e).into_response(),
        },
        LinkPost::Form { keep, leave_all } => {
            preference_answer(&st, &token, &q, Some((keep, leave_all))).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SecretQuery {
    secret: Option<String>,
}

/// Constant-time comparison of two secrets.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /v1/sites/{site}/sms/inbound`: an aggregator forwards a text message (JSON or form
/// fields `from`, `to`, `text`), authenticated by `sms_inbound_secret` (`?secret=` or
/// `X-Assent-Secret`).
pub async fn sms_inbound(
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<SecretQuery>,
    req: Request,
) -> Response {
    let Some(expected) = st.config.sms_inbound_secret.as_ref() else {
        return ApiError::unauthorized("inbound SMS is not configured (sms_inbound_secret)")
            .into_response();
    };
    let given = req
        .headers()
        .get("x-assent-secret")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.secret);
    if !given.is_some_and(|g| same_secret(&g, expected.expose())) {
        return ApiError::unauthorized("missing or wrong inbound secret").into_response();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let msg: InboundSms = if is_form {
        let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
            Ok(b) => b,
            Err(_) => {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body too large",
                )
                .into_response();
            }
        };
        match serde_urlencoded::from_bytes(&body) {
            Ok(m) => m,
            Err(e) => {
                return ApiError::invalid(
                    "text",
                    format!("form fields from, to and text are expected: {e}"),
                )
                .into_response();
            }
        }
    } else {
        match crate::json::read_json(req).await {
            Ok(m) => m,
            Err(e) => return e.into_response(),
        }
    };
    match inbound::inbound(&st, &site, &msg).await {
        Ok(o) => axum::Json(json!({"result": o.as_str()})).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SuppressionQuery {
    channel: Option<String>,
    since: Option<String>,
    format: Option<String>,
    #[serde(default)]
    hashed: Option<String>,
}

/// `GET /admin/v1/marketing/suppressions?channel=email&since=…&format=csv|json&hashed=true`.
pub async fn suppressions(
    State(st): State<AppState>,
    _admin: Admin,
    Query(q): Query<SuppressionQuery>,
) -> ApiResult<Response> {
    let channel = q
        .channel
        .as_deref()
        .and_then(MarketingChannel::parse)
        .ok_or_else(|| ApiError::invalid("channel", "channel must be email or sms"))?;
    let since = match q.since.as_deref() {
        None | Some("") => 0,
        Some(s) => s
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|_| {
                ApiError::invalid("since", "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
            })?,
    };
    let hashed = match q.hashed.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("hashed", "true or false")),
    };
    let lines = suppress::suppressions(&st, channel, since, hashed).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(axum::Json(json!({"suppressions": lines})).into_response()),
        Some("csv") => {
            let mut resp = suppress::to_csv(&lines, hashed).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            Ok(resp)
        }
        Some(_) => Err(ApiError::invalid("format", "csv or json")),
    }
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    site: Option<String>,
}

/// `POST /admin/v1/marketing/import?site=S` with a CSV body (`text/csv`).
pub async fn import(
    State(st): State<AppState>,
    admin: Admin,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: text/csv",
        ));
    }
    let site = q
        .site
        .ok_or_else(|| ApiError::invalid("site", "?site= is required"))?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the file is not UTF-8"))?;
    let actor = format!("token:{}", admin.token_id);
    let rep = suppress::import(&st, &site, &actor, text).await?;
    Ok(axum::Json(json!({"imported": rep.imported})).into_response())
}

/// `GET /admin/v1/marketing/pending-mails`: confirmation emails that could not be sent yet.
pub async fn pending_mails(State(st): State<AppState>, _admin: Admin) -> ApiResult<Response> {
    let v = record::failed_mails(&st).await?;
    Ok(axum::Json(json!({"failed": v})).into_response())
}
