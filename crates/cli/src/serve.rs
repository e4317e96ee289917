//! `assent serve` and `assent demo`: configuration from file, environment and flags, logs, and the server until a signal.
//!
//! Invariant: one server per SQLite data directory. `serve` and `demo` hold an exclusive lock
//! on `DATA/serve.lock` (an `flock`, released by the kernel when the process ends, even on
//! SIGKILL) for their whole life; a second server on the same directory is refused with the
//! holder's pid. Other commands (`token`, `apply`, `backup`, exports...) never take it: SQLite
//! lets them work beside the running server. PostgreSQL is how several servers share a store.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use assent_model::clock::{SharedClock, SystemClock};
use assent_server::config::{Config, LogFormat, Secret};

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Address to serve HTTP on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// Data directory: SQLite database, ledger key and the demo registry (created if missing).
    #[arg(long, default_value = "assent-data")]
    pub(crate) data: PathBuf,
    /// SMTP server for rights-request emails (smtp:// or smtps://) [default: none: no email].
    #[arg(long, env = "ASSENT_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp: Option<String>,
}

/// Flags override `ASSENT_*` variables, which override the `--config` file, which overrides the
/// defaults shown (docs/configuration.md). No flag has a clap default: a default there would
/// hide the file's and the environment's values.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML); environment variables and flags override it [default: none].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Registry applied at start-up: the sites served and their policies [env: ASSENT_REGISTRY]
    /// [default: none: only the sites already applied to the store are served].
    #[arg(long, value_name = "FILE")]
    pub(crate) registry: Option<PathBuf>,
    /// Data directory: SQLite database `assent.db`, ledger key, lock of the running server
    /// (created if missing) [env: ASSENT_DATA] [default: assent-data].
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Address to serve HTTP on [env: ASSENT_LISTEN] [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// postgres://... to run on PostgreSQL (several servers may share it), or sqlite://PATH
    /// [env: ASSENT_DATABASE_URL] [default: SQLite in the data directory].
    #[arg(long, value_name = "URL", hide_env_values = true)]
    pub(crate) database: Option<String>,
    /// SMTP server for rights-request emails, smtp:// or smtps:// [env: ASSENT_SMTP_URL]
    /// [default: none: no email is sent].
    #[arg(long, value_name = "URL", hide_env_values = true)]
    pub(crate) smtp: Option<String>,
    /// Base URL browsers use to reach this server [env: ASSENT_PUBLIC_URL]
    /// [default: http://LISTEN].
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
}

pub(crate) fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

pub(crate) fn parse_listen(s: &str) -> Result<std::net::SocketAddr> {
    s.parse()
        .map_err(|_| anyhow!("--listen `{s}`: expected an address like 127.0.0.1:8080"))
}

/// Logs go to standard error, coloured only when it is a terminal and `NO_COLOR` is not set
/// (a file, a pipe or journald gets plain text).
pub(crate) fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ASSENT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && env_var("NO_COLOR").is_none();
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => b.json().try_init(),
        LogFormat::Text => b.try_init(),
    };
}

/// Whether the store is SQLite (no `database`, or a `sqlite:` URL): then one server only.
fn sqlite(cfg: &Config) -> bool {
    cfg.database
        .as_ref()
        .is_none_or(|d| d.expose().starts_with("sqlite:"))
}

/// Takes the data directory's server lock (see the module comment), creating the directory
/// when it is missing. The returned file holds the lock until it is dropped.
fn lock_data_dir(dir: &Path) -> Result<File> {
    assent_store::create_private_dir(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("serve.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // The holder's pid, for the message a second server prints.
            file.set_len(0)?;
            writeln!(file, "{}", std::process::id())?;
            file.flush()?;
            Ok(file)
        }
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            };
            bail!(
                "another Assent server{pid} is already running on the data directory {}: two servers cannot share one SQLite database. Stop it first, or give this one another --data; to run several servers on one store, use PostgreSQL (--database postgres://..., docs/operations.md). Commands such as `assent token create`, `apply`, `backup` and exports work beside the running server.",
                dir.display()
            )
        }
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

