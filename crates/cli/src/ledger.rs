//! `assent ledger verify`: re-verify every entry and checkpoint of a store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::db::{DbArgs, open_existing};

#[derive(Subcommand)]
pub(crate) enum LedgerCmd {
    /// Re-verify every entry and checkpoint; exit 1 on any problem.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Public key document (JSON from /.well-known/assent-ledger-key); default: the data
        /// directory's key.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn cmd_ledger_verify(
    db: &DbArgs,
    key: Option<&Path>,
    as_json: bool,
) -> Result<ExitCode> {
    let key = match key {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            *assent_ledger::PublicKeyInfo::parse(&text)
                .with_context(|| format!("{}: not a public key document", p.display()))?
                .key()
        }
        None => {
            let path = db.data.join("ledger.key");
            if !path.exists() {
                bail!(
                    "{}: no ledger key; give the public key with --key",
                    path.display()
                );
            }
            assent_ledger::LedgerKey::load(&path)
                .with_context(|| format!("{}: cannot load the ledger key", path.display()))?
                .public_key()
        }
    };
    let store = open_existing(db).await?;
    let start = std::time::Instant::now();
    let report = assent_app::ledger::verify_store(&store, &key).await?;
    let secs = start.elapsed().as_secs_f64();
    store.close().await;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report_json(&report))?);
    } else {
        for p in &report.problems {
            println!(
                "chain {} position {} (row {}): {}",
                p.chain, p.position, p.index, p.kind
            );
        }
    }
    let rate = if secs > 0.0 {
        report.entries as f64 / secs
    } else {
        0.0
    };
    if report.is_ok() {
        eprintln!(
            "ledger OK: {} entries in {} chain(s), {} checkpoint(s), {} redacted payload(s); verified in {:.3} s ({:.0} entries/s)",
            report.entries, report.chains, report.checkpoints, report.redacted, secs, rate
        );
        if report.unchecked_checkpoint_heads > 0 {
            eprintln!(
                "note: {} entries are after the last checkpoint (protected by the hash chain only)",
                report.unchecked_checkpoint_heads
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "ledger FAILED verification: {} problem(s) in {} entries",
            report.problems.len(),
            report.entries
        );
        Ok(ExitCode::from(1))
    }
}

pub(crate) fn report_json(r: &assent_ledger::Report) -> serde_json::Value {
    serde_json::json!({
        "ok": r.is_ok(),
        "entries": r.entries,
        "chains": r.chains,
        "checkpoints": r.checkpoints,
        "redacted": r.redacted,
        "problems": r.problems.iter().map(|p| serde_json::json!({
            "chain": p.chain, "position": p.position, "row": p.index, "problem": p.kind.to_string(),
        })).collect::<Vec<_>>(),
    })
}
