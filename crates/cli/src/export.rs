//! `assent export consents`: consent records of a site in a period, as CSV or JSON lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;

use crate::db::{DbArgs, open_existing};

#[derive(Subcommand)]
pub(crate) enum ExportCmd {
    /// Consent records of a site in a period.
    Consents {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        site: String,
        /// Start (YYYY-MM-DD or RFC 3339), inclusive.
        #[arg(long)]
        from: String,
        /// End (YYYY-MM-DD or RFC 3339), exclusive; a plain date includes that whole day.
        #[arg(long)]
        to: String,
        #[arg(long, value_parser = ["csv", "jsonl"], default_value = "csv")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Escapes a CSV cell that a spreadsheet would run as a formula.
pub(crate) fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub(crate) fn parse_bound(s: &str, end: bool) -> Result<i64> {
    let ms = assent_model::clock::parse_time(s)
        .ok_or_else(|| anyhow!("`{s}`: expected YYYY-MM-DD or an RFC 3339 time"))?;
    // A plain date as the end bound includes the whole day.
    Ok(if end && s.len() == 10 {
        ms + 86_400_000
    } else {
        ms
    })
}

pub(crate) async fn cmd_export(
    db: &DbArgs,
    site: &str,
    from: &str,
    to: &str,
    format: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let from_ms = parse_bound(from, false).context("--from")?;
    let to_ms = parse_bound(to, true).context("--to")?;
    if to_ms <= from_ms {
        bail!("--to must be after --from");
    }
    let store = open_existing(db).await?;
    let written = write_consents(&store, site, from_ms, to_ms, format, out).await;
    store.close().await;
    match written {
        Ok(n) => eprintln!("exported {n} consent record(s)"),
        // `| head`: the reader stopped reading; it has what it asked for.
        Err(e) if crate::common::broken_pipe(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the records to `out` (standard output when `None`); returns how many.
async fn write_consents(
    store: &assent_store::Store,
    site: &str,
    from_ms: i64,
    to_ms: i64,
    format: &str,
    out: Option<&Path>,
) -> Result<u64> {
    use std::io::Write;
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if format == "csv" {
        writeln!(
            w,
            "receipt_id,site,subject,policy_version,action,method,channel,language,choices,text_fingerprint,created_at,expires_at,chain,seq,entry_hash"
        )?;
    }
    let mut after: Option<String> = None;
    let mut n = 0u64;
    loop {
        let page = store
            .consents_between(site, from_ms, to_ms, after.as_deref(), 1000)
            .await?;
        if page.is_empty() {
            break;
        }
        for (row, entry) in &page {
            let v = assent_app::exports::consent_json(row, entry);
            if format == "jsonl" {
                writeln!(w, "{v}")?;
            } else {
                let cells = [
                    row.receipt_id.clone(),
                    row.site.clone(),
                    row.subject.clone(),
                    row.policy_version.to_string(),
                    row.action.clone(),
                    row.method.clone(),
                    row.channel.clone(),
                    row.language.clone(),
                    row.choices_json.clone(),
                    row.fingerprint.clone(),
                    assent_model::clock::rfc3339(row.created_at_ms),
                    assent_model::clock::rfc3339(row.expires_at_ms),
                    entry.chain.to_string(),
                    entry.seq.to_string(),
                    assent_ledger::to_hex(&entry.hash),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                writeln!(w, "{}", line.join(","))?;
            }
            n += 1;
        }
        after = page.last().map(|(r, _)| r.receipt_id.clone());
    }
    w.flush()?;
    Ok(n)
}
