//! `assent datastore introspect|check`: propose `[[datastores]]` annotations from a live
//! database's catalog, and check a registry's annotations against the live databases
//! (`FILE:LINE:COL: error|warning: message`, like `assent check`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use assent_datastore::{ConnectOptions, inspect, introspect};
use assent_model::check::{self, Seg, Severity};
use assent_model::datastore::DatastoreKind;

#[derive(Subcommand)]
pub(crate) enum DatastoreCmd {
    /// Print a proposed [[datastores]] block (TOML) from a database's catalog.
    Introspect {
        /// The datastore id to write in the block.
        #[arg(long)]
        id: String,
        #[arg(long, value_parser = ["postgres", "mysql", "sqlite"])]
        kind: String,
        /// The connection URL (prefer --url-env: a password on the command line shows in
        /// the process list).
        #[arg(long, conflicts_with = "url_env")]
        url: Option<String>,
        /// The environment variable holding the URL (written as url_env in the block).
        #[arg(long)]
        url_env: Option<String>,
    },
    /// Check the registry's [[datastores]] against the live databases.
    Check {
        #[arg(long)]
        registry: std::path::PathBuf,
    },
}

pub(crate) fn cmd_datastore(cmd: DatastoreCmd) -> Result<ExitCode> {
    match cmd {
        DatastoreCmd::Introspect {
            id,
            kind,
            url,
            url_env,
        } => cmd_introspect(&id, &kind, url.as_deref(), url_env.as_deref()),
        DatastoreCmd::Check { registry } => cmd_check(&registry),
    }
}

fn cmd_introspect(
    id: &str,
    kind: &str,
    url: Option<&str>,
    url_env: Option<&str>,
) -> Result<ExitCode> {
    let Some(kind) = DatastoreKind::parse(kind) else {
        bail!("--kind: expected postgres, mysql or sqlite");
    };
    let (url, env_name) = match (url, url_env) {
        (Some(u), _) => (
            u.to_string(),
            format!("{}_DATABASE_URL", id.to_ascii_uppercase().replace('-', "_")),
        ),
        (None, Some(e)) => (assent_datastore::url_from_env(e)?, e.to_string()),
        (None, None) => bail!("give --url-env NAME (or --url URL)"),
    };
    let mut conn = assent_datastore::connect(kind, &url, ConnectOptions::default())
        .map_err(|e| anyhow::anyhow!("datastore `{id}`: {e}"))?;
    let cat = conn
        .catalog()
        .map_err(|e| anyhow::anyhow!("datastore `{id}`: {e}"))?;
    let p = introspect::propose(&cat, id, kind, &env_name);
    print!("{}", p.toml);
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_check(file: &Path) -> Result<ExitCode> {
    let name = file.display().to_string();
    let (registry, src) = crate::check::load_registry(file)?;
    let mut findings: Vec<(Severity, Vec<Seg>, String)> = vec![];
    for (i, d) in registry.datastores.iter().enumerate() {
        let at = |key: &str| {
            vec![
                Seg::Key("datastores".into()),
                Seg::Index(i),
                Seg::Key(key.into()),
            ]
        };
        let url = match assent_datastore::url_from_env(&d.url_env) {
            Ok(u) => u,
            Err(e) => {
                findings.push((
                    Severity::Error,
                    at("url_env"),
                    format!("datastore `{}`: {e}", d.id),
                ));
                continue;
            }
        };
        let conn =
            assent_datastore::connect(d.kind, &url, ConnectOptions::default().for_datastore(d));
        let cat = conn.and_then(|mut c| c.catalog());
        match cat {
            Ok(cat) => findings.extend(inspect::inspect(i, d, &cat)),
            Err(e) => findings.push((
                Severity::Error,
                at("id"),
                format!("datastore `{}`: {e}", d.id),
            )),
        }
    }
    let diags = check::place(&src, findings);
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    for d in &diags {
        println!("{}", d.render(&name));
    }
    eprintln!(
        "{name}: {} datastore(s), {errors} error(s), {} warning(s)",
        registry.datastores.len(),
        diags.len() - errors
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
