#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Material-change detection, table-driven: each edit of a base registry either requires fresh
//! consent (material) or not (wording), with the expected plain-words description.

use assent_model::check::parse;
use assent_model::version::{SiteSnapshot, diff, requires_fresh_consent};

const BASE: &str = r#"
[controller]
name = "Example SAS"
address = "1 rue de la Paix, 75002 Paris"
country = "FR"
email = "privacy@example.com"
[controller.supervisory_authority]
name = "CNIL"

[[sites]]
id = "ex"
name = "Example"
domains = ["example.com"]
cookie_domain = ".example.com"
languages = ["en", "fr"]

[[purposes]]
id = "necessary"
name = { en = "Necessary", fr = "Nécessaires" }
description = { en = "Needed.", fr = "Indispensables." }
consent_required = false
exemption = "strictly_necessary"
legal_basis = "legitimate_interest"

[[purposes]]
id = "analytics"
name = { en = "Analytics", fr = "Mesure d'audience" }
description = { en = "Stats.", fr = "Statistiques." }
legal_basis = "consent"

[[services]]
id = "ga"
name = "Google Analytics"
provider = "Google Ireland Ltd"
purposes = ["analytics"]
privacy_policy = "https://policies.google.com/privacy"
country = "IE"

[[cookies]]
name = "_ga"
domain = ".example.com"
service = "ga"
purpose = "analytics"
lifetime = "6 months"

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

const NEWSLETTER: &str = r#"
[[marketing]]
id = "newsletter"
name = { en = "Newsletter", fr = "Lettre d'information" }
channels = ["email"]
"#;

fn snap(src: &str) -> SiteSnapshot {
    let (reg, _) = parse(src).unwrap_or_else(|e| panic!("{e:#?}"));
    SiteSnapshot::from_registry(&reg, "ex").unwrap()
}

#[test]
fn material_changes() {
    let base = snap(BASE);
    let hotjar_analytics = format!("{BASE}{HOTJAR}");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{BASE}{PERSONALISATION}"),
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
            format!("{BASE}{PERSONALISATION}")
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
    let base = snap(BASE);
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
        // Marketing purposes are stated in the privacy policy, never in the banner: a new
        // policy version, never a re-ask (issue 17).
        (format!("{BASE}{NEWSLETTER}"), "marketing_changed"),
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
    assert_ne!(reordered, BASE);
    assert_eq!(snap(BASE).content_hash(), snap(&reordered).content_hash());
    // Without marketing purposes the canonical JSON has no `marketing` member: versions made
    // before issue 17 keep their hash.
    assert!(!snap(BASE).canonical_json().contains("marketing"));
    assert!(diff(&snap(BASE), &snap(&reordered)).is_empty());
}

#[test]
fn changes_are_written_in_english_and_french() {
    let base = snap(BASE);
    let cases = [
        (
            format!("{BASE}{HOTJAR}"),
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
