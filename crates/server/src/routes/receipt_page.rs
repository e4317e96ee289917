//! The human-readable receipt page, `GET /receipts/{id}`: what "Proof of your choice" in the
//! banner's preferences layer opens. It shows the date of the choice, the site, each purpose
//! granted or refused (names from the policy version's snapshot, in the page's language),
//! the action, the policy version with a link to its cookie policy, the expiry, the receipt
//! id to copy, the verification status and how to verify the receipt offline.
//!
//! The page is an askama template (`templates/receipt.html`): every value is escaped by the
//! engine and no template uses `|safe`. Its words come from one JSON catalog per language,
//! `assets/receipt/<lang>.json`, with the same keys in every language (checked by the tests
//! below). Times are shown in UTC (RFC 3339).

use askama::Template;
use assent_ledger::Receipt;
use assent_model::clock::rfc3339;
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::{Catalogs, catalogs};
use crate::state::AppState;

/// Page language: `en`, `fr` or `de`, else `None`.
pub fn known_lang(q: Option<&str>) -> Option<&'static str> {
    match q {
        Some("en") => Some("en"),
        Some("fr") => Some("fr"),
        Some("de") => Some("de"),
        _ => None,
    }
}

const CATALOGS: [(&str, &str); 3] = catalogs!("receipt");
static WORDS: Catalogs<Words> = Catalogs::new(&CATALOGS);

/// The words of the page in one language. Every field is required and no other allowed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    title: String,
    intro: String,
    date: String,
    site: String,
    action: String,
    action_accept_all: String,
    action_reject_all: String,
    action_custom: String,
    action_withdraw: String,
    choices: String,
    granted: String,
    refused: String,
    policy: String,
    policy_link: String,
    expires: String,
    receipt_id: String,
    status: String,
    anchored: String,
    not_anchored: String,
    verify_h: String,
    verify_1: String,
    verify_2: String,
    verify_3: String,
    not_found_title: String,
    not_found: String,
    gone_title: String,
    gone: String,
    error_title: String,
    error: String,
}

/// The words of `lang` (English for any other).
fn words(lang: &str) -> &'static Words {
    WORDS.words(lang)
}

/// One purpose of the record, with its name in the page's language.
struct PurposeView {
    name: String,
    granted: bool,
}

/// What the page shows of a receipt.
struct View {
    id: String,
    date: String,
    site: String,
    action: String,
    purposes: Vec<PurposeView>,
    policy_version: i64,
    policy_url: String,
    expires: String,
    anchored_at: Option<String>,
    json_url: String,
    key_url: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct Page<'a> {
    lang: &'a str,
    title: &'a str,
    w: &'a Words,
    view: Option<View>,
    message: &'a str,
}

/// The language of the page: `?lang=` if known, else the record's `language` if known,
/// else English.
pub fn page_lang(query: Option<&str>, record: Option<&Value>) -> &'static str {
    known_lang(query)
        .or_else(|| known_lang(record.and_then(|r| r["language"].as_str())))
        .unwrap_or("en")
}

