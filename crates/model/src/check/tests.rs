//! Unit tests of `assent check`: a small clean registry, then one edit per lint.
use super::*;

/// A small clean registry, shared with the material-change tests (`tests/versions.rs`). It
/// starts with an empty line: positions below count it.
const BASE: &str = include_str!("../../tests/fixtures/small.toml");
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

/// `BASE` with German added to the site and to each of its translated texts.
fn german_base() -> String {
    BASE.replace(
        "languages = [\"en\", \"fr\"]",
        "languages = [\"en\", \"fr\", \"de\"]",
    )
    .replace(
        "fr = \"Nécessaires\" }",
        "fr = \"Nécessaires\", de = \"Notwendig\" }",
    )
    .replace(
        "fr = \"Indispensables.\" }",
        "fr = \"Indispensables.\", de = \"Erforderlich.\" }",
    )
    .replace(
        "fr = \"Mesure d'audience\" }",
        "fr = \"Mesure d'audience\", de = \"Statistik\" }",
    )
    .replace(
        "fr = \"Statistiques.\" }",
        "fr = \"Statistiques.\", de = \"Statistiken.\" }",
    )
}

/// 1-based (line, column) of the first occurrence of `needle` in `src`.
fn position(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).unwrap();
    let line = src[..at].matches('\n').count() + 1;
    let col = src[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

#[test]
fn german_is_a_language_like_the_others() {
    let src = german_base();
    let (reg, d) = check(&src);
    assert!(reg.is_some(), "{d:#?}");
    assert!(d.iter().all(|d| d.severity != Severity::Error), "{d:#?}");
    let reg = reg.unwrap();
    assert_eq!(reg.purposes[1].name.get("de", "en"), "Statistik");
}

#[test]
fn a_site_in_german_needs_every_text_in_german() {
    // German listed, no German text: one error per text, at the text, naming its path.
    let src = BASE.replace(
        "languages = [\"en\", \"fr\"]",
        "languages = [\"en\", \"fr\", \"de\"]",
    );
    let got = diags(&src);
    let german: Vec<&String> = got.iter().filter(|g| g.contains("language `de`")).collect();
    assert_eq!(german.len(), 4, "{got:#?}");
    for (needle, what, path) in [
        ("{ en = \"Necessary\"", "purpose name", "purposes[0].name"),
        (
            "{ en = \"Needed.\"",
            "purpose description",
            "purposes[0].description",
        ),
        ("{ en = \"Analytics\"", "purpose name", "purposes[1].name"),
        (
            "{ en = \"Stats.\"",
            "purpose description",
            "purposes[1].description",
        ),
    ] {
        let (line, col) = position(&src, needle);
        let want = format!(
            "f.toml:{line}:{col}: error: {what} has no translation for site language `de` ({path})"
        );
        assert!(german.contains(&&want), "{want} not in {german:#?}");
    }
    // One German text missing among complete ones: only that one is reported.
    let src = german_base().replace(", de = \"Statistiken.\"", "");
    let got = diags(&src);
    let german: Vec<&String> = got.iter().filter(|g| g.contains("language `de`")).collect();
    assert_eq!(german.len(), 1, "{got:#?}");
    assert!(
        german[0].ends_with("(purposes[1].description)"),
        "{german:?}"
    );
    // A blank German translation is an error too.
    let got = diags(&german_base().replace("de = \"Statistik\"", "de = \" \""));
    assert!(
        got.iter()
            .any(|g| g.contains("error: purpose name is empty")),
        "{got:#?}"
    );
}

#[test]
fn only_the_sites_showing_a_text_decide_its_languages() {
    // A second, German-only site that uses only the necessary purpose: analytics texts and an
    // activity listed only on the first site need no German; the necessary purpose does.
    let src = BASE.to_string()
        + r#"
[[sites]]
id = "de-site"
name = "Beispiel"
domains = ["example.de"]
languages = ["de"]
purposes = ["necessary"]

[[activities]]
id = "stats"
name = { en = "Statistics", fr = "Statistiques" }
description = { en = "Counting visits.", fr = "Compter les visites." }
legal_basis = "consent"
data_subjects = [{ en = "Visitors", fr = "Visiteurs" }]
data_categories = [{ en = "Pages visited", fr = "Pages visitées" }]
source = { en = "The visitor's browser", fr = "Le navigateur du visiteur" }
sites = ["ex"]
"#;
    let got = diags(&src);
    let german: Vec<&String> = got.iter().filter(|g| g.contains("language `de`")).collect();
    assert_eq!(german.len(), 2, "{got:#?}");
    assert!(
        german.iter().all(|g| g.contains("(purposes[0].")),
        "{german:#?}"
    );
    // Shown on every site, the activity needs German, its source included.
    let got = diags(&src.replace("sites = [\"ex\"]\n", ""));
    for path in [
        "activities[0].name",
        "activities[0].source",
        "activities[0].data_subjects[0]",
    ] {
        assert!(
            got.iter()
                .any(|g| g.contains("language `de`") && g.ends_with(&format!("({path})"))),
            "{path} not reported in {got:#?}"
        );
    }
}

#[test]
fn marketing_lints() {
    let good = format!(
        "{BASE}\n[[marketing]]\nid = \"offers\"\nname = \"Offers\"\nchannels = [\"email\", \"sms\"]\nsoft_opt_in = true\n"
    );
    let (reg, d) = check(&good);
    assert!(reg.is_some(), "{d:?}");
    let cases = [
        (
            "channels = [\"sms\"]\nsoft_opt_in = true",
            "has no email channel",
        ),
        ("channels = []", "has no channel"),
        (
            "channels = [\"email\", \"email\"]",
            "duplicate channel `email`",
        ),
        (
            "channels = [\"email\"]\nsites = [\"nope\"]",
            "unknown site `nope`",
        ),
        ("channels = [\"fax\"]", "unknown variant `fax`"),
    ];
    for (body, want) in cases {
        let src = format!("{BASE}\n[[marketing]]\nid = \"m\"\nname = \"M\"\n{body}\n");
        let d = diags(&src);
        assert!(d.iter().any(|l| l.contains(want)), "{want}: {d:?}");
    }
    let twice = format!(
        "{BASE}\n[[marketing]]\nid = \"m\"\nname = \"M\"\nchannels = [\"email\"]\n[[marketing]]\nid = \"m\"\nname = \"M\"\nchannels = [\"email\"]\n"
    );
    assert!(
        diags(&twice)
            .iter()
            .any(|l| l.contains("duplicate marketing purpose id `m`")),
        "{:?}",
        diags(&twice)
    );
}

/// Retention rules bound to data (issue 16): each bad rule is reported at its line.
#[test]
fn retention_rules_bound_to_data() {
    let rule = |extra: &str| {
        format!(
            "{BASE}\n[[retention]]\nid = \"r\"\ndata_category = {{ en = \"C\", fr = \"C\" }}\n{extra}\n"
        )
    };
    let line = |src: &str, needle: &str| src[..src.find(needle).unwrap()].lines().count() + 1;
    // Unknown kind, unparsable period: parse errors at their line.
    let src = rule("period = \"2 years\"\ntrigger = \"collection\"\napplies_to = \"consent\"");
    let got = diags(&src);
    assert!(
        got[0].starts_with(&format!("f.toml:{}:", line(&src, "applies_to"))),
        "{got:?}"
    );
    assert!(
        got[0].contains("unknown `applies_to` value `consent`"),
        "{got:?}"
    );
    let src = rule("period = \"2 fortnights\"\ntrigger = \"collection\"");
    let got = diags(&src);
    assert!(
        got[0].starts_with(&format!("f.toml:{}:", line(&src, "period"))),
        "{got:?}"
    );
    // An anchor Assent's records do not carry, an anchor column for an own kind.
    for (extra, at, want) in [
        (
            "period = \"1 year\"\ntrigger = \"contract_end\"\napplies_to = \"consents\"",
            "trigger",
            "anchored at `collection` or `choice_expiry`",
        ),
        (
            "period = \"1 year\"\ntrigger = \"collection\"\napplies_to = \"rights_requests\"\nanchor = [\"x\"]",
            "anchor",
            "fixed anchor",
        ),
        (
            "period = \"1 year\"\ntrigger = \"collection\"\napplies_to = \"consents\"\naction = \"anonymise\"",
            "action",
            "cannot be anonymised",
        ),
        (
            "period = \"1 year\"\ntrigger = \"collection\"\napplies_to = \"crm.contacts\"\nanchor = [\"a.b.c\"]",
            "anchor",
            "invalid anchor column",
        ),
        (
            "period = \"1 year\"\ntrigger = \"collection\"\napplies_to = \"consents\"\nreconfirm_days_before = 30",
            "reconfirm_days_before",
            "`marketing` only",
        ),
    ] {
        let src = rule(extra);
        let got = diags(&src);
        let hit = got
            .iter()
            .find(|d| d.contains(want))
            .unwrap_or_else(|| panic!("{want}: {got:?}"));
        assert!(
            hit.starts_with(&format!("f.toml:{}:", line(&src, at))),
            "{hit}"
        );
        assert!(hit.contains("error"), "{hit}");
    }
    // A table rule needs a declared datastore and an annotated table.
    let table_rule = "period = \"1 year\"\ntrigger = \"last_contact\"\napplies_to = \"crm.contacts\"\nanchor = [\"last_contact_at\", \"orders.placed_at\"]";
    let src = rule(table_rule);
    let got = diags(&src);
    assert!(
        got.iter()
            .any(|d| d.contains("error") && d.contains("datastore `crm` is not declared")),
        "{got:?}"
    );
    let crm = "[[datastores]]\nid = \"crm\"\nkind = \"postgres\"\nurl_env = \"CRM_URL\"\n\
               [[datastores.tables]]\nname = \"contacts\"\ncolumns = [{ name = \"email\", identity = \"email\" }]\n";
    let src = format!("{}\n{crm}", rule(table_rule));
    let got = diags(&src);
    assert!(
        got.iter()
            .any(|d| d.contains("no reference links `orders`")),
        "{got:?}"
    );
    // Declared, annotated, linked: enforced by Assent, no warning.
    let linked = format!(
        "{crm}[[datastores.tables]]\nname = \"orders\"\nreferences = [{{ column = \"contact_id\", to = \"contacts.id\" }}]\n"
    );
    let src = format!("{}\n{linked}", rule(table_rule));
    let got = diags(&src);
    assert!(!got.iter().any(|d| d.contains("retention `r`")), "{got:?}");
    assert!(check(&src).0.is_some());
    // Anonymising needs a column that marks anonymised rows (`email` is `null` by default).
    let src = format!("{}\naction = \"anonymise\"\n{linked}", rule(table_rule));
    assert!(
        !diags(&src).iter().any(|d| d.contains("retention `r`")),
        "{:?}",
        diags(&src)
    );
    // Nothing to tell anonymised rows by: an error.
    let hashed = linked.replace(
        "{ name = \"email\", identity = \"email\" }",
        "{ name = \"email\", identity = \"email\", erase = \"hash\" }",
    );
    let src = format!("{}\naction = \"anonymise\"\n{hashed}", rule(table_rule));
    assert!(
        diags(&src)
            .iter()
            .any(|d| d.contains("needs a column annotated")),
        "{:?}",
        diags(&src)
    );
}
