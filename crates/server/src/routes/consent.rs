//! The public consent API: `POST /v1/sites/{site}/consents` stores a visitor's choice as a
//! ledger entry and answers with its receipt; `GET /v1/receipts/{id}` returns the verifiable
//! receipt.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use assent_ledger::{Receipt, SignedCheckpoint, to_hex};
use assent_model::clock::rfc3339;
use assent_model::consent::{Action, Channel, decide};
use assent_model::registry::Purpose;
use assent_store::{AppendItem, ConsentKey};

use crate::error::{ApiError, ApiResult};
use crate::ratelimit::client_ip;
use crate::sites::SiteVersion;
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
    st.limiter
        .check(st.limiter.key(ip), st.clock.now_ms())
        .map_err(|retry| {
            st.metrics
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ApiError::too_many(retry)
        })
}

/// Whether a browser `Origin` may call the consent API of a site: one of the site's domains
/// (any scheme and port), or Assent's own public origin (the demo and preference pages).
pub fn origin_allowed(st: &AppState, domains: &[String], origin: &str) -> bool {
    if origin.trim_end_matches('/') == st.public_base {
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
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(cur) = st.sites.current(&site) else {
        return ApiError::not_found(format!("unknown site `{site}`"))
            .field("site")
            .into_response();
    };
    if !origin_allowed(&st, &cur.snapshot.site.domains, origin) {
        return ApiError::forbidden("origin not allowed for this site").into_response();
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    cors_headers(&mut resp, origin);
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    resp
}

pub async fn create(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(site): Path<String>,
    req: Request,
) -> Response {
    // The headers are read where hyper parsed them (no copy of the map); the body is read
    // after the rate limit, the site and the origin have been checked.
    let origin = req.headers().get(header::ORIGIN).cloned();
    let origin = origin.as_ref().and_then(|v| v.to_str().ok());
    let cur = st.sites.current(&site);
    let result = create_inner(&st, peer, &site, cur.as_ref(), origin, req).await;
    let mut resp = match result {
        Ok(v) => v,
        Err(e) => {
            st.metrics
                .consent_rejected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            e.into_response()
        }
    };
    // Errors carry CORS headers too, so the page's script can read them.
    if let Some(o) = origin
        && let Some(cur) = &cur
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
    cur: Option<&Arc<SiteVersion>>,
    origin: Option<&str>,
    req: Request,
) -> ApiResult<Response> {
    rate_limit(st, peer, req.headers())?;
    let cur =
        cur.ok_or_else(|| ApiError::not_found(format!("unknown site `{site}`")).field("site"))?;
    if let Some(o) = origin
        && !origin_allowed(st, &cur.snapshot.site.domains, o)
    {
        return Err(ApiError::forbidden("origin not allowed for this site").field("Origin"));
    }
    let gpc_header = req
        .headers()
        .get("sec-gpc")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1");
    let req: ConsentRequest = crate::json::read_json(req).await?;
    if !valid_subject(&req.subject) {
        return Err(ApiError::invalid(
            "subject",
            "subject must be a UUID like 0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a",
        ));
    }
    check_policy_version(cur, req.policy_version)?;
    let shown = if req.policy_version == cur.row.version {
        cur.clone()
    } else {
        // Older versions are rare: boxed, so that their lookup does not enlarge every
        // consent's future.
        Box::pin(st.sites.version(&st.store, site, req.policy_version))
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    "policy_version",
                    format!("unknown policy version {}", req.policy_version),
                )
            })?
    };
    let (item, mut created) = build_consent(st, site, &shown, origin, gpc_header, req)?;
    let entries = st.store.append(vec![item]).await?;
    let entry = entries
        .first()
        .ok_or_else(|| ApiError::internal(&"append returned no entry"))?;
    st.metrics
        .consents
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    st.metrics
        .ledger_entries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    created.receipt.chain = entry.chain;
    created.receipt.seq = entry.seq;
    created.receipt.hash = to_hex(&entry.hash);
    // Serialised straight into a buffer of the right size (the receipt is ~450 bytes).
    let mut body = Vec::with_capacity(768);
    serde_json::to_writer(&mut body, &created).map_err(|e| ApiError::internal(&e))?;
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::CREATED;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// An unknown (future or below 1) or stale policy version is refused, naming the field.
fn check_policy_version(cur: &SiteVersion, version: i64) -> ApiResult<()> {
    if version > cur.row.version || version < 1 {
        return Err(ApiError::invalid(
            "policy_version",
            format!(
                "unknown policy version {} (current: {})",
                version, cur.row.version
            ),
        ));
    }
    if version < cur.row.consent_floor {
        let mut e = ApiError::invalid(
            "policy_version",
            format!(
                "policy version {} is stale: version {} requires fresh consent; reload the banner",
                version, cur.row.consent_floor
            ),
        );
        e.code = "stale_policy_version";
        e.status = StatusCode::CONFLICT;
        return Err(e);
    }
    Ok(())
}

