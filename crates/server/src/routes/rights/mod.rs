//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads), `api` (the admin API, `/admin/v1/requests...`)
//! and `pages` (the DPO's server-rendered queue with a cookie login for browsers). The
//! workflow itself is `assent_app::rights`.

mod api;
mod pages;
mod public;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use api::*;
pub use pages::*;
pub use public::*;

use crate::error::ApiError;
use crate::rights::html;
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

/// An HTML answer with a strict content security policy (no script at all).
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Sends a submission's verification email after the answer (which must not wait on SMTP).
pub(crate) fn deliver_later(st: &AppState, pending: assent_app::rights::Pending) {
    let st = st.clone();
    tokio::spawn(async move { pending.deliver(&st).await });
}

pub(crate) fn html_error(lang: &str, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    let heading = if lang == "fr" { "Erreur" } else { "Error" };
    html_response(e.status, html::message_page(lang, heading, &e.message))
}
