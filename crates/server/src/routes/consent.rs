//! The public consent API: `POST /v1/sites/{site}/consents` stores a visitor's choice as a
//! ledger entry and answers with its receipt; `GET /v1/receipts/{id}` returns the verifiable
//! receipt.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use assent_ledger::{Receipt, SignedCheckpoint, inclusion_proof, to_hex};
use assent_model::clock::rfc3339;
use assent_model::consent::{Action, Channel, decide};
use assent_model::registry::Purpose;
use assent_store::{AppendItem, ConsentRow};

use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::ratelimit::client_ip;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub subject: String,
    pub policy_version: i64,
    #[serde(default)]
    pub choices: BTreeMap<String, bool>,
    pub action: Action,
    pub language: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    /// The page saw `navigator.globalPrivacyControl === true`.
    #[serde(default)]
    pub gpc: bool,
}

/// A pseudonymous subject id is a UUID (the banner makes a random v4).
pub fn valid_subject(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Applies the per-client rate limit of the public endpoints.
pub fn rate_limit(st: &AppState, peer: SocketAddr, headers: &HeaderMap) -> ApiResult<()> {
    if !st.limiter.enabled() {
        return Ok(());
    }
    let ip = client_ip(peer, headers, &st.config.trusted_proxies);
    st.limiter.check(st.limiter.key(ip), st.clock.now_ms()).map_err(|retry| {
        st.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ApiError::too_many(retry)
    })
}

/// Whether a browser `Origin` may call the consent API of a site: one of the site's domains
/// (any scheme and port), or Assent's own public origin (the demo and preference pages).
pub fn origin_allowed(st: &AppState, domains: &[String], origin: &str) -> bool {
    if origin.trim_end_matches('/') == st.config.public_base() {
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
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(cur) = st.sites.current(&site) else {
        return ApiError::not_found(format!("unknown site `{site}`")).field("site").into_response();
    };
    if !origin_allowed(&st, &cur.snapshot.site.domains, origin) {
        return ApiError::forbidden("origin not allowed for this site").into_response();
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    cors_headers(&mut resp, origin);
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    resp
}

pub async fn create(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Result<ApiJson<ConsentRequest>, ApiError>,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let result = create_inner(&st, peer, &site, &headers, origin.as_deref(), body).await;
    if result.is_err() {
        st.metrics.consent_rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let mut resp = match result {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => e.into_response(),
    };
    // Errors carry CORS headers too, so the page's script can read them.
    if let Some(o) = &origin
        && let Some(cur) = st.sites.current(&site)
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
    headers: &HeaderMap,
    origin: Option<&str>,
    body: Result<ApiJson<ConsentRequest>, ApiError>,
) -> ApiResult<Value> {
    rate_limit(st, peer, headers)?;
    let cur = st
        .sites
        .current(site)
        .ok_or_else(|| ApiError::not_found(format!("unknown site `{site}`")).field("site"))?;
    if let Some(o) = origin
        && !origin_allowed(st, &cur.snapshot.site.domains, o)
    {
        return Err(ApiError::forbidden("origin not allowed for this site").field("Origin"));
    }
    let ApiJson(req) = body?;
    if !valid_subject(&req.subject) {
        return Err(ApiError::invalid("subject", "subject must be a UUID like 0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a"));
    }
    let subject = req.subject.to_ascii_lowercase();
    if req.policy_version > cur.row.version || req.policy_version < 1 {
        return Err(ApiError::invalid(
            "policy_version",
            format!("unknown policy version {} (current: {})", req.policy_version, cur.row.version),
        ));
    }
    if req.policy_version < cur.row.consent_floor {
        let mut e = ApiError::invalid(
            "policy_version",
            format!(
                "policy version {} is stale: version {} requires fresh consent; reload the banner",
                req.policy_version, cur.row.consent_floor
            ),
        );
        e.code = "stale_policy_version";
        e.status = StatusCode::CONFLICT;
        return Err(e);
    }
    let shown = st
        .sites
        .version(&st.store, site, req.policy_version)
        .await?
        .ok_or_else(|| ApiError::invalid("policy_version", format!("unknown policy version {}", req.policy_version)))?;
    let snap = &shown.snapshot;
    if !snap.site.languages.contains(&req.language) {
        return Err(ApiError::invalid(
            "language",
            format!("language `{}` is not offered by this site ({})", req.language, snap.site.languages.join(", ")),
        ));
    }
    let gpc_header = headers
        .get("sec-gpc")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1");
    let gpc = req.gpc || gpc_header;
    let purposes: Vec<&Purpose> = snap.purposes.iter().collect();
    let decision = decide(&purposes, req.action, &req.choices, gpc)
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let channel = req.channel.unwrap_or(if origin.is_some() { Channel::Banner } else { Channel::Api });
    if channel == Channel::RightsRequest {
        return Err(ApiError::invalid("channel", "channel rights_request is reserved to rights requests"));
    }

    let now = st.clock.now_ms();
    let expires = now + i64::from(snap.site.consent_lifetime_days) * 86_400_000;
    let receipt_id = new_receipt_id(now)?;
    let fingerprint = snap.text_fingerprint(&req.language);
    let record = consent_record(
        st,
        &shown,
        &receipt_id,
        &subject,
        &decision.choices,
        req.action.as_str(),
        decision.method.as_str(),
        channel.as_str(),
        &req.language,
        &fingerprint,
        now,
        expires,
    );
    let payload = assent_ledger::canonical_json(&record).map_err(|e| ApiError::internal(&e))?;
    let choices_json = serde_json::to_string(&decision.choices).unwrap_or_default();
    let row = ConsentRow {
        receipt_id: receipt_id.clone(),
        site: site.to_string(),
        subject,
        policy_version: req.policy_version,
        action: req.action.as_str().into(),
        method: decision.method.as_str().into(),
        channel: channel.as_str().into(),
        language: req.language.clone(),
        choices_json,
        fingerprint,
        created_at_ms: now,
        expires_at_ms: expires,
    };
    let entries = st
        .store
        .append(vec![AppendItem { ts_ms: now, kind: "consent".into(), payload, consent: Some(row) }])
        .await?;
    let entry = entries.first().ok_or_else(|| ApiError::internal(&"append returned no entry"))?;
    st.metrics.consents.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    st.metrics.ledger_entries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(json!({
        "receipt": {
            "id": receipt_id,
            "hash": to_hex(&entry.hash),
            "chain": entry.chain,
            "seq": entry.seq,
            "site": site,
            "policy_version": req.policy_version,
            "choices": decision.choices,
            "action": req.action.as_str(),
            "method": decision.method.as_str(),
            "gpc_refused": decision.gpc_refused,
            "created_at": rfc3339(now),
            "expires_at": rfc3339(expires),
            "url": format!("{}/v1/receipts/{receipt_id}", st.config.public_base()),
        }
    }))
}

/// 128 bits: a 48-bit millisecond time prefix and 80 random bits (UUIDv7-like). Time-ordered
/// ids keep the receipt index append-mostly, which is markedly faster on SQLite; the random
/// part keeps them unguessable.
fn new_receipt_id(now_ms: i64) -> ApiResult<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b[6..]).map_err(|e| ApiError::internal(&e))?;
    let t = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&t[2..]);
    Ok(hex::encode(b))
}

/// The consent record: ISO/IEC TS 27560 and Kantara Consent Receipt v1.1 field names where
/// they apply, plus what proof of consent needs (policy version and hash, text fingerprint).
#[allow(clippy::too_many_arguments)]
pub fn consent_record(
    st: &AppState,
    shown: &crate::sites::SiteVersion,
    receipt_id: &str,
    subject: &str,
    choices: &BTreeMap<String, bool>,
    action: &str,
    method: &str,
    channel: &str,
    language: &str,
    fingerprint: &str,
    now: i64,
    expires: i64,
) -> Value {
    let snap = &shown.snapshot;
    let c = &snap.controller;
    let base = st.config.public_base();
    let site = &snap.site.id;
    let services: Vec<Value> = snap
        .services
        .iter()
        .map(|s| {
            json!({
                "service": s.name,
                "provider": s.provider,
                "purposes": s.purposes.iter().map(|p| {
                    let required = snap.purpose(p).is_none_or(|x| x.consent_required);
                    json!({
                        "purpose": p,
                        "consentType": if required { "EXPLICIT" } else { "NOT_REQUIRED" },
                        "granted": choices.get(p).copied().unwrap_or(false),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut controller = json!({"piiController": c.name, "contact": c.email, "address": c.address, "email": c.email});
    if let Some(p) = &c.phone {
        controller["phone"] = json!(p);
    }
    json!({
        "version": "assent-consent/1",
        "jurisdiction": c.country,
        "consentTimestamp": now,
        "collectionMethod": channel,
        "consentReceiptID": receipt_id,
        "language": language,
        "piiPrincipalId": subject,
        "piiControllers": [controller],
        "policyUrl": format!("{base}/sites/{site}/cookie-policy?version={}", shown.row.version),
        "site": site,
        "policyVersion": shown.row.version,
        "policyHash": shown.row.content_hash,
        "textFingerprint": fingerprint,
        "action": action,
        "method": method,
        "purposes": choices,
        "services": services,
        "expiresAt": expires,
        "termination": format!("Expires at {}, or earlier when withdrawn through the \"Manage my cookies\" link", rfc3339(expires)),
    })
}

/// `GET /v1/receipts/{id}`: the record, its entry and, once a checkpoint covers it, the signed
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
    let receipt = build_receipt(&st, &id).await?.ok_or_else(|| ApiError::not_found("no such receipt").field("id"))?;
    let body = receipt.to_json().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response())
}

/// Builds the receipt of a consent, anchored in the newest checkpoint that covers it.
pub async fn build_receipt(st: &AppState, id: &str) -> ApiResult<Option<Receipt>> {
    let Some((_row, entry)) = st.store.consent_by_receipt(id).await? else {
        return Ok(None);
    };
    let stored = st.store.entries(entry.chain, entry.seq, 1).await?;
    let Some((_, Some(payload))) = stored.into_iter().next() else {
        return Err(ApiError::new(StatusCode::GONE, "redacted", "this consent record has been erased"));
    };
    let record: Value = serde_json::from_slice(&payload).map_err(|e| ApiError::internal(&e))?;
    let mut receipt = Receipt::new(record, entry.clone());
    if let Some(cp) = covering_checkpoint(st, entry.chain, entry.seq).await?
        && let Some(head) = cp.checkpoint.head(entry.chain)
    {
        let hashes = st.store.entry_hashes(entry.chain, 0, head.size).await?;
        let proof = inclusion_proof(&hashes, entry.seq);
        receipt = receipt.with_anchor(cp, proof);
    }
    Ok(Some(receipt))
}

async fn covering_checkpoint(st: &AppState, chain: u32, seq: u64) -> ApiResult<Option<SignedCheckpoint>> {
    let Some((_, body)) = st.store.latest_checkpoint().await? else {
        return Ok(None);
    };
    let cp: SignedCheckpoint = serde_json::from_str(&body).map_err(|e| ApiError::internal(&e))?;
    Ok(cp.checkpoint.head(chain).filter(|h| h.size > seq).map(|_| cp.clone()))
}
