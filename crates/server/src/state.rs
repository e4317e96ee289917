//! Shared application state, cheap to clone (one `Arc`).

use std::ops::Deref;
use std::sync::Arc;

use assent_model::clock::SharedClock;
use assent_store::Store;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::sites::SiteCache;

pub struct Inner {
    pub config: Config,
    /// `config.public_base()`, computed once: the consent path needs it on every request.
    pub public_base: String,
    pub store: Store,
    pub clock: SharedClock,
    pub metrics: Metrics,
    pub sites: SiteCache,
    pub limiter: RateLimiter,
    pub ledger: crate::ledger::LedgerService,
    pub checkpointer: tokio::sync::Mutex<crate::ledger::Checkpointer>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
