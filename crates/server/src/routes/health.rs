use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Liveness: answers as long as the process serves HTTP (no database round trip, so load
/// balancers can probe it often).
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the store answers.
pub async fn readyz(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    st.store
        .ping()
        .await
        .map_err(|_| ApiError::unavailable("the database does not answer"))?;
    Ok(Json(
        json!({"status": "ready", "backend": st.store.backend()}),
    ))
}

pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let sites = st.sites.site_ids().len() as f64;
    let (transactions, requests, flushes) = st.store.write_stats().snapshot();
    let body = st.metrics.render(
        &[("assent_sites", "Sites with a policy version.", sites)],
        &[
            (
                "assent_store_write_transactions_total",
                "Write transactions committed (group commit: many requests each).",
                transactions,
            ),
            (
                "assent_store_write_requests_total",
                "Write requests answered by the store's writer.",
                requests,
            ),
            (
                "assent_store_flushes_total",
                "Durable flushes (SQLite WAL fdatasync, PostgreSQL commits).",
                flushes,
            ),
        ],
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
