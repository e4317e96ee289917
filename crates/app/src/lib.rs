//! Assent's application layer: one service per domain operation, shared by the two front
//! ends. The HTTP server (`assent-server`) and the CLI (`assent`) are thin adapters over it:
//! they parse their input, call one function here, and map the result (and [`AppError`]) to
//! their own vocabulary in one place each. Neither front end imports the other's modules.
//!
//! Layers (dependencies point one way): `model` (pure domain) → `ledger` → `store` →
//! `pages` (rendering) → **`app`** → `server` / `cli`. See `docs/dev/architecture.md`.
//!
//! | module | operations |
//! |---|---|
//! | [`consent`] | record a consent, its canonical record, receipts |
//! | [`policy`] | apply a registry (new policy versions) |
//! | [`access`] | roles and the one table of their rights |
//! | [`accounts`] | people of the console: accounts, passwords, TOTP, logins, sessions |
//! | [`tokens`] | API tokens |
//! | [`rights`] | the data-subject rights workflow, its mails and jobs |
//! | [`retention`] | retention plans and runs, holds, who enforces each rule |
//! | [`exports`] | consent exports, the Art. 30 register |
//! | [`fulfil`] | rights fulfilment on the operator's datastores: access, erase, restrict, rectify |
//! | [`ledger`] | the signing key, audit entries, checkpoints, verification |
//! | [`sites`] | the in-memory cache of current policy versions |
//! | [`marketing`] | marketing choices, the check before a campaign, unsubscribes |
//! | [`stats`] | the dashboard's counters and statistics |

pub mod access;
pub mod accounts;
pub mod consent;
pub mod error;
pub mod exports;
pub mod fulfil;
pub mod ledger;
pub mod marketing;
pub mod metrics;
pub mod policy;
pub mod retention;
pub mod rights;
pub mod scans;
mod secret;
pub mod sites;
pub mod stats;
pub mod throttle;
pub mod tokens;

use std::path::PathBuf;

use assent_model::clock::SharedClock;
use assent_store::{Location, OpenOptions, Store};

pub use error::{AppError, AppResult, Kind};
pub use secret::Secret;

/// What the application layer needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the SQLite database (unless `database` is set) and the ledger key live.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL; `None` for the embedded SQLite database.
    pub database: Option<Secret>,
    /// The registry applied at start, if any.
    pub registry: Option<PathBuf>,
    /// The public base URL, without a trailing slash (receipt and policy links).
    pub public_base: String,
    /// SMTP URL for the rights workflow's emails; `None`: emails are recorded as not sent.
    pub smtp: Option<Secret>,
    pub mail_from: String,
    /// `assent demo`: keep the mails that cannot be sent for `/demo/mail`.
    pub demo: bool,
}

/// Failures of [`App::open`].
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] assent_store::StoreError),
    /// Not a `source`: the message already says it, and `{:#}` would repeat it.
    #[error("ledger key: {0}")]
    Ledger(assent_ledger::LedgerError),
    #[error("{path}: cannot read the registry: {source}")]
    RegistryRead {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Registry(String),
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("ledger key: {0}")]
    InsecureKey(String),
    #[error("marketing key: {0}")]
    MarketingKey(String),
}

impl From<assent_ledger::LedgerError> for OpenError {
    fn from(e: assent_ledger::LedgerError) -> Self {
        OpenError::Ledger(e)
    }
}

/// The application: the store, the clock, the signing key and the caches every operation
/// needs. Front ends hold one (the server behind an `Arc`) and pass `&App` to services.
pub struct App {
    pub settings: Settings,
    /// `settings.public_base`, kept apart because the consent path reads it on every request.
    pub public_base: String,
    pub store: Store,
    pub clock: SharedClock,
    pub metrics: metrics::Metrics,
    pub sites: sites::SiteCache,
    pub ledger: ledger::LedgerService,
    pub checkpointer: tokio::sync::Mutex<ledger::Checkpointer>,
    /// Verification emails per address and hour.
    pub mail_limit: rights::limit::RecipientLimit,
    /// The demo's mail catcher (`assent demo` without SMTP only).
    pub demo_outbox: Option<rights::outbox::Outbox>,
    /// Hashes marketing addresses and signs unsubscribe links (`marketing.key`).
    pub marketing_key: marketing::MarketingKey,
    /// Banner displays counted since the last flush (anonymous, see `stats::shown`).
    pub shown: stats::counter::ShownCounter,
}

