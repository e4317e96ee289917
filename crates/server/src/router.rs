//! Every route of Assent, in one place.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::routes::{admin, banner, consent, health, ledger, pages, rights, wellknown};
use crate::state::AppState;

/// Largest admin request body (a registry, an attachment).
pub const ADMIN_MAX_BODY: usize = 4 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let cfg = &state.config;
    let admin = Router::new()
        .route("/whoami", get(admin::whoami))
        .route("/sites", get(admin::sites))
        .route("/sites/{site}/policy-versions", get(admin::policy_versions))
        .route("/registry", post(admin::apply))
        .route("/consents", get(ledger::consents))
        .route("/consents/{receipt}/erase", post(ledger::erase))
        .route("/ledger/checkpoints", post(ledger::force_checkpoint))
        .merge(banner::admin_routes())
        .merge(pages::admin_routes())
        .merge(rights::admin_routes())
        // Registries and attachments are larger than public request bodies.
        .layer(DefaultBodyLimit::max(ADMIN_MAX_BODY));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/.well-known/gpc.json", get(wellknown::gpc))
        .route("/.well-known/assent-ledger-key", get(wellknown::ledger_key))
        .route(
            "/v1/sites/{site}/consents",
            post(consent::create).options(consent::preflight),
        )
        .route("/v1/receipts/{id}", get(consent::receipt))
        .route("/v1/ledger/checkpoint", get(ledger::latest_checkpoint))
        .merge(banner::routes())
        .merge(pages::routes())
        .merge(rights::routes())
        .nest("/admin/v1", admin)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.request_timeout_secs.max(1)),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(&"handler panicked").into_response()
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}

/// Metrics and one log line per request. The log names the route template (never the raw
/// path or query, which may hold identifiers) and never the client's address.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let status = resp.status().as_u16();
    st.metrics.observe(status, micros);
    if status >= 500 {
        tracing::warn!(%method, route, status, micros, "request");
    } else {
        tracing::debug!(%method, route, status, micros, "request");
    }
    resp
}
