//! `assent receipt verify`: verify one receipt offline against the published key, and
//! optionally its checkpoint against a witness. Only a receipt anchored in a signed checkpoint
//! is called valid (exit 0); one not yet anchored exits 1 unless `--accept-pending`. What the
//! receipt's context shows that its signature does not cover is printed as such, never as
//! part of the proof.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use assent_ledger::{ReceiptStatus, UNBOUND_CONTEXT};

#[derive(Subcommand)]
pub(crate) enum ReceiptCmd {
    /// Verify one receipt offline against the published public key.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    file: PathBuf,
    /// Public key document (JSON from /.well-known/assent-ledger-key).
    #[arg(long)]
    key: PathBuf,
    /// Exit 0 for a receipt not yet anchored in a signed checkpoint (its record and entry
    /// agree, but nothing signed vouches for them yet).
    #[arg(long)]
    accept_pending: bool,
    /// A witness's state directory (`assent ledger witness --state`): the receipt's
    /// checkpoint must be consistent with the history the witness saw.
    #[arg(long, value_name = "DIR")]
    witness_state: Option<PathBuf>,
    /// The server's base URL, to fetch the consistency proof between the receipt's
    /// checkpoint and the witness's when the witness has not seen that tree size itself.
    #[arg(long, requires = "witness_state")]
    url: Option<String>,
    /// Print one JSON object (`valid`, `status`: anchored, pending or invalid, `receipt`,
    /// `checkpoint`, `witness`, `error`, `not_covered`) instead of sentences.
    #[arg(long)]
    json: bool,
}

/// What was found, printed as sentences or, with `--json`, as one object.
struct Report {
    json: bool,
    value: serde_json::Value,
}

impl Report {
    /// Prints `line` (or nothing, with `--json`).
    fn say(&self, line: &str) {
        if !self.json {
            println!("{line}");
        }
    }
    /// Ends the report: the JSON object with `--json`; the exit code.
    fn end(mut self, valid: bool, status: &str, code: u8) -> ExitCode {
        self.value["valid"] = serde_json::json!(valid);
        self.value["status"] = serde_json::json!(status);
        if self.json {
            println!("{}", self.value);
        }
        ExitCode::from(code)
    }
}

pub(crate) async fn cmd_receipt_verify(args: &VerifyArgs) -> Result<ExitCode> {
    let (file, key) = (&args.file, &args.key);
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    let receipt = assent_ledger::Receipt::from_json(&text)
        .with_context(|| format!("{}: not an Assent receipt", file.display()))?;
    let key_text =
        std::fs::read_to_string(key).with_context(|| format!("{}: cannot read", key.display()))?;
    let key = assent_ledger::PublicKeyInfo::parse(&key_text)
        .with_context(|| format!("{}: not a public key document", key.display()))?;
    let id = receipt
        .record
        .get("consentReceiptID")
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    let mut report = Report {
        json: args.json,
        value: serde_json::json!({"receipt": id}),
    };
    let status = match assent_ledger::verify_receipt(&receipt, &key) {
        Ok(s) => s,
        Err(e) => {
            report.say(&format!("receipt INVALID: {e}"));
            report.value["error"] = serde_json::json!(e.to_string());
            return Ok(report.end(false, "invalid", 1));
        }
    };
    let ReceiptStatus::Anchored {
        checkpoint_ts_ms,
        tree_size,
        key_id,
    } = &status
    else {
        if args.accept_pending {
            report.say(&format!(
                "receipt {id}: record and entry agree, but it is not yet anchored (accepted with --accept-pending): nothing signed vouches for it yet"
            ));
            return Ok(report.end(true, "pending", 0));
        }
        report.say(&format!(
            "receipt {id}: NOT VERIFIED: not yet anchored: fetch it again after the next checkpoint"
        ));
        report.value["error"] =
            serde_json::json!("not yet anchored: fetch it again after the next checkpoint");
        return Ok(report.end(false, "pending", 1));
    };
    if let Some(dir) = &args.witness_state
        && let Some(anchor) = &receipt.anchor
    {
        let chain = receipt.entry.chain;
        let outcome = witness_check(dir, &key, args.url.as_deref(), anchor, chain).await;
        if let Err(e) = outcome {
            report.say(&format!(
                "receipt {id}: NOT VERIFIED against the witness: {e:#}"
            ));
            report.value["witness"] =
                serde_json::json!({"consistent": false, "error": format!("{e:#}")});
            return Ok(report.end(false, "anchored", 1));
        }
        report.say(&format!(
            "receipt {id}: its checkpoint is consistent with the witness in {}",
            dir.display()
        ));
        report.value["witness"] = serde_json::json!({"consistent": true});
    }
    report.value["checkpoint"] = serde_json::json!({
        "signed_at": assent_model::clock::rfc3339(*checkpoint_ts_ms),
        "key_id": key_id,
        "chain": receipt.entry.chain,
        "tree_size": tree_size,
    });
    report.say(&format!(
        "receipt {id}: valid (Anchored in the checkpoint signed at {} by key {key_id}, chain {} of {tree_size} entries)",
        assent_model::clock::rfc3339(*checkpoint_ts_ms),
        receipt.entry.chain
    ));
    if let Some(ctx) = &receipt.context {
        report.value["not_covered"] = serde_json::json!(UNBOUND_CONTEXT);
        report.say(
            "  context checked against the signed record: policyHash, each purpose's granted flag, termination, the policy URL's path",
        );
        report.say(&format!(
            "  NOT covered by this receipt's signature (they are policy version {}'s, bound only by policyHash {}; compare them with {}):",
            receipt
                .record
                .get("policyVersion")
                .map_or("?".into(), |v| v.to_string()),
            ctx.get("policyHash")
                .and_then(|v| v.as_str())
                .unwrap_or("?"),
            ctx.get("policyUrl")
                .and_then(|v| v.as_str())
                .unwrap_or("the policy version"),
        ));
        for f in UNBOUND_CONTEXT {
            report.say(&format!("    {f}"));
        }
    }
    Ok(report.end(true, "anchored", 0))
}

async fn witness_check(
    dir: &std::path::Path,
    key: &assent_ledger::PublicKeyInfo,
    url: Option<&str>,
    anchor: &assent_ledger::Anchor,
    chain: u32,
) -> Result<()> {
    let state = crate::witness::WitnessState::load(dir)?;
    state.require_key(key)?;
    let head = anchor
        .checkpoint
        .checkpoint
        .head(chain)
        .context("the receipt's checkpoint has no head for its chain")?;
    let w = state
        .chain(chain)
        .with_context(|| format!("the witness has seen nothing of chain {chain}"))?;
    let fetch = url.map(crate::witness::Fetcher::new).transpose()?;
    crate::witness::check_head(w, head.size, &head.root, fetch.as_ref()).await
}
