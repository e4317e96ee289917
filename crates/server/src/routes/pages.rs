//! Routes of this feature (public and admin), merged into the main router.

use axum::Router;

use crate::state::AppState;

/// Public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// Admin routes, nested under `/admin/v1` (every handler must take `crate::auth::Admin`).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
}
