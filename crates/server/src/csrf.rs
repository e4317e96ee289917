//! Cross-site request forgery, refused twice on every console form post:
//!
//! 1. **Same origin.** `Origin` must be the public base. Browsers send `Origin: null` in
//!    some cases (a `no-referrer` policy, privacy settings): then `Sec-Fetch-Site` decides
//!    (`same-origin` only), then `Referer`; a request with none of these (not a browser) is
//!    left to the token.
//! 2. **A synchronizer token.** Each session has a random token that every form carries in
//!    a hidden field `csrf` (urlencoded or multipart); it must equal the session's.

use axum::http::{HeaderMap, header};

use crate::multipart;

/// Largest console form body (an answer with its attachment), as the admin API's.
pub const MAX_FORM_BODY: usize = 4 * 1024 * 1024;

/// Whether the request's origin headers allow a form post to `base` (no trailing slash).
pub fn same_origin(headers: &HeaderMap, base: &str) -> bool {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    match h(header::ORIGIN) {
        Some("null") | None => {}
        Some(o) => return o.trim_end_matches('/') == base,
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    match h(header::REFERER) {
        Some(r) => r == base || r.starts_with(&format!("{base}/")),
        None => true,
    }
}

/// The `csrf` field of a form body (urlencoded or multipart).
pub fn form_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/x-www-form-urlencoded") {
        let s = std::str::from_utf8(body).ok()?;
        return s.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == "csrf").then(|| v.to_owned())
        });
    }
    let parts = multipart::parse(ct, body).ok()?;
    let p = parts.into_iter().find(|p| p.name == "csrf")?;
    String::from_utf8(p.data).ok()
}

/// Whether `presented` is the session's token (constant time).
pub fn token_ok(presented: Option<&str>, expected: &str) -> bool {
    match presented {
        Some(p) if !expected.is_empty() => {
            assent_app::accounts::password::constant_time_eq(p.as_bytes(), expected.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        let base = "https://assent.example";
        assert!(same_origin(
            &headers(&[("origin", "https://assent.example")]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            base
        ));
        let null_same = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert!(same_origin(&null_same, base));
        let null_cross = headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]);
        assert!(!same_origin(&null_cross, base));
        let referer = headers(&[
            ("origin", "null"),
            ("referer", "https://assent.example/admin/"),
        ]);
        assert!(same_origin(&referer, base));
        let evil = headers(&[("referer", "https://assent.example.evil.example/")]);
        assert!(!same_origin(&evil, base));
        assert!(same_origin(&HeaderMap::new(), base));
    }

    #[test]
    fn tokens() {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(
            form_token(&h, b"a=1&csrf=ab12&b=2").as_deref(),
            Some("ab12")
        );
        assert_eq!(form_token(&h, b"a=1"), None);
        assert!(token_ok(Some("ab"), "ab") && !token_ok(Some("ab"), "ac"));
        assert!(!token_ok(None, "ab") && !token_ok(Some(""), ""));
    }
}
