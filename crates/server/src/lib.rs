//! Assent's HTTP server: public endpoints (banner, consent API, receipts, policy pages,
//! rights requests), the admin API and UI, and background jobs. `build(config)` opens the
//! store and applies the registry; `App::run(listener, shutdown)` serves until shutdown.

pub mod auth;
pub mod banner;
mod catalog;
pub mod config;
pub mod console_reply;
pub mod csrf;
pub mod error;
pub mod guard;
pub mod json;
pub mod multipart;
pub mod ratelimit;
pub mod router;
pub mod routes;
pub mod serve;
pub mod sessions;
pub mod state;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use assent_model::clock::SharedClock;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::{AppState, Inner};

pub use assent_app::OpenError as BuildError;

pub struct App {
    pub state: AppState,
}

/// Opens the application (store, ledger key, registry, site cache: `assent_app::App::open`)
/// with the server's configuration.
pub async fn build(config: Config, clock: SharedClock) -> Result<App, BuildError> {
    let settings = assent_app::Settings {
        data_dir: config.data_dir.clone(),
        database: config.database.clone(),
        registry: config.registry.clone(),
        public_base: config.public_base(),
        smtp: config.smtp.clone(),
        mail_from: config.mail_from.clone(),
        demo: config.demo,
    };
    let app = assent_app::App::open(settings, clock).await?;
    assent_app::policy::apply_configured(&app).await?;
    let limiter = ratelimit::RateLimiter::new(config.rate_limit);
    let state = AppState(Arc::new(Inner {
        config,
        app,
        limiter,
        auth_failures: ratelimit::RateLimiter::new(config::RateLimit {
            per_second: 1,
            burst: 20,
        }),
        last_commit_probe_ms: std::sync::atomic::AtomicI64::new(0),
        token_uses: sessions::TokenUses::default(),
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
        let rights_jobs = tokio::spawn(rights_job_loop(state.clone()));
        let retention = tokio::spawn(retention_loop(state.clone()));
        let scans = tokio::spawn(scan_loop(state.clone()));
        let stats = tokio::spawn(stats_loop(state.clone()));
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
        retention.abort();
        scans.abort();
        stats.abort();
        if let Err(e) = assent_app::stats::shown::flush(&state).await {
            tracing::warn!(
                error = e.message,
                "counting the last banner displays failed"
            );
        }
        // Sign what was written before stopping, so receipts of the last minute are anchored.
        state.checkpoint_now().await;
        state.store.clone().close().await;
        res
    }
}

/// Picks up policy versions applied by other processes sharing the database.
async fn refresh_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Err(e) = state.refresh_sites().await {
            tracing::warn!(error = %e, "site refresh failed");
        }
    }
}

/// Runs the rights workflow's due jobs (reminders, retention) every minute.
async fn rights_job_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = assent_app::rights::jobs::run_due_jobs(&state, state.clock.now_ms()).await {
            tracing::warn!(error = e.message, "rights jobs failed");
        }
        // Double opt-in: retries of confirmation emails, expiry of unconfirmed requests.
        if let Err(e) = assent_app::marketing::record::run_jobs(&state, state.clock.now_ms()).await
        {
            tracing::warn!(error = e.message, "marketing jobs failed");
        }
    }
}

/// Runs retention every `retention_interval_secs` (daily by default; the first run a minute
/// after start, so a restart loop cannot purge in a tight loop). Servers sharing PostgreSQL
/// take turns: the one holding the retention lock runs, the others skip.
async fn retention_loop(state: AppState) {
    let secs = state.config.retention_interval_secs;
    if secs == 0 {
        return;
    }
    let every = Duration::from_secs(secs);
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match assent_app::retention::scheduled_run(&state).await {
            Ok(Some(rep)) => {
                let purged: i64 = rep.rules.iter().map(|r| r.deleted + r.anonymised).sum();
                let failed = rep.rules.iter().filter(|r| r.status == "failed").count();
                tracing::info!(purged, failed, "retention run");
            }
            Ok(None) => tracing::debug!("retention run skipped: another server runs it"),
            Err(e) => tracing::warn!(error = e.message, "retention run failed"),
        }
    }
}

/// Every `scan_poll_secs`: queues the scans of due schedules, then runs the queue, one scan
/// at a time (the browser is the heaviest thing this machine runs). Servers sharing
/// PostgreSQL take turns through the scan lock.
async fn scan_loop(state: AppState) {
    let secs = state.config.scan_poll_secs;
    if secs == 0 {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = assent_app::scans::enqueue_due(&state).await {
            tracing::warn!(error = e.message, "scan schedules failed");
        }
        loop {
            match assent_app::scans::run_next(&state, assent_app::scans::ScanOptions::default).await
            {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = e.message, "scan queue failed");
                    break;
                }
            }
        }
    }
}

/// The dashboard's counters: adds the banner displays counted in memory every ten seconds,
/// and counts the consents recorded before the counters existed (once, in steps).
async fn stats_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut backfilling = true;
    loop {
        tick.tick().await;
        if let Err(e) = assent_app::stats::shown::flush(&state).await {
            tracing::warn!(error = e.message, "counting banner displays failed");
        }
        while backfilling {
            match assent_app::stats::backfill::step(&state, assent_app::stats::backfill::STEP).await
            {
                Ok(0) => backfilling = false,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::warn!(error = e.message, "counting earlier consents failed");
                    break;
                }
            }
        }
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
            state.checkpoint_now().await;
        } else {
            state.feed_checkpointer().await;
        }
    }
}

/// How often the checkpoint loop feeds the Merkle trees between two signed checkpoints.
const FEED_INTERVAL: Duration = Duration::from_secs(1);
