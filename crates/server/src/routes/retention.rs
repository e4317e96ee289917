//! Retention in the admin API: the rules with their plan and last run (`GET /retention`),
//! and the DPO's holds (list, set, lift). The operations are `assent_app::retention`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;

/// `GET /admin/v1/retention`.
pub async fn overview(_admin: Admin, State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let rules = assent_app::retention::overview(&st).await?;
    Ok(Json(json!({
        "rules": rules,
        "schedule_secs": st.config.retention_interval_secs,
    })))
}

/// `GET /admin/v1/retention/holds`.
pub async fn holds(_admin: Admin, State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let items = assent_app::retention::list_holds(&st.store, st.clock.now_ms()).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// A consent subject id, a requester's email or a rights request id.
    person: String,
    reason: String,
    /// RFC 3339 end of the hold; none: until lifted.
    until: Option<String>,
}

/// `POST /admin/v1/retention/holds`.
pub async fn set_hold(
    admin: Admin,
    State(st): State<AppState>,
    crate::json::ApiJson(req): crate::json::ApiJson<HoldRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let until = match &req.until {
        None => None,
        Some(s) => Some(assent_model::clock::parse_time(s).ok_or_else(|| {
            assent_app::AppError::invalid("until", "an RFC 3339 time, like 2027-06-30T00:00:00Z")
        })?),
    };
    let actor = format!("admin:{}", admin.token_id);
    let h = assent_app::retention::set_hold(
        &st.store,
        st.clock.now_ms(),
        &actor,
        &req.person,
        &req.reason,
        until,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": h.id, "until_ms": h.until_ms})),
    ))
}

/// `POST /admin/v1/retention/holds/{id}/lift`.
pub async fn lift_hold(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = format!("admin:{}", admin.token_id);
    assent_app::retention::lift_hold(&st.store, st.clock.now_ms(), &actor, &id).await?;
    Ok(Json(json!({"id": id, "lifted": true})))
}
