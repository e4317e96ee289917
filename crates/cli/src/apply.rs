//! `assent apply`: store a registry as new policy versions where its content changed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use assent_model::clock::{Clock, SystemClock};
use assent_store::{OpenOptions, Store};

use crate::check::load_registry;
use crate::db::{DbArgs, location};

pub(crate) async fn cmd_apply(file: &Path, db: &DbArgs) -> Result<ExitCode> {
    // Validate before touching the data directory: a bad file changes nothing.
    let (registry, src) = load_registry(file)?;
    if db.database.is_none() {
        assent_store::create_private_dir(&db.data)
            .with_context(|| format!("cannot create {}", db.data.display()))?;
    }
    let store = Store::open(&location(db)?, OpenOptions::create()).await?;
    let clock = SystemClock;
    let applied = assent_app::policy::apply_registry(&store, &clock, &registry, &src).await?;
    for a in &applied {
        if a.created {
            println!(
                "site {}: new policy version {} ({}){}",
                a.site,
                a.version,
                a.content_hash,
                match (a.requires_fresh_consent, a.material_policy_change) {
                    (true, _) => ", requires fresh consent",
                    (false, true) =>
                        ", material privacy-policy change (the banner does not ask again)",
                    (false, false) => "",
                }
            );
            for c in &a.changes {
                let mark = match (c.material, c.policy_material) {
                    (true, _) => "*",
                    (false, true) => "+",
                    (false, false) => "-",
                };
                println!("  {mark} {}", c.en);
            }
        } else {
            println!("site {}: unchanged (version {})", a.site, a.version);
        }
    }
    let sites: Vec<&str> = applied.iter().map(|a| a.site.as_str()).collect();
    assent_app::ledger::audit(
        &store,
        clock.now_ms(),
        "cli.registry_applied",
        serde_json::json!({"sites": sites}),
    )
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
