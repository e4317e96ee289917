//! Operations shared by the CLI and the server: applying a registry (new policy versions),
//! creating admin tokens.

use assent_model::Registry;
use assent_model::clock::Clock;
use assent_model::version::{Change, SiteSnapshot, diff, requires_fresh_consent};
use assent_store::{NewPolicyVersion, Store, StoreError, TokenRow};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What `apply` did for one site.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub site: String,
    pub version: i64,
    /// False when the site's content was unchanged (no new version).
    pub created: bool,
    pub requires_fresh_consent: bool,
    pub content_hash: String,
    pub changes: Vec<Change>,
}

/// Stores a new immutable version for every site whose content changed.
pub async fn apply_registry(
    store: &Store,
    clock: &dyn Clock,
    registry: &Registry,
    source_toml: &str,
) -> Result<Vec<Applied>, StoreError> {
    let mut out = vec![];
    for site in &registry.sites {
        let Some(snap) = SiteSnapshot::from_registry(registry, &site.id) else {
            continue;
        };
        let hash = snap.content_hash();
        let latest = store.latest_policy_version(&site.id).await?;
        if let Some(l) = &latest
            && l.content_hash == hash
        {
            out.push(Applied {
                site: site.id.clone(),
                version: l.version,
                created: false,
                requires_fresh_consent: false,
                content_hash: hash,
                changes: vec![],
            });
            continue;
        }
        let (changes, fresh) = match &latest {
            None => (vec![], true),
            Some(l) => match serde_json::from_str::<SiteSnapshot>(&l.registry_json) {
                Ok(old) => {
                    let ch = diff(&old, &snap);
                    let fresh = requires_fresh_consent(&ch);
                    (ch, fresh)
                }
                // An unreadable previous version: ask again, to be safe.
                Err(_) => (vec![], true),
            },
        };
        let registry_json = snap.canonical_json();
        let changes_json = serde_json::to_string(&changes).unwrap_or_else(|_| "[]".into());
        let payload = serde_json::json!({
            "site": site.id,
            "content_hash": hash,
            "requires_fresh_consent": fresh,
            "changes": changes.iter().map(|c| c.kind.clone()).collect::<Vec<_>>(),
            "source_sha256": hex::encode(Sha256::digest(source_toml.as_bytes())),
        });
        let payload = assent_ledger::canonical_json(&payload).unwrap_or_default();
        let (row, _entry) = store
            .insert_policy_version(
                NewPolicyVersion {
                    site: site.id.clone(),
                    content_hash: hash.clone(),
                    requires_fresh_consent: fresh,
                    changes_json,
                    registry_json,
                    source_toml: source_toml.to_string(),
                },
                payload,
                clock.now_ms(),
            )
            .await?;
        out.push(Applied {
            site: site.id.clone(),
            version: row.version,
            created: true,
            requires_fresh_consent: fresh,
            content_hash: hash,
            changes,
        });
    }
    Ok(out)
}

/// Roles an admin token may have.
pub const ROLES: [&str; 3] = ["admin", "dpo", "auditor"];

/// Creates a token; returns the secret (shown once) and the stored row (its hash only).
pub fn new_token(role: &str, label: &str, now_ms: i64) -> Result<(String, TokenRow), String> {
    if !ROLES.contains(&role) {
        return Err(format!(
            "unknown role `{role}`: use one of {}",
            ROLES.join(", ")
        ));
    }
    let mut secret = [0u8; 32];
    let mut id = [0u8; 8];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    getrandom::fill(&mut id).map_err(|e| e.to_string())?;
    let id = hex::encode(id);
    use base64::Engine;
    let token = format!(
        "assent_{id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let row = TokenRow {
        id,
        hash: token_hash(&token),
        role: role.to_string(),
        label: label.to_string(),
        created_at_ms: now_ms,
        revoked_at_ms: None,
    };
    Ok((token, row))
}

/// Tokens carry 256 random bits, so a plain SHA-256 is the right storage hash (a slow
/// password hash would only slow every admin request).
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
