//! `assent token`: API tokens for machines (create, list, revoke).

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use assent_model::clock::SystemClock;
use assent_store::{OpenOptions, Store};

use crate::db::{DbArgs, location, open_existing};

#[derive(Subcommand)]
pub(crate) enum TokenCmd {
    /// Create a token and print it (it is shown once; only its hash is stored).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// admin (everything), dpo (rights requests, retention, marketing), marketing (records
        /// marketing choices) or auditor (read-only); see docs/security.md.
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        id: String,
    },
}

pub(crate) async fn cmd_token(cmd: TokenCmd) -> Result<ExitCode> {
    let clock = SystemClock;
    match cmd {
        TokenCmd::Create { db, role, label } => {
            if db.database.is_none() {
                assent_store::create_private_dir(&db.data)
                    .with_context(|| format!("cannot create {}", db.data.display()))?;
            }
            let store = Store::open(&location(&db)?, OpenOptions::create()).await?;
            let made = assent_app::tokens::create(&store, &clock, &role, &label).await;
            store.close().await;
            let (token, id) = made.map_err(crate::common::app_error)?;
            println!("{token}");
            eprintln!("token {id} ({role}) created; it is shown once, keep it safe");
        }
        TokenCmd::List { db } => {
            let store = open_existing(&db).await?;
            for t in store.list_tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.role,
                    assent_model::clock::rfc3339(t.created_at_ms),
                    t.revoked_at_ms.map(|_| "revoked").unwrap_or("active"),
                    t.label
                );
            }
            store.close().await;
        }
        TokenCmd::Revoke { db, id } => {
            let store = open_existing(&db).await?;
            let done = assent_app::tokens::revoke(&store, &clock, &id).await;
            store.close().await;
            done.map_err(crate::common::app_error)?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