impl App {
    /// Opens the store (creating the SQLite database in the data directory if needed), loads
    /// or creates the ledger key and warms the site cache. The configured registry is applied
    /// next, by `policy::apply_configured`.
    pub async fn open(settings: Settings, clock: SharedClock) -> Result<App, OpenError> {
        let dir = &settings.data_dir;
        assent_store::create_private_dir(dir)
            .map_err(|e| OpenError::DataDir(dir.display().to_string(), e))?;
        if let Some(mode) = assent_store::loose_mode(dir) {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{mode:o}"),
                "the data directory holds personal data and the signing key but others may \
                 enter it: chmod 700 it"
            );
        }
        // A signing key that others can read lets them sign checkpoints in Assent's name.
        let key = dir.join("ledger.key");
        if let Some(mode) = assent_store::loose_mode(&key) {
            return Err(OpenError::InsecureKey(format!(
                "{} is readable by others (mode {mode:o}): run `chmod 600 {}` (and consider \
                 the key compromised if others could read it)",
                key.display(),
                key.display()
            )));
        }
        let loc = Location::parse(
            settings.database.as_ref().map(|s| s.expose()),
            &settings.data_dir,
        )?;
        let store = Store::open(&loc, OpenOptions::create()).await?;
        let ledger = ledger::LedgerService::open(&settings.data_dir)?;
        let marketing_key =
            marketing::MarketingKey::open(&settings.data_dir).map_err(OpenError::MarketingKey)?;
        marketing_key
            .check_against(&store)
            .await
            .map_err(OpenError::MarketingKey)?;
        // Sites applied earlier (or by another server sharing the database).
        let site_ids = store.list_sites().await?;
        let sites = sites::SiteCache::default();
        sites.refresh(&store, &site_ids).await?;
        let demo_outbox =
            (settings.demo && settings.smtp.is_none()).then(rights::outbox::Outbox::default);
        Ok(App {
            public_base: settings.public_base.clone(),
            settings,
            store,
            clock,
            metrics: metrics::Metrics::default(),
            sites,
            ledger,
            checkpointer: tokio::sync::Mutex::new(ledger::Checkpointer::default()),
            mail_limit: rights::limit::RecipientLimit::default(),
            demo_outbox,
            marketing_key,
            shown: stats::counter::ShownCounter::default(),
        })
    }

    /// Picks up sites and policy versions applied by other processes sharing the database.
    pub async fn refresh_sites(&self) -> Result<(), assent_store::StoreError> {
        let mut ids = self.sites.site_ids();
        for id in self.store.list_sites().await? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        self.sites.refresh(&self.store, &ids).await
    }

    /// Signs a checkpoint of every chain head if anything was written since the last one;
    /// `Ok(false)` when there was nothing new to sign.
    pub async fn sign_checkpoint(&self) -> AppResult<bool> {
        let now = self.clock.now_ms();
        let made = {
            let mut cp = self.checkpointer.lock().await;
            cp.run_once(&self.store, self.ledger.key(), now)
                .await
                .map_err(|e| AppError::internal(&e))?
        };
        if made {
            self.metrics
                .checkpoints
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(made)
    }

    /// [`App::sign_checkpoint`] for the periodic loop and shutdown: a failure is logged.
    pub async fn checkpoint_now(&self) {
        if let Err(e) = self.sign_checkpoint().await {
            tracing::warn!(error = e.message, "checkpoint failed");
        }
    }

    /// Feeds the Merkle trees with what was written since the last call (between two signed
    /// checkpoints, so that a checkpoint only signs).
    pub async fn feed_checkpointer(&self) {
        let mut cp = self.checkpointer.lock().await;
        if let Err(e) = cp.catch_up(&self.store).await {
            tracing::warn!(error = %e, "feeding the ledger's Merkle trees failed");
        }
    }
}
