//! Lints of `[[sites]]`: the host names a site is served on (each owned by one site), its cookie
//! domain, its languages, its consent lifetime and the purposes and services it lists. The
//! translations its languages require are checked with every other text (`texts.rs`).
//!
//! Invariants: a domain belongs to one site only (the consent API trusts origins by it); the
//! cookie domain covers one of the site's domains; the consent lifetime is within CNIL's 13
//! months.

use std::collections::{BTreeMap, HashSet};

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::{refs, url, valid_host, valid_lang};
use crate::registry::{DEFAULT_CONSENT_LIFETIME_DAYS, MAX_CONSENT_LIFETIME_DAYS, Registry, Site};

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    if r.sites.is_empty() {
        l.error(
            p!["sites"],
            "the registry declares no site: add a [[sites]] table",
        );
    }
    let mut domains_seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, s) in r.sites.iter().enumerate() {
        domains(s, i, &mut domains_seen, l);
        languages(s, i, l);
        if s.consent_lifetime_days == 0 || s.consent_lifetime_days > MAX_CONSENT_LIFETIME_DAYS {
            l.error(
                p!["sites", i, "consent_lifetime_days"],
                format!(
                    "consent lifetime of {} days is out of range: 1 to {MAX_CONSENT_LIFETIME_DAYS} days (13 months); CNIL recommends {DEFAULT_CONSENT_LIFETIME_DAYS} (6 months)",
                    s.consent_lifetime_days
                ),
            );
        }
        let listed = [
            ("purposes", &s.purposes, &known.purposes, "purpose"),
            ("services", &s.services, &known.services, "service"),
        ];
        for (key, ids, known, what) in listed {
            if let Some(ids) = ids {
                refs(l, p!["sites", i, key], ids, known, what);
            }
        }
        url(l, p!["sites", i, "url"], s.url.as_ref());
        if !r.site_purposes(s).any(|p| !p.consent_required) {
            l.warn(
                p!["sites", i, "purposes"],
                format!(
                    "site `{}` has no exempt purpose: the consent cookie itself is strictly necessary, declare a `necessary` purpose",
                    s.id
                ),
            );
        }
    }
}

/// Host names: well formed, each used by one site; the cookie domain covers one of them.
fn domains<'a>(s: &'a Site, i: usize, seen: &mut BTreeMap<&'a str, &'a str>, l: &mut Lints) {
    if s.domains.is_empty() {
        l.error(
            p!["sites", i, "domains"],
            format!("site `{}` lists no domain", s.id),
        );
    }
    for (j, d) in s.domains.iter().enumerate() {
        if !valid_host(d) || d.starts_with('.') {
            l.error(
                p!["sites", i, "domains", j],
                format!("invalid host name `{d}` (lowercase, no scheme, no path)"),
            );
        }
        if let Some(other) = seen.insert(d.as_str(), s.id.as_str())
            && other != s.id
        {
            l.error(
                p!["sites", i, "domains", j],
                format!("domain `{d}` is already used by site `{other}`"),
            );
        }
    }
    if let Some(cd) = &s.cookie_domain {
        let bare = cd.strip_prefix('.').unwrap_or(cd);
        if !valid_host(cd) {
            l.error(
                p!["sites", i, "cookie_domain"],
                format!("invalid cookie domain `{cd}`"),
            );
        } else if !s
            .domains
            .iter()
            .any(|d| d == bare || d.ends_with(&format!(".{bare}")))
        {
            l.error(
                p!["sites", i, "cookie_domain"],
                format!("cookie domain `{cd}` does not cover any of the site's domains"),
            );
        }
    }
}

/// Language codes: at least one, well formed, each once.
fn languages(s: &Site, i: usize, l: &mut Lints) {
    if s.languages.is_empty() {
        l.error(
            p!["sites", i, "languages"],
            format!("site `{}` lists no language", s.id),
        );
    }
    let mut seen = HashSet::new();
    for (j, lang) in s.languages.iter().enumerate() {
        if !valid_lang(lang) {
            l.error(
                p!["sites", i, "languages", j],
                format!("invalid language code `{lang}`"),
            );
        }
        if !seen.insert(lang) {
            l.error(
                p!["sites", i, "languages", j],
                format!("duplicate language `{lang}`"),
            );
        }
    }
}
