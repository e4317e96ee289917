//! `assent receipt verify`: verify one receipt offline against the published key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum ReceiptCmd {
    /// Verify one receipt offline against the published public key.
    Verify {
        file: PathBuf,
        /// Public key document (JSON from /.well-known/assent-ledger-key).
        #[arg(long)]
        key: PathBuf,
    },
}

pub(crate) fn cmd_receipt_verify(file: &Path, key: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    let receipt = assent_ledger::Receipt::from_json(&text)
        .with_context(|| format!("{}: not an Assent receipt", file.display()))?;
    let key_text =
        std::fs::read_to_string(key).with_context(|| format!("{}: cannot read", key.display()))?;
    let key = assent_ledger::PublicKeyInfo::parse(&key_text)
        .with_context(|| format!("{}: not a public key document", key.display()))?;
    match assent_ledger::verify_receipt(&receipt, &key) {
        Ok(status) => {
            println!(
                "receipt {}: valid ({status:?})",
                receipt
                    .record
                    .get("consentReceiptID")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("receipt INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
