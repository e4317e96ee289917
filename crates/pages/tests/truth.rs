#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 16's "done when", for the pages: every page of every example registry, in every
//! language Assent has words in (cookie policy HTML and JSON, privacy policy, version history
//! and diff in HTML and JSON, the Art. 30 record in CSV, HTML and JSON):
//!
//! - publishes no placeholder value of the registry ("Not stated...", `*.example`, ...);
//! - makes no claim the configuration does not support (the old "scheduled job" sentence);
//! - states, for each retention rule of the privacy policy, who applies it (Assent, or the
//!   controller), and Assent only for the rule it really enforces;
//! - in French and German, contains none of Assent's English sentences, and (for the languages
//!   the site lists) none of the registry's English texts.

mod common;

use assent_model::Registry;
use assent_model::changes::diff;
use assent_model::enforced::enforced_by_assent;
use assent_model::placeholder::{is_placeholder, is_placeholder_address};
use assent_model::registry::{Lifetime, Text};
use assent_model::version::SiteSnapshot;
use assent_pages::enforcement::{Enforcement, Enforcements, statement};
use assent_pages::i18n::texts;
use assent_pages::register::{self, Format};
use assent_pages::versions::{self, HistoryPage};
use assent_pages::{Links, PolicyPage, cookie, privacy};
use common::{CREATED_MS, esc, version_entries};

const LANGS: [&str; 3] = ["en", "fr", "de"];

/// The claim of a purge that nothing performed, in the three languages of the old catalogs.
const FALSE_CLAIMS: [&str; 4] = [
    "scheduled job",
    "tâche planifiée",
    "geplanten Vorgang",
    "each purge is logged",
];

/// Every page of one site of a registry, in `lang`: `(name, text)`.
fn pages(reg: &Registry, site: &str, lang: &str) -> Vec<(String, String)> {
    let snap = SiteSnapshot::from_registry(reg, site).unwrap();
    let extra = common::extra_services(reg, &snap);
    let enforcement = Enforcements::of_rules(&snap.retention, |_| None);
    let links = Links::new("", site);
    let page = PolicyPage {
        snap: &snap,
        lang,
        version: 2,
        created_at_ms: CREATED_MS,
        current_version: 2,
        links: &links,
        extra_services: &extra,
        enforcement: &enforcement,
    };
    // A second version: a tracker lives longer, an activity's legal basis and a retention
    // period change, so that the history and the diff have something in every section.
    let mut reg2 = reg.clone();
    if let Some(c) = reg2.cookies.first_mut() {
        c.lifetime = Lifetime::For("13 months".parse().unwrap());
    }
    if let Some(r) = reg2.retention.first_mut() {
        r.period.amount += 1;
    }
    let snap2 = SiteSnapshot::from_registry(&reg2, site).unwrap();
    let changes = diff(&snap, &snap2);
    let entries = version_entries(changes.clone());
    let hp = HistoryPage {
        site: &snap.site,
        timezone: &snap.controller.timezone,
        lang,
        links: &links,
    };
    let mut out = vec![
        ("cookie policy".into(), cookie::html(&page)),
        ("cookie policy JSON".into(), cookie::json(&page).to_string()),
        ("privacy policy".into(), privacy::html(&page)),
        ("history".into(), versions::history_html(&hp, &entries)),
        (
            "history JSON".into(),
            versions::history_json(&hp, &entries).to_string(),
        ),
        (
            "diff".into(),
            versions::diff_html(&hp, &entries[0], &entries[1], &changes, &[1, 2]),
        ),
        (
            "diff JSON".into(),
            versions::diff_json(&hp, &entries[0], &entries[1], &changes).to_string(),
        ),
    ];
    for f in [Format::Csv, Format::Html, Format::Json] {
        let r = register::export(reg, Some(site), f, lang, "2026-09-21T10:00:00Z").unwrap();
        out.push((format!("register {}", f.extension()), r));
    }
    out
}

/// Every string value of the registry (walking its JSON form).
fn strings(reg: &Registry) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = vec![];
    walk(&serde_json::to_value(reg).unwrap(), &mut out);
    out
}

/// The registry's placeholders (long enough not to match by accident inside real words).
fn placeholders(reg: &Registry) -> Vec<String> {
    strings(reg)
        .into_iter()
        .filter(|s| s.len() >= 6 && (is_placeholder(s) || is_placeholder_address(s)))
        .collect()
}

/// Whether `page` contains `s`, as text or escaped.
fn shows(page: &str, s: &str) -> bool {
    page.contains(s) || page.contains(&esc(s))
}

#[test]
fn no_page_publishes_a_placeholder_or_a_false_claim() {
    for (file, reg) in common::examples() {
        let bad = placeholders(&reg);
        for site in &reg.sites {
            for lang in LANGS {
                for (name, page) in pages(&reg, &site.id, lang) {
                    let ctx = format!("{file} / {} / {lang} / {name}", site.id);
                    for p in &bad {
                        assert!(!shows(&page, p), "{ctx}: publishes the placeholder {p:?}");
                    }
                    for claim in FALSE_CLAIMS {
                        assert!(!page.contains(claim), "{ctx}: claims {claim:?}");
                    }
                }
            }
        }
    }
}

