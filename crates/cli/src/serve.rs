//! `assent serve` and `assent demo`: configuration from file, environment and flags, logs, and the server until a signal.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use assent_model::clock::{SharedClock, SystemClock};
use assent_server::config::{Config, LogFormat, Secret};

#[derive(Args)]
pub(crate) struct DemoArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    #[arg(long, default_value = "assent-data")]
    pub(crate) data: PathBuf,
    /// SMTP server for rights-request emails (smtp:// or smtps://).
    #[arg(long, env = "ASSENT_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp: Option<String>,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML); environment variables and flags override it.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    #[arg(long)]
    pub(crate) registry: Option<PathBuf>,
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    #[arg(long)]
    pub(crate) listen: Option<String>,
    #[arg(long, hide_env_values = true)]
    pub(crate) database: Option<String>,
    #[arg(long, hide_env_values = true)]
    pub(crate) smtp: Option<String>,
    /// Base URL browsers use to reach this server.
    #[arg(long)]
    pub(crate) public_url: Option<String>,
}

pub(crate) fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

pub(crate) fn parse_listen(s: &str) -> Result<std::net::SocketAddr> {
    s.parse()
        .map_err(|_| anyhow!("--listen `{s}`: expected an address like 127.0.0.1:8080"))
}

pub(crate) fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ASSENT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => b.json().try_init(),
        LogFormat::Text => b.try_init(),
    };
}

pub(crate) async fn serve(cfg: Config) -> Result<ExitCode> {
    init_logs(cfg.log_format);
    let listen = cfg.listen;
    let clock: SharedClock = Arc::new(SystemClock);
    let app = assent_server::build(cfg, clock).await?;
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
    std::fs::create_dir_all(&cfg.data_dir)
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
