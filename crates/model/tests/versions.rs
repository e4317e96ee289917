#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Material-change detection, table-driven: each edit of a base registry either requires fresh
//! consent (material) or not (wording), with the expected plain-words description.

use assent_model::changes::{diff, policy_changed, requires_fresh_consent};
use assent_model::check::parse;
use assent_model::version::SiteSnapshot;

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

const MARKETING_NEWSLETTER: &str = r#"
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
        (format!("{BASE}{MARKETING_NEWSLETTER}"), "marketing_changed"),
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

const NEWSLETTER: &str = r#"
[[services]]
id = "mailer"
name = "Mailer"
provider = "Mailer SAS"
purposes = ["necessary"]
country = "FR"

[[activities]]
id = "newsletter"
name = { en = "Newsletter", fr = "Lettre d'information" }
description = { en = "Sending the newsletter.", fr = "Envoi de la lettre." }
legal_basis = "consent"
data_categories = [{ en = "Email address", fr = "Adresse e-mail" }]
retention = ["subscribers"]

[[retention]]
id = "subscribers"
data_category = { en = "Subscribers", fr = "Abonnés" }
period = "2 years"
trigger = "last_contact"
"#;

/// A change of what only the privacy policy tells (an activity's legal basis, a longer
/// retention, a new recipient) is a material privacy-policy change: flagged, and the banner
/// does not ask again; each names the field and both values in the three languages.
#[test]
fn privacy_policy_changes_are_flagged_without_asking_again() {
    let base_src = format!("{BASE}{NEWSLETTER}");
    let base = snap(&base_src);
    let cases: Vec<(String, &str, [&str; 3])> = vec![
        (
            base_src.replace(
                "legal_basis = \"consent\"\ndata_categories",
                "legal_basis = \"legitimate_interest\"\ndata_categories",
            ),
            "activity_legal_basis_changed",
            [
                "Newsletter: legal basis changed from Consent to Legitimate interest",
                "Lettre d'information : la base légale passe de Consentement à Intérêt légitime",
                "Newsletter: Rechtsgrundlage geändert von Einwilligung zu Berechtigtes Interesse",
            ],
        ),
        (
            base_src.replace("period = \"2 years\"", "period = \"3 years\""),
            "retention_longer",
            [
                "Retention of Subscribers: period changed from 2 years after the last contact to 3 years after the last contact",
                "Conservation : Abonnés : la durée passe de 2 ans à compter du dernier contact à 3 ans à compter du dernier contact",
                "Speicherung: Subscribers: Frist geändert von 2 Jahre nach dem letzten Kontakt zu 3 Jahre nach dem letzten Kontakt",
            ],
        ),
        (
            base_src.replace(
                "retention = [\"subscribers\"]",
                "retention = [\"subscribers\"]\nprocessors = [\"mailer\"]",
            ),
            "activity_recipient_added",
            [
                "Processing activity Newsletter: new subprocessor Mailer",
                "Traitement Lettre d'information : nouveau sous-traitant Mailer",
                "Verarbeitung Newsletter: neuer Auftragsverarbeiter Mailer",
            ],
        ),
    ];
    for (src, kind, [en, fr, de]) in cases {
        let changes = diff(&base, &snap(&src));
        assert!(!requires_fresh_consent(&changes), "{kind}: {changes:#?}");
        assert!(policy_changed(&changes), "{kind}: {changes:#?}");
        let c = changes
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("{kind} missing in {changes:#?}"));
        assert!(c.policy_material && !c.material, "{kind}");
        assert_eq!([c.text("en"), c.text("fr"), c.text("de")], [en, fr, de]);
    }
    // A shorter retention is not material.
    let shorter = diff(&base, &snap(&base_src.replace("\"2 years\"", "\"1 year\"")));
    assert!(!policy_changed(&shorter) && !requires_fresh_consent(&shorter));
    assert!(shorter.iter().any(|c| c.kind == "retention_shorter"));
}

/// What the banner asks under: a purpose's legal basis, a tracker's own legal basis.
#[test]
fn a_cookie_purposes_legal_basis_asks_again() {
    let base = snap(BASE);
    for (src, kind) in [
        (
            BASE.replace("legal_basis = \"consent\"", "legal_basis = \"legitimate_interest\""),
            "purpose_legal_basis_changed",
        ),
        (
            BASE.replace(
                "purpose = \"analytics\"\nlifetime = \"6 months\"",
                "purpose = \"analytics\"\nlifetime = \"6 months\"\nlegal_basis = \"legitimate_interest\"",
            ),
            "cookie_legal_basis_changed",
        ),
    ] {
        let changes = diff(&base, &snap(&src));
        assert!(requires_fresh_consent(&changes), "{kind}: {changes:#?}");
        assert!(changes.iter().any(|c| c.kind == kind && c.material), "{kind}");
    }
}

/// Every change names its field and both values: a wording change quotes the old and the new
/// text, in each language.
#[test]
fn wording_changes_quote_both_values() {
    let base = snap(BASE);
    let changes = diff(
        &base,
        &snap(&BASE.replace("Stats.", "Audience statistics.")),
    );
    let c = changes
        .iter()
        .find(|c| c.kind == "purpose_wording_changed")
        .unwrap();
    assert_eq!(
        c.en,
        "Purpose Analytics: description changed from “Stats.” to “Audience statistics.”"
    );
    assert!(c.de.contains("„Stats.“"), "{}", c.de);
    assert!(c.fr.contains("« Statistiques. »"), "{}", c.fr);
}
