//! The dashboard over HTTP: the banner's anonymous display beacon
//! (`POST /v1/sites/{site}/shown`) and the statistics as JSON (`GET /admin/v1/stats`); the
//! page is the console's home (`routes/console/entry.rs`). The operations are
//! `assent_app::stats`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{StatusCode, header};

use assent_app::stats::{self, Dashboard};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::routes::consent::origin_allowed;
use crate::state::AppState;

/// `POST /v1/sites/{site}/shown`: counts one display of the banner. Sets no cookie, reads
/// none, keeps nothing about the caller (the rate limit's in-memory key is a salted hash of
/// the network, as for every public endpoint).
pub async fn shown(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    req: Request,
) -> ApiResult<StatusCode> {
    rate_limit(&st, peer, req.headers())?;
    let cur = st
        .sites
        .current(&site)
        .ok_or_else(|| ApiError::not_found(format!("unknown site `{site}`")).field("site"))?;
    if let Some(o) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        && !origin_allowed(&st, &cur.snapshot.site.domains, o)
    {
        return Err(ApiError::forbidden("origin not allowed for this site").field("Origin"));
    }
    let body: stats::shown::Shown = crate::json::read_json(req).await?;
    stats::shown::count(&st, &site, body)?;
    Ok(StatusCode::NO_CONTENT)
}

fn query(q: Result<Query<stats::Query>, QueryRejection>) -> ApiResult<stats::Query> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// `GET /admin/v1/stats?site=&period=7|30|90` or `&from=&to=`: the dashboard as JSON.
pub async fn api(
    _admin: Admin,
    State(st): State<AppState>,
    q: Result<Query<stats::Query>, QueryRejection>,
) -> ApiResult<Json<Dashboard>> {
    let q = query(q)?;
    let lang = page_lang(q.lang.as_deref());
    Ok(Json(stats::dashboard(&st, &q, lang).await?))
}

fn page_lang(asked: Option<&str>) -> &'static str {
    match asked {
        Some("fr") => "fr",
        Some("de") => "de",
        _ => "en",
    }
}