pub(crate) async fn serve(cfg: Config) -> Result<ExitCode> {
    init_logs(cfg.log_format);
    let listen = cfg.listen;
    let data_dir = cfg.data_dir.clone();
    let had_data = data_dir.exists();
    let _lock = match sqlite(&cfg) {
        true => Some(lock_data_dir(&data_dir)?),
        false => None,
    };
    let no_registry = cfg.registry.is_none();
    let clock: SharedClock = Arc::new(SystemClock);
    let app = assent_server::build(cfg, clock).await?;
    if !had_data && data_dir.exists() {
        let shown = std::path::absolute(&data_dir).unwrap_or_else(|_| data_dir.clone());
        eprintln!(
            "Created the data directory {} (database, ledger key); give --data to keep it elsewhere.",
            shown.display()
        );
    }
    let sites = app.state.sites.site_ids();
    if sites.is_empty() {
        eprintln!(
            "warning: no site is served: {}. The banner answers every site id with an error until a registry is applied.",
            if no_registry {
                "no --registry was given and the store holds none; give --registry FILE (or run `assent apply FILE`)"
            } else {
                "the registry defines no site"
            }
        );
    } else {
        eprintln!("Sites served: {}", sites.join(", "));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let backend = app.state.store.backend();
    if backend == "postgres" {
        let tls = match app.state.store.tls_version().await {
            Ok(v) => v.unwrap_or_else(|| "none".to_owned()),
            Err(e) => format!("unknown ({e})"),
        };
        tracing::info!(%addr, backend, database_tls = %tls, "assent listening");
    } else {
        tracing::info!(%addr, backend, "assent listening");
    }
    eprintln!("Assent is listening on http://{addr}/");
    if app.state.config.demo {
        eprintln!("  demo page:      http://{addr}/demo/");
        eprintln!("  cookie policy:  http://{addr}/sites/callkom/cookie-policy");
        eprintln!("  admin console:  http://{addr}/admin/");
        eprintln!(
            "    make an account with: assent user create --data {} --email YOU@EXAMPLE.ORG --role admin",
            data_dir.display()
        );
    }
    if app.state.config.smtp.is_none() {
        // Said at start, not discovered by a requester: without SMTP, no verification email
        // leaves, and requesters are told so.
        tracing::warn!(
            "no SMTP server configured: rights requests get no verification email; the DPO \
             verifies identities by hand (POST /admin/v1/requests/{{id}}/verify) or set --smtp"
        );
        eprintln!(
            "  no SMTP server: requesters get no verification email (they are told so); verify \
             their identity by hand: POST /admin/v1/requests/ID/verify, or set --smtp"
        );
    }
    app.run(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `assent demo`: the embedded Callkom registry (written next to the data so operators can
/// edit and re-apply it), SQLite, the demo pages on.
pub(crate) fn cmd_demo(args: DemoArgs) -> Result<ExitCode> {
    let mut cfg = Config::load(None, &env_var)?;
    cfg.listen = parse_listen(&args.listen)?;
    cfg.data_dir = args.data;
    cfg.demo = true;
    if let Some(s) = args.smtp {
        cfg.smtp = Some(Secret::new(s));
    }
    assent_store::create_private_dir(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let reg = cfg.data_dir.join("demo-registry.toml");
    if !reg.exists() {
        std::fs::write(&reg, crate::common::DEMO_REGISTRY)
            .with_context(|| format!("cannot write {}", reg.display()))?;
    }
    cfg.registry = Some(reg);
    crate::common::runtime()?.block_on(serve(cfg))
}

/// `assent serve`: defaults, then the configuration file, then `ASSENT_*`, then flags.
pub(crate) fn cmd_serve(args: ServeArgs) -> Result<ExitCode> {
    let mut cfg = Config::load(args.config.as_deref(), &env_var)?;
    if let Some(v) = args.listen {
        cfg.listen = parse_listen(&v)?;
    }
    if let Some(v) = args.data {
        cfg.data_dir = v;
    }
    if let Some(v) = args.registry {
        cfg.registry = Some(v);
    }
    if let Some(v) = args.database {
        cfg.database = Some(Secret::new(v));
    }
    if let Some(v) = args.smtp {
        cfg.smtp = Some(Secret::new(v));
    }
    if let Some(v) = args.public_url {
        cfg.public_url = Some(v);
    }
    crate::common::runtime()?.block_on(serve(cfg))
}
