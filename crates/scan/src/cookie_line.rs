//! `Set-Cookie` lines and `document.cookie` assignments: the attributes the audit needs.
//!
//! Parsing never fails on odd input: an unknown attribute is ignored, a bad number or date is
//! treated as absent, and a line without a name is `None`.

use crate::dates::parse_http_date;

/// The attributes of a `Set-Cookie` line (or a `document.cookie` assignment) that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieLine {
    /// Cookie name.
    pub name: String,
    /// `Domain` attribute, without its leading dot.
    pub domain: Option<String>,
    /// `Max-Age`, seconds.
    pub max_age: Option<i64>,
    /// `Expires`, epoch milliseconds.
    pub expires_ms: Option<i64>,
}

impl CookieLine {
    /// Lifetime asked for, relative to `now_ms`: `Some(None)` for a session cookie, `None` for
    /// a deletion (zero or negative lifetime).
    pub fn lifetime_seconds(&self, now_ms: i64) -> Option<Option<i64>> {
        let secs = match (self.max_age, self.expires_ms) {
            (Some(m), _) => m,
            (None, Some(e)) => (e - now_ms).div_euclid(1000),
            (None, None) => return Some(None),
        };
        if secs <= 0 { None } else { Some(Some(secs)) }
    }
}

/// Parses `name=value; Attr=...; ...`. `None` when there is no name.
pub fn parse_cookie_line(line: &str) -> Option<CookieLine> {
    let mut parts = line.split(';');
    let first = parts.next()?.trim();
    let name = match first.split_once('=') {
        Some((n, _)) => n.trim(),
        None => first,
    };
    if name.is_empty() {
        return None;
    }
    let mut out = CookieLine {
        name: name.to_owned(),
        domain: None,
        max_age: None,
        expires_ms: None,
    };
    for attr in parts {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match k.to_ascii_lowercase().as_str() {
            "domain" => {
                let d = v.trim_start_matches('.').to_ascii_lowercase();
                if !d.is_empty() {
                    out.domain = Some(d);
                }
            }
            "max-age" => out.max_age = v.parse::<i64>().ok(),
            "expires" => out.expires_ms = parse_http_date(v),
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_lines() {
        let l =
            parse_cookie_line("_ga=GA1.1.2; Max-Age=63072000; Domain=.Shop.test; Path=/").unwrap();
        assert_eq!(l.name, "_ga");
        assert_eq!(l.domain.as_deref(), Some("shop.test"));
        assert_eq!(l.lifetime_seconds(0), Some(Some(63_072_000)));
        let l = parse_cookie_line("sid=1; HttpOnly").unwrap();
        assert_eq!(l.lifetime_seconds(0), Some(None));
        let l = parse_cookie_line("x=; max-age=0").unwrap();
        assert_eq!(l.lifetime_seconds(0), None);
        assert!(parse_cookie_line("=v").is_none());
        let l = parse_cookie_line("a=b; expires=Thu, 01 Jan 1970 00:01:40 GMT").unwrap();
        assert_eq!(l.expires_ms, Some(100_000));
        assert_eq!(l.lifetime_seconds(40_000), Some(Some(60)));
        assert_eq!(l.lifetime_seconds(200_000), None);
    }
}
