//! The public consent API over HTTP: `POST /v1/sites/{site}/consents` (CORS, rate limit,
//! `Sec-GPC`, the JSON body) calls `assent_app::consent::record`; `GET /v1/receipts/{id}`
//! serves the verifiable receipt that `assent_app::consent::build_receipt` builds.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use assent_app::consent::{self, ConsentRequest};
use assent_app::sites::SiteVersion;

use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::routes::headers::set_static;
use crate::state::AppState;

/// Whether a browser `Origin` may call the consent API of a site: one of the site's domains
/// (any scheme and port), or Assent's own public origin (the demo and preference pages).
pub fn origin_allowed(st: &AppState, domains: &[String], origin: &str) -> bool {
    if origin.trim_end_matches('/') == st.public_base {
        return true;
    }
    let host = origin
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    !host.is_empty() && domains.contains(&host)
}

fn cors_headers(resp: &mut Response, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// CORS preflight for the consent API.
pub async fn preflight(
    State(st): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(cur) = st.sites.current(&site) else {
        return ApiError::not_found(format!("unknown site `{site}`"))
            .field("site")
            .into_response();
    };
    if !origin_allowed(&st, &cur.snapshot.site.domains, origin) {
        return ApiError::forbidden("origin not allowed for this site").into_response();
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    cors_headers(&mut resp, origin);
    set_static(
        resp.headers_mut(),
        &[
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    );
    resp
}

pub async fn create(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    req: Request,
) -> Response {
    // The headers are read where hyper parsed them (no copy of the map); the body is read
    // after the rate limit, the site and the origin have been checked.
    let origin = req.headers().get(header::ORIGIN).cloned();
    let origin = origin.as_ref().and_then(|v| v.to_str().ok());
    let cur = st.sites.current(&site);
    let result = create_inner(&st, peer, &site, cur.as_ref(), origin, req).await;
    let mut resp = match result {
        Ok(v) => v,
        Err(e) => {
            st.metrics
                .consent_rejected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            e.into_response()
        }
    };
    // Errors carry CORS headers too, so the page's script can read them.
    if let Some(o) = origin
        && let Some(cur) = &cur
        && origin_allowed(&st, &cur.snapshot.site.domains, o)
    {
        cors_headers(&mut resp, o);
    }
    resp
}

async fn create_inner(
    st: &AppState,
    peer: SocketAddr,
    site: &str,
    cur: Option<&Arc<SiteVersion>>,
    origin: Option<&str>,
    req: Request,
) -> ApiResult<Response> {
    rate_limit(st, peer, req.headers())?;
    let cur =
        cur.ok_or_else(|| ApiError::not_found(format!("unknown site `{site}`")).field("site"))?;
    if let Some(o) = origin
        && !origin_allowed(st, &cur.snapshot.site.domains, o)
    {
        return Err(ApiError::forbidden("origin not allowed for this site").field("Origin"));
    }
    let gpc_header = req
        .headers()
        .get("sec-gpc")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1");
    let req: ConsentRequest = crate::json::read_json(req).await?;
    let created = consent::record(st, site, cur, origin.is_some(), gpc_header, req).await?;
    // Serialised straight into a buffer of the right size (the receipt is ~450 bytes).
    let mut body = Vec::with_capacity(768);
    serde_json::to_writer(&mut body, &created).map_err(|e| ApiError::internal(&e))?;
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::CREATED;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// checkpoint with the inclusion proof.
pub async fn receipt(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    rate_limit(&st, peer, &headers)?;
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("no such receipt").field("id"));
    }
    let receipt = consent::build_receipt(&st, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such receipt").field("id"))?;
    let body = receipt.to_json().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// `GET /v1/receipts/{id}/state[?EPOCH]`: whether the choice a browser holds still stands
/// (`assent_app::consent::state::state`): 200 `{"state": "valid"}`, or 410 Gone with
/// `"withdrawn"`, `"erased"` or `"unknown"`, when the banner must drop it (the status is all
/// the banner reads), asked before a page's gated scripts run. Cached by the browser for a
/// day: the banner puts the site's revalidation epoch in the query (which the server moves on
/// after a withdrawal or an erasure it records), so that a change is asked for at once and an
/// unchanged answer at most once a day. Read cross-origin without credentials. Same id check
/// and rate limit as the receipt.
pub async fn receipt_state(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    rate_limit(&st, peer, &headers)?;
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("no such receipt").field("id"));
    }
    let state = consent::state::state(&st, &id).await?;
    let status = match state.drop() {
        true => StatusCode::GONE,
        false => StatusCode::OK,
    };
    let body = serde_json::json!({ "state": state }).to_string();
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response())
}

/// `?lang=` of the receipt page.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// `GET /receipts/{id}`: the receipt as a human-readable page (see
/// [`crate::routes::receipt_page`]), what "Proof of your choice" in the banner opens. Same id
/// check and rate limit as the JSON receipt; unknown and erased receipts get an HTML page
/// (404, 410) that does not echo the id.
pub async fn receipt_page(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    use crate::routes::receipt_page::{Problem, page_lang, render, render_problem};
    use crate::routes::rights::reply::html_response;
    let qlang = q.lang.as_deref();
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return e.into_response();
    }
    let problem = |p: Problem, status: StatusCode| {
        html_response(status, render_problem(page_lang(qlang, None), p))
    };
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return problem(Problem::NotFound, StatusCode::NOT_FOUND);
    }
    match consent::build_receipt(&st, &id).await {
        Ok(Some(receipt)) => {
            let lang = page_lang(qlang, Some(&receipt.record));
            html_response(StatusCode::OK, render(&st, lang, &id, &receipt).await)
        }
        Ok(None) => problem(Problem::NotFound, StatusCode::NOT_FOUND),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::GONE {
                problem(Problem::Gone, StatusCode::GONE)
            } else {
                tracing::error!(error = %e.message, "receipt page");
                problem(Problem::Internal, e.status)
            }
        }
    }
}
