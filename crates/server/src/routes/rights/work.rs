//! The admin API of fulfilment (issue 15's workflow side): offline intake, the restriction
//! list, rectification, Art. 19 notification tasks and fulfilment runs. Each handler calls
//! one operation of `assent_app::rights` (`view`, `restrict`, `rectify`, `runs`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use assent_app::rights::intake::OfflineRequest;
use assent_app::rights::rectify::{self, Rectification};
use assent_app::rights::restrict::{self, Lookup, RestrictBody};
use assent_app::rights::runs::{self, RunBody};
use assent_app::rights::view;

use super::api::OnRequest;
use super::public::file_response;
use crate::auth::Admin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::state::AppState;

fn actor(admin: &Admin) -> String {
    format!("admin:{}", admin.token_id)
}

/// `POST /admin/v1/requests`: a request received by email, post, phone or in person.
pub async fn record_offline(
    State(st): State<AppState>,
    admin: Admin,
    ApiJson(b): ApiJson<OfflineRequest>,
) -> ApiResult<Response> {
    let v = view::record_offline(&st, &actor(&admin), &b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `POST /admin/v1/requests/{id}/restrict`: adds the requester to the restriction list.
pub async fn restrict(r: OnRequest, ApiJson(b): ApiJson<RestrictBody>) -> ApiResult<Json<Value>> {
    Ok(Json(restrict::restrict(&r.st, &r.actor, &r.id, &b).await?))
}

/// `GET /admin/v1/restrictions?email=|phone=|hash=`: whether a person is restricted.
pub async fn restrictions(
    State(st): State<AppState>,
    admin: Admin,
    Query(q): Query<Lookup>,
) -> ApiResult<Json<Value>> {
    Ok(Json(restrict::lookup(&st, &admin.token_id, &q).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiftBody {
    reason: String,
}

/// `POST /admin/v1/restrictions/{id}/lift`.
pub async fn lift(
    State(st): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LiftBody>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        restrict::lift(&st, &actor(&admin), &id, &b.reason).await?,
    ))
}

/// `POST /admin/v1/requests/{id}/rectify`: applies the changes the DPO approved.
pub async fn rectify(r: OnRequest, ApiJson(b): ApiJson<Rectification>) -> ApiResult<Json<Value>> {
    Ok(Json(rectify::rectify(&r.st, &r.actor, &r.id, &b).await?))
}

/// `GET /admin/v1/requests/{id}/notifications`: the Art. 19 tasks and their messages.
pub async fn notifications(
    State(st): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view::notifications(&st, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneBody {
    #[serde(default)]
    note: Option<String>,
}

/// `POST /admin/v1/requests/{id}/notifications/{task}/done`: the recipient was told.
pub async fn notification_done(
    State(st): State<AppState>,
    admin: Admin,
    Path((id, task)): Path<(String, String)>,
    ApiJson(b): ApiJson<DoneBody>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        view::notification_done(&st, &actor(&admin), &id, &task, b.note.as_deref()).await?,
    ))
}

/// `POST /admin/v1/requests/{id}/fulfilment/preview`: what a run would do; nothing changes.
pub async fn preview(r: OnRequest, ApiJson(b): ApiJson<RunBody>) -> ApiResult<Json<Value>> {
    Ok(Json(runs::preview(&r.st, &r.id, &b).await?))
}

/// `POST /admin/v1/requests/{id}/fulfilment/run`: runs it; answers the finished run.
pub async fn run(r: OnRequest, ApiJson(b): ApiJson<RunBody>) -> ApiResult<Json<Value>> {
    Ok(Json(runs::run(&r.st, &r.actor, &r.id, &b).await?))
}

/// `GET /admin/v1/requests/{id}/fulfilment/package`: the DPO's copy of the latest package.
pub async fn package(r: OnRequest) -> ApiResult<Response> {
    let (name, content_type, bytes) = runs::package(&r.st, &r.actor, &r.id).await?;
    Ok(file_response(&name, &content_type, bytes))
}
