use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;

/// Global Privacy Control support resource (W3C GPC, section 3.4).
pub async fn gpc() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        Json(json!({"gpc": true, "lastUpdate": "2026-11-25"})),
    )
}

/// The ledger's public key, for offline verification of receipts and checkpoints.
pub async fn ledger_key(State(st): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        st.ledger.public_key_info().to_json(),
    )
}
