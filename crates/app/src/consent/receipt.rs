//! Receipts: a stored consent record with its entry, the context its policy version implies,
//! and, once a signed checkpoint covers it, the checkpoint and the inclusion proof.

use assent_ledger::{Receipt, SignedCheckpoint};
use assent_model::clock::rfc3339;
use serde_json::{Value, json};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::sites::SiteVersion;

/// The parts of a receipt that only depend on the policy version a record points to:
/// `piiControllers`, `policyUrl`, `services` (each purpose with `consentType` and whether the
/// record granted it) and `termination`. Not covered by the entry hash: the record commits to
/// them through `policyHash`, the hash of the policy version's snapshot.
pub fn receipt_context(base: &str, shown: &SiteVersion, record: &Value) -> Value {
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

/// Builds the receipt of a consent, anchored in the newest checkpoint that covers it.
pub async fn build_receipt(st: &App, id: &str) -> AppResult<Option<Receipt>> {
    let Some((_row, entry)) = st.store.consent_by_receipt(id).await? else {
        // An erased consent leaves a tombstone: its receipt is gone, not unknown.
        if st.store.consent_erased_at(id).await?.is_some() {
            return Err(AppError::gone(
                "redacted",
                "this consent record has been erased",
            ));
        }
        return Ok(None);
    };
    let stored = st.store.entries(entry.chain, entry.seq, 1).await?;
    let Some((_, Some(payload))) = stored.into_iter().next() else {
        return Err(AppError::gone(
            "redacted",
            "this consent record has been erased",
        ));
    };
    let record: Value = serde_json::from_slice(&payload).map_err(|e| AppError::internal(&e))?;
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
            .map_err(|e| AppError::internal(&e))?;
        receipt = receipt.with_anchor(cp, proof);
    }
    Ok(Some(receipt))
}

async fn covering_checkpoint(
    st: &App,
    chain: u32,
    seq: u64,
) -> AppResult<Option<SignedCheckpoint>> {
    let Some((_, body)) = st.store.latest_checkpoint().await? else {
        return Ok(None);
    };
    let cp: SignedCheckpoint = serde_json::from_str(&body).map_err(|e| AppError::internal(&e))?;
    Ok(cp
        .checkpoint
        .head(chain)
        .filter(|h| h.size > seq)
        .map(|_| cp.clone()))
}
