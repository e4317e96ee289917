//! Scans a site against a JSON `Declared` inventory, until the `assent scan` subcommand exists.
//!
//! ```text
//! cargo run -p assent-scan --example scan -- URL --declared declared.json \
//!     [--pages N] [--out report.json] [--html report.html] [--catalog FILE] \
//!     [--accept CSS] [--reject CSS] [--manage CSS] [--scenarios a,b] \
//!     [--host-resolver-rules RULES] [--chromium PATH] [--quiet]
//! ```
//!
//! Exit code: 0 clean, 1 violations, 2 error.

use std::path::PathBuf;
use std::process::ExitCode;

use assent_scan::{Catalog, Declared, ScanOptions, Scenario, progress, scan};

const USAGE: &str = "usage: scan URL --declared FILE [--pages N] [--out report.json] [--html report.html] \
[--catalog FILE] [--accept CSS] [--reject CSS] [--manage CSS] [--scenarios before_consent,accept_all,reject_all,withdrawal] \
[--host-resolver-rules RULES] [--chromium PATH] [--quiet]";

struct Args {
    url: String,
    declared: PathBuf,
    out: Option<PathBuf>,
    html: Option<PathBuf>,
    quiet: bool,
    options: ScanOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut url = None;
    let mut declared = None;
    let mut out = None;
    let mut html = None;
    let mut quiet = false;
    let mut options = ScanOptions::default();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--declared" => declared = Some(PathBuf::from(value("--declared")?)),
            "--pages" => {
                options.max_pages = value("--pages")?
                    .parse()
                    .map_err(|_| "--pages needs a number".to_owned())?;
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--html" => html = Some(PathBuf::from(value("--html")?)),
            "--catalog" => {
                let path = PathBuf::from(value("--catalog")?);
                let extra = Catalog::load(&path).map_err(|e| e.to_string())?;
                options.catalog = Catalog::builtin().with_priority(extra);
            }
            "--accept" => options.accept_selector = Some(value("--accept")?),
            "--reject" => options.reject_selector = Some(value("--reject")?),
            "--manage" => options.manage_selector = Some(value("--manage")?),
            "--host-resolver-rules" => {
                options.host_resolver_rules = Some(value("--host-resolver-rules")?);
            }
            "--chromium" => options.chromium = Some(PathBuf::from(value("--chromium")?)),
            "--scenarios" => {
                let list = value("--scenarios")?;
                options.scenarios = list
                    .split(',')
                    .map(|s| {
                        serde_json::from_value::<Scenario>(serde_json::Value::String(
                            s.trim().to_owned(),
                        ))
                        .map_err(|_| format!("unknown scenario `{s}`"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--quiet" => quiet = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => {
                if url.replace(s.to_owned()).is_some() {
                    return Err(format!("only one URL, please\n{USAGE}"));
                }
            }
        }
    }
    Ok(Args {
        url: url.ok_or_else(|| USAGE.to_owned())?,
        declared: declared.ok_or_else(|| format!("--declared is required\n{USAGE}"))?,
        out,
        html,
        quiet,
        options,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let declared: Declared = match std::fs::read_to_string(&args.declared)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.declared.display());
            return ExitCode::from(2);
        }
    };
    if !args.quiet {
        args.options.progress = Some(progress::stderr_progress());
    }
    let report = match scan(&args.url, &declared, args.options).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scan failed: {e}");
            return ExitCode::from(2);
        }
    };
    for (path, text) in [
        (&args.out, report.to_json()),
        (&args.html, report.to_html()),
    ] {
        if let Some(path) = path
            && let Err(e) = std::fs::write(path, text)
        {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    print!("{}", report.to_text());
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(2))
}
