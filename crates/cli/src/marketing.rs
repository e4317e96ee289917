//! `assent marketing import`: bulk import of an existing subscriber list (CSV) with its
//! provenance, through the same operation as `POST /admin/v1/marketing/import`
//! (`assent_app::marketing::suppress::import`): every line is checked first, an error names
//! its line, and nothing is written unless all pass; each line is then recorded with source
//! `import` in its own ledger entry. The store must exist (a mistyped `--data` never creates
//! an empty database); the marketing key is the data directory's `marketing.key`, checked
//! against the database's fingerprint as the server does.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;

use assent_app::{App, Settings};
use assent_model::clock::SystemClock;

use crate::common::app_error;
use crate::db::{DbArgs, open_existing};

#[derive(Subcommand)]
pub(crate) enum MarketingCmd {
    /// Import subscribers from a CSV file (`-` reads standard input). Header line first;
    /// columns among email, phone, purpose, basis, source_url, notice, order_ref,
    /// objection_offered, collected_at (docs/marketing.md, "Importing an existing list").
    Import {
        /// The CSV file, or `-` for standard input.
        file: PathBuf,
        /// The site (registry id) the subscribers belong to; its current policy version
        /// must declare the purposes.
        #[arg(long)]
        site: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON: {"imported": N}.
        #[arg(long)]
        json: bool,
    },
}

/// Largest file read (the admin API's body limit).
const MAX_FILE: u64 = 4 * 1024 * 1024;

fn read_file(file: &PathBuf) -> Result<String> {
    let mut bytes = vec![];
    if file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("{}: cannot open", file.display()))?
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read", file.display()))?;
    }
    if bytes.len() as u64 > MAX_FILE {
        return Err(anyhow!(
            "{}: larger than {} MB: split the list",
            file.display(),
            MAX_FILE / 1024 / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{}: not UTF-8 (byte {}): save the list as UTF-8 CSV",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub(crate) async fn cmd_marketing(cmd: MarketingCmd) -> Result<ExitCode> {
    match cmd {
        MarketingCmd::Import {
            file,
            site,
            db,
            json,
        } => {
            let text = read_file(&file)?;
            // The store must exist before App::open (which would create it).
            open_existing(&db).await?.close().await;
            let settings = Settings {
                data_dir: db.data.clone(),
                database: db.database.clone().map(assent_app::Secret::new),
                registry: None,
                public_base: String::new(),
                smtp: None,
                mail_from: String::new(),
                demo: false,
            };
            let app = App::open(settings, Arc::new(SystemClock)).await?;
            let done = assent_app::marketing::suppress::import(&app, &site, "cli", &text).await;
            app.store.clone().close().await;
            let rep = done.map_err(|e| match e.field.as_deref() {
                // "line 3, purpose: ...": the file's name in front, like a compiler.
                Some("file") => anyhow!("{}: {}", file.display(), e.message),
                _ => app_error(e),
            })?;
            if json {
                println!("{}", serde_json::to_string(&rep)?);
            } else {
                println!(
                    "imported {} subscriber line(s) into site {site} (source import, one ledger entry each)",
                    rep.imported
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
