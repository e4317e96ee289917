//! What leaves Assent as a document: consent records as JSON for the admin API and the CLI,
//! and the Art. 30 record of processing activities.

use assent_ledger::to_hex;
use assent_model::Registry;
use assent_model::clock::rfc3339;
use assent_pages::register::{self, Format, RegisterError};
use assent_store::{ConsentRow, Entry};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ledger::audit;
use crate::sites::SiteVersion;

/// One consent as the admin API and `assent export consents` show it.
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

/// How an operator looks consents up.
#[derive(Debug, Clone)]
pub enum ConsentLookup<'a> {
    Receipt(&'a str),
    Subject { site: &'a str, subject: &'a str },
}

/// The consents matching `by`, as JSON; the lookup itself is an audit entry naming the
/// token that made it (never the subject).
pub async fn find_consents(
    st: &App,
    token_id: &str,
    by: ConsentLookup<'_>,
) -> AppResult<Vec<Value>> {
    let items: Vec<Value> = match by {
        ConsentLookup::Receipt(r) => st
            .store
            .consent_by_receipt(r)
            .await?
            .map(|(row, e)| vec![consent_json(&row, &e)])
            .unwrap_or_default(),
        ConsentLookup::Subject { site, subject } => st
            .store
            .consents_by_subject(site, &subject.to_ascii_lowercase())
            .await?
            .iter()
            .map(|(row, e)| consent_json(row, e))
            .collect(),
    };
    audit(
        &st.store,
        st.clock.now_ms(),
        "admin.consents_queried",
        json!({"token_id": token_id, "results": items.len()}),
    )
    .await?;
    Ok(items)
}

/// The registry a site's current version was applied from (falling back to the site's own
/// snapshot if the stored file no longer parses).
pub fn registry_of(v: &SiteVersion) -> Registry {
    toml::from_str::<Registry>(&v.row.source_toml).unwrap_or_else(|_| v.snapshot.to_registry())
}

/// The SHA-256 of the registry file a version was applied from.
pub fn source_hash(v: &SiteVersion) -> String {
    hex::encode(Sha256::digest(v.row.source_toml.as_bytes()))
}

/// The Art. 30 record of a registry, for the CLI (`assent register export`).
pub fn export_register(
    registry: &Registry,
    site: Option<&str>,
    format: Format,
    lang: &str,
    now_ms: i64,
) -> Result<String, RegisterError> {
    register::export(registry, site, format, lang, &rfc3339(now_ms))
}

/// The Art. 30 record of one site's processing activities, or (without `site`) of every
/// registry applied to this server, merged (each registry file once).
pub fn register_record(st: &App, site: Option<&str>, lang: &str) -> AppResult<register::Record> {
    if let Some(site) = site {
        let v = st
            .sites
            .current(site)
            .ok_or_else(|| AppError::not_found("no such site").field("site"))?;
        return register::build(&registry_of(&v), Some(site), lang)
            .map_err(|e| AppError::not_found(e.to_string()).field("site"));
    }
    let mut sources: Vec<String> = vec![];
    let mut record: Option<register::Record> = None;
    for id in st.sites.site_ids() {
        let Some(v) = st.sites.current(&id) else {
            continue;
        };
        let h = source_hash(&v);
        if sources.contains(&h) {
            continue;
        }
        sources.push(h);
        let r =
            register::build(&registry_of(&v), None, lang).map_err(|e| AppError::internal(&e))?;
        record = Some(match record {
            None => r,
            Some(acc) => acc.merge(r),
        });
    }
    record.ok_or_else(|| AppError::not_found("no registry has been applied yet"))
}
