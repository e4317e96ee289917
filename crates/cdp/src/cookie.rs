//! Cookies as the browser stores them, read from a browser context.
//!
//! Parsing is tolerant: fields missing from an older Chromium take defaults and fields added
//! by a newer one are ignored, so a protocol change never fails a cookie read.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{CdpError, Result};
use crate::session::Session;

/// A cookie from the browser's cookie store (`Network.Cookie`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    #[serde(default)]
    pub value: String,
    /// Domain; a leading dot means "this domain and its subdomains".
    #[serde(default)]
    pub domain: String,
    /// Path.
    #[serde(default)]
    pub path: String,
    /// Expiry in seconds since the epoch; `-1` (or `session == true`) for a session cookie.
    #[serde(default = "minus_one")]
    pub expires: f64,
    /// Size in bytes (name + value).
    #[serde(default)]
    pub size: u64,
    /// Not readable from JavaScript.
    #[serde(default)]
    pub http_only: bool,
    /// Sent over secure channels only.
    #[serde(default)]
    pub secure: bool,
    /// A session cookie (no expiry).
    #[serde(default)]
    pub session: bool,
    /// `Strict`, `Lax` or `None` when set explicitly.
    #[serde(default)]
    pub same_site: Option<String>,
    /// `Low`, `Medium` or `High`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `Secure`, `NonSecure` or `Unset`.
    #[serde(default)]
    pub source_scheme: Option<String>,
    /// The port of the origin that set it.
    #[serde(default)]
    pub source_port: Option<i64>,
    /// Partition key of a partitioned (CHIPS) cookie; its shape varies across versions.
    #[serde(default)]
    pub partition_key: Option<Value>,
}

fn minus_one() -> f64 {
    -1.0
}

impl Cookie {
    /// Expiry in epoch milliseconds, `None` for a session cookie.
    pub fn expires_at_ms(&self) -> Option<i64> {
        if self.session || !self.expires.is_finite() || self.expires <= 0.0 {
            None
        } else {
            // Saturating float-to-int conversion; cookie expiries are capped at 400 days anyway.
            Some((self.expires * 1000.0) as i64)
        }
    }

    /// The domain without its leading dot, lower-cased.
    pub fn host(&self) -> String {
        self.domain.trim_start_matches('.').to_ascii_lowercase()
    }
}

/// `Storage.getCookies` for a context (`None`: the default one).
pub(crate) async fn get_cookies(browser: &Session, context: Option<&str>) -> Result<Vec<Cookie>> {
    let params = match context {
        Some(id) => json!({ "browserContextId": id }),
        None => json!({}),
    };
    let v = browser.call("Storage.getCookies", params).await?;
    let cookies = v
        .get("cookies")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    serde_json::from_value(cookies).map_err(|e| CdpError::UnexpectedResponse {
        method: "Storage.getCookies".into(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_parsing_tolerates_missing_and_new_fields() {
        let c: Cookie = serde_json::from_value(json!({
            "name": "a", "value": "b", "domain": ".example.com", "path": "/",
            "expires": -1, "size": 2, "httpOnly": true, "secure": false, "session": true,
            "priority": "Medium", "sameParty": false, "partitionKey": {"topLevelSite": "x", "hasCrossSiteAncestor": false}
        }))
        .unwrap();
        assert!(c.http_only);
        assert_eq!(c.expires_at_ms(), None);
        assert_eq!(c.host(), "example.com");
        let c: Cookie =
            serde_json::from_value(json!({"name": "x", "expires": 1700000000.5})).unwrap();
        assert_eq!(c.expires_at_ms(), Some(1_700_000_000_500));
    }
}