/// The examples do have placeholders (so the test above tests something), and `assent check`
/// warns about each kind.
#[test]
fn the_examples_placeholders_are_check_warnings() {
    let all: Vec<String> = common::examples()
        .iter()
        .flat_map(|(_, r)| placeholders(r))
        .collect();
    assert!(all.iter().any(|p| p.contains("callkom.example")), "{all:?}");
    assert!(all.iter().any(|p| p.starts_with("Not stated")), "{all:?}");
    assert!(
        all.iter().any(|p| p == "Not named in the policy"),
        "{all:?}"
    );
}

#[test]
fn every_retention_rule_says_who_applies_it() {
    for (file, reg) in common::examples() {
        for site in &reg.sites {
            let snap = SiteSnapshot::from_registry(&reg, &site.id).unwrap();
            let enforcement = Enforcements::of_rules(&snap.retention, |_| None);
            for lang in LANGS {
                let ctx = format!("{file} / {} / {lang}", site.id);
                let page = pages(&reg, &site.id, lang).swap_remove(2).1;
                let rows = common::table_rows(&page, "<table id=\"retention\"");
                assert_eq!(rows.len(), snap.retention.len(), "{ctx}");
                for (r, row) in snap.retention.iter().zip(&rows) {
                    let e = enforcement.of(&r.id);
                    // Assent only for the rule it enforces; every other rule the controller's.
                    let want = if enforced_by_assent(r).is_some() {
                        Enforcement::Assent { last_run_ms: None }
                    } else {
                        Enforcement::Controller
                    };
                    assert_eq!(e, want, "{ctx}: {}", r.id);
                    let ctl = &snap.controller;
                    let said = statement(e, &ctl.name, &ctl.timezone, lang);
                    assert!(
                        row.contains("class=\"enforcement\"") && row.contains(said.as_str()),
                        "{ctx}: rule {} lacks its enforcement statement {said:?}: {row}",
                        r.id
                    );
                }
                assert!(
                    page.contains(&esc(&texts(lang).fill(
                        "truth.server_logs",
                        &[("controller", &snap.controller.name)]
                    ))),
                    "{ctx}: server logs are the operator's"
                );
            }
            // Each example's rights-request rule is the one Assent enforces today.
            if let Some(r) = snap.retention.iter().find(|r| r.id == "rights-requests") {
                assert!(enforced_by_assent(r).is_some(), "{file}: {}", r.id);
            }
        }
    }
}

/// Assent's own English sentences (catalog values with a space, long enough to be sentences,
/// that the language translates differently).
fn english_sentences(lang: &str) -> Vec<&'static str> {
    let (en, t) = (texts("en"), texts(lang));
    en.keys()
        .filter(|k| !k.ends_with("_html"))
        .map(|k| en.get(k))
        .filter(|v| v.len() >= 16 && v.contains(' ') && !v.contains('{'))
        .filter(|v| en.keys().all(|k| en.get(k) != *v || t.get(k) != *v))
        .collect()
}

/// The registry's English texts that `lang` translates differently.
fn english_texts(reg: &Registry, lang: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, lang: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                let as_text = serde_json::from_value::<Text>(v.clone());
                if let (Some(serde_json::Value::String(en)), Ok(Text::Localized(m))) =
                    (o.get("en"), as_text)
                    && m.get(lang).is_some_and(|x| x != en)
                    && en.len() >= 16
                {
                    out.push(en.clone());
                }
                o.values().for_each(|x| walk(x, lang, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, lang, out)),
            _ => {}
        }
    }
    let mut out = vec![];
    let value = serde_json::to_value(reg).unwrap();
    walk(&value, lang, &mut out);
    // Plain strings (names of services and providers, addresses) are language-neutral by
    // the registry's choice: an English text inside one of them is not filler.
    let plain = plain_strings(&value);
    out.retain(|en| !plain.iter().any(|p| p.contains(en.as_str())));
    out
}

/// The registry's plain strings that are not part of a translated text.
fn plain_strings(v: &serde_json::Value) -> Vec<String> {
    let mut out = vec![];
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| out.extend(plain_strings(x))),
        serde_json::Value::Object(o)
            if serde_json::from_value::<Text>(v.clone()).is_err() || !o.contains_key("en") =>
        {
            o.values().for_each(|x| out.extend(plain_strings(x)));
        }
        _ => {}
    }
    out
}