/// Validates a decoded request against the policy version it answers and builds its ledger
/// append (record and consent row) and its answer (without the entry's position and hash,
/// known once appended). Synchronous, so that none of its locals is part of the request's
/// future while the store works.
fn build_consent(
    st: &AppState,
    site: &str,
    shown: &SiteVersion,
    origin: Option<&str>,
    gpc_header: bool,
    req: ConsentRequest,
) -> ApiResult<(AppendItem, Created)> {
    let mut subject = req.subject;
    subject.make_ascii_lowercase();
    let snap = &shown.snapshot;
    if !snap.site.languages.contains(&req.language) {
        return Err(ApiError::invalid(
            "language",
            format!(
                "language `{}` is not offered by this site ({})",
                req.language,
                snap.site.languages.join(", ")
            ),
        ));
    }
    let gpc = req.gpc || gpc_header;
    let purposes: Vec<&Purpose> = snap.purposes.iter().collect();
    let decision = decide(&purposes, req.action, &req.choices, gpc)
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let channel = req.channel.unwrap_or(if origin.is_some() {
        Channel::Banner
    } else {
        Channel::Api
    });
    if channel == Channel::RightsRequest {
        return Err(ApiError::invalid(
            "channel",
            "channel rights_request is reserved to rights requests",
        ));
    }

    let now = st.clock.now_ms();
    let expires = now + i64::from(snap.site.consent_lifetime_days) * 86_400_000;
    let receipt_id = new_receipt_id(now)?;
    let base = &st.public_base;
    let template = shown
        .record_template
        .get_or_init(|| RecordTemplate::new(shown));
    let fingerprint = match template.fingerprints.get(&req.language) {
        Some(f) => f.clone(),
        None => snap.text_fingerprint(&req.language),
    };
    let fields = RecordFields {
        receipt_id: &receipt_id,
        subject: &subject,
        choices: &decision.choices,
        action: req.action.as_str(),
        method: decision.method.as_str(),
        channel: channel.as_str(),
        language: &req.language,
        fingerprint: &fingerprint,
        now,
        expires,
    };
    let payload = match template.encode(&fields) {
        Some(bytes) => bytes,
        // Outside the fast path's domain (non-ASCII purpose ids, huge numbers): the generic
        // canonical encoder decides, errors included.
        None => {
            let record = record_value(shown, &fields);
            assent_ledger::canonical_json(&record).map_err(|e| ApiError::internal(&e))?
        }
    };
    let key = ConsentKey {
        receipt_id: receipt_id.clone(),
        site: site.to_string(),
        subject,
        created_at_ms: now,
    };
    let item = AppendItem {
        ts_ms: now,
        kind: "consent".into(),
        payload,
        consent: Some(key),
    };
    let created = Created {
        receipt: CreatedReceipt {
            action: req.action.as_str(),
            chain: 0,
            choices: decision.choices,
            created_at: rfc3339(now),
            expires_at: rfc3339(expires),
            gpc_refused: decision.gpc_refused,
            hash: String::new(),
            url: format!("{base}/v1/receipts/{receipt_id}"),
            id: receipt_id,
            method: decision.method.as_str(),
            policy_version: req.policy_version,
            seq: 0,
            site: site.to_owned(),
        },
    };
    Ok((item, created))
}

/// The answer to a stored consent: `{"receipt": {..}}`, members in the same (sorted) order
/// as the `serde_json::Value` it replaces.
#[derive(Debug, Serialize)]
pub struct Created {
    receipt: CreatedReceipt,
}

