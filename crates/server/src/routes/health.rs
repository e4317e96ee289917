use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use assent_app::access::Permission;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How often `/readyz` proves that the store can commit.
pub const PROBE_EVERY_MS: i64 = 5_000;

/// Liveness: answers as long as the process serves HTTP (no database round trip, so load
/// balancers can probe it often).
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the store answers, and it can commit. The commit probe (a small durable
/// write) runs at most every [`PROBE_EVERY_MS`]: a read-only file or a full disk makes the
/// server not ready, so that a load balancer stops sending it consents it cannot keep.
pub async fn readyz(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    st.store
        .ping()
        .await
        .map_err(|_| ApiError::unavailable("the database does not answer"))?;
    let now = st.clock.now_ms();
    let last = st.last_commit_probe_ms.load(Ordering::Relaxed);
    if now - last >= PROBE_EVERY_MS || now < last {
        st.store
            .meta_set("readyz_probe_ms", &now.to_string())
            .await
            .map_err(|_| {
                st.last_commit_probe_ms.store(0, Ordering::Relaxed);
                ApiError::unavailable("the database cannot commit (read-only, or the disk is full)")
            })?;
        st.last_commit_probe_ms.store(now, Ordering::Relaxed);
    }
    Ok(Json(
        json!({"status": "ready", "backend": st.store.backend()}),
    ))
}

/// `GET /metrics`: Prometheus text. Needs a bearer token whose role may read, unless
/// `metrics_public` is set.
pub async fn metrics(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if !st.config.metrics_public {
        auth::authenticate(&st, &headers, Some(peer))
            .await?
            .require(Permission::Read)?;
    }
    Ok(render_metrics(&st).into_response())
}

fn render_metrics(st: &AppState) -> impl IntoResponse {
    let sites = st.sites.site_ids().len() as f64;
    let w = st.store.write_stats().snapshot();
    let flush_bounds: Vec<f64> = assent_store::FLUSH_BOUNDS_US
        .iter()
        .map(|us| *us as f64 / 1e6)
        .collect();
    let body = st.metrics.render(
        &[("assent_sites", "Sites with a policy version.", sites)],
        &[
            (
                "assent_store_write_transactions_total",
                "Write transactions committed (group commit: many requests each).",
                w.transactions,
            ),
            (
                "assent_store_write_requests_total",
                "Write requests answered by the store's writer.",
                w.requests,
            ),
            (
                "assent_store_flushes_total",
                "Durable flushes (SQLite WAL fdatasync, PostgreSQL commits).",
                w.flushes,
            ),
        ],
        &[assent_app::metrics::Histogram {
            name: "assent_store_flush_duration_seconds",
            help: "Duration of durable flushes (SQLite WAL fdatasync; PostgreSQL: the batch's \
                   transaction with its commit). Every acknowledged write waits for one.",
            bounds_s: &flush_bounds,
            counts: &w.flush_hist,
            sum_s: w.flush_us as f64 / 1e6,
        }],
    );
    let body = body + &st.metrics.retention.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
