//! The console's cookies: the session cookie (a random 256-bit id; the session itself lives
//! in the database, see `assent_app::accounts::sessions`) and the login form's double-submit
//! token. Both are HttpOnly, SameSite=Strict, `Path=/admin`, and Secure when the public base
//! is https. Also: when API tokens were last used, written at most once a minute per token.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie.
pub const SESSION: &str = "assent_session";
/// The login form's double-submit token (before any session exists).
pub const LOGIN_CSRF: &str = "assent_login";

/// The value of cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// `Set-Cookie` for `name=value` living `max_age_secs` (0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// When each API token was last written as used (in memory: it only spaces the writes).
#[derive(Debug, Default)]
pub struct TokenUses(Mutex<HashMap<String, i64>>);

/// Tokens' last use is written at most this often.
const TOKEN_TOUCH_MS: i64 = 60_000;

impl TokenUses {
    /// Whether the use of `id` at `now_ms` should be written.
    pub fn due(&self, id: &str, now_ms: i64) -> bool {
        let Ok(mut m) = self.0.lock() else {
            return false;
        };
        if m.len() > 10_000 {
            m.clear();
        }
        match m.get(id) {
            Some(last) if now_ms - last < TOKEN_TOUCH_MS => false,
            _ => {
                m.insert(id.to_owned(), now_ms);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_touches() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; assent_session=abc"),
        );
        assert_eq!(cookie(&h, SESSION).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_CSRF), None);
        let c = set_cookie(SESSION, "x", 60, true).unwrap();
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly; SameSite=Strict; Path=/admin; Max-Age=60; Secure"));
        let u = TokenUses::default();
        assert!(u.due("t", 0) && !u.due("t", 59_999) && u.due("t", 60_000));
    }
}
