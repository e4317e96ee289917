//! Guards the public handlers share: the per-client rate limit, applied with the state's
//! limiter and the configured trusted proxies.

use std::net::SocketAddr;

use axum::http::HeaderMap;

use crate::error::{ApiError, ApiResult};
use crate::ratelimit::client_ip;
use crate::state::AppState;

/// Applies the per-client rate limit of the public endpoints.
pub fn rate_limit(st: &AppState, peer: SocketAddr, headers: &HeaderMap) -> ApiResult<()> {
    if !st.limiter.enabled() {
        return Ok(());
    }
    let ip = client_ip(peer, headers, &st.config.trusted_proxies);
    st.limiter
        .check(st.limiter.key(ip), st.clock.now_ms())
        .map_err(|retry| {
            st.metrics
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ApiError::too_many(retry)
        })
}
