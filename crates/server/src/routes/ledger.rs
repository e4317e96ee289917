//! Ledger endpoints: the latest signed checkpoint (public, for auditors), a forced checkpoint
//! and consent queries for answering a supervisory authority (admin).

use axum::Json;
use axum::extract::{Path, Query, State};
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
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// Signs a checkpoint now (normally done every `checkpoint_interval_secs`).
pub async fn force_checkpoint(admin: Admin, State(st): State<AppState>) -> ApiResult<Json<Value>> {
    admin.require_write()?;
    let now = st.clock.now_ms();
    let made = {
        let mut cp = st.checkpointer.lock().await;
        cp.run_once(&st.store, st.ledger.key(), now)
            .await
            .map_err(|e| ApiError::internal(&e))?
    };
    if made {
        st.metrics
            .checkpoints
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let latest = st
        .store
        .latest_checkpoint()
        .await?
        .map(|(_, b)| serde_json::from_str::<Value>(&b).unwrap_or(Value::Null));
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
            return Err(ApiError::invalid(
                "receipt",
                "give receipt=ID, or site=ID and subject=UUID",
            ));
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Why (kept forever in the ledger: never personal data), e.g. "erasure request R-12".
    reason: String,
}

/// `POST /admin/v1/consents/{receipt}/erase`: erases a consent record's payload and its
/// queryable copy (right to erasure, retention). The ledger entry stays, committing to the
/// erased payload's hash, and the erasure is itself a ledger entry, so the chain still
/// verifies and shows that something was erased, when and why.
pub async fn erase(
    admin: Admin,
    State(st): State<AppState>,
    Path(receipt): Path<String>,
    crate::json::ApiJson(req): crate::json::ApiJson<EraseRequest>,
) -> ApiResult<Json<Value>> {
    admin.require_write()?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.len() > 200 || reason.contains('@') {
        return Err(ApiError::invalid(
            "reason",
            "a short reason (at most 200 characters, no email address) is required",
        ));
    }
    let (_, entry) = st
        .store
        .consent_by_receipt(&receipt)
        .await?
        .ok_or_else(|| ApiError::not_found("no such receipt").field("receipt"))?;
    let payload =
        assent_ledger::redaction_payload(entry.chain, entry.seq, &entry.payload_hash, reason)
            .map_err(|e| ApiError::internal(&e))?;
    let now = st.clock.now_ms();
    let item = assent_store::AppendItem {
        ts_ms: now,
        kind: assent_ledger::REDACTION_KIND.into(),
        payload,
        consent: None,
    };
    let red = match st.store.redact(entry.chain, entry.seq, item).await {
        Ok(e) => e,
        Err(assent_store::StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "already_erased",
                "this record was already erased",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit(
        &st.store,
        now,
        "admin.consent_erased",
        json!({"token_id": admin.token_id, "chain": entry.chain, "seq": entry.seq}),
    )
    .await?;
    Ok(Json(
        json!({"erased": {"chain": entry.chain, "seq": entry.seq}, "redaction_entry": {"chain": red.chain, "seq": red.seq, "hash": to_hex(&red.hash)}}),
    ))
}