#[derive(Debug, Serialize)]
struct CreatedReceipt {
    action: &'static str,
    chain: u32,
    choices: BTreeMap<String, bool>,
    created_at: String,
    expires_at: String,
    gpc_refused: Vec<String>,
    hash: String,
    id: String,
    method: &'static str,
    policy_version: i64,
    seq: u64,
    site: String,
    url: String,
}

/// 128 bits: a 48-bit millisecond time prefix and 80 random bits (UUIDv7-like). Time-ordered
/// ids keep the receipt index append-mostly, which is markedly faster on SQLite; the random
/// part keeps them unguessable.
fn new_receipt_id(now_ms: i64) -> ApiResult<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b[6..]).map_err(|e| ApiError::internal(&e))?;
    let t = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&t[2..]);
    Ok(hex::encode(b))
}

/// Bytes from the operating system's CSPRNG, fetched 256 at a time per thread: one
/// `getrandom` call per 25 receipt ids instead of one each (a system call costs about as
/// much as the rest of the id). Each byte is handed out once and wiped from the pool.
fn fill_random(out: &mut [u8]) -> Result<(), getrandom::Error> {
    thread_local! {
        static POOL: std::cell::RefCell<(usize, [u8; 256])> =
            const { std::cell::RefCell::new((256, [0; 256])) };
    }
    POOL.with_borrow_mut(|(pos, pool)| {
        for b in out {
            if *pos == pool.len() {
                getrandom::fill(pool)?;
                *pos = 0;
            }
            *b = std::mem::take(&mut pool[*pos]);
            *pos += 1;
        }
        Ok(())
    })
}

/// Value of `version` in the consent records written now.
pub const RECORD_VERSION: &str = "assent-consent/2";

/// The per-request fields of a consent record.
#[derive(Debug, Clone, Copy)]
pub struct RecordFields<'a> {
    pub receipt_id: &'a str,
    pub subject: &'a str,
    pub choices: &'a BTreeMap<String, bool>,
    pub action: &'a str,
    pub method: &'a str,
    pub channel: &'a str,
    pub language: &'a str,
    pub fingerprint: &'a str,
    pub now: i64,
    pub expires: i64,
}

/// The consent record: ISO/IEC TS 27560 and Kantara Consent Receipt v1.1 field names where
/// they apply, plus what proof of consent needs (policy version and hash, text fingerprint).
///
/// The record holds what is particular to this choice; what only depends on the policy
/// version (the controller, the services and their providers, the policy URL) is bound by
/// `policyHash` (the SHA-256 of that version's snapshot, itself a ledger event) and added to
/// receipts as their `context` by [`receipt_context`]. Records of format `assent-consent/1`
/// carried those parts inline: about 1.9 KB per consent instead of about 0.5 KB, which cost
/// most of the write path's disk traffic. Receipts of both formats are served and verified.
pub fn record_value(shown: &crate::sites::SiteVersion, f: &RecordFields<'_>) -> Value {
    let snap = &shown.snapshot;
    json!({
        "version": RECORD_VERSION,
        "jurisdiction": snap.controller.country,
        "consentTimestamp": f.now,
        "collectionMethod": f.channel,
        "consentReceiptID": f.receipt_id,
        "language": f.language,
        "piiPrincipalId": f.subject,
        "site": snap.site.id,
        "policyVersion": shown.row.version,
        "policyHash": shown.row.content_hash,
        "textFingerprint": f.fingerprint,
        "action": f.action,
        "method": f.method,
        "purposes": f.choices,
        "expiresAt": f.expires,
    })
}

