//! `[[datastores]]` in a registry: parsed, linted with positions, and outside every policy
//! version (editing them never makes a new version).
#![allow(clippy::unwrap_used)]

use assent_model::check::{self, Severity};
use assent_model::version::SiteSnapshot;

const BASE: &str = include_str!("../../../examples/callkom.toml");

const SHOP: &str = r#"
[[datastores]]
id = "shop"
kind = "postgres"
url_env = "SHOP_DATABASE_URL"

[[datastores.tables]]
name = "customers"
purpose = "functional"
columns = [
  { name = "email", identity = "email", category = "contact details", erase = "hash" },
  { name = "full_name", category = "identity" },
]

[[datastores.tables]]
name = "invoices"
retention = "rights-requests"
legal_hold = true
references = [{ column = "customer_id", to = "customers.id" }]
"#;

fn with(extra: &str) -> String {
    format!("{BASE}\n{extra}")
}

#[test]
fn a_clean_datastore_passes() {
    let (reg, diags) = check::check(&with(SHOP));
    let reg = reg.unwrap();
    assert_eq!(reg.datastores.len(), 1);
    assert!(
        !diags.iter().any(|d| d.path.starts_with("datastores")),
        "{diags:?}"
    );
}

#[test]
fn editing_datastores_makes_no_new_policy_version() {
    let (a, _) = check::check(BASE);
    let (b, _) = check::check(&with(SHOP));
    let edited = with(&SHOP.replace("\"hash\"", "\"null\""));
    let (c, _) = check::check(&edited);
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    for site in &a.sites {
        let h = |r| {
            SiteSnapshot::from_registry(r, &site.id)
                .unwrap()
                .content_hash()
        };
        assert_eq!(h(&a), h(&b));
        assert_eq!(h(&b), h(&c));
    }
}

#[test]
fn lints_point_at_the_line() {
    let bad = r#"
[[datastores]]
id = "Shop!"
kind = "mysql"
url_env = "mysql://root:secret@db/shop"

[[datastores.tables]]
name = "customers"
erase = "mask"
columns = [
  { name = "email", identity = "email", erase = "keep" },
  { name = "nick", erase = "fixed" },
]

[[datastores.tables]]
name = "invoices"
legal_hold = true
purpose = "nope"
references = [{ column = "customer_id", to = "clients.id" }, { column = "x", to = "bad" }]
"#;
    let src = with(bad);
    let base_lines = BASE.lines().count() + 1;
    let (reg, diags) = check::check(&src);
    assert!(reg.is_none());
    let ours: Vec<(usize, Severity, &str)> = diags
        .iter()
        .filter(|d| d.path.starts_with("datastores"))
        .map(|d| (d.line - base_lines, d.severity, d.message.as_str()))
        .collect();
    let has = |line: usize, sev: Severity, word: &str| {
        assert!(
            ours.iter()
                .any(|(l, s, m)| *l == line && *s == sev && m.contains(word)),
            "no {sev} with `{word}` at line {line}: {ours:#?}"
        );
    };
    has(3, Severity::Error, "invalid datastore id");
    has(5, Severity::Error, "never the URL itself");
    has(8, Severity::Warning, "no purpose nor retention");
    has(11, Severity::Error, "erasure keeps it");
    has(12, Severity::Error, "needs a `value`");
    has(17, Severity::Error, "name the retention rule");
    has(18, Severity::Error, "unknown purpose `nope`");
    has(19, Severity::Error, "`clients` is not annotated");
    has(19, Severity::Error, "`table.column`");
}

#[test]
fn lock_timeout_is_a_checked_setting_outside_policy_versions() {
    let set = |ms: &str| {
        SHOP.replace(
            "url_env = \"SHOP_DATABASE_URL\"",
            &format!("url_env = \"SHOP_DATABASE_URL\"\nlock_timeout_ms = {ms}"),
        )
    };
    let (reg, diags) = check::check(&with(&set("1500")));
    let reg = reg.unwrap();
    assert_eq!(reg.datastores[0].lock_timeout_ms, Some(1_500));
    assert!(
        !diags.iter().any(|d| d.path.starts_with("datastores")),
        "{diags:?}"
    );
    let (base, _) = check::check(BASE);
    let base = base.unwrap();
    for site in &base.sites {
        let h = |r| {
            SiteSnapshot::from_registry(r, &site.id)
                .unwrap()
                .content_hash()
        };
        assert_eq!(h(&base), h(&reg));
    }
    let src = with(&set("0"));
    let line = src
        .lines()
        .position(|l| l.starts_with("lock_timeout_ms"))
        .unwrap()
        + 1;
    let (reg, diags) = check::check(&src);
    assert!(reg.is_none());
    assert!(
        diags.iter().any(|d| d.line == line
            && d.severity == Severity::Error
            && d.message.contains("lock_timeout_ms = 0")),
        "{diags:?}"
    );
}
