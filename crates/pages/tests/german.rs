#![allow(clippy::unwrap_used, clippy::expect_used)]
//! German: a site that lists `de` gets its cookie policy, privacy policy and Art. 30 register
//! in German (Assent's own words from `i18n/de.json`, the registry's from its `de` texts or
//! its default language), with German dates, durations, countries and legal terms.

mod common;

use assent_model::Registry;
use assent_model::version::SiteSnapshot;
use assent_pages::enforcement::Enforcements;
use assent_pages::register::{self, Format};
use assent_pages::{Links, PolicyPage, cookie, privacy, resolve_lang};

/// Callkom, listing German as well (until the example registry itself does).
fn callkom_de() -> Registry {
    let mut reg = common::callkom();
    for s in &mut reg.sites {
        s.languages.push("de".into());
    }
    reg
}

#[test]
fn policy_pages_render_in_german() {
    let reg = callkom_de();
    let site = &reg.sites[0];
    assert_eq!(resolve_lang(Some("de"), site), "de");
    let snap = SiteSnapshot::from_registry(&reg, "callkom").unwrap();
    let extra = common::extra_services(&reg, &snap);
    let enforcement = Enforcements::of_rules(&snap.retention, |_| None);
    let links = Links::new("", "callkom");
    let page = PolicyPage {
        snap: &snap,
        lang: "de",
        version: 1,
        created_at_ms: common::CREATED_MS,
        current_version: 2,
        links: &links,
        extra_services: &extra,
        enforcement: &enforcement,
    };
    let c = cookie::html(&page);
    common::assert_contains_all(
        &c,
        [
            "<html lang=\"de\">",
            "<title>Cookie-Richtlinie – Callkom</title>",
            "Was sind Cookies und Tracker?",
            "Rechtsgrundlage",
            "Speicherdauer",
            "Berechtigtes Interesse",
            "Einwilligung erforderlich",
            "30 Minuten",
            "Vereinigte Staaten (US)",
            "Standardvertragsklauseln der Europäischen Kommission (2021/914)",
            "<time datetime=\"2026-09-21\">21. September 2026</time>",
            "Sie lesen eine frühere Version dieser Richtlinie.",
            "<span aria-current=\"true\" lang=\"de\">Deutsch</span>",
            "hreflang=\"de\"",
            "Meine Cookies verwalten",
        ],
        "cookie policy",
    );
    let p = privacy::html(&page);
    common::assert_contains_all(
        &p,
        [
            "<title>Datenschutzerklärung – Callkom</title>",
            "Verantwortlicher",
            "Empfänger",
            "Aufsichtsbehörde",
            "Speicherfristen",
            "Auftragsverarbeiter",
            "Ihre Rechte und wie Sie sie ausüben",
            "Verordnung (EU) 2016/679 (DSGVO)",
        ],
        "privacy policy",
    );
    // No English or French word of Assent's own is left.
    for page in [&c, &p] {
        for stray in [
            "Legal basis",
            "Privacy policy",
            "Cookie policy",
            "published on",
            "Base légale",
            "Skip to content",
            "Contents",
        ] {
            assert!(!page.contains(stray), "English/French left: {stray:?}");
        }
    }
}

#[test]
fn register_renders_in_german() {
    let reg = callkom_de();
    let html = register::export(&reg, None, Format::Html, "de", "2026-09-21T10:00:00Z").unwrap();
    common::assert_contains_all(
        &html,
        [
            "<html lang=\"de\">",
            "Verzeichnis von Verarbeitungstätigkeiten",
            "Verantwortlicher",
            "Rechtsgrundlage",
            "Empfänger",
            "Löschfristen",
            "Datenschutzbeauftragter",
        ],
        "register",
    );
    let csv = register::export(&reg, None, Format::Csv, "de", "now").unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("Verarbeitungstätigkeit"),
        "{csv}"
    );
}

/// A language without a catalog keeps the old behaviour: Assent's words in English.
#[test]
fn a_language_without_a_catalog_falls_back_to_english() {
    let mut reg = common::callkom();
    reg.sites[0].languages.push("es".into());
    let r = common::render(&reg, "callkom", "es");
    assert!(r.cookie.contains("<html lang=\"es\">"));
    assert!(r.cookie.contains("Legal basis"));
}
