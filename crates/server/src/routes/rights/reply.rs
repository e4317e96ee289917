//! How the rights pages answer: HTML with a strict content security policy, errors as an
//! HTML message page, and emails sent after the answer.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::routes::headers::set_static;
use crate::state::AppState;
use assent_pages::rights as html;

/// No script, no frame, forms posted back here only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML answer with a strict content security policy (no script at all).
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    set_static(
        resp.headers_mut(),
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
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
    html_response(e.status, html::error_page(lang, &e.message))
}
