#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Material-change detection, table-driven: each edit of a base registry either requires fresh
//! consent (material) or not (wording), with the expected plain-words description.

use std::sync::LazyLock;

use assent_model::check::parse;
use assent_model::version::{SiteSnapshot, diff, requires_fresh_consent};

/// `check`'s small test registry, `_ga` kept 6 months, and a session cookie with a worded
/// exemption.
static BASE: LazyLock<String> = LazyLock::new(|| {
    include_str!("fixtures/small.toml")
        .replace("lifetime = \"13 months\"", "lifetime = \"6 months\"")
        + SESSION
});

const SESSION: &str = r#"
[[cookies]]
name = "session"
purpose = "necessary"
lifetime = "session"
exemption_reason = { en = "Keeps you logged in.", fr = "Maintient votre session." }
"#;

const PERSONALISATION: &str = r#"
[[purposes]]
id = "personalisation"
name = { en = "Personalisation", fr = "Personnalisation" }
description = { en = "Heatmaps.", fr = "Cartes de chaleur." }
legal_basis = "consent"
"#;

const HOTJAR: &str = r#"
[[services]]
id = "hotjar"
name = "Hotjar"
provider = "Hotjar Ltd"
purposes = ["analytics"]
privacy_policy = "https://www.hotjar.com/legal/policies/privacy/"
country = "MT"
"#;

fn snap(src: &str) -> SiteSnapshot {
    let (reg, _) = parse(src).unwrap_or_else(|e| panic!("{e:#?}"));
    SiteSnapshot::from_registry(&reg, "ex").unwrap()
}

#[test]
fn material_changes() {
    let base = snap(&BASE);
    let hotjar_analytics = format!("{}{HOTJAR}", *BASE);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{}{PERSONALISATION}", *BASE),
            "purpose_added",
            "Added purpose Personalisation (personalisation)",
        ),
        (
            hotjar_analytics,
            "service_added",
            "Added service Hotjar (Hotjar Ltd) for purpose Analytics",
        ),
        (
            BASE.replace("lifetime = \"6 months\"", "lifetime = \"13 months\""),
            "cookie_lifetime_longer",
            "Lifetime of _ga on .example.com changed from 6 months to 13 months",
        ),
        (
            format!("{}{PERSONALISATION}", *BASE)
                .replace(
                    "purposes = [\"analytics\"]",
                    "purposes = [\"analytics\", \"personalisation\"]",
                )
                .replace(
                    "purpose = \"analytics\"\nlifetime",
                    "purpose = \"personalisation\"\nlifetime",
                ),
            "cookie_purpose_changed",
            "Tracker _ga on .example.com moved from purpose Analytics to Personalisation",
        ),
        (
            BASE.replace("country = \"IE\"", "country = \"US\"\nsafeguard = \"scc\""),
            "transfer_added",
            "New transfer of personal data outside the EEA: Google Analytics in US",
        ),
        (
            BASE.replace(
                "provider = \"Google Ireland Ltd\"",
                "provider = \"Other Corp\"",
            ),
            "service_provider_changed",
            "Provider of service Google Analytics changed from Google Ireland Ltd to Other Corp",
        ),
    ];
    for (src, kind, words) in cases {
        let changes = diff(&base, &snap(&src));
        assert!(requires_fresh_consent(&changes), "{kind}: {changes:#?}");
        let c = changes
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("{kind} missing in {changes:#?}"));
        assert!(c.material);
        assert_eq!(c.en, words);
        assert!(!c.fr.is_empty());
    }
}

#[test]
fn wording_changes_are_not_material() {
    let base = snap(&BASE);
    let cases: Vec<(String, &str)> = vec![
        (
            BASE.replace("Stats.", "Audience statistics, to improve the site."),
            "purpose_wording_changed",
        ),
        (
            BASE.replace("lifetime = \"6 months\"", "lifetime = \"3 months\""),
            "cookie_lifetime_shorter",
        ),
        (
            BASE.replace("Keeps you logged in.", "Keeps you signed in."),
            "cookie_wording_changed",
        ),
        (
            BASE.replace(
                "languages = [\"en\", \"fr\"]",
                "languages = [\"en\", \"fr\"]\nconsent_lifetime_days = 90",
            ),
            "consent_lifetime_changed",
        ),
        (
            BASE.replace("country = \"IE\"", "country = \"FR\""),
            "service_country_changed",
        ),
    ];
    for (src, kind) in cases {
        let new = snap(&src);
        assert_ne!(
            base.content_hash(),
            new.content_hash(),
            "{kind}: a change changes the hash"
        );
        let changes = diff(&base, &new);
        assert!(!requires_fresh_consent(&changes), "{kind}: {changes:#?}");
        assert!(
            changes.iter().any(|c| c.kind == kind),
            "{kind} missing in {changes:#?}"
        );
    }
}

#[test]
fn identical_content_has_the_same_hash() {
    let reordered = BASE.replace(
        "country = \"FR\"\nemail = \"privacy@example.com\"",
        "email = \"privacy@example.com\"\ncountry = \"FR\"",
    );
    assert_ne!(reordered, *BASE);
    assert_eq!(snap(&BASE).content_hash(), snap(&reordered).content_hash());
    assert!(diff(&snap(&BASE), &snap(&reordered)).is_empty());
}

#[test]
fn changes_are_written_in_english_and_french() {
    let base = snap(&BASE);
    let cases = [
        (
            format!("{}{HOTJAR}", *BASE),
            "service_added",
            "Ajout du service Hotjar (Hotjar Ltd) pour la finalité Mesure d'audience",
        ),
        (
            BASE.replace("lifetime = \"6 months\"", "lifetime = \"13 months\""),
            "cookie_lifetime_longer",
            "Durée de vie de _ga sur .example.com changée de 6 mois à 13 mois",
        ),
        (
            BASE.replace("country = \"IE\"", "country = \"US\"\nsafeguard = \"scc\""),
            "transfer_added",
            "Nouveau transfert de données hors de l'EEE : Google Analytics (US)",
        ),
        (
            BASE.replace("legal_basis = \"consent\"", "legal_basis = \"contract\""),
            "purpose_legal_basis_changed",
            "Base légale de la finalité Mesure d'audience changée de « Consentement » à « Exécution du contrat »",
        ),
    ];
    for (src, kind, fr) in cases {
        let changes = diff(&base, &snap(&src));
        let c = changes
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("{kind} missing in {changes:#?}"));
        assert_eq!(c.fr, fr);
        assert_eq!(c.text("fr"), fr);
        assert_ne!(c.text("en"), fr);
    }
}