#[test]
fn french_and_german_pages_have_no_english_filler() {
    for lang in ["fr", "de"] {
        let ours = english_sentences(lang);
        assert!(ours.len() > 100, "{lang}: {}", ours.len());
        for (file, reg) in common::examples() {
            let theirs = english_texts(&reg, lang);
            let all = strings(&reg);
            // On a site not offered in `lang`, the registry's texts are in its default
            // language: Assent's sentences are looked for outside them.
            let ours_outside: Vec<&str> = ours
                .iter()
                .copied()
                .filter(|s| !all.iter().any(|r| r.contains(s)))
                .collect();
            for site in &reg.sites {
                let listed = site.languages.iter().any(|l| l == lang);
                let ours = if listed { &ours } else { &ours_outside };
                for (name, page) in pages(&reg, &site.id, lang) {
                    // The change documents carry every language on purpose (`en`, `fr`, `de`).
                    if name == "history JSON" || name == "diff JSON" {
                        continue;
                    }
                    let ctx = format!("{file} / {} / {lang} / {name}", site.id);
                    for s in ours {
                        assert!(!shows(&page, s), "{ctx}: English sentence {s:?}");
                    }
                    // A site not offered in `lang` shows its texts in its default language.
                    if listed {
                        for s in &theirs {
                            assert!(!shows(&page, s), "{ctx}: English text {s:?}");
                        }
                    }
                }
            }
        }
    }
}

/// Issue 17: every marketing statement of the privacy policy names only the channels the
/// registry's marketing purposes declare (no "STOP by SMS" on an email-only site, no
/// unsubscribe link on an SMS-only one), and speaks of customers and similar products only
/// when a purpose allows soft opt-in (by email only, said so when the purpose also uses SMS):
/// the Kalido example as it is, then email only, SMS only and consent only, in en, fr and de.
#[test]
fn marketing_statements_follow_the_declared_channels() {
    use assent_model::registry::MarketingChannel::{Email, Sms};
    let (_, kalido) = common::examples()
        .into_iter()
        .find(|(f, _)| f == "kalido.toml")
        .unwrap();
    let variant = |channels: &[assent_model::registry::MarketingChannel], soft: bool| {
        let mut reg = kalido.clone();
        for m in &mut reg.marketing {
            // The registry's own descriptions name channels too: out of the way here.
            m.description = None;
            m.channels = channels.to_vec();
            m.soft_opt_in = soft && m.id == "offers";
        }
        reg
    };
    // (case, registry, the section's heading, opt-out and introduction keys, the words that
    // must not appear)
    let cases = [
        (
            "kalido as is",
            kalido.clone(),
            "mk.privacy.heading",
            "mk.privacy.opt_out",
            "mk.privacy.intro",
        ),
        (
            "email only",
            variant(&[Email], true),
            "mk.privacy.heading.email",
            "mk.privacy.opt_out.email",
            "mk.privacy.intro",
        ),
        (
            "sms only",
            variant(&[Sms], false),
            "mk.privacy.heading.sms",
            "mk.privacy.opt_out.sms",
            "mk.privacy.intro.consent",
        ),
        (
            "consent only",
            variant(&[Email, Sms], false),
            "mk.privacy.heading",
            "mk.privacy.opt_out",
            "mk.privacy.intro.consent",
        ),
    ];
    for (name, reg, heading, opt_out, intro) in cases {
        let email = reg.marketing.iter().any(|m| m.channels.contains(&Email));
        let sms = reg.marketing.iter().any(|m| m.channels.contains(&Sms));
        let soft = reg.marketing.iter().any(|m| m.soft_opt_in);
        for lang in LANGS {
            let ctx = format!("{name} / {lang}");
            let t = texts(lang);
            let page = pages(&reg, "kalido", lang).swap_remove(2).1;
            let from = page.find("<h2 id=\"marketing\">").unwrap() + 3;
            let section = &page[from..];
            let section = &section[..section.find("<h2").unwrap_or(section.len())];
            for key in [heading, opt_out, intro] {
                assert!(
                    shows(section, t.get(key)),
                    "{ctx}: {key} missing: {section}"
                );
            }
            // STOP only with SMS; the unsubscribe link only with email.
            assert_eq!(section.contains("STOP"), sms, "{ctx}: {section}");
            assert_eq!(shows(section, t.get("mk.prefs.channel.sms")), sms, "{ctx}");
            let link_words = ["unsubscribe link", "lien de désinscription", "Abmeldelink"];
            assert_eq!(
                link_words.iter().any(|w| section.contains(w)),
                email,
                "{ctx}: {section}"
            );
            // Customers and similar products only where a purpose allows soft opt-in; by
            // email only when the purpose also uses SMS.
            let soft_words = [
                t.get("mk.privacy.soft_opt_in"),
                t.get("mk.privacy.soft_opt_in.email_only"),
            ];
            assert_eq!(
                soft_words.iter().any(|w| shows(section, w)),
                soft,
                "{ctx}: {section}"
            );
            if soft && sms {
                assert!(shows(section, soft_words[1]), "{ctx}: {section}");
            }
            if !soft {
                assert!(!shows(section, t.get("mk.privacy.intro")), "{ctx}");
            }
        }
    }
}
