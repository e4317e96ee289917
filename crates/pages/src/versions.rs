//! The version history of a site's policy and the differences between two versions, in plain
//! words (from [`assent_model::version::diff`]), material changes first and highlighted.

use std::fmt::Write as _;

use assent_model::clock::rfc3339;
use assent_model::registry::Site;
use assent_model::version::Change;
use serde_json::{Value, json};

use crate::Links;
use crate::html::{self, Alternate, Nav, Shell, esc, txt};
use crate::i18n::texts;

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

fn changes_list(lang: &str, changes: &[Change]) -> String {
    let mut s = String::from("<ul class=\"changes\">");
    for c in changes {
        if c.material {
            let _ = write!(
                s,
                "<li class=\"material\" data-kind=\"{}\"><span class=\"badge material\">{}</span> <strong>{}</strong></li>",
                esc(&c.kind),
                txt(lang, "versions.new_consent_needed"),
                esc(c.text(lang))
            );
        } else {
            let _ = write!(
                s,
                "<li data-kind=\"{}\">{}</li>",
                esc(&c.kind),
                esc(c.text(lang))
            );
        }
    }
    s.push_str("</ul>");
    s
}

fn fresh_badge(lang: &str, v: &VersionEntry) -> String {
    if v.version == 1 {
        format!(
            "<span class=\"badge\">{}</span>",
            txt(lang, "versions.first_version")
        )
    } else if v.requires_fresh_consent {
        format!(
            "<span class=\"badge material\">{}</span>",
            txt(lang, "versions.visitors_were_asked_their")
        )
    } else {
        format!(
            "<span class=\"badge exempt\">{}</span>",
            txt(lang, "versions.earlier_choices_remained_valid")
        )
    }
}

fn compare_form(p: &HistoryPage<'_>, versions: &[i64], from: i64, to: i64) -> String {
    let lang = p.lang;
    let opts = |sel: i64| {
        versions
            .iter()
            .map(|v| {
                format!(
                    "<option value=\"{v}\"{}>{} {v}</option>",
                    if *v == sel { " selected" } else { "" },
                    txt(lang, "common.version")
                )
            })
            .collect::<String>()
    };
    format!(
        "<form class=\"compare\" method=\"get\" action=\"{action}\"><label>{l1}<select name=\"from\">{o1}</select></label>\
<label>{l2}<select name=\"to\">{o2}</select></label><input type=\"hidden\" name=\"lang\" value=\"{lang_v}\"><button type=\"submit\">{btn}</button></form>",
        action = esc(&p.links.diff_action()),
        l1 = txt(lang, "versions.from"),
        o1 = opts(from),
        l2 = txt(lang, "versions.to"),
        o2 = opts(to),
        lang_v = esc(lang),
        btn = txt(lang, "versions.compare"),
    )
}

fn alternates(p: &HistoryPage<'_>, href: impl Fn(&str) -> String) -> Vec<Alternate> {
    p.site
        .languages
        .iter()
        .map(|l| Alternate {
            lang: l.clone(),
            href: href(l),
        })
        .collect()
}

/// The version history, newest first. `versions` may come in any order.
pub fn history_html(p: &HistoryPage<'_>, versions: &[VersionEntry]) -> String {
    let lang = p.lang;
    let mut sorted: Vec<&VersionEntry> = versions.iter().collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.version));
    let mut b = String::new();
    let _ = write!(
        b,
        "<p class=\"lead\">{}</p>",
        txt(lang, "versions.every_change_cookie_privacy")
    );
    let numbers: Vec<i64> = sorted.iter().map(|v| v.version).collect();
    if numbers.len() > 1 {
        let to = numbers.first().copied().unwrap_or(1);
        let from = numbers.get(1).copied().unwrap_or(to);
        let _ = write!(
            b,
            "<h2 id=\"compare\">{}</h2>{}",
            txt(lang, "versions.compare_two_versions"),
            compare_form(p, &numbers, from, to)
        );
    }
    let _ = write!(
        b,
        "<h2 id=\"versions\">{}</h2><ol class=\"versions\" reversed>",
        txt(lang, "versions.all_versions")
    );
    for v in &sorted {
        let _ = write!(
            b,
            "<li id=\"v{n}\"><h3>{} {n} <span class=\"small\">– {}</span></h3><p>{} · <a href=\"{}\">{}</a> · <a href=\"{}\">{}</a>",
            txt(lang, "common.version"),
            html::time_el(v.created_at_ms, p.timezone, lang),
            fresh_badge(lang, v),
            esc(&p.links.cookie_policy_version(lang, v.version)),
            txt(lang, "common.cookie_policy2"),
            esc(&p.links.privacy_policy_version(lang, v.version)),
            txt(lang, "common.privacy_policy2"),
            n = v.version,
        );
        if v.version > 1 {
            let _ = write!(
                b,
                " · <a href=\"{}\">{}</a>",
                esc(&p.links.diff(v.version - 1, v.version, lang)),
                txt(lang, "versions.compare_previous_version")
            );
        }
        b.push_str("</p>");
        if v.version == 1 {
            let _ = write!(
                b,
                "<p>{}</p>",
                txt(lang, "versions.first_published_version")
            );
        } else if v.changes.is_empty() {
            let _ = write!(b, "<p>{}</p>", txt(lang, "versions.no_change_recorded"));
        } else {
            b.push_str(&changes_list(lang, &v.changes));
        }
        b.push_str("</li>");
    }
    b.push_str("</ol>");
    let latest = sorted.first().map(|v| v.version).unwrap_or(0);
    html::shell(&Shell {
        lang,
        title: txt(lang, "versions.policy_version_history").to_string(),
        site_name: &p.site.name,
        nav: Nav::Versions,
        links: p.links.nav(lang),
        alternates: alternates(p, |l| p.links.versions(l)),
        meta_html: format!(
            "<p>{} {latest} · {} {}</p>",
            txt(lang, "versions.current_version"),
            sorted.len(),
            txt(lang, "versions.versions")
        ),
        body_html: b,
        tail_html: String::new(),
        canonical: None,
    })
}

