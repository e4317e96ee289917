//! `assent`: the one binary. Subcommands only wire the library crates together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use assent_model::check;
use assent_model::clock::{Clock, SharedClock, SystemClock};
use assent_server::config::{Config, LogFormat, Secret};
use assent_store::{Location, OpenOptions, Store};

/// mimalloc instead of the system allocator: requests are parsed on the runtime's threads
/// and their records freed on the SQLite writer's, and glibc's malloc handles such
/// cross-thread frees through its arena locks and bins (about 9% of the server's CPU under
/// consent load, measured in docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The demo registry (seed 002, Callkom), embedded so `assent demo` runs anywhere.
pub const DEMO_REGISTRY: &str = include_str!("../../../examples/callkom.toml");

#[derive(Parser)]
#[command(
    name = "assent",
    version,
    about = "Self-hosted privacy and consent platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Assent with its embedded defaults: SQLite in ./assent-data, the Callkom demo site.
    Demo(DemoArgs),
    /// Run the server.
    Serve(ServeArgs),
    /// Validate registry files; prints FILE:LINE:COL: error|warning: message.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Store the registry as new policy versions where its content changed.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCmd,
    },
    /// The tamper-evident ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCmd,
    },
    /// Consent receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCmd,
    },
    /// Export records for a supervisory authority.
    Export {
        #[command(subcommand)]
        command: ExportCmd,
    },
    /// Audit a live site in headless Chromium against its registry: what is set before
    /// consent, after accepting, after refusing and after withdrawal.
    /// Exit 0 when clean, 1 on violations, 2 on error.
    Scan(ScanArgs),
    /// The record of processing activities (GDPR Art. 30).
    Register {
        #[command(subcommand)]
        command: RegisterCmd,
    },
    /// Back up the SQLite database (online, consistent) to a new file.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Destination file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Data directory (SQLite database and ledger key).
    #[arg(long, env = "ASSENT_DATA", default_value = "assent-data")]
    data: PathBuf,
    /// PostgreSQL URL (postgres://...) instead of SQLite.
    #[arg(long, env = "ASSENT_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a token and print it (it is shown once; only its hash is stored).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// admin, dpo (rights requests) or auditor (read-only).
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        id: String,
    },
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Re-verify every entry and checkpoint; exit 1 on any problem.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Public key document (JSON from /.well-known/assent-ledger-key); default: the data
        /// directory's key.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReceiptCmd {
    /// Verify one receipt offline against the published public key.
    Verify {
        file: PathBuf,
        /// Public key document (JSON from /.well-known/assent-ledger-key).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
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

#[derive(Subcommand)]
enum RegisterCmd {
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

#[derive(Args)]
struct ScanArgs {
    /// The page to start from.
    url: String,
    /// The site's registry.
    #[arg(long)]
    registry: PathBuf,
    /// The site id in the registry.
    #[arg(long)]
    site: String,
    /// Same-site pages to crawl per scenario.
    #[arg(long, default_value_t = 10)]
    pages: usize,
    /// Write the JSON report here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// A known-cookie catalog (Open Cookie Database CSV or Assent TSV) used before the built-in one.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// CSS selector of another banner's "accept all" button.
    #[arg(long)]
    accept: Option<String>,
    /// CSS selector of another banner's "refuse all" button.
    #[arg(long)]
    reject: Option<String>,
    /// CSS selector of another banner's "manage cookies" link.
    #[arg(long)]
    manage: Option<String>,
    /// Chromium --host-resolver-rules (e.g. "MAP www.example.test 127.0.0.1").
    #[arg(long)]
    host_resolver_rules: Option<String>,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct DemoArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    #[arg(long, default_value = "assent-data")]
    data: PathBuf,
    /// SMTP server for rights-request emails (smtp:// or smtps://).
    #[arg(long, env = "ASSENT_SMTP_URL", hide_env_values = true)]
    smtp: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Configuration file (TOML); environment variables and flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    registry: Option<PathBuf>,
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long)]
    listen: Option<String>,
    #[arg(long, hide_env_values = true)]
    database: Option<String>,
    #[arg(long, hide_env_values = true)]
    smtp: Option<String>,
    /// Base URL browsers use to reach this server.
    #[arg(long)]
    public_url: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("assent: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check { files } => Ok(cmd_check(&files)),
        Command::Apply { file, db } => runtime()?.block_on(cmd_apply(&file, &db)),
        Command::Token { command } => runtime()?.block_on(cmd_token(command)),
        Command::Ledger {
            command: LedgerCmd::Verify { db, key, json },
        } => runtime()?.block_on(cmd_ledger_verify(&db, key.as_deref(), json)),
        Command::Receipt {
            command: ReceiptCmd::Verify { file, key },
        } => cmd_receipt_verify(&file, &key),
        Command::Export {
            command:
                ExportCmd::Consents {
                    db,
                    site,
                    from,
                    to,
                    format,
                    out,
                },
        } => runtime()?.block_on(cmd_export(&db, &site, &from, &to, &format, out.as_deref())),
        Command::Scan(args) => cmd_scan(args),
        Command::Register {
            command:
                RegisterCmd::Export {
                    registry,
                    site,
                    format,
                    lang,
                    out,
                },
        } => cmd_register_export(&registry, site.as_deref(), &format, &lang, out.as_deref()),
        Command::Backup { db, out } => runtime()?.block_on(async {
            let store = open_existing(&db).await?;
            store.backup_to(&out).await?;
            println!("backup written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }),
        Command::Demo(args) => {
            let mut cfg = Config::load(None, &env_var)?;
            cfg.listen = parse_listen(&args.listen)?;
            cfg.data_dir = args.data;
            cfg.demo = true;
            if let Some(s) = args.smtp {
                cfg.smtp = Some(Secret::new(s));
            }
            std::fs::create_dir_all(&cfg.data_dir)
                .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
            // The demo registry is written next to the data so operators can edit and re-apply it.
            let reg = cfg.data_dir.join("demo-registry.toml");
            if !reg.exists() {
                std::fs::write(&reg, DEMO_REGISTRY)
                    .with_context(|| format!("cannot write {}", reg.display()))?;
            }
            cfg.registry = Some(reg);
            runtime()?.block_on(serve(cfg))
        }
        Command::Serve(args) => {
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
            runtime()?.block_on(serve(cfg))
        }
    }
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

fn parse_listen(s: &str) -> Result<std::net::SocketAddr> {
    s.parse()
        .map_err(|_| anyhow!("--listen `{s}`: expected an address like 127.0.0.1:8080"))
}

fn init_logs(format: LogFormat) {
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

async fn serve(cfg: Config) -> Result<ExitCode> {
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

async fn shutdown_signal() {
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

fn cmd_check(files: &[PathBuf]) -> ExitCode {
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
fn load_registry(file: &Path) -> Result<(assent_model::Registry, String)> {
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

/// `assent register export`: the rendering is `assent_server::routes::pages::export_register`.
fn cmd_register_export(
    file: &Path,
    site: Option<&str>,
    format: &str,
    lang: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let (registry, _) = load_registry(file)?;
    let format: assent_server::routes::pages::Format = format.parse()?;
    let body = assent_server::routes::pages::export_register(
        &registry,
        site,
        format,
        lang,
        SystemClock.now_ms(),
    )?;
    match out {
        Some(p) => {
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => print!("{body}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn location(db: &DbArgs) -> Result<Location> {
    Ok(Location::parse(db.database.as_deref(), &db.data)?)
}

/// Opens an existing store: a mistyped --data never creates an empty database.
async fn open_existing(db: &DbArgs) -> Result<Store> {
    Ok(Store::open(&location(db)?, OpenOptions::existing()).await?)
}

async fn cmd_apply(file: &Path, db: &DbArgs) -> Result<ExitCode> {
    // Validate before touching the data directory: a bad file changes nothing.
    let (registry, src) = load_registry(file)?;
    if db.database.is_none() {
        std::fs::create_dir_all(&db.data)
            .with_context(|| format!("cannot create {}", db.data.display()))?;
    }
    let store = Store::open(&location(db)?, OpenOptions::create()).await?;
    let clock = SystemClock;
    let applied = assent_server::ops::apply_registry(&store, &clock, &registry, &src).await?;
    for a in &applied {
        if a.created {
            println!(
                "site {}: new policy version {} ({}){}",
                a.site,
                a.version,
                a.content_hash,
                if a.requires_fresh_consent {
                    ", requires fresh consent"
                } else {
                    ""
                }
            );
            for c in &a.changes {
                println!("  {} {}", if c.material { "*" } else { "-" }, c.en);
            }
        } else {
            println!("site {}: unchanged (version {})", a.site, a.version);
        }
    }
    let sites: Vec<&str> = applied.iter().map(|a| a.site.as_str()).collect();
    assent_server::ledger::audit(
        &store,
        clock.now_ms(),
        "cli.registry_applied",
        serde_json::json!({"sites": sites}),
    )
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn cmd_token(cmd: TokenCmd) -> Result<ExitCode> {
    let clock = SystemClock;
    match cmd {
        TokenCmd::Create { db, role, label } => {
            let (token, row) = assent_server::ops::new_token(&role, &label, clock.now_ms())
                .map_err(|e| anyhow!(e))?;
            if db.database.is_none() {
                std::fs::create_dir_all(&db.data)
                    .with_context(|| format!("cannot create {}", db.data.display()))?;
            }
            let store = Store::open(&location(&db)?, OpenOptions::create()).await?;
            let id = row.id.clone();
            store.insert_token(row).await?;
            assent_server::ledger::audit(
                &store,
                clock.now_ms(),
                "admin.token_created",
                serde_json::json!({"token_id": id, "role": role}),
            )
            .await?;
            store.close().await;
            println!("{token}");
            eprintln!("token {id} ({role}) created; it is shown once, keep it safe");
        }
        TokenCmd::List { db } => {
            let store = open_existing(&db).await?;
            for t in store.list_tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.role,
                    assent_model::clock::rfc3339(t.created_at_ms),
                    t.revoked_at_ms.map(|_| "revoked").unwrap_or("active"),
                    t.label
                );
            }
            store.close().await;
        }
        TokenCmd::Revoke { db, id } => {
            let store = open_existing(&db).await?;
            let ok = store.revoke_token(&id, clock.now_ms()).await?;
            if !ok {
                store.close().await;
                bail!("no active token with id `{id}`");
            }
            assent_server::ledger::audit(
                &store,
                clock.now_ms(),
                "admin.token_revoked",
                serde_json::json!({"token_id": id}),
            )
            .await?;
            store.close().await;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn cmd_ledger_verify(db: &DbArgs, key: Option<&Path>, as_json: bool) -> Result<ExitCode> {
    let key = match key {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            *assent_ledger::PublicKeyInfo::parse(&text)
                .with_context(|| format!("{}: not a public key document", p.display()))?
                .key()
        }
        None => {
            let path = db.data.join("ledger.key");
            if !path.exists() {
                bail!(
                    "{}: no ledger key; give the public key with --key",
                    path.display()
                );
            }
            assent_ledger::LedgerKey::load(&path)
                .with_context(|| format!("{}: cannot load the ledger key", path.display()))?
                .public_key()
        }
    };
    let store = open_existing(db).await?;
    let start = std::time::Instant::now();
    let report = assent_server::ledger::verify_store(&store, &key).await?;
    let secs = start.elapsed().as_secs_f64();
    store.close().await;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report_json(&report))?);
    } else {
        for p in &report.problems {
            println!(
                "chain {} position {} (row {}): {}",
                p.chain, p.position, p.index, p.kind
            );
        }
    }
    let rate = if secs > 0.0 {
        report.entries as f64 / secs
    } else {
        0.0
    };
    if report.is_ok() {
        eprintln!(
            "ledger OK: {} entries in {} chain(s), {} checkpoint(s), {} redacted payload(s); verified in {:.3} s ({:.0} entries/s)",
            report.entries, report.chains, report.checkpoints, report.redacted, secs, rate
        );
        if report.unchecked_checkpoint_heads > 0 {
            eprintln!(
                "note: {} entries are after the last checkpoint (protected by the hash chain only)",
                report.unchecked_checkpoint_heads
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "ledger FAILED verification: {} problem(s) in {} entries",
            report.problems.len(),
            report.entries
        );
        Ok(ExitCode::from(1))
    }
}

fn report_json(r: &assent_ledger::Report) -> serde_json::Value {
    serde_json::json!({
        "ok": r.is_ok(),
        "entries": r.entries,
        "chains": r.chains,
        "checkpoints": r.checkpoints,
        "redacted": r.redacted,
        "problems": r.problems.iter().map(|p| serde_json::json!({
            "chain": p.chain, "position": p.position, "row": p.index, "problem": p.kind.to_string(),
        })).collect::<Vec<_>>(),
    })
}

fn cmd_receipt_verify(file: &Path, key: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    let receipt = assent_ledger::Receipt::from_json(&text)
        .with_context(|| format!("{}: not an Assent receipt", file.display()))?;
    let key_text =
        std::fs::read_to_string(key).with_context(|| format!("{}: cannot read", key.display()))?;
    let key = assent_ledger::PublicKeyInfo::parse(&key_text)
        .with_context(|| format!("{}: not a public key document", key.display()))?;
    match assent_ledger::verify_receipt(&receipt, &key) {
        Ok(status) => {
            println!(
                "receipt {}: valid ({status:?})",
                receipt
                    .record
                    .get("consentReceiptID")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("receipt INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Escapes a CSV cell that a spreadsheet would run as a formula.
fn csv_cell(s: &str) -> String {
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

fn parse_bound(s: &str, end: bool) -> Result<i64> {
    let ms = assent_model::clock::parse_time(s)
        .ok_or_else(|| anyhow!("`{s}`: expected YYYY-MM-DD or an RFC 3339 time"))?;
    // A plain date as the end bound includes the whole day.
    Ok(if end && s.len() == 10 {
        ms + 86_400_000
    } else {
        ms
    })
}

async fn cmd_export(
    db: &DbArgs,
    site: &str,
    from: &str,
    to: &str,
    format: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
    use std::io::Write;
    let from_ms = parse_bound(from, false).context("--from")?;
    let to_ms = parse_bound(to, true).context("--to")?;
    if to_ms <= from_ms {
        bail!("--to must be after --from");
    }
    let store = open_existing(db).await?;
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
            let v = assent_server::routes::ledger::consent_json(row, entry);
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
    store.close().await;
    eprintln!("exported {n} consent record(s)");
    Ok(ExitCode::SUCCESS)
}

fn cmd_scan(a: ScanArgs) -> Result<ExitCode> {
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
    let report = runtime()?.block_on(assent_scan::scan(&a.url, &declared, opts))?;
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
