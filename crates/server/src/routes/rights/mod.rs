//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads), `api` (the admin API, `/admin/v1/requests...`)
//! and `pages` (the DPO's server-rendered queue with a cookie login for browsers). The
//! workflow itself is `assent_app::rights`.

mod api;
mod pages;
mod public;
mod reply;

use axum::Router;
use axum::routing::{get, post};

pub use api::*;
pub use pages::*;
pub use public::*;

use crate::state::AppState;

/// Public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{site}/rights", get(form_page).post(form_submit))
        .route(
            "/sites/{site}/rights/verify",
            get(code_page).post(code_submit),
        )
        .route("/v1/requests", post(api_submit))
        .route("/v1/requests/verify", get(verify_link))
        .route("/v1/requests/{id}/download/{attachment}", get(download))
        .route("/admin/requests", get(queue_page))
        .route("/admin/requests/{id}", get(detail_page))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
}

/// Admin routes, nested under `/admin/v1` (every handler must take `crate::auth::Admin`).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/notes", post(add_note))
        .route("/requests/{id}/start", post(start))
        .route("/requests/{id}/extend", post(extend))
        .route("/requests/{id}/complete", post(complete))
        .route("/requests/{id}/reject", post(reject))
}
