//! The version history of a site's policy and the differences between two versions, in plain
//! words (from [`assent_model::changes::diff`]), material changes first and highlighted.

use assent_model::changes::{Change, policy_changed};
use assent_model::clock::rfc3339;
use assent_model::registry::Site;
use serde_json::{Value, json};

use crate::Links;
use crate::html::{self, Alternate, Meta, Nav, Shell};
use crate::i18n::{Markup, Texts, texts};

/// One stored version, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    pub version: i64,
    pub created_at_ms: i64,
    pub requires_fresh_consent: bool,
    pub consent_floor: i64,
    pub content_hash: String,
    /// Changes from the previous version (empty for the first one).
    pub changes: Vec<Change>,
}

/// Site-level context of the history pages.
#[derive(Debug, Clone, Copy)]
pub struct HistoryPage<'a> {
    pub site: &'a Site,
    /// The controller's time zone, for dates.
    pub timezone: &'a str,
    pub lang: &'a str,
    pub links: &'a Links,
}

/// One change as listed.
struct ChangeView<'a> {
    kind: &'a str,
    material: bool,
    /// A material change of the privacy policy only (the banner does not ask again).
    policy: bool,
    text: &'a str,
}

fn change_views<'a>(changes: impl Iterator<Item = &'a Change>, lang: &str) -> Vec<ChangeView<'a>> {
    changes
        .map(|c| ChangeView {
            kind: &c.kind,
            material: c.material,
            policy: c.policy_material && !c.material,
            text: c.text(lang),
        })
        .collect()
}

/// The form that picks two versions to compare.
struct CompareForm {
    action: String,
    versions: Vec<i64>,
    from: i64,
    to: i64,
    lang: String,
}

fn compare_form(p: &HistoryPage<'_>, versions: &[i64], from: i64, to: i64) -> CompareForm {
    CompareForm {
        action: p.links.diff_action(),
        versions: versions.to_vec(),
        from,
        to,
        lang: p.lang.to_string(),
    }
}

/// One version in the history.
struct VersionView<'a> {
    version: i64,
    date: Markup,
    fresh: bool,
    /// The version changed the privacy policy materially.
    policy: bool,
    cookie_href: String,
    privacy_href: String,
    diff_href: Option<String>,
    changes: Vec<ChangeView<'a>>,
}

/// `templates/history.html`.
#[derive(askama::Template)]
#[template(path = "history.html")]
struct HistoryView<'a> {
    t: &'static Texts,
    compare: Option<CompareForm>,
    versions: Vec<VersionView<'a>>,
}

/// `templates/diff.html`.
#[derive(askama::Template)]
#[template(path = "diff.html")]
struct DiffView<'a> {
    t: &'static Texts,
    lead: Markup,
    compare: CompareForm,
    material: Vec<ChangeView<'a>>,
    policy: Vec<ChangeView<'a>>,
    other: Vec<ChangeView<'a>>,
    from: i64,
    to: i64,
    from_href: String,
    to_href: String,
    history_href: String,
}

fn alternates(p: &HistoryPage<'_>, href: impl Fn(&str) -> String) -> Vec<Alternate> {
    Alternate::all(&p.site.languages, href)
}

/// The version history, newest first. `versions` may come in any order.
pub fn history_html(p: &HistoryPage<'_>, versions: &[VersionEntry]) -> String {
    let lang = p.lang;
    let t = texts(lang);
    let mut sorted: Vec<&VersionEntry> = versions.iter().collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.version));
    let numbers: Vec<i64> = sorted.iter().map(|v| v.version).collect();
    let compare = (numbers.len() > 1).then(|| {
        let to = numbers.first().copied().unwrap_or(1);
        let from = numbers.get(1).copied().unwrap_or(to);
        compare_form(p, &numbers, from, to)
    });
    let view = HistoryView {
        t,
        compare,
        versions: sorted
            .iter()
            .map(|v| VersionView {
                version: v.version,
                date: html::time_el(v.created_at_ms, p.timezone, lang),
                fresh: v.requires_fresh_consent,
                policy: policy_changed(&v.changes),
                cookie_href: p.links.cookie_policy_version(lang, v.version),
                privacy_href: p.links.privacy_policy_version(lang, v.version),
                diff_href: (v.version > 1).then(|| p.links.diff(v.version - 1, v.version, lang)),
                changes: change_views(v.changes.iter(), lang),
            })
            .collect(),
    };
    let latest = sorted.first().map(|v| v.version).unwrap_or(0);
    html::shell(&Shell {
        lang,
        title: t.get("versions.policy_version_history").to_string(),
        site_name: &p.site.name,
        nav: Nav::Versions,
        links: p.links.nav(lang),
        alternates: alternates(p, |l| p.links.versions(l)),
        meta: Meta::History {
            latest,
            count: sorted.len(),
        },
        body: html::render(&view),
        script: None,
        canonical: None,
    })
}

