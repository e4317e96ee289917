//! Assent's HTTP server: public endpoints (banner, consent API, receipts, policy pages,
//! rights requests), the admin API and UI, and background jobs. `build(config)` opens the
//! store and applies the registry; `App::run(listener, shutdown)` serves until shutdown.

pub mod auth;
pub mod banner;
pub mod config;
pub mod error;
pub mod json;
pub mod ledger;
pub mod metrics;
pub mod ops;
pub mod ratelimit;
pub mod rights;
pub mod router;
pub mod routes;
pub mod serve;
pub mod sites;
pub mod state;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use assent_model::clock::SharedClock;
use assent_store::{Location, OpenOptions, Store};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::{AppState, Inner};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Store(#[from] assent_store::StoreError),
    #[error("ledger key: {0}")]
    Ledger(#[from] assent_ledger::LedgerError),
    #[error("{path}: cannot read the registry: {source}")]
    RegistryRead {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Registry(String),
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
}

pub struct App {
    pub state: AppState,
}

/// Opens the store (creating the SQLite database in the data directory if needed), loads or
/// creates the ledger key, applies the configured registry and warms the site cache.
pub async fn build(config: Config, clock: SharedClock) -> Result<App, BuildError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| BuildError::DataDir(config.data_dir.display().to_string(), e))?;
    let loc = Location::parse(
        config.database.as_ref().map(|s| s.expose()),
        &config.data_dir,
    )?;
    let store = Store::open(&loc, OpenOptions::create()).await?;
    let ledger = ledger::LedgerService::open(&config.data_dir)?;
    let mut site_ids = vec![];
    if let Some(path) = &config.registry {
        let src = std::fs::read_to_string(path).map_err(|e| BuildError::RegistryRead {
            path: path.display().to_string(),
            source: e,
        })?;
        let file = path.display().to_string();
        let registry = match assent_model::check::parse(&src) {
            Ok((r, _)) => r,
            Err(errs) => {
                let lines: Vec<String> = errs.iter().map(|d| d.render(&file)).collect();
                return Err(BuildError::Registry(lines.join("\n")));
            }
        };
        let applied = ops::apply_registry(&store, clock.as_ref(), &registry, &src).await?;
        for a in &applied {
            if a.created {
                tracing::info!(site = %a.site, version = a.version, fresh = a.requires_fresh_consent, "new policy version");
            }
        }
        site_ids = registry.sites.iter().map(|s| s.id.clone()).collect();
    }
    // Sites applied earlier (or by another server sharing the database) are served too.
    for id in store.list_sites().await? {
        if !site_ids.contains(&id) {
            site_ids.push(id);
        }
    }
    let sites = sites::SiteCache::default();
    sites.refresh(&store, &site_ids).await?;
    let limiter = ratelimit::RateLimiter::new(config.rate_limit);
    let state = AppState(Arc::new(Inner {
        public_base: config.public_base(),
        config,
        store,
        clock,
        metrics: metrics::Metrics::default(),
        sites,
        limiter,
        ledger,
        checkpointer: tokio::sync::Mutex::new(ledger::Checkpointer::default()),
    }));
    Ok(App { state })
}

impl App {
    pub fn router(&self) -> axum::Router {
        router::router(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and flushes the store.
    /// Connections are bounded by `config.connections` (see [`serve`]).
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let refresher = tokio::spawn(refresh_loop(state.clone()));
        let checkpoints = tokio::spawn(checkpoint_loop(state.clone()));
        let rights_jobs = tokio::spawn(rights::jobs::job_loop(state.clone()));
        let limits = serve::Limits::from_config(&state.config.connections);
        tracing::info!(
            max_connections = limits.max_connections,
            max_per_network = limits.max_per_network,
            header_timeout_ms = state.config.connections.header_timeout_ms,
            idle_timeout_ms = state.config.connections.idle_timeout_ms,
            "connection limits"
        );
        // Connections are counted per network under the rate limiter's key (a salted hash of
        // the /24 or /48, so no address is kept); a trusted proxy carries many clients and
        // counts only against the global cap.
        let keys = state.clone();
        let network_key = move |ip: IpAddr| {
            let proxy = keys.config.trusted_proxies.iter().any(|c| c.contains(ip));
            (!proxy).then(|| keys.limiter.key(ip))
        };
        let res = serve::serve(listener, self.router(), limits, network_key, shutdown).await;
        refresher.abort();
        checkpoints.abort();
        rights_jobs.abort();
        // Sign what was written before stopping, so receipts of the last minute are anchored.
        checkpoint_now(&state).await;
        state.store.clone().close().await;
        res
    }
}

/// Picks up policy versions applied by other processes sharing the database.
async fn refresh_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let mut ids = state.sites.site_ids();
        if let Ok(all) = state.store.list_sites().await {
            for id in all {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        if let Err(e) = state.sites.refresh(&state.store, &ids).await {
            tracing::warn!(error = %e, "site refresh failed");
        }
    }
}

async fn checkpoint_now(state: &AppState) {
    let now = state.clock.now_ms();
    let mut cp = state.checkpointer.lock().await;
    match cp.run_once(&state.store, state.ledger.key(), now).await {
        Ok(true) => {
            state
                .metrics
                .checkpoints
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
    }
}

/// Signs the chain heads every `checkpoint_interval_secs`, and in between feeds the Merkle
/// trees every [`FEED_INTERVAL`] with what was written since: a checkpoint then only signs,
/// instead of hashing a whole interval's entries at once (at 30,000 consents/s, a minute's
/// backlog is about a second of hashing, which held up the requests served meanwhile).
async fn checkpoint_loop(state: AppState) {
    let every = Duration::from_secs(state.config.checkpoint_interval_secs.max(1));
    let mut tick = tokio::time::interval(FEED_INTERVAL.min(every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate
    let mut next_signing = tokio::time::Instant::now() + every;
    loop {
        let now = tick.tick().await;
        if now >= next_signing {
            next_signing = now + every;
            checkpoint_now(&state).await;
        } else {
            let mut cp = state.checkpointer.lock().await;
            if let Err(e) = cp.catch_up(&state.store).await {
                tracing::warn!(error = %e, "feeding the ledger's Merkle trees failed");
            }
        }
    }
}

/// How often the checkpoint loop feeds the Merkle trees between two signed checkpoints.
const FEED_INTERVAL: Duration = Duration::from_secs(1);
