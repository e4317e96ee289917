//! `assent retention plan` and `run` with a rule bound to a datastore table, through the
//! binary on each engine: the plan's JSON gives due, held (a restricted customer), rows
//! without an anchor and the next due date; `run --at --force` purges the newsletter rows
//! in chunks, and a second plan finds nothing due.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../datastore/tests/common/mod.rs"]
mod shop;

use std::process::{Command, Output};

use assent_model::datastore::DatastoreKind;
use common::{BIN, TempDir, text};
use serde_json::Value;
use shop::Db;

const BASE: &str = include_str!("../../../examples/callkom.toml");

fn run(db: &Db, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SHOP_DATABASE_URL", &db.url)
        .env("ASSENT_ERASURE_KEY", "ab".repeat(32))
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_DATA")
        .output()
        .unwrap()
}

fn registry(kind: DatastoreKind) -> String {
    let block = shop::shop_registry(kind)
        .replace("[[tables]]", "[[datastores.tables]]")
        .replace("purpose = \"orders\"", "purpose = \"functional\"")
        .replace("purpose = \"newsletter\"", "purpose = \"performance\"")
        .replace(
            "retention = \"invoices\"",
            "retention = \"newsletter-list\"",
        );
    format!(
        "{BASE}
[[retention]]
id = \"newsletter-list\"
data_category.en = \"Newsletter list\"
data_category.fr = \"Liste de la lettre d'information\"
data_category.de = \"Newsletter-Verteiler\"
period = \"1 year\"
trigger = \"collection\"
applies_to = \"shop.newsletter\"
anchor = [\"subscribed_on\"]

[[datastores]]
{block}"
    )
}

fn rule(o: &Output) -> Value {
    assert!(o.status.success(), "{}", text(o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "newsletter-list")
        .unwrap()
        .clone()
}

fn plan_and_run(kind: DatastoreKind) {
    let db = Db::shop(kind);
    db.exec("INSERT INTO newsletter (id, email, subscribed_on) VALUES (3, 'late@example.org', '2026-06-01'), (4, 'undated@example.org', NULL)");
    let tmp = TempDir::new("retention-cli");
    let reg = tmp.join("registry.toml");
    std::fs::write(&reg, registry(kind)).unwrap();
    let data = tmp.join("data");
    let (reg, data) = (reg.to_str().unwrap(), data.to_str().unwrap());
    let o = run(&db, &["apply", reg, "--data", data]);
    assert!(o.status.success(), "{}", text(&o));
    let at = ["--at", "2027-01-01T00:00:00Z"];
    let mut args = vec![
        "retention",
        "plan",
        "--registry",
        reg,
        "--data",
        data,
        "--json",
    ];
    args.extend(at);
    let r = rule(&run(&db, &args));
    assert_eq!(
        (&r["enforced_by"], &r["due"], &r["held"], &r["unanchored"]),
        (
            &Value::from("assent"),
            &Value::from(2),
            &Value::from(0),
            &Value::from(1)
        ),
        "{r}"
    );
    assert_eq!(r["next_due_at"], "2027-05-31T22:00:00Z", "{r}");
    let mut args = vec![
        "retention",
        "run",
        "--registry",
        reg,
        "--data",
        data,
        "--force",
        "--chunk",
        "1",
        "--json",
    ];
    args.extend(at);
    let o = run(&db, &args);
    let r = rule(&o);
    assert_eq!(
        (&r["status"], &r["deleted"]),
        (&Value::from("done"), &Value::from(2)),
        "{r}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM newsletter"), 2);
    let mut args = vec![
        "retention",
        "plan",
        "--registry",
        reg,
        "--data",
        data,
        "--json",
    ];
    args.extend(at);
    assert_eq!(rule(&run(&db, &args))["due"], 0);
}

engines!(plan_and_run);
