//! Applying a registry: a new immutable policy version for every site whose content changed,
//! each with its diff and whether it asks visitors again.

use assent_model::Registry;
use assent_model::changes::{Change, diff, policy_changed, requires_fresh_consent};
use assent_model::clock::Clock;
use assent_model::version::SiteSnapshot;
use assent_pages::enforcement::Enforcements;
use assent_store::{NewPolicyVersion, Store, StoreError};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::{App, OpenError};
use sha2::{Digest, Sha256};

/// What `apply` did for one site.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub site: String,
    pub version: i64,
    /// False when the site's content was unchanged (no new version).
    pub created: bool,
    pub requires_fresh_consent: bool,
    /// A material change of the privacy policy only (flagged; the banner does not ask again
    /// for it).
    pub material_policy_change: bool,
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
                material_policy_change: false,
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
            "material_policy_change": policy_changed(&changes),
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
            material_policy_change: policy_changed(&changes),
            content_hash: hash,
            changes,
        });
    }
    Ok(out)
}

/// Applies a registry given as TOML text on behalf of `actor` (a token id or a person): the
/// registry is checked first (errors refuse it whole, naming the first), then every changed
/// site gets a new version, the site cache is refreshed and the application is audited.
pub async fn apply_source(st: &App, actor: &str, src: &str) -> AppResult<Vec<Applied>> {
    let registry = match assent_model::check::parse(src) {
        Ok((r, _warnings)) => r,
        Err(errors) => {
            let first = errors
                .first()
                .map(|d| d.render("registry"))
                .unwrap_or_default();
            let mut e = AppError::invalid(
                "registry",
                format!("the registry has {} error(s); first: {first}", errors.len()),
            );
            e.code = "invalid_registry";
            return Err(e);
        }
    };
    let now = st.clock.now_ms();
    let applied = apply_registry(&st.store, st.clock.as_ref(), &registry, src).await?;
    let ids: Vec<String> = registry.sites.iter().map(|s| s.id.clone()).collect();
    st.sites.refresh(&st.store, &ids).await?;
    crate::ledger::audit(
        &st.store,
        now,
        "admin.registry_applied",
        serde_json::json!({"token_id": actor, "sites": ids}),
    )
    .await?;
    Ok(applied)
}

/// Applies the registry file of `settings.registry`, if any, at start: a registry with
/// errors refuses the start, naming each error `FILE:LINE:COL`.
pub async fn apply_configured(st: &App) -> Result<(), OpenError> {
    let Some(path) = &st.settings.registry else {
        return Ok(());
    };
    let src = std::fs::read_to_string(path).map_err(|e| OpenError::RegistryRead {
        path: path.display().to_string(),
        source: e,
    })?;
    let file = path.display().to_string();
    let registry = match assent_model::check::parse(&src) {
        Ok((r, _)) => r,
        Err(errs) => {
            let lines: Vec<String> = errs.iter().map(|d| d.render(&file)).collect();
            return Err(OpenError::Registry(lines.join("\n")));
        }
    };
    let applied = apply_registry(&st.store, st.clock.as_ref(), &registry, &src).await?;
    for a in &applied {
        if a.created {
            tracing::info!(site = %a.site, version = a.version, fresh = a.requires_fresh_consent, "new policy version");
        }
    }
    st.refresh_sites().await?;
    Ok(())
}

/// How each retention rule of a policy version is enforced, as its privacy policy states it:
/// the rules bound to a kind Assent purges itself ([`assent_model::enforced`]) with the time
/// of the last retention run of this process, every other rule the controller's.
///
/// A rule bound to a datastore table is Assent's only when this server reads a registry file
/// (`registry` in its configuration) that declares the datastore, and the datastore's
/// `url_env` variable is set: the datastores are not part of policy versions, so otherwise the
/// scheduled run cannot reach the table and the controller enforces it.
pub fn enforcement(st: &App, snap: &SiteSnapshot) -> Enforcements {
    let mut out = Enforcements::of_rules(&snap.retention, |kind| {
        st.metrics.retention.last_run_ms(kind.as_str())
    });
    let reachable = reachable_datastores(st);
    for r in &snap.retention {
        if let Some(assent_model::retention::AppliesTo::Table { datastore, .. }) = &r.applies_to
            && !reachable.contains(datastore)
        {
            out.set(&r.id, assent_pages::enforcement::Enforcement::Controller);
        }
    }
    out
}

/// The datastores the scheduled retention run can reach: declared in the registry file this
/// server reads, with their `url_env` variable set in its environment. A rule on any other
/// table is stated as the controller's, never as purged by Assent.
fn reachable_datastores(st: &App) -> Vec<String> {
    let Some(path) = &st.settings.registry else {
        return vec![];
    };
    let Some((reg, _)) = std::fs::read_to_string(path)
        .ok()
        .and_then(|src| assent_model::check::parse(&src).ok())
    else {
        return vec![];
    };
    reg.datastores
        .into_iter()
        .filter(|d| std::env::var_os(&d.url_env).is_some_and(|v| !v.is_empty()))
        .map(|d| d.id)
        .collect()
}
