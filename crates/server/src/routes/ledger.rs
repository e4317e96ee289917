//! Ledger endpoints: the latest signed checkpoint (public, for auditors), a forced checkpoint
//! and consent queries for answering a supervisory authority (admin).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use assent_ledger::to_hex;
use assent_model::clock::rfc3339;
use assent_store::{ConsentRow, Entry};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::ledger::audit;
use crate::state::AppState;

pub async fn latest_checkpoint(State(st): State<AppState>) -> ApiResult<Response> {
    let (_, body) = st
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], body).into_response())
}

/// Signs a checkpoint now (normally done every `checkpoint_interval_secs`).
pub async fn force_checkpoint(admin: Admin, State(st): State<AppState>) -> ApiResult<Json<Value>> {
    admin.require_write()?;
    let now = st.clock.now_ms();
    let made = {
        let mut cp = st.checkpointer.lock().await;
        cp.run_once(&st.store, st.ledger.key(), now).await.map_err(|e| ApiError::internal(&e))?
    };
    if made {
        st.metrics.checkpoints.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let latest = st.store.latest_checkpoint().await?.map(|(_, b)| serde_json::from_str::<Value>(&b).unwrap_or(Value::Null));
    Ok(Json(json!({"created": made, "checkpoint": latest})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    site: Option<String>,
    subject: Option<String>,
    receipt: Option<String>,
}

pub fn consent_json(row: &ConsentRow, entry: &Entry) -> Value {
    json!({
        "receipt_id": row.receipt_id,
        "site": row.site,
        "subject": row.subject,
        "policy_version": row.policy_version,
        "action": row.action,
        "method": row.method,
        "channel": row.channel,
        "language": row.language,
        "choices": serde_json::from_str::<Value>(&row.choices_json).unwrap_or(Value::Null),
        "text_fingerprint": row.fingerprint,
        "created_at": rfc3339(row.created_at_ms),
        "expires_at": rfc3339(row.expires_at_ms),
        "chain": entry.chain,
        "seq": entry.seq,
        "entry_hash": to_hex(&entry.hash),
    })
}

/// `GET /admin/v1/consents?receipt=ID` or `?site=ID&subject=UUID`.
pub async fn consents(
    admin: Admin,
    State(st): State<AppState>,
    q: Result<Query<ConsentQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let items: Vec<Value> = match (&q.receipt, &q.site, &q.subject) {
        (Some(r), _, _) => st
            .store
            .consent_by_receipt(r)
            .await?
            .map(|(row, e)| vec![consent_json(&row, &e)])
            .unwrap_or_default(),
        (None, Some(site), Some(subject)) => st
            .store
            .consents_by_subject(site, &subject.to_ascii_lowercase())
            .await?
            .iter()
            .map(|(row, e)| consent_json(row, e))
            .collect(),
        _ => {
            return Err(ApiError::invalid("receipt", "give receipt=ID, or site=ID and subject=UUID"));
        }
    };
    audit(
        &st.store,
        st.clock.now_ms(),
        "admin.consents_queried",
        json!({"token_id": admin.token_id, "results": items.len()}),
    )
    .await?;
    Ok(Json(json!({ "items": items })))
}