fn change_json(c: &Change, lang: &str) -> Value {
    json!({"kind": c.kind, "material": c.material, "text": c.text(lang), "en": c.en, "fr": c.fr})
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
    let mut b = String::new();
    let material: Vec<Change> = changes.iter().filter(|c| c.material).cloned().collect();
    let other: Vec<Change> = changes.iter().filter(|c| !c.material).cloned().collect();
    let _ = write!(
        b,
        "<p class=\"lead\">{}</p>",
        html::fill_raw(
            lang,
            "versions.diff_lead",
            &[
                ("from", &from.version),
                (
                    "from_date",
                    &html::time_el(from.created_at_ms, p.timezone, lang)
                ),
                ("to", &to.version),
                (
                    "to_date",
                    &html::time_el(to.created_at_ms, p.timezone, lang)
                )
            ]
        )
    );
    let mut sorted = all_versions.to_vec();
    sorted.sort_by_key(|v| std::cmp::Reverse(*v));
    b.push_str(&compare_form(p, &sorted, from.version, to.version));
    if changes.is_empty() {
        let _ = write!(
            b,
            "<p class=\"note\">{}</p>",
            txt(lang, "versions.two_versions_have_same")
        );
    }
    if !material.is_empty() {
        let _ = write!(
            b,
            "<h2 id=\"material\">{} <span class=\"small\">({})</span></h2><p>{}</p>{}",
            txt(lang, "versions.significant_changes"),
            material.len(),
            txt(lang, "versions.these_changes_require_visitors"),
            changes_list(lang, &material)
        );
    }
    if !other.is_empty() {
        let _ = write!(
            b,
            "<h2 id=\"other\">{} <span class=\"small\">({})</span></h2><p>{}</p>{}",
            txt(lang, "versions.other_changes"),
            other.len(),
            txt(lang, "versions.these_changes_do_not"),
            changes_list(lang, &other)
        );
    }
    let _ = write!(
        b,
        "<p><a href=\"{}\">{} {}</a> · <a href=\"{}\">{} {}</a> · <a href=\"{}\">{}</a></p>",
        esc(&p.links.cookie_policy_version(lang, from.version)),
        txt(lang, "versions.cookie_policy_version"),
        from.version,
        esc(&p.links.cookie_policy_version(lang, to.version)),
        txt(lang, "versions.cookie_policy_version"),
        to.version,
        esc(&p.links.versions(lang)),
        txt(lang, "versions.all_versions"),
    );
    html::shell(&Shell {
        lang,
        title: texts(lang).fill(
            "versions.diff_title",
            &[("from", &from.version), ("to", &to.version)],
        ),
        site_name: &p.site.name,
        nav: Nav::Versions,
        links: p.links.nav(lang),
        alternates: alternates(p, |l| p.links.diff(from.version, to.version, l)),
        meta_html: format!(
            "<p><a href=\"{}\">{}</a> · {} {} · {} {}</p>",
            esc(&p.links.versions(lang)),
            txt(lang, "versions.policy_version_history"),
            material.len(),
            txt(lang, "versions.significant"),
            other.len(),
            txt(lang, "versions.other"),
        ),
        body_html: b,
        tail_html: String::new(),
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
        "changes": changes.iter().map(|c| change_json(c, p.lang)).collect::<Vec<_>>(),
    })
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
        meta_html: String::new(),
        body_html: format!("<p class=\"warn\" role=\"alert\">{}</p>", esc(message)),
        tail_html: String::new(),
        canonical: None,
    })
}
