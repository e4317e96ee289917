//! Syntax of the registry's small values (ids, language codes, URLs, countries, e-mail
//! addresses, host names) and the lints every section shares: a malformed URL or address, a
//! reference to an id that does not exist.
//!
//! Invariants: the predicates are pure and accept only what pages and the banner can show
//! safely (only http(s) URLs; no whitespace, quotes or angle brackets in addresses); a lint
//! names the offending element's own path, so the diagnostic points at it.

use std::collections::HashSet;

use super::diag::{Lints, Seg, join};

pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(crate) fn valid_lang(l: &str) -> bool {
    let ok_len = (2..=3).contains(&l.len()) || (l.len() == 5 && l.as_bytes().get(2) == Some(&b'-'));
    ok_len && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
}

/// Only http(s) URLs are allowed: a `javascript:` or `data:` URL in a policy page is an attack.
pub(crate) fn valid_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://"))
        && u.len() > 8
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c.is_control())
}

pub(crate) fn valid_country(c: &str) -> bool {
    c == "EU" || (c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))
}

pub(crate) fn valid_email(e: &str) -> bool {
    let mut parts = e.splitn(2, '@');
    let (Some(local), Some(domain)) = (parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

pub(crate) fn valid_host(h: &str) -> bool {
    let h = h.strip_prefix('.').unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && h == h.to_ascii_lowercase()
}

/// An optional URL must be http(s).
pub(crate) fn url(l: &mut Lints, path: Vec<Seg>, u: Option<&String>) {
    if let Some(u) = u
        && !valid_url(u)
    {
        l.error(path, format!("`{u}` is not an http(s) URL"));
    }
}

/// An optional e-mail address must look like one.
pub(crate) fn email(l: &mut Lints, path: Vec<Seg>, e: Option<&String>) {
    if let Some(e) = e
        && !valid_email(e)
    {
        l.error(path, format!("invalid email address `{e}`"));
    }
}

/// Each id of the list at `path` must be declared (`known`): else "unknown {what} `id`".
pub(crate) fn refs(
    l: &mut Lints,
    path: Vec<Seg>,
    ids: &[String],
    known: &HashSet<&str>,
    what: &str,
) {
    for (j, id) in ids.iter().enumerate() {
        if !known.contains(id.as_str()) {
            l.error(join(&path, j), format!("unknown {what} `{id}`"));
        }
    }
}
