//! `assent`: the one binary. Each subcommand is one file that parses its arguments, calls the
//! application layer (`assent_app`) or a library crate, and prints; `main` only dispatches.
//! Errors end as `assent: error: ...` on standard error with exit code 2 ([`app_error`] says
//! how an application error reads).

mod apply;
mod check;
mod common;
mod datastore;
mod db;
mod dsr;
mod export;
mod ledger;
mod marketing;
mod receipt;
mod register;
mod retention;
mod scan;
mod serve;
mod token;
mod user;
mod witness;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::common::runtime;
use crate::datastore::DatastoreCmd;
use crate::db::DbArgs;
use crate::dsr::DsrCmd;
use crate::export::ExportCmd;
use crate::ledger::LedgerCmd;
use crate::marketing::MarketingCmd;
use crate::receipt::ReceiptCmd;
use crate::register::RegisterCmd;
use crate::retention::RetentionCmd;
use crate::scan::ScanArgs;
use crate::serve::{DemoArgs, ServeArgs};
use crate::token::TokenCmd;
use crate::user::UserCmd;

/// mimalloc instead of the system allocator: requests are parsed on the runtime's threads
/// and their records freed on the SQLite writer's, and glibc's malloc handles such
/// cross-thread frees through its arena locks and bins (about 9% of the server's CPU under
/// consent load, measured in docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "assent",
    version,
    about = "Self-hosted privacy and consent platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Assent with its embedded defaults: SQLite in ./assent-data, the Callkom demo site.
    Demo(DemoArgs),
    /// Run the server.
    Serve(ServeArgs),
    /// Validate registry files; prints FILE:LINE:COL: error|warning: message.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Store the registry as new policy versions where its content changed.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCmd,
    },
    /// Accounts of people for the console at /admin/ (admin, dpo, auditor).
    User {
        #[command(subcommand)]
        command: UserCmd,
    },
    /// The tamper-evident ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCmd,
    },
    /// Consent receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCmd,
    },
    /// Export records for a supervisory authority.
    Export {
        #[command(subcommand)]
        command: ExportCmd,
    },
    /// Audit a live site in headless Chromium against its registry: what is set before
    /// consent, after accepting, after refusing and after withdrawal.
    /// Exit 0 when clean, 1 on violations, 2 on error.
    Scan(ScanArgs),
    /// The record of processing activities (GDPR Art. 30).
    Register {
        #[command(subcommand)]
        command: RegisterCmd,
    },
    /// The operator's own databases: propose annotations, check them.
    Datastore {
        #[command(subcommand)]
        command: DatastoreCmd,
    },
    /// Fulfil a data-subject request on the registry's datastores (access package, erasure).
    Dsr {
        #[command(subcommand)]
        command: DsrCmd,
    },
    /// Retention: what the rules make due (plan) and the purge (run).
    Retention {
        #[command(subcommand)]
        command: RetentionCmd,
    },
    /// Marketing consent: import an existing subscriber list with its provenance.
    Marketing {
        #[command(subcommand)]
        command: MarketingCmd,
    },
    /// Back up the SQLite database (online, consistent) to a new file.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Destination file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("assent: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check { files } => Ok(check::cmd_check(&files)),
        Command::Apply { file, db } => runtime()?.block_on(apply::cmd_apply(&file, &db)),
        Command::Token { command } => runtime()?.block_on(token::cmd_token(command)),
        Command::User { command } => runtime()?.block_on(user::cmd_user(command)),
        Command::Ledger {
            command:
                LedgerCmd::Verify {
                    db,
                    key,
                    json,
                    trusted_checkpoint,
                    witness_state,
                    checkpoint_interval,
                },
        } => runtime()?.block_on(ledger::cmd_ledger_verify(
            &db,
            &ledger::VerifyArgs {
                key: key.as_deref(),
                as_json: json,
                trusted: &trusted_checkpoint,
                witness_state: witness_state.as_deref(),
                checkpoint_interval,
            },
        )),
        Command::Ledger {
            command: LedgerCmd::Witness { url, state, key },
        } => runtime()?.block_on(witness::cmd_ledger_witness(&url, &state, key.as_deref())),
        Command::Receipt {
            command: ReceiptCmd::Verify(args),
        } => runtime()?.block_on(receipt::cmd_receipt_verify(&args)),
        Command::Export {
            command:
                ExportCmd::Consents {
                    db,
                    site,
                    from,
                    to,
                    format,
                    out,
                },
        } => runtime()?.block_on(export::cmd_export(
            &db,
            &site,
            &from,
            &to,
            &format,
            out.as_deref(),
        )),
        Command::Scan(args) => scan::cmd_scan(args),
        Command::Register {
            command:
                RegisterCmd::Export {
                    registry,
                    site,
                    format,
                    lang,
                    out,
                },
        } => register::cmd_register_export(
            &registry,
            site.as_deref(),
            &format,
            &lang,
            out.as_deref(),
        ),
        Command::Datastore { command } => datastore::cmd_datastore(command),
        Command::Dsr { command } => runtime()?.block_on(dsr::cmd_dsr(command)),
        Command::Retention { command } => runtime()?.block_on(retention::cmd_retention(command)),
        Command::Marketing { command } => runtime()?.block_on(marketing::cmd_marketing(command)),
        Command::Backup { db, out } => runtime()?.block_on(db::cmd_backup(&db, &out)),
        Command::Demo(args) => serve::cmd_demo(args),
        Command::Serve(args) => serve::cmd_serve(args),
    }
}
