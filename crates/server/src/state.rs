//! Shared server state, cheap to clone (one `Arc`): the application ([`assent_app::App`]) and
//! what only HTTP needs (the configuration, the per-client rate limiter). It dereferences to
//! the application, so handlers write `st.store` or `st.sites` and pass `&st` to services.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::Config;
use crate::ratelimit::RateLimiter;

pub struct Inner {
    pub config: Config,
    pub app: assent_app::App,
    pub limiter: RateLimiter,
    /// Failed authentications per client network (bearer tokens of the admin API).
    pub auth_failures: RateLimiter,
    /// When `/readyz` last committed its probe (0: never, or it failed).
    pub last_commit_probe_ms: std::sync::atomic::AtomicI64,
    /// When API tokens were last recorded as used (spaces the writes).
    pub token_uses: crate::sessions::TokenUses,
}

impl Deref for Inner {
    type Target = assent_app::App;
    fn deref(&self) -> &assent_app::App {
        &self.app
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
