//! The DPO's server-rendered pages: the queue, one request, and the browser login (a cookie
//! holding the token; the DPO console replaces it with real sessions).

use std::net::SocketAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use assent_app::access::{Permission, Role};
use assent_app::rights::dpo::{is_overdue, load, queue_order};
use assent_app::rights::{self as svc};
use assent_model::rights::Status;
use assent_store::RightsRequestRow;

use super::reply::{html_error, html_response};
use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::state::AppState;
use assent_pages::rights::admin::{self, Detail, HistoryLine, QueueRow};

const COOKIE: &str = "assent_admin";

/// The admin token of a browser (cookie) or a script (Bearer header), if valid.
pub(crate) async fn page_admin(st: &AppState, headers: &HeaderMap) -> ApiResult<Option<String>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let cookie = session_cookie(headers);
    // A script's bearer token, or a browser's session (whose cookie holds a random id).
    let now = st.clock.now_ms();
    let token_hash = match (bearer, cookie) {
        (Some(t), _) if !t.is_empty() && t.len() < 200 => assent_app::tokens::token_hash(&t),
        (_, Some(id)) => match st.sessions.token_of(&id, now) {
            Some(h) => h,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let row = st.store.find_token(&token_hash).await?;
    // The pages show requests: a role that may not read them (marketing) is not let in.
    Ok(row
        .filter(|r| r.revoked_at_ms.is_none())
        .filter(|r| Role::parse(&r.role).is_some_and(|role| role.may(Permission::Read)))
        .map(|r| r.id))
}

/// The session id in the request's cookie, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == COOKIE).then(|| v.to_owned())
        })
}

pub(crate) fn to_login() -> Response {
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
        Err(e) => return html_error("en", e),
    }
    let now = st.clock.now_ms();
    let all = match st.store.rights_list(None).await {
        Ok(a) => a,
        Err(e) => return html_error("en", ApiError::from(e)),
    };
    let awaiting = all
        .iter()
        .filter(|r| r.status == Status::Received && r.erased_at_ms.is_none())
        .count();
    let (mut waiting, mut open): (Vec<RightsRequestRow>, Vec<RightsRequestRow>) = all
        .into_iter()
        .filter(|r| r.erased_at_ms.is_none() && !r.status.is_closed())
        .partition(|r| r.status == Status::Received);
    queue_order(&mut open, now);
    // Requests awaiting verification follow, oldest first: without email (no SMTP, or a
    // bounced address) the DPO verifies them by hand, so they must be seen, with their age.
    waiting.sort_by_key(|r| r.received_at_ms);
    let rows: Vec<QueueRow> = open
        .iter()
        .chain(waiting.iter())
        .map(|r| QueueRow {
            id: r.id.clone(),
            site: r.site.clone(),
            kind: r.kind.to_string(),
            status: r.status.to_string(),
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
        Err(e) => return html_error("en", e),
    }
    let r = match load(&st, &id).await {
        Ok(r) => r,
        Err(e) => return html_error("en", e),
    };
    let events = st.store.rights_events(&id).await.unwrap_or_default();
    let d = svc::deadlines_of(&r);
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let detail = Detail {
        id: r.id.clone(),
        site: r.site.clone(),
        kind: r.kind.to_string(),
        status: r.status.to_string(),
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
        return html_error("en", e);
    }
    if !same_origin(&st, &headers) {
        return html_error("en", ApiError::forbidden("cross-origin form post refused"));
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
        && matches!(
            st.store.find_token(&assent_app::tokens::token_hash(&token)).await,
            Ok(Some(r)) if r.revoked_at_ms.is_none()
                && Role::parse(&r.role).is_some_and(|role| role.may(Permission::Read))
        );
    if !ok {
        return html_response(StatusCode::UNAUTHORIZED, admin::login_page(true));
    }
    let secure = if st.public_base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let Some(session) = st
        .sessions
        .open(assent_app::tokens::token_hash(&token), st.clock.now_ms())
    else {
        return html_error("en", ApiError::internal(&"no randomness for a session id"));
    };
    let cookie = format!(
        "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=28800{secure}"
    );
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
        return html_error("en", ApiError::forbidden("cross-origin form post refused"));
    }
    // Logging out ends the session on the server, not only in this browser.
    if let Some(id) = session_cookie(&headers) {
        st.sessions.close(&id);
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
