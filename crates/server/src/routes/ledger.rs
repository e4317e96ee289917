//! Ledger endpoints: the latest signed checkpoint as JSON and as C2SP signed notes, consistency
//! proofs between tree sizes (public, for auditors and witnesses), a forced checkpoint and
//! consent queries for answering a supervisory authority (admin).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use assent_app::exports::{ConsentLookup, find_consents};
use assent_ledger::to_hex;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::guard::rate_limit;
use crate::state::AppState;

/// A body with its content type and cache rule.
fn text_with(content_type: &'static str, cache: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

pub async fn latest_checkpoint(State(st): State<AppState>) -> ApiResult<Response> {
    let (_, body) = st
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    Ok(text_with("application/json", "no-cache", body))
}

/// Signs a checkpoint now (normally done every `checkpoint_interval_secs`).
pub async fn force_checkpoint(_admin: Admin, State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let made = st.sign_checkpoint().await?;
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

/// `GET /admin/v1/consents?receipt=ID` or `?site=ID&subject=UUID`.
pub async fn consents(
    admin: Admin,
    State(st): State<AppState>,
    q: Result<Query<ConsentQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let by = match (&q.receipt, &q.site, &q.subject) {
        (Some(r), _, _) => ConsentLookup::Receipt(r),
        (None, Some(site), Some(subject)) => ConsentLookup::Subject { site, subject },
        _ => {
            return Err(ApiError::invalid(
                "receipt",
                "give receipt=ID, or site=ID and subject=UUID",
            ));
        }
    };
    let items = find_consents(&st, &admin.token_id, by).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Why (kept forever in the ledger: never personal data), e.g. "erasure request R-12".
    reason: String,
}

/// `POST /admin/v1/consents/{receipt}/erase`: `assent_app::consent::erase`.
pub async fn erase(
    admin: Admin,
    State(st): State<AppState>,
    Path(receipt): Path<String>,
    crate::json::ApiJson(req): crate::json::ApiJson<EraseRequest>,
) -> ApiResult<Json<Value>> {
    let done = assent_app::consent::erase(&st, &admin.token_id, &receipt, &req.reason).await?;
    let (e, red) = (done.erased, done.redaction);
    Ok(Json(
        json!({"erased": {"chain": e.chain, "seq": e.seq}, "redaction_entry": {"chain": red.chain, "seq": red.seq, "hash": to_hex(&red.hash)}}),
    ))
}

/// `GET /ledger/checkpoint`: the latest checkpoint as C2SP signed notes (`tlog-checkpoint`),
/// one per chain, one after the other; what witnesses fetch and keep.
pub async fn checkpoint_notes(State(st): State<AppState>) -> ApiResult<Response> {
    let notes = assent_app::ledger::checkpoint_notes(&st.store, st.ledger.key(), &st.public_base)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    Ok(text_with("text/plain; charset=utf-8", "no-cache", notes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    chain: u32,
    from: u64,
    to: u64,
}

/// `GET /ledger/consistency?chain=C&from=M&to=N`: the RFC 9162 consistency proof between
/// the trees of `M` and `N` entries of chain `C`, one standard-base64 hash per line (the
/// encoding of the notes). `N` may not exceed the latest signed size.
pub async fn consistency(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    use assent_app::ledger::ProofError;
    rate_limit(&st, peer, &headers)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let proof = assent_app::ledger::consistency(&st.store, &st.checkpointer, q.chain, q.from, q.to)
        .await
        .map_err(|e| match e {
            ProofError::Order { .. } => ApiError::bad_request(e.to_string()),
            ProofError::NotSigned { .. } => ApiError::not_found(e.to_string()),
            ProofError::Checkpoint(e) => ApiError::internal(&e),
        })?;
    let body = assent_ledger::proof_text(&proof);
    Ok(text_with(
        "text/plain; charset=utf-8",
        "public, max-age=86400, immutable",
        body,
    ))
}
