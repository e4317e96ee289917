//! `assent register export`: the record of processing activities (Art. 30) of a registry file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use assent_model::clock::{Clock, SystemClock};

use crate::check::load_registry;

#[derive(Subcommand)]
pub(crate) enum RegisterCmd {
    /// Export the record of a registry file (every mandatory Art. 30 field), for a supervisory
    /// authority.
    Export {
        /// The registry file.
        #[arg(long)]
        registry: PathBuf,
        /// Only the activities of this site (default: every activity of the registry).
        #[arg(long)]
        site: Option<String>,
        #[arg(long, value_parser = ["csv", "html", "json"])]
        format: String,
        /// Language of the texts.
        #[arg(long, value_parser = ["en", "fr"], default_value = "en")]
        lang: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `assent register export`: the rendering is `assent_app::exports::export_register`.
pub(crate) fn cmd_register_export(
    file: &Path,
    site: Option<&str>,
    format: &str,
    lang: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let (registry, _) = load_registry(file)?;
    let format: assent_pages::register::Format = format.parse()?;
    let body =
        assent_app::exports::export_register(&registry, site, format, lang, SystemClock.now_ms())?;
    match out {
        Some(p) => {
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => print!("{body}"),
    }
    Ok(ExitCode::SUCCESS)
}