/// The parts of a receipt that only depend on the policy version a record points to:
/// `piiControllers`, `policyUrl`, `services` (each purpose with `consentType` and whether the
/// record granted it) and `termination`. Not covered by the entry hash: the record commits to
/// them through `policyHash`, the hash of the policy version's snapshot.
pub fn receipt_context(base: &str, shown: &crate::sites::SiteVersion, record: &Value) -> Value {
    let snap = &shown.snapshot;
    let granted = |p: &str| {
        record["purposes"]
            .get(p)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
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
                        "granted": granted(p),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let expires = record["expiresAt"].as_i64().unwrap_or(0);
    json!({
        "policyHash": shown.row.content_hash,
        "piiControllers": [controller_value(&snap.controller)],
        "policyUrl": policy_url(base, &snap.site.id, shown.row.version),
        "services": services,
        "termination": termination(expires),
    })
}

fn controller_value(c: &assent_model::registry::Controller) -> Value {
    let mut controller = json!({"piiController": c.name, "contact": c.email, "address": c.address, "email": c.email});
    if let Some(p) = &c.phone {
        controller["phone"] = json!(p);
    }
    controller
}

fn policy_url(base: &str, site: &str, version: i64) -> String {
    format!("{base}/sites/{site}/cookie-policy?version={version}")
}

fn termination(expires: i64) -> String {
    format!(
        "Expires at {}, or earlier when withdrawn through the \"Manage my cookies\" link",
        rfc3339(expires)
    )
}

/// The consent record of a policy version, pre-encoded in canonical JSON (RFC 8785 subset,
/// see `assent_ledger::canonical_json`) around the per-request fields, so that a consent
/// costs a few buffer appends instead of building and sorting a `serde_json::Value` tree.
/// The bytes are identical to `canonical_json(&record_value(..))` (tested below).
#[derive(Debug, Clone)]
pub struct RecordTemplate {
    /// Text fingerprint of each offered language.
    pub fingerprints: HashMap<String, String>,
    /// `,"jurisdiction":"..","language":`
    jurisdiction: Vec<u8>,
    /// `,"policyHash":"..","policyVersion":N,"purposes":`
    policy: Vec<u8>,
    /// `,"site":"..","textFingerprint":`
    site: Vec<u8>,
}

/// Largest integer the canonical encoding accepts (`2^53 - 1`).
const MAX_SAFE: i64 = (1 << 53) - 1;

impl RecordTemplate {
    pub fn new(shown: &crate::sites::SiteVersion) -> Self {
        let snap = &shown.snapshot;
        let mut jurisdiction = b",\"jurisdiction\":".to_vec();
        put_str(&mut jurisdiction, &snap.controller.country);
        jurisdiction.extend_from_slice(b",\"language\":");
        let mut policy = b",\"policyHash\":".to_vec();
        put_str(&mut policy, &shown.row.content_hash);
        policy.extend_from_slice(b",\"policyVersion\":");
        put_int(&mut policy, shown.row.version);
        policy.extend_from_slice(b",\"purposes\":");
        let mut site = b",\"site\":".to_vec();
        put_str(&mut site, &snap.site.id);
        site.extend_from_slice(b",\"textFingerprint\":");
        let fingerprints = snap
            .site
            .languages
            .iter()
            .map(|l| (l.clone(), snap.text_fingerprint(l)))
            .collect();
        RecordTemplate {
            fingerprints,
            jurisdiction,
            policy,
            site,
        }
    }

    /// The canonical bytes of the record, or `None` when a field is outside what this encoder
    /// handles exactly like `canonical_json` (non-ASCII purpose ids, whose order would need
    /// UTF-16 comparison; integers beyond `2^53 - 1`).
    pub fn encode(&self, f: &RecordFields<'_>) -> Option<Vec<u8>> {
        let ints_ok = [f.now, f.expires]
            .iter()
            .all(|n| n.unsigned_abs() <= MAX_SAFE.unsigned_abs());
        if !ints_ok || !f.choices.keys().all(|k| k.is_ascii()) {
            return None;
        }
        let mut out = Vec::with_capacity(640);
        out.extend_from_slice(b"{\"action\":");
        put_str(&mut out, f.action);
        out.extend_from_slice(b",\"collectionMethod\":");
        put_str(&mut out, f.channel);
        out.extend_from_slice(b",\"consentReceiptID\":");
        put_str(&mut out, f.receipt_id);
        out.extend_from_slice(b",\"consentTimestamp\":");
        put_int(&mut out, f.now);
        out.extend_from_slice(b",\"expiresAt\":");
        put_int(&mut out, f.expires);
        out.extend_from_slice(&self.jurisdiction);
        put_str(&mut out, f.language);
        out.extend_from_slice(b",\"method\":");
        put_str(&mut out, f.method);
        out.extend_from_slice(b",\"piiPrincipalId\":");
        put_str(&mut out, f.subject);
        out.extend_from_slice(&self.policy);
        out.push(b'{');
        for (i, (k, v)) in f.choices.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_str(&mut out, k);
            out.extend_from_slice(if *v { b":true" } else { b":false" });
        }
        out.push(b'}');
        out.extend_from_slice(&self.site);
        put_str(&mut out, f.fingerprint);
        out.extend_from_slice(b",\"version\":");
        put_str(&mut out, RECORD_VERSION);
        out.push(b'}');
        Some(out)
    }
}

