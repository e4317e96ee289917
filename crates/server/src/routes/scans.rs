//! Scans in the admin API: queue a scan of a site's page, list a site's scan history, read a
//! scan with its report and what changed since the previous one, its HTML report, and the
//! schedules of periodic scans. The operations are `assent_app::scans`; the server's scan
//! loop (`crate::scan_loop`) runs the queue.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::routes::headers::set_static;
use crate::state::AppState;

fn actor(admin: &Admin) -> String {
    format!("admin:{}", admin.token_id)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// The page to start from: on one of the site's declared domains.
    url: String,
    /// Same-site pages per scenario (1 to 50; 10 by default).
    pages: Option<i64>,
}

/// `POST /admin/v1/sites/{site}/scans`: queues a scan (202).
pub async fn request(
    admin: Admin,
    State(st): State<AppState>,
    Path(site): Path<String>,
    ApiJson(b): ApiJson<ScanBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let row = assent_app::scans::request(&st, &actor(&admin), &site, &b.url, b.pages).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(row))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
}

/// `GET /admin/v1/sites/{site}/scans`: the site's scans, newest first, without reports.
pub async fn list(
    _admin: Admin,
    State(st): State<AppState>,
    Path(site): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let items = assent_app::scans::list(&st, Some(&site), q.limit).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /admin/v1/scans/{id}`: a scan with its report and the changes since the previous
/// scan of the same page.
pub async fn show(
    _admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(assent_app::scans::run::show(&st, &id).await?)))
}

/// `GET /admin/v1/scans/{id}/report.html`: the scanner's HTML report of a finished scan. The
/// report is a static page: no script may run, styles are inline.
pub async fn report_html(
    _admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let html = assent_app::scans::run::report_html(&st, &id).await?;
    let mut h = HeaderMap::new();
    set_static(
        &mut h,
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
    );
    Ok((h, html).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    url: String,
    pages: Option<i64>,
    /// Hours between two scans (1 to 8,784).
    every_hours: i64,
}

/// `POST /admin/v1/sites/{site}/scan-schedules`: scans `url` every `every_hours`, the first
/// at once (201).
pub async fn schedule(
    admin: Admin,
    State(st): State<AppState>,
    Path(site): Path<String>,
    ApiJson(b): ApiJson<ScheduleBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let row =
        assent_app::scans::schedule(&st, &actor(&admin), &site, &b.url, b.pages, b.every_hours)
            .await?;
    Ok((StatusCode::CREATED, Json(json!(row))))
}

/// `GET /admin/v1/sites/{site}/scan-schedules`.
pub async fn schedules(
    _admin: Admin,
    State(st): State<AppState>,
    Path(site): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = assent_app::scans::schedules(&st, Some(&site)).await?;
    Ok(Json(json!({ "items": items })))
}

/// `DELETE /admin/v1/scan-schedules/{id}`: stops a schedule (its scans stay).
pub async fn unschedule(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    assent_app::scans::unschedule(&st, &actor(&admin), &id).await?;
    Ok(Json(json!({"id": id, "deleted": true})))
}
