//! `assent retention plan` and `assent retention run`: what the registry's retention rules
//! (and Assent's defaults for its own records) make due, held and next due, and the purge
//! itself. `plan` changes nothing. `run --at` later than now is a drill that purges what
//! would be due then: it needs `--force`, and the ledger records the real time and the
//! cutoff. The operations are `assent_app::retention`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use assent_app::fulfil::ErasureKey;
use assent_app::retention::{DEFAULT_CHUNK, RuleSet, RunOptions};
use assent_model::clock::{Clock, SystemClock};

use crate::check::load_registry;
use crate::common::app_error;
use crate::db::{DbArgs, open_existing};

#[derive(Subcommand)]
pub(crate) enum RetentionCmd {
    /// Per rule: records due now (or at --at), held, and when the next fall due. Changes
    /// nothing.
    Plan(PlanArgs),
    /// Purge what the plan shows due (held records are kept), recording each rule's run in
    /// the ledger.
    Run {
        #[command(flatten)]
        plan: PlanArgs,
        /// Allow --at later than now (a drill: what would be due then is purged now).
        #[arg(long)]
        force: bool,
        /// Records per chunk (one batch of redactions).
        #[arg(long, default_value_t = DEFAULT_CHUNK)]
        chunk: u32,
        /// Stop each rule after this many records; the run is recorded `partial` and the
        /// next run resumes.
        #[arg(long)]
        max_rows: Option<u64>,
    },
}

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The registry file whose `[[retention]]` rules apply.
    #[arg(long)]
    registry: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// The instant to plan for (RFC 3339; default: now).
    #[arg(long)]
    at: Option<String>,
    /// Print JSON: {"rules": [{"id", "applies_to", "due", "held", "next_due_at", ...}]}.
    #[arg(long)]
    json: bool,
}

fn at_ms(args: &PlanArgs, now: i64) -> Result<i64> {
    match &args.at {
        None => Ok(now),
        Some(s) => assent_model::clock::parse_time(s).with_context(|| {
            format!("--at `{s}`: expected an RFC 3339 time like 2029-01-01T00:00:00Z")
        }),
    }
}

/// Whether a rule anonymises a datastore table with `erase = "hash"` columns (the keyed
/// hash needs the erasure key, from `ASSENT_ERASURE_KEY` or `--data`).
fn needs_key(r: &assent_model::Registry) -> bool {
    use assent_model::datastore::ColumnErasure;
    use assent_model::registry::RetentionAction;
    use assent_model::retention::AppliesTo;
    r.retention.iter().any(|rule| match &rule.applies_to {
        Some(AppliesTo::Table { datastore, table }) => {
            rule.action == RetentionAction::Anonymise
                && r.datastores
                    .iter()
                    .filter(|d| &d.id == datastore)
                    .filter_map(|d| d.table(table))
                    .any(|t| t.columns.iter().any(|c| c.erasure() == ColumnErasure::Hash))
        }
        _ => false,
    })
}

fn count(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |n| n.to_string())
}

pub(crate) async fn cmd_retention(cmd: RetentionCmd) -> Result<ExitCode> {
    let now = SystemClock.now_ms();
    match cmd {
        RetentionCmd::Plan(args) => {
            let (registry, _) = load_registry(&args.registry)?;
            let set = RuleSet::from_registry(&registry).map_err(app_error)?;
            let at = at_ms(&args, now)?;
            let store = open_existing(&args.db).await?;
            let plan = assent_app::retention::plan(&store, &set, at)
                .await
                .map_err(app_error)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(
                        &serde_json::json!({"at": plan.at, "rules": plan.rules})
                    )?
                );
            } else {
                println!("retention plan at {}", plan.at);
                for r in &plan.rules {
                    let to = r.applies_to.as_deref().unwrap_or("(bound to no data)");
                    match (r.note, &r.error) {
                        (Some(note), _) => println!("  {} [{to}]: {}: {note}", r.id, r.enforced_by),
                        (None, Some(e)) => println!("  {} [{to}]: cannot plan: {e}", r.id),
                        (None, None) => println!(
                            "  {} [{to}]{}: {} due, {} held{}, next due {}",
                            r.id,
                            if r.default { " (default)" } else { "" },
                            count(r.due),
                            count(r.held),
                            r.unanchored
                                .map(|n| format!(", {n} without an anchor (kept)"))
                                .unwrap_or_default(),
                            r.next_due_at.as_deref().unwrap_or("-")
                        ),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RetentionCmd::Run {
            plan: args,
            force,
            chunk,
            max_rows,
        } => {
            let (registry, _) = load_registry(&args.registry)?;
            let mut set = RuleSet::from_registry(&registry).map_err(app_error)?;
            if needs_key(&registry) {
                let key = ErasureKey::load(Some(&args.db.data)).map_err(app_error)?;
                set.tables.key = Some(std::sync::Arc::new(key));
            }
            let at = at_ms(&args, now)?;
            if at > now && !force {
                bail!(
                    "--at is later than now: a run would purge records not yet due; add --force for a drill"
                );
            }
            if chunk == 0 {
                bail!("--chunk must be at least 1");
            }
            let store = open_existing(&args.db).await?;
            let opts = RunOptions {
                at_ms: at,
                now_ms: now,
                chunk,
                max_rows,
            };
            let report = assent_app::retention::run(&store, &set, &opts)
                .await
                .map_err(app_error);
            store.close().await;
            let report = report?;
            let failed = report.rules.iter().any(|r| r.status == "failed");
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for id in &report.interrupted {
                    println!("  an earlier run of {id} was interrupted; this run resumed it");
                }
                for r in &report.rules {
                    let to = r.applies_to.as_deref().unwrap_or("(bound to no data)");
                    if r.status == "skipped" {
                        println!(
                            "  {} [{to}]: not enforced by Assent ({})",
                            r.id, r.enforced_by
                        );
                    } else {
                        println!(
                            "  {} [{to}]: {}: {} deleted, {} anonymised, {} held{}{}",
                            r.id,
                            r.status,
                            r.deleted,
                            r.anonymised,
                            r.held,
                            r.unanchored
                                .map(|n| format!(", {n} without an anchor (kept)"))
                                .unwrap_or_default(),
                            r.error
                                .as_deref()
                                .map(|e| format!(" ({e})"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
