//! Recording a visitor's consent: validate the choice against the policy version it answers,
//! write the record and its consent row in one ledger append, and answer with the receipt's
//! summary. The HTTP adapter (`assent_server::routes::consent`) handles what is HTTP's
//! (rate limit, CORS, the `Sec-GPC` header, the JSON body); everything else is here.
//!
//! Hot path: about 26 µs of CPU per consent on the reference machine; keep allocations out.

pub mod receipt;
pub mod record;
pub mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_ledger::to_hex;
use assent_model::clock::rfc3339;
use assent_model::consent::{Action, Channel, decide};
use assent_model::registry::Purpose;
use assent_store::{AppendItem, ConsentKey, Tally};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, AppResult, Kind};
use crate::sites::SiteVersion;
use record::{RecordFields, RecordTemplate, new_receipt_id, record_value};

pub use receipt::{build_receipt, receipt_context};
pub use record::RECORD_VERSION;

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

/// Records a consent for `site`, whose current version is `cur`. `from_browser` says the
/// request came from a page (it had an `Origin`), which makes `banner` the default channel;
/// `gpc_header` is the request's `Sec-GPC: 1`.
pub async fn record(
    st: &App,
    site: &str,
    cur: &Arc<SiteVersion>,
    from_browser: bool,
    gpc_header: bool,
    req: ConsentRequest,
) -> AppResult<Created> {
    if !valid_subject(&req.subject) {
        return Err(AppError::invalid(
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
                AppError::invalid(
                    "policy_version",
                    format!("unknown policy version {}", req.policy_version),
                )
            })?
    };
    let (item, mut created) = build_consent(st, site, &shown, from_browser, gpc_header, req)?;
    let entries = st.store.append(vec![item]).await?;
    let entry = entries
        .first()
        .ok_or_else(|| AppError::internal(&"append returned no entry"))?;
    st.metrics
        .consents
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    st.metrics
        .ledger_entries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    created.receipt.chain = entry.chain;
    created.receipt.seq = entry.seq;
    created.receipt.hash = to_hex(&entry.hash);
    Ok(created)
}

/// An unknown (future or below 1) or stale policy version is refused, naming the field.
fn check_policy_version(cur: &SiteVersion, version: i64) -> AppResult<()> {
    if version > cur.row.version || version < 1 {
        return Err(AppError::invalid(
            "policy_version",
            format!(
                "unknown policy version {} (current: {})",
                version, cur.row.version
            ),
        ));
    }
    if version < cur.row.consent_floor {
        let mut e = AppError::invalid(
            "policy_version",
            format!(
                "policy version {} is stale: version {} requires fresh consent; reload the banner",
                version, cur.row.consent_floor
            ),
        );
        e.code = "stale_policy_version";
        e.kind = Kind::Conflict;
        return Err(e);
    }
    Ok(())
}

