//! Admin API (`/admin/v1/...`): every handler takes [`Admin`], so none can skip
//! authentication.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use assent_model::clock::rfc3339;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use assent_app::policy::apply_source;

pub async fn whoami(admin: Admin) -> Json<Value> {
    let permissions: Vec<&str> = assent_app::access::Permission::ALL
        .into_iter()
        .filter(|p| admin.role.may(*p))
        .map(|p| p.as_str())
        .collect();
    Json(
        json!({"token_id": admin.token_id, "role": admin.role.as_str(), "permissions": permissions}),
    )
}

pub async fn sites(_admin: Admin, State(st): State<AppState>) -> Json<Value> {
    let items: Vec<Value> = st
        .sites
        .site_ids()
        .iter()
        .filter_map(|id| st.sites.current(id))
        .map(|v| {
            json!({
                "id": v.row.site,
                "name": v.snapshot.site.name,
                "domains": v.snapshot.site.domains,
                "version": v.row.version,
                "consent_floor": v.row.consent_floor,
                "content_hash": v.row.content_hash,
                "created_at": rfc3339(v.row.created_at_ms),
            })
        })
        .collect();
    Json(json!({ "items": items }))
}

pub async fn policy_versions(
    _admin: Admin,
    State(st): State<AppState>,
    Path(site): Path<String>,
) -> ApiResult<Json<Value>> {
    let rows = st.store.list_policy_versions(&site).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("no site `{site}`")).field("site"));
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "version": r.version,
                "content_hash": r.content_hash,
                "requires_fresh_consent": r.requires_fresh_consent,
                "consent_floor": r.consent_floor,
                "created_at": rfc3339(r.created_at_ms),
                "changes": serde_json::from_str::<Value>(&r.changes_json).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Applies a new registry (TOML body): the same as `assent apply`.
pub async fn apply(
    admin: Admin,
    State(st): State<AppState>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let src =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("body is not UTF-8 TOML"))?;
    let applied = apply_source(&st, &admin.token_id, src).await?;
    Ok(Json(json!({ "applied": applied })))
}
