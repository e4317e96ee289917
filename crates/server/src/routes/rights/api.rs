//! The admin API of rights requests (`/admin/v1/requests...`): every handler takes
//! [`Admin`] and calls one operation of `assent_app::rights::dpo`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use assent_app::rights::dpo::{self, Completion, Extension};
use assent_app::rights::view::{self, ListFilter};

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::state::AppState;

/// An admin acting on request `{id}`: every write names its actor in the request's history.
pub struct OnRequest {
    pub(super) st: AppState,
    /// `admin:<token id>`.
    pub(super) actor: String,
    pub(super) id: String,
}

impl FromRequestParts<AppState> for OnRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let admin = Admin::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(id) = Path::<String>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(OnRequest {
            st: st.clone(),
            actor: format!("admin:{}", admin.token_id),
            id,
        })
    }
}

/// `GET /admin/v1/requests?status=&overdue=true&site=&attention=true`. Without `status`,
/// requests awaiting email verification are left out (`status=awaiting_verification` or
/// `received` lists them, `status=all` lists all).
pub async fn list(
    State(st): State<AppState>,
    _admin: Admin,
    Query(q): Query<ListFilter>,
) -> ApiResult<Json<Value>> {
    let (items, awaiting) = view::queue(&st, &q).await?;
    Ok(Json(
        json!({"items": items, "awaiting_verification": awaiting}),
    ))
}

/// `GET /admin/v1/requests/{id}`: the request with its history.
pub async fn show(
    State(st): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view::detail(&st, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    note: String,
}

/// `POST /admin/v1/requests/{id}/notes`.
pub async fn add_note(r: OnRequest, ApiJson(b): ApiJson<NoteBody>) -> ApiResult<Response> {
    let v = dpo::add_note(&r.st, &r.actor, &r.id, &b.note).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `POST /admin/v1/requests/{id}/start`: verified -> in_progress.
pub async fn start(r: OnRequest) -> ApiResult<Json<Value>> {
    Ok(Json(dpo::start(&r.st, &r.actor, &r.id).await?))
}

/// `POST /admin/v1/requests/{id}/extend`: emails the requester the extension and its reason,
/// then records it.
pub async fn extend(r: OnRequest, ApiJson(b): ApiJson<Extension>) -> ApiResult<Json<Value>> {
    Ok(Json(dpo::extend(&r.st, &r.actor, &r.id, &b).await?))
}

/// `POST /admin/v1/requests/{id}/complete`: records the answer, stores the attachments and
/// emails the requester the message with 7-day download links.
pub async fn complete(r: OnRequest, ApiJson(b): ApiJson<Completion>) -> ApiResult<Json<Value>> {
    Ok(Json(dpo::complete(&r.st, &r.actor, &r.id, &b).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    reasons: String,
}

/// `POST /admin/v1/requests/{id}/reject`: records the refusal and emails the reasons with
/// the right to complain to the supervisory authority and to go to court.
pub async fn reject(r: OnRequest, ApiJson(b): ApiJson<RejectBody>) -> ApiResult<Json<Value>> {
    Ok(Json(dpo::reject(&r.st, &r.actor, &r.id, &b.reasons).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// How the identity was checked (kept in the request's history, never in the ledger).
    note: String,
}

/// `POST /admin/v1/requests/{id}/verify`: the DPO verified the requester's identity by other
/// means (a request received by post or phone, a site without email).
pub async fn verify(r: OnRequest, ApiJson(b): ApiJson<VerifyBody>) -> ApiResult<Json<Value>> {
    Ok(Json(
        dpo::verify_by_hand(&r.st, &r.actor, &r.id, &b.note).await?,
    ))
}