/// A JSON string exactly as `assent_ledger::canonical_json` writes it.
fn put_str(out: &mut Vec<u8>, s: &str) {
    assent_ledger::write_canonical_string(s, out);
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    use std::io::Write as _;
    let _ = write!(out, "{n}");
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
    let receipt = build_receipt(&st, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such receipt").field("id"))?;
    let body = receipt.to_json().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
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
        return Err(ApiError::new(
            StatusCode::GONE,
            "redacted",
            "this consent record has been erased",
        ));
    };
    let record: Value = serde_json::from_slice(&payload).map_err(|e| ApiError::internal(&e))?;
    let context = match (record["site"].as_str(), record["policyVersion"].as_i64()) {
        // Format 1 records carry their context inline.
        (Some(site), Some(version)) if record.get("services").is_none() => st
            .sites
            .version(&st.store, site, version)
            .await?
            .map(|v| receipt_context(&st.public_base, &v, &record)),
        _ => None,
    };
    let mut receipt = Receipt::new(record, entry.clone());
    receipt.context = context;
    if let Some(cp) = covering_checkpoint(st, entry.chain, entry.seq).await?
        && let Some(head) = cp.checkpoint.head(entry.chain)
    {
        let size = head.size;
        let proof = st
            .checkpointer
            .lock()
            .await
            .inclusion_proof(&st.store, entry.chain, entry.seq, size)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        receipt = receipt.with_anchor(cp, proof);
    }
    Ok(Some(receipt))
}

