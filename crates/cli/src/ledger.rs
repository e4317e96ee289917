//! `assent ledger verify`: re-verify every entry and checkpoint of a store, against checkpoints
//! kept elsewhere (`--trusted-checkpoint`, `--witness-state`) and the rule that entries older
//! than one checkpoint interval are covered by a signed checkpoint. `assent ledger witness`
//! lives in `witness.rs`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::db::{DbArgs, location};

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
        /// A checkpoint kept outside the database: what `GET /v1/ledger/checkpoint` (JSON) or
        /// `GET /ledger/checkpoint` (signed notes) served. The ledger must extend it: one
        /// shorter than, or forked from, it fails. Repeatable.
        #[arg(long = "trusted-checkpoint", value_name = "FILE")]
        trusted_checkpoint: Vec<PathBuf>,
        /// A witness's state directory (`assent ledger witness --state`): the ledger must
        /// extend every head the witness accepted.
        #[arg(long, value_name = "DIR")]
        witness_state: Option<PathBuf>,
        /// The server's checkpoint interval: entries older than this must be covered by a
        /// signed checkpoint (0 turns the rule off, e.g. for a copy of a ledger made with
        /// `assent apply` alone, which never signs).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        checkpoint_interval: u64,
    },
    /// Follow a server's published checkpoints as a witness: verify the consistency proof from
    /// the last head seen, store the new one, fail (exit 1) on a fork or a rollback.
    Witness {
        /// The server's public base URL (http://HOST:PORT).
        #[arg(long)]
        url: String,
        /// The witness's state directory (created on first run).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The ledger's public key document; default: pinned from the server on first run.
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

/// What `ledger verify` checks beyond the store itself.
pub(crate) struct VerifyArgs<'a> {
    pub(crate) key: Option<&'a Path>,
    pub(crate) as_json: bool,
    pub(crate) trusted: &'a [PathBuf],
    pub(crate) witness_state: Option<&'a Path>,
    pub(crate) checkpoint_interval: u64,
}

pub(crate) async fn cmd_ledger_verify(db: &DbArgs, args: &VerifyArgs<'_>) -> Result<ExitCode> {
    let as_json = args.as_json;
    let key = match args.key {
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
    let mut opts = assent_app::ledger::VerifyOptions::default();
    for f in args.trusted {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("{}: cannot read", f.display()))?;
        let pins = assent_ledger::parse_pinned(&text, &key).with_context(|| {
            format!(
                "{}: not a checkpoint signed by the ledger key {}",
                f.display(),
                assent_ledger::key_id(&key)
            )
        })?;
        opts.pins.extend(pins);
    }
    if let Some(dir) = args.witness_state {
        let w = crate::witness::WitnessState::load(dir)?;
        w.require_key(&assent_ledger::PublicKeyInfo::new(key))?;
        opts.pins.extend(w.pins());
    }
    if args.checkpoint_interval > 0 {
        use assent_model::clock::Clock as _;
        let now = assent_model::clock::SystemClock.now_ms();
        let interval =
            i64::try_from(args.checkpoint_interval.saturating_mul(1000)).unwrap_or(i64::MAX);
        opts.checkpoints_required_before_ms = Some(now.saturating_sub(interval));
    }
    // Read-only: a copy on read-only media verifies too, and verification never migrates.
    let store = assent_store::Store::open_read_only(&location(db)?).await?;
    let start = std::time::Instant::now();
    let report = assent_app::ledger::verify_store_with(&store, &key, &opts).await?;
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
        if !opts.pins.is_empty() {
            eprintln!(
                "consistent with {} pinned checkpoint head(s)",
                opts.pins.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "ledger FAILED verification: {} problem(s) in {} entries",
            report.problems.len(),
            report.entries
        );
        if report
            .problems
            .iter()
            .any(|p| matches!(p.kind, assent_ledger::ProblemKind::Uncheckpointed { .. }))
        {
            eprintln!(
                "note: the server signs every interval and when it stops; if it crashed or never served this store, start it and verify again after one interval (or give --checkpoint-interval 0 for a store that is never served)"
            );
        }
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
