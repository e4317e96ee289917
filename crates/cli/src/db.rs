//! `--data`/`--database`: where a command finds the store; and `assent backup`. Commands that only read or change an existing store open it with `open_existing`, so a mistyped `--data` never creates an empty database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use assent_store::{Location, OpenOptions, Store};

#[derive(Args, Clone)]
pub(crate) struct DbArgs {
    /// Data directory (SQLite database and ledger key).
    #[arg(long, env = "ASSENT_DATA", default_value = "assent-data")]
    pub(crate) data: PathBuf,
    /// PostgreSQL URL (postgres://...) instead of SQLite.
    #[arg(long, env = "ASSENT_DATABASE_URL", hide_env_values = true)]
    pub(crate) database: Option<String>,
}

pub(crate) fn location(db: &DbArgs) -> Result<Location> {
    Ok(Location::parse(db.database.as_deref(), &db.data)?)
}

/// Opens an existing store: a mistyped --data never creates an empty database.
pub(crate) async fn open_existing(db: &DbArgs) -> Result<Store> {
    Ok(Store::open(&location(db)?, OpenOptions::existing()).await?)
}

/// `assent backup`: an online, consistent copy of the SQLite database to a new file.
pub(crate) async fn cmd_backup(db: &DbArgs, out: &Path) -> Result<ExitCode> {
    let store = open_existing(db).await?;
    store.backup_to(out).await?;
    println!("backup written to {}", out.display());
    Ok(ExitCode::SUCCESS)
}