async fn covering_checkpoint(
    st: &AppState,
    chain: u32,
    seq: u64,
) -> ApiResult<Option<SignedCheckpoint>> {
    let Some((_, body)) = st.store.latest_checkpoint().await? else {
        return Ok(None);
    };
    let cp: SignedCheckpoint = serde_json::from_str(&body).map_err(|e| ApiError::internal(&e))?;
    Ok(cp
        .checkpoint
        .head(chain)
        .filter(|h| h.size > seq)
        .map(|_| cp.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::SiteVersion;
    use assent_model::version::SiteSnapshot;
    use assent_store::PolicyVersionRow;

    fn versions() -> Vec<SiteVersion> {
        let src = include_str!("../../../../examples/callkom.toml");
        let (reg, _) = assent_model::check::parse(src).unwrap();
        let mut out = Vec::new();
        for site in &reg.sites {
            let snap = SiteSnapshot::from_registry(&reg, &site.id).unwrap();
            let row = PolicyVersionRow {
                site: site.id.clone(),
                version: 3,
                content_hash: "ab\"cd\\ef".into(),
                requires_fresh_consent: false,
                changes_json: "[]".into(),
                registry_json: String::new(),
                source_toml: String::new(),
                created_at_ms: 0,
                consent_floor: 1,
            };
            // As configured, then with awkward strings everywhere the template copies text.
            let mut odd = snap.clone();
            odd.controller.name = "Caf\u{e9} \"Chez \\ Nous\"\u{1}\t\n\u{7f}\u{1F600}".into();
            odd.controller.phone = Some("+33 1\u{8}\u{c}\r".into());
            odd.controller.country = "F\u{1f}R".into();
            for s in &mut odd.services {
                s.name.push_str(" \u{2028}\"x\"");
                s.provider.push('\0');
            }
            let mut no_phone = snap.clone();
            no_phone.controller.phone = None;
            out.push(SiteVersion::new(row.clone(), snap));
            out.push(SiteVersion::new(row.clone(), odd));
            out.push(SiteVersion::new(row, no_phone));
        }
        out
    }

    #[test]
    fn template_bytes_equal_canonical_json_of_the_record() {
        let mut checked = 0;
        for v in versions() {
            let t = RecordTemplate::new(&v);
            let ids: Vec<String> = v.snapshot.purposes.iter().map(|p| p.id.clone()).collect();
            let mut choice_sets: Vec<BTreeMap<String, bool>> = vec![BTreeMap::new()];
            choice_sets.push(ids.iter().map(|i| (i.clone(), true)).collect());
            choice_sets.push(
                ids.iter()
                    .enumerate()
                    .map(|(n, i)| (i.clone(), n % 2 == 0))
                    .collect(),
            );
            choice_sets.push(
                ids.iter()
                    .map(|i| (i.clone(), false))
                    .chain([("zz\"\u{1}".to_owned(), true)])
                    .collect(),
            );
            for choices in &choice_sets {
                for (lang, subject) in [
                    ("fr", "0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a"),
                    ("e\u{e9}\n", "\"\\"),
                ] {
                    let f = RecordFields {
                        receipt_id: "0190c0ffee0000000000000000000001",
                        subject,
                        choices,
                        action: "custom",
                        method: "gpc",
                        channel: "banner",
                        language: lang,
                        fingerprint: "f1\u{3}",
                        now: 1_732_530_000_123,
                        expires: 1_748_082_000_123,
                    };
                    let fast = t.encode(&f).unwrap();
                    let slow = assent_ledger::canonical_json(&record_value(&v, &f)).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&slow)
                    );
                    assert_eq!(fast, slow);
                    // Small enough to stay inside a SQLite b-tree page (no overflow page).
                    assert!(fast.len() < 900, "{} bytes", fast.len());
                    checked += 1;
                }
            }
            for l in &v.snapshot.site.languages {
                assert_eq!(t.fingerprints.get(l), Some(&v.snapshot.text_fingerprint(l)));
            }
        }
        assert!(checked >= 24);
    }

    #[test]
    fn context_lists_services_with_the_records_grants() {
        let v = versions().remove(0);
        let choices: BTreeMap<String, bool> = [
            ("necessary".to_owned(), true),
            ("functional".to_owned(), false),
            ("performance".to_owned(), true),
        ]
        .into();
        let f = RecordFields {
            receipt_id: "r",
            subject: "s",
            choices: &choices,
            action: "custom",
            method: "explicit",
            channel: "banner",
            language: "fr",
            fingerprint: "f",
            now: 1_732_530_000_123,
            expires: 1_748_082_000_123,
        };
        let record = record_value(&v, &f);
        let ctx = receipt_context("https://c.example", &v, &record);
        assert_eq!(ctx["policyHash"], record["policyHash"]);
        assert_eq!(
            ctx["policyUrl"],
            "https://c.example/sites/callkom/cookie-policy?version=3"
        );
        assert_eq!(ctx["piiControllers"][0]["piiController"], "CALLKOM");
        let hubspot = ctx["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "HubSpot")
            .unwrap();
        assert_eq!(hubspot["purposes"][0]["purpose"], "functional");
        assert_eq!(hubspot["purposes"][0]["granted"], false);
        assert_eq!(hubspot["purposes"][1]["granted"], true);
        assert!(ctx["termination"].as_str().unwrap().contains("2025-05-24"));
    }

    #[test]
    fn template_declines_what_it_cannot_encode_exactly() {
        let v = versions().remove(0);
        let t = RecordTemplate::new(&v);
        let non_ascii: BTreeMap<String, bool> = [("\u{e9}t\u{e9}".to_owned(), true)].into();
        let empty = BTreeMap::new();
        let mut f = RecordFields {
            receipt_id: "r",
            subject: "s",
            choices: &non_ascii,
            action: "a",
            method: "m",
            channel: "c",
            language: "fr",
            fingerprint: "f",
            now: 1,
            expires: 2,
        };
        assert!(t.encode(&f).is_none());
        f.choices = &empty;
        assert!(t.encode(&f).is_some());
        f.expires = 1 << 53;
        assert!(t.encode(&f).is_none());
    }

    #[test]
    fn receipt_ids_are_time_prefixed_and_distinct_across_pool_refills() {
        let now = 1_764_000_000_123_i64;
        // 10 random bytes each: 100 ids drain the 256-byte pool several times.
        let ids: Vec<String> = (0..100).map(|_| new_receipt_id(now).unwrap()).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            assert_eq!(id.len(), 32);
            assert_eq!(&id[..12], format!("{now:012x}"));
        }
        // The random parts are not all alike either (no stuck or zeroed pool).
        let tails: std::collections::HashSet<&str> = ids.iter().map(|i| &i[12..14]).collect();
        assert!(tails.len() > 20, "{tails:?}");
    }
}