fn change_json(c: &Change, lang: &str) -> Value {
    json!({
        "kind": c.kind,
        "material": c.material,
        "policy_material": c.policy_material,
        "text": c.text(lang),
        "en": c.en,
        "fr": c.fr,
        "de": c.text("de"),
    })
}

/// The version history as data, newest first.
pub fn history_json(p: &HistoryPage<'_>, versions: &[VersionEntry]) -> Value {
    let mut sorted: Vec<&VersionEntry> = versions.iter().collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.version));
    let items: Vec<Value> = sorted
        .iter()
        .map(|v| {
            json!({
                "version": v.version,
                "created_at": rfc3339(v.created_at_ms),
                "requires_fresh_consent": v.requires_fresh_consent,
                "material_policy_change": policy_changed(&v.changes),
                "consent_floor": v.consent_floor,
                "content_hash": v.content_hash,
                "changes": v.changes.iter().map(|c| change_json(c, p.lang)).collect::<Vec<_>>(),
                "cookie_policy": p.links.cookie_policy_version(p.lang, v.version),
            })
        })
        .collect();
    json!({
        "site": {"id": p.site.id, "name": p.site.name},
        "language": p.lang,
        "current_version": sorted.first().map(|v| v.version),
        "items": items,
    })
}

/// The differences between two versions. `changes` is `diff(from, to)`.
pub fn diff_html(
    p: &HistoryPage<'_>,
    from: &VersionEntry,
    to: &VersionEntry,
    changes: &[Change],
    all_versions: &[i64],
) -> String {
    let lang = p.lang;
    let t = texts(lang);
    let mut sorted = all_versions.to_vec();
    sorted.sort_by_key(|v| std::cmp::Reverse(*v));
    let view = DiffView {
        t,
        lead: t.markup_with(
            "versions.diff_lead",
            &[
                ("from", &Markup::text(&from.version.to_string())),
                (
                    "from_date",
                    &html::time_el(from.created_at_ms, p.timezone, lang),
                ),
                ("to", &Markup::text(&to.version.to_string())),
                (
                    "to_date",
                    &html::time_el(to.created_at_ms, p.timezone, lang),
                ),
            ],
        ),
        compare: compare_form(p, &sorted, from.version, to.version),
        material: change_views(changes.iter().filter(|c| c.material), lang),
        policy: change_views(
            changes.iter().filter(|c| c.policy_material && !c.material),
            lang,
        ),
        other: change_views(
            changes.iter().filter(|c| !c.material && !c.policy_material),
            lang,
        ),
        from: from.version,
        to: to.version,
        from_href: p.links.cookie_policy_version(lang, from.version),
        to_href: p.links.cookie_policy_version(lang, to.version),
        history_href: p.links.versions(lang),
    };
    html::shell(&Shell {
        lang,
        title: t.fill(
            "versions.diff_title",
            &[("from", &from.version), ("to", &to.version)],
        ),
        site_name: &p.site.name,
        nav: Nav::Versions,
        links: p.links.nav(lang),
        alternates: alternates(p, |l| p.links.diff(from.version, to.version, l)),
        meta: Meta::Diff {
            history_href: p.links.versions(lang),
            material: view.material.len(),
            other: view.other.len() + view.policy.len(),
        },
        body: html::render(&view),
        script: None,
        canonical: None,
    })
}

/// The differences between two versions as data.
pub fn diff_json(
    p: &HistoryPage<'_>,
    from: &VersionEntry,
    to: &VersionEntry,
    changes: &[Change],
) -> Value {
    json!({
        "site": p.site.id,
        "language": p.lang,
        "from": from.version,
        "to": to.version,
        "requires_fresh_consent": changes.iter().any(|c| c.material),
        "material_policy_change": policy_changed(changes),
        "changes": changes.iter().map(|c| change_json(c, p.lang)).collect::<Vec<_>>(),
    })
}

/// `templates/error.html`.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    message: &'a str,
}

/// A small page for errors (unknown site, unknown version, bad query), in `lang`.
pub fn error_html(lang: &str, title: &str, message: &str) -> String {
    let lang = crate::i18n::texts(lang).lang();
    html::shell(&Shell {
        lang,
        title: title.to_string(),
        site_name: "Assent",
        nav: Nav::Register,
        links: vec![],
        alternates: vec![],
        meta: Meta::None,
        body: html::render(&ErrorView { message }),
        script: None,
        canonical: None,
    })
}