/// Validates a decoded request against the policy version it answers and builds its ledger
/// append (record and consent row) and its answer (without the entry's position and hash,
/// known once appended). Synchronous, so that none of its locals is part of the request's
/// future while the store works.
fn build_consent(
    st: &App,
    site: &str,
    shown: &SiteVersion,
    from_browser: bool,
    gpc_header: bool,
    req: ConsentRequest,
) -> AppResult<(AppendItem, Created)> {
    let mut subject = req.subject;
    subject.make_ascii_lowercase();
    let snap = &shown.snapshot;
    if !snap.site.languages.contains(&req.language) {
        return Err(AppError::invalid(
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
        .map_err(|e| AppError::invalid(e.field, e.message))?;
    let channel = req.channel.unwrap_or(if from_browser {
        Channel::Banner
    } else {
        Channel::Api
    });
    if channel == Channel::RightsRequest {
        return Err(AppError::invalid(
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
        .get_or_init(|| RecordTemplate::new(&shown.row, &shown.snapshot));
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
            let record = record_value(&shown.row, &shown.snapshot, &fields);
            assent_ledger::canonical_json(&record).map_err(|e| AppError::internal(&e))?
        }
    };
    let gpc_method = decision.method == assent_model::consent::Method::Gpc;
    let tally = tally(
        shown,
        req.language,
        now,
        req.action.as_str(),
        gpc_method,
        &decision.choices,
    );
    let item = consent_item(
        receipt_id.clone(),
        site.to_string(),
        subject,
        now,
        payload,
        Some(tally),
    );
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
    pub receipt: CreatedReceipt,
}

#[derive(Debug, Serialize)]
pub struct CreatedReceipt {
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

/// Erases a consent record's payload and its queryable copy (right to erasure, retention).
/// The ledger entry stays, committing to the erased payload's hash, and the erasure is itself
/// a ledger entry, so the chain still verifies and shows that something was erased, when and
/// why. `reason` is kept forever in the ledger: never personal data.
pub async fn erase(st: &App, token_id: &str, receipt: &str, reason: &str) -> AppResult<Erased> {
    let done = erase_in(&st.store, st.clock.now_ms(), token_id, receipt, reason).await?;
    if let Err(e) = st.sites.reload_epoch(&st.store, &done.site).await {
        tracing::warn!(error = %e, "banner revalidation epoch not reloaded after an erasure");
    }
    Ok(done)
}

/// [`erase`] on a store without the rest of the application (`assent dsr erase --data`),
/// at `now`.
pub async fn erase_in(
    store: &assent_store::Store,
    now: i64,
    token_id: &str,
    receipt: &str,
    reason: &str,
) -> AppResult<Erased> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 200 || reason.contains('@') {
        return Err(AppError::invalid(
            "reason",
            "a short reason (at most 200 characters, no email address) is required",
        ));
    }
    let Some((row, entry)) = store.consent_by_receipt(receipt).await? else {
        if store.consent_erased_at(receipt).await?.is_some() {
            return Err(AppError::conflict(
                "already_erased",
                "this record was already erased",
            ));
        }
        return Err(AppError::not_found("no such receipt").field("receipt"));
    };
    let payload =
        assent_ledger::redaction_payload(entry.chain, entry.seq, &entry.payload_hash, reason)
            .map_err(|e| AppError::internal(&e))?;
    let item = AppendItem {
        ts_ms: now,
        kind: assent_ledger::REDACTION_KIND.into(),
        payload,
        consent: None,
    };
    let red = match store.redact(entry.chain, entry.seq, item).await {
        Ok(e) => e,
        Err(assent_store::StoreError::Conflict(_)) => {
            return Err(AppError::conflict(
                "already_erased",
                "this record was already erased",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // The visitor's browser still holds the choice: tell it to ask again (servers read the
    // epoch back within seconds; `erase` reloads it in this process at once).
    if let Err(e) = store
        .meta_increment(&crate::sites::epoch_key(&row.site))
        .await
    {
        tracing::warn!(error = %e, "banner revalidation epoch not moved after an erasure");
    }
    crate::ledger::audit(
        store,
        now,
        "admin.consent_erased",
        serde_json::json!({"token_id": token_id, "chain": entry.chain, "seq": entry.seq}),
    )
    .await?;
    Ok(Erased {
        erased: entry,
        redaction: red,
        site: row.site,
    })
}

/// What [`erase`] did: the erased entry and the redaction entry that records it.
#[derive(Debug, Clone)]
pub struct Erased {
    pub erased: assent_ledger::Entry,
    pub redaction: assent_ledger::Entry,
    /// The site of the erased choice.
    pub site: String,
}

/// The ledger item of a consent record made at `now`: its canonical `payload`, found again
/// by receipt id, site and subject. Banner consents and withdrawals through a rights request
/// are stored alike.
pub(crate) fn consent_item(
    receipt_id: String,
    site: String,
    subject: String,
    now: i64,
    payload: Vec<u8>,
    tally: Option<Tally>,
) -> AppendItem {
    AppendItem {
        ts_ms: now,
        kind: "consent".into(),
        payload,
        consent: Some(ConsentKey {
            receipt_id,
            site,
            subject,
            created_at_ms: now,
            tally,
        }),
    }
}

/// What a consent answering policy version `shown` adds to the dashboard's counters.
pub(crate) fn tally(
    shown: &SiteVersion,
    lang: String,
    now: i64,
    action: &str,
    gpc: bool,
    choices: &BTreeMap<String, bool>,
) -> Tally {
    shown
        .tally
        .get_or_init(|| crate::stats::tally::VersionTally::new(&shown.snapshot))
        .tally(shown.row.version, lang, now, action, gpc, choices)
}
