//! `assent scan`: audit a live site in headless Chromium against its registry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use crate::check::load_registry;

#[derive(Args)]
pub(crate) struct ScanArgs {
    /// The page to start from.
    pub(crate) url: String,
    /// The site's registry.
    #[arg(long)]
    pub(crate) registry: PathBuf,
    /// The site id in the registry.
    #[arg(long)]
    pub(crate) site: String,
    /// Same-site pages to crawl per scenario.
    #[arg(long, default_value_t = 10)]
    pub(crate) pages: usize,
    /// Write the JSON report here.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    pub(crate) html: Option<PathBuf>,
    /// A known-cookie catalog (Open Cookie Database CSV or Assent TSV) used before the built-in one.
    #[arg(long)]
    pub(crate) catalog: Option<PathBuf>,
    /// CSS selector of another banner's "accept all" button.
    #[arg(long)]
    pub(crate) accept: Option<String>,
    /// CSS selector of another banner's "refuse all" button.
    #[arg(long)]
    pub(crate) reject: Option<String>,
    /// CSS selector of another banner's "manage cookies" link.
    #[arg(long)]
    pub(crate) manage: Option<String>,
    /// Chromium --host-resolver-rules (e.g. "MAP www.example.test 127.0.0.1").
    #[arg(long)]
    pub(crate) host_resolver_rules: Option<String>,
    /// No progress output.
    #[arg(long)]
    pub(crate) quiet: bool,
}

pub(crate) fn cmd_scan(a: ScanArgs) -> Result<ExitCode> {
    let (registry, _) = load_registry(&a.registry)?;
    let mut declared = assent_scan::Declared::from_registry(&registry, &a.site)
        .ok_or_else(|| anyhow!("{}: no site `{}`", a.registry.display(), a.site))?;
    let host = a
        .url
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':', '?', '#']).next())
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.is_empty() {
        bail!("`{}` is not an http(s) URL", a.url);
    }
    if !declared.covers_host(&host) {
        eprintln!(
            "note: {host} is not one of the domains of site `{}`: auditing it as a deployment of that site (first-party declarations are matched on {host})",
            a.site
        );
        declared = declared.rebased_on(&host);
    }
    let mut opts = assent_scan::ScanOptions {
        max_pages: a.pages.max(1),
        ..Default::default()
    };
    if let Some(c) = &a.catalog {
        let extra = assent_scan::Catalog::load(c)
            .with_context(|| format!("{}: cannot load the catalog", c.display()))?;
        opts.catalog = assent_scan::Catalog::builtin().with_priority(extra);
    }
    opts.accept_selector = a.accept;
    opts.reject_selector = a.reject;
    opts.manage_selector = a.manage;
    opts.host_resolver_rules = a.host_resolver_rules;
    if !a.quiet {
        opts.progress = Some(assent_scan::progress::stderr_progress());
    }
    let report = crate::common::runtime()?.block_on(assent_scan::scan(&a.url, &declared, opts))?;
    if let Some(p) = &a.out {
        std::fs::write(p, report.to_json())
            .with_context(|| format!("{}: cannot write", p.display()))?;
    }
    if let Some(p) = &a.html {
        std::fs::write(p, report.to_html())
            .with_context(|| format!("{}: cannot write", p.display()))?;
    }
    print!("{}", report.to_text());
    Ok(ExitCode::from(
        u8::try_from(report.exit_code()).unwrap_or(1),
    ))
}
