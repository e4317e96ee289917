//! API tokens for machines: a random secret shown once, stored as its hash, with a role.

use assent_model::clock::Clock;
use assent_store::{Store, TokenRow};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::Role;
use crate::error::{AppError, AppResult};
use crate::ledger::audit;

/// Creates a token; returns the secret (shown once) and the stored row (its hash only).
pub fn new_token(role: &str, label: &str, now_ms: i64) -> Result<(String, TokenRow), String> {
    if Role::parse(role).is_none() {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        return Err(format!(
            "unknown role `{role}`: use one of {}",
            names.join(", ")
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

/// Creates a token of `role` and stores its hash; returns the secret (shown once) and the
/// token's id. The creation is audited in the ledger (id and role, never the secret).
pub async fn create(
    store: &Store,
    clock: &dyn Clock,
    role: &str,
    label: &str,
) -> AppResult<(String, String)> {
    create_by(store, clock, "cli", role, label).await
}

/// [`create`] by `actor` (a person of the console, or `cli`), named in the audit entry.
pub async fn create_by(
    store: &Store,
    clock: &dyn Clock,
    actor: &str,
    role: &str,
    label: &str,
) -> AppResult<(String, String)> {
    if label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "label",
            "a label of at most 100 characters, without control characters",
        ));
    }
    let (token, row) =
        new_token(role, label, clock.now_ms()).map_err(|e| AppError::invalid("role", e))?;
    let id = row.id.clone();
    store.insert_token(row).await?;
    audit(
        store,
        clock.now_ms(),
        "admin.token_created",
        json!({"token_id": id, "role": role, "by": actor}),
    )
    .await?;
    Ok((token, id))
}

/// Revokes an active token by id, audited; `NotFound` when no active token has that id.
pub async fn revoke(store: &Store, clock: &dyn Clock, id: &str) -> AppResult<()> {
    revoke_by(store, clock, "cli", id).await
}

/// [`revoke`] by `actor`, named in the audit entry.
pub async fn revoke_by(store: &Store, clock: &dyn Clock, actor: &str, id: &str) -> AppResult<()> {
    if !store.revoke_token(id, clock.now_ms()).await? {
        return Err(AppError::not_found(format!("no active token with id `{id}`")).field("id"));
    }
    audit(
        store,
        clock.now_ms(),
        "admin.token_revoked",
        json!({"token_id": id, "by": actor}),
    )
    .await?;
    Ok(())
}
