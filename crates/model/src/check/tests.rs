//! Unit tests of `assent check`: a small clean registry, then one edit per lint.
use super::*;

const BASE: &str = r#"
[controller]
name = "Example SAS"
address = "1 rue de la Paix, 75002 Paris"
country = "FR"
email = "privacy@example.com"
[controller.supervisory_authority]
name = "CNIL"
url = "https://www.cnil.fr"

[[sites]]
id = "ex"
name = "Example"
domains = ["example.com", "www.example.com"]
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
consent_mode = ["analytics_storage"]

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
lifetime = "13 months"
"#;

fn diags(src: &str) -> Vec<String> {
    check(src).1.iter().map(|d| d.render("f.toml")).collect()
}

#[test]
fn base_is_clean() {
    let (reg, d) = check(BASE);
    assert!(reg.is_some(), "{d:?}");
    assert!(d.iter().all(|d| d.severity != Severity::Error), "{d:?}");
}

#[test]
fn table_of_errors() {
    let cases: &[(&str, &str, &str)] = &[
        // (replace, with, expected substring)
        (
            "lifetime = \"13 months\"",
            "lifetime = \"2 years\"",
            "f.toml:46:12: error: tracker `_ga` lives 2 years",
        ),
        (
            "purpose = \"analytics\"\nlifetime",
            "purpose = \"analytix\"\nlifetime",
            "error: unknown purpose `analytix`",
        ),
        (
            "service = \"ga\"",
            "service = \"gaa\"",
            "error: unknown service `gaa`",
        ),
        (
            "id = \"analytics\"",
            "id = \"necessary\"",
            "error: duplicate purpose id `necessary`",
        ),
        (
            "fr = \"Statistiques.\"",
            "de = \"Statistiken.\"",
            "error: purpose description has no translation for site language `fr`",
        ),
        (
            "legal_basis = \"consent\"\nconsent_mode",
            "legal_basis = \"legitimate_interest\"\nconsent_mode",
            "warning: purpose `analytics` needs consent",
        ),
        (
            "country = \"IE\"",
            "country = \"US\"",
            "outside the EEA: declare its safeguard",
        ),
        (
            "privacy_policy = \"https://policies.google.com/privacy\"",
            "privacy_policy = \"javascript:alert(1)\"",
            "is not an http(s) URL",
        ),
        (
            "languages = [\"en\", \"fr\"]",
            "languages = [\"en\", \"fr\"]\nconsent_lifetime_days = 400",
            "consent lifetime of 400 days is out of range",
        ),
        (
            "lifetime = \"13 months\"",
            "lifetime = \"13 months\"\nexemption_reason = \"stats\"",
            "is marked exempt, but its purpose `analytics` is neither strictly necessary nor exempt audience measurement",
        ),
        (
            "lifetime = \"13 months\"",
            "lifetime = \"13 monthz\"",
            "invalid duration unit `monthz`",
        ),
        (
            "name = \"Example\"",
            "name = \"Example\"\ncolour = \"red\"",
            "unknown field `colour`",
        ),
        (
            "consent_mode = [\"analytics_storage\"]",
            "consent_mode = \"analytics_storage\"",
            "error: invalid type",
        ),
    ];
    for (from, to, want) in cases {
        assert!(BASE.contains(from), "fixture lacks {from}");
        let src = BASE.replacen(from, to, 1);
        let got = diags(&src);
        assert!(
            got.iter().any(|g| g.contains(want)),
            "case {to:?}: wanted {want:?} in {got:#?}"
        );
    }
}

#[test]
fn exempt_tracker_rules() {
    let src = BASE.to_string()
        + r#"
[[purposes]]
id = "audience"
name = { en = "Audience", fr = "Audience" }
description = { en = "Anonymous stats.", fr = "Statistiques anonymes." }
consent_required = false
exemption = "audience_measurement"
legal_basis = "legitimate_interest"
data_retention = "25 months"

[[cookies]]
name = "_pk_id*"
purpose = "audience"
lifetime = "14 months"
exemption_reason = "CNIL-exempt configuration"

[[cookies]]
name = "sess"
purpose = "necessary"
lifetime = "session"
"#;
    let got = diags(&src);
    assert!(
        got.iter()
            .any(|g| g.contains("exempt audience-measurement tracker `_pk_id*` lives 14 months")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|g| g
                .contains("tracker `sess` is exempt from consent (purpose `necessary`): say why")),
        "{got:#?}"
    );
}

#[test]
fn parse_error_has_position() {
    let got = diags("[controller]\nname = \n");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("f.toml:2:"), "{got:?}");
}
