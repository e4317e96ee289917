//! `assent dsr access|erase`: fulfil a data-subject request on the operator's own databases
//! (the registry's `[[datastores]]`) from the command line: an access package, or an erasure
//! (with `--dry-run`, the plan). With `--data` or `--database` Assent's own records are
//! searched (access) or erased (the consent records found by `--subject`/`--receipt`,
//! through the ledger's redaction) and the erasure receipt is appended to the ledger;
//! without them the command says what it skipped. It never creates a data directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use assent_app::fulfil::{self, ErasureKey, ErasureRun, Fulfilment, Subject};
use assent_model::clock::{Clock, SystemClock};
use assent_store::{Location, OpenOptions, Store};

use crate::check::load_registry;
use crate::common::app_error;

#[derive(Subcommand)]
pub(crate) enum DsrCmd {
    /// Write an access package (data.json, one CSV per table, index.html) for a person.
    Access {
        #[command(flatten)]
        who: WhoArgs,
        /// Output directory (created; must be empty).
        #[arg(long)]
        out: PathBuf,
        /// Language of index.html (fr, en, de).
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Erase a person's data as the registry's annotations say (one transaction per datastore).
    Erase {
        #[command(flatten)]
        who: WhoArgs,
        /// Print what would be deleted and masked; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Who the request is for, and where the registry and Assent's own data are.
#[derive(Args)]
pub(crate) struct WhoArgs {
    /// The registry whose [[datastores]] describe the databases.
    #[arg(long)]
    registry: PathBuf,
    /// The person's email (matched case-insensitively).
    #[arg(long)]
    email: Option<String>,
    /// The person's phone number (matched exactly).
    #[arg(long)]
    phone: Option<String>,
    /// Another identity, KIND=VALUE (e.g. customer_number=1042); repeatable.
    #[arg(long = "identity")]
    identities: Vec<String>,
    /// A consent subject id, for Assent's own consent records; repeatable.
    #[arg(long = "subject")]
    subjects: Vec<String>,
    /// A consent receipt id, for Assent's own consent records; repeatable.
    #[arg(long = "receipt")]
    receipts: Vec<String>,
    /// Assent's data directory (its own records, the ledger, erasure.key).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Assent's database URL (PostgreSQL or sqlite://), instead of --data.
    #[arg(long, hide_env_values = true)]
    database: Option<String>,
}

impl WhoArgs {
    fn subject(&self) -> Result<Subject> {
        let mut s = Subject::parse(
            self.email.as_deref(),
            self.phone.as_deref(),
            &self.identities,
        )
        .map_err(app_error)?;
        s.consent_subjects = self.subjects.clone();
        s.receipts = self.receipts.clone();
        Ok(s)
    }

    /// Assent's own store, when asked for; never created.
    async fn store(&self) -> Result<Option<Store>> {
        if self.data.is_none() && self.database.is_none() {
            return Ok(None);
        }
        let dir = self.data.clone().unwrap_or_else(|| PathBuf::from("."));
        if self.database.is_none() && !dir.join(assent_store::SQLITE_FILE_NAME).is_file() {
            bail!(
                "{}: no Assent database there (it is never created by this command)",
                dir.display()
            );
        }
        let loc = Location::parse(self.database.as_deref(), &dir)?;
        Ok(Some(Store::open(&loc, OpenOptions::existing()).await?))
    }
}

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

fn print_failures(failures: &[fulfil::StoreFailure]) {
    for f in failures {
        eprintln!("assent: error: {f}");
    }
}

pub(crate) async fn cmd_dsr(cmd: DsrCmd) -> Result<ExitCode> {
    match cmd {
        DsrCmd::Access { who, out, lang } => access(&who, &out, &lang).await,
        DsrCmd::Erase { who, dry_run, json } => erase(&who, dry_run, json).await,
    }
}

async fn access(who: &WhoArgs, out: &Path, lang: &str) -> Result<ExitCode> {
    let (registry, _) = load_registry(&who.registry)?;
    let subject = who.subject()?;
    let store = who.store().await?;
    let f = Fulfilment::new(&registry);
    let found = fulfil::access(&f, &subject, store.as_ref())
        .await
        .map_err(app_error)?;
    let generated = jiff::Timestamp::from_millisecond(now_ms())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let files =
        fulfil::write_package(&registry, &found, out, lang, &generated).map_err(app_error)?;
    let rows: usize = found.tables.iter().map(|t| t.rows.len()).sum();
    println!(
        "{}: {} file(s), {rows} row(s) from {} table(s)",
        out.display(),
        files.len(),
        found.tables.iter().filter(|t| !t.rows.is_empty()).count()
    );
    if found.is_empty() {
        println!("nobody matches: the package says no data was found");
    }
    if store.is_none() {
        println!("Assent's own records (consents, requests) skipped: give --data or --database");
    }
    print_failures(&found.failures);
    Ok(if found.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_run(run: &ErasureRun) {
    if run.dry_run {
        println!("dry run: nothing was changed");
    }
    for d in &run.datastores {
        println!("datastore {}:", d.datastore);
        for t in &d.tables {
            let what = match t.action {
                "delete" if run.dry_run => "rows to delete".to_string(),
                "delete" => "rows deleted".to_string(),
                "kept" => "rows kept for a legal obligation (restricted)".to_string(),
                _ if run.dry_run => format!("rows to mask ({})", t.columns.join(", ")),
                _ => format!("rows masked ({})", t.columns.join(", ")),
            };
            println!("  {:<24} {:>8} {what}", t.table, t.rows);
        }
    }
}

async fn erase(who: &WhoArgs, dry_run: bool, as_json: bool) -> Result<ExitCode> {
    let (registry, _) = load_registry(&who.registry)?;
    let subject = who.subject()?;
    let f = Fulfilment::new(&registry);
    let run = if dry_run {
        fulfil::preview(&f, &subject).await
    } else {
        let key = ErasureKey::load(who.data.as_deref()).map_err(app_error)?;
        let store = who.store().await?;
        let run = fulfil::erase(&f, &subject, &key, store.as_ref(), now_ms())
            .await
            .map_err(app_error)?;
        if let Some(s) = store {
            s.close().await;
        }
        run
    };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        print_run(&run);
        if let Some(o) = &run.own {
            println!(
                "Assent's own records: {} consent record(s) erased through the ledger's redaction, \
                 {} already erased; {} rights request(s) kept as the proof of handling",
                o.consents_erased, o.consents_already_erased, o.requests_kept
            );
        } else if !dry_run {
            println!(
                "Assent's own records (consents, requests) skipped: give --data or --database"
            );
        }
        if !dry_run {
            if run.recorded {
                println!(
                    "erasure receipt appended to the ledger (subject {})",
                    run.subject
                );
            } else {
                println!(
                    "erasure receipt NOT recorded: give --data or --database to append it to the ledger (subject {})",
                    run.subject
                );
            }
        }
    }
    print_failures(&run.failures);
    Ok(if run.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