/// Renders the page of a receipt.
pub async fn render(st: &AppState, lang: &str, id: &str, receipt: &Receipt) -> String {
    let r = &receipt.record;
    let site = r["site"].as_str().unwrap_or("").to_string();
    let version = r["policyVersion"].as_i64().unwrap_or(0);
    // Purpose names from the policy version's snapshot, in the page's language.
    let shown = st
        .sites
        .version(&st.store, &site, version)
        .await
        .ok()
        .flatten();
    // In the policy version's order (the record's map is sorted by id); purposes the
    // snapshot does not know come last, under their id.
    let position = |pid: &str| {
        shown
            .as_ref()
            .and_then(|v| v.snapshot.purposes.iter().position(|p| p.id == pid))
            .unwrap_or(usize::MAX)
    };
    let mut purposes: Vec<(usize, PurposeView)> = r["purposes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(pid, g)| {
                    let name = shown
                        .as_ref()
                        .and_then(|v| {
                            let snap = &v.snapshot;
                            snap.purpose(pid)
                                .map(|p| p.name.get(lang, snap.site.default_language()).to_string())
                        })
                        .unwrap_or_else(|| pid.clone());
                    let view = PurposeView {
                        name,
                        granted: g.as_bool().unwrap_or(false),
                    };
                    (position(pid), view)
                })
                .collect()
        })
        .unwrap_or_default();
    purposes.sort_by_key(|(i, _)| *i);
    let purposes = purposes.into_iter().map(|(_, v)| v).collect();
    let w = words(lang);
    // Dates as a person reads them, in the controller's time zone (like the policy pages);
    // the site by its name; the action in words.
    let tz = shown
        .as_ref()
        .map_or("UTC".to_owned(), |v| v.snapshot.controller.timezone.clone());
    let when = |ms: i64| local_date_time(ms, &tz, lang);
    let action = match r["action"].as_str().unwrap_or("") {
        "accept_all" => w.action_accept_all.clone(),
        "reject_all" => w.action_reject_all.clone(),
        "custom" => w.action_custom.clone(),
        "withdraw" => w.action_withdraw.clone(),
        other => other.to_string(),
    };
    let site_name = shown
        .as_ref()
        .map_or_else(|| site.clone(), |v| v.snapshot.site.name.clone());
    let view = View {
        id: id.to_string(),
        date: when(r["consentTimestamp"].as_i64().unwrap_or(0)),
        action,
        purposes,
        policy_version: version,
        policy_url: format!(
            "{}/sites/{}/cookie-policy?version={version}&lang={lang}",
            st.public_base,
            urlencode(&site)
        ),
        site: site_name,
        expires: when(r["expiresAt"].as_i64().unwrap_or(0)),
        anchored_at: receipt
            .anchor
            .as_ref()
            .map(|a| when(a.checkpoint.checkpoint.ts_ms)),
        json_url: format!("{}/v1/receipts/{id}", st.public_base),
        key_url: format!("{}/.well-known/assent-ledger-key", st.public_base),
    };
    Page {
        lang,
        title: &w.title,
        w,
        view: Some(view),
        message: "",
    }
    .render()
    .unwrap_or_default()
}

/// Which message page to render.
#[derive(Clone, Copy)]
pub enum Problem {
    NotFound,
    Gone,
    Internal,
}

/// Renders a message page (unknown, erased, error); it never echoes the id.
pub fn render_problem(lang: &str, problem: Problem) -> String {
    let w = words(lang);
    let (title, message) = match problem {
        Problem::NotFound => (&w.not_found_title, &w.not_found),
        Problem::Gone => (&w.gone_title, &w.gone),
        Problem::Internal => (&w.error_title, &w.error),
    };
    Page {
        lang,
        title,
        w,
        view: None,
        message,
    }
    .render()
    .unwrap_or_default()
}

/// "3 December 2026, 12:29 CET": the policy pages' long date, and the time in `tz`.
fn local_date_time(ms: i64, tz: &str, lang: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => format!(
            "{}, {}",
            assent_pages::words::long_date(ms, tz, lang),
            t.to_zoned_datetime(zone).strftime("%H:%M %Z")
        ),
        Err(_) => rfc3339(ms),
    }
}

/// Percent-encodes a path segment (site ids are plain, but the page must not trust that).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_parses_with_the_same_keys() {
        for (lang, json) in CATALOGS {
            let w: Result<Words, _> = serde_json::from_str(json);
            assert!(w.is_ok(), "{lang}: {w:?}");
        }
    }

    #[test]
    fn problem_pages_render_in_each_language() {
        for lang in ["en", "fr", "de"] {
            let html = render_problem(lang, Problem::NotFound);
            assert!(html.contains(&words(lang).not_found));
            assert!(html.contains(&format!("lang=\"{lang}\"")));
        }
    }
}
