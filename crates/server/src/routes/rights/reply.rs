//! How the rights pages answer: HTML with a strict content security policy, errors as an
//! HTML message page, and emails sent after the answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use assent_pages::rights as html;

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
    html_response(e.status, html::error_page(lang, &e.message))
}
