//! `assent check`: lint registry files (`FILE:LINE:COL: error|warning: message`), and the registry loader the other commands share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use assent_model::check;

pub(crate) fn cmd_check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for f in files {
        let name = f.display().to_string();
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{name}: error: cannot read: {e}");
                failed = true;
                continue;
            }
        };
        let (_, diags) = check::check(&src);
        let errors = diags
            .iter()
            .filter(|d| d.severity == check::Severity::Error)
            .count();
        let warnings = diags.len() - errors;
        for d in &diags {
            println!("{}", d.render(&name));
        }
        if errors > 0 {
            failed = true;
        }
        eprintln!("{name}: {errors} error(s), {warnings} warning(s)");
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads and validates a registry, printing problems like `check`.
pub(crate) fn load_registry(file: &Path) -> Result<(assent_model::Registry, String)> {
    let name = file.display().to_string();
    let src = std::fs::read_to_string(file).with_context(|| format!("{name}: cannot read"))?;
    match check::parse(&src) {
        Ok((r, warnings)) => {
            for w in warnings {
                eprintln!("{}", w.render(&name));
            }
            Ok((r, src))
        }
        Err(errs) => {
            let lines: Vec<String> = errs.iter().map(|d| d.render(&name)).collect();
            bail!("invalid registry:\n{}", lines.join("\n"))
        }
    }
}
