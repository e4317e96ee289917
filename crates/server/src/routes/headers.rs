//! Fixed response headers written as tables: the routes that answer by hand (HTML pages,
//! policy documents, CORS preflights) list the headers they set instead of repeating one
//! `insert` each. Values are static, so setting them cannot fail.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Sets each `(name, value)`, replacing what was there.
pub(crate) fn set_static(h: &mut HeaderMap, pairs: &[(HeaderName, &'static str)]) {
    for (name, value) in pairs {
        h.insert(name.clone(), HeaderValue::from_static(value));
    }
}
