//! `assent dsr access|erase` with Assent's own data (issue 15, item 10), on a SQLite data
//! directory and on a PostgreSQL database: consent records made through the real server are
//! found by the subject id and the receipt id the requester gives, included in the access
//! package, and erased through the ledger's redaction (the entries stay and the ledger still
//! verifies); another person's consent is untouched; a second run erases nothing more.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../datastore/tests/common/mod.rs"]
mod shop;

use std::process::{Command, Output};

use assent_model::datastore::DatastoreKind;
use common::{BIN, Server, TempDir, post_consents, random_hex, s, text};
use serde_json::{Value, json};
use shop::Db;

const BASE: &str = include_str!("../../../examples/callkom.toml");
const ADA: &str = "ada.lovelace@example.org";

fn registry() -> String {
    let block = shop::shop_registry(DatastoreKind::Sqlite)
        .replace("[[tables]]", "[[datastores.tables]]")
        .replace("purpose = \"orders\"", "purpose = \"functional\"")
        .replace("purpose = \"newsletter\"", "purpose = \"performance\"")
        .replace(
            "retention = \"invoices\"",
            "retention = \"rights-requests\"",
        );
    format!("{BASE}\n[[datastores]]\n{block}")
}

fn pg_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `assent dsr ARGS...` with the shop's URL, the key, and Assent's store (`--data DIR`
/// and, on PostgreSQL, `--database URL`).
fn dsr(shop: &Db, own: &[&str], args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("dsr")
        .args(args)
        .args(own)
        .env("SHOP_DATABASE_URL", &shop.url)
        .env("ASSENT_ERASURE_KEY", "cd".repeat(32))
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_DATA")
        .output()
        .unwrap()
}

fn own_records_are_included_and_erased(database: Option<String>) {
    let shop = Db::shop(DatastoreKind::Sqlite);
    let tmp = TempDir::new("dsr-own");
    let data = tmp.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let reg = tmp.join("registry.toml");
    std::fs::write(&reg, registry()).unwrap();

    // Ada's two consents (one subject id), and someone else's, through the real server.
    let subject = assent_testkit::random_uuid();
    let server = Server::start(&data, database.as_deref());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receipts = rt.block_on(async {
        let c = reqwest::Client::new();
        let body = |subject: &str, action: &str| {
            json!({"subject": subject, "policy_version": 1, "action": action, "language": "fr"})
        };
        post_consents(
            &c,
            &server.base,
            [
                body(&subject, "accept_all"),
                body(&subject, "reject_all"),
                body(&assent_testkit::random_uuid(), "accept_all"),
            ],
        )
        .await
    });
    server.stop();
    let mut own = vec!["--data", s(&data)];
    if let Some(db) = &database {
        own.extend(["--database", db.as_str()]);
    }

    // Access: the consents by the subject id, the person's rows in the shop.
    let out = tmp.join("package");
    let o = dsr(
        &shop,
        &own,
        &[
            "access",
            "--registry",
            s(&reg),
            "--email",
            ADA,
            "--subject",
            &subject,
            "--out",
            s(&out),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("skipped"), "{}", text(&o));
    let pkg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("data.json")).unwrap()).unwrap();
    assert_eq!(pkg["assent_searched"], true);
    let found: Vec<&str> = pkg["assent"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["receipt_id"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 2, "{pkg}");
    assert!(found.contains(&receipts[0].as_str()) && found.contains(&receipts[1].as_str()));
    assert!(out.join("assent.consents.csv").is_file());

    // Erasure: by the receipt id the requester kept (one of the two) and the subject id.
    let erase = [
        "erase",
        "--registry",
        s(&reg),
        "--email",
        ADA,
        "--receipt",
        &receipts[0],
        "--subject",
        &subject,
    ];
    let o = dsr(&shop, &own, &erase);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            "2 consent record(s) erased through the ledger's redaction, 0 already erased"
        ),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("erasure receipt appended"),
        "{}",
        text(&o)
    );
    // Again: nothing more (an erased record is no longer found by its subject id; the
    // receipt id given is found erased).
    let o = dsr(&shop, &own, &erase);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            "0 consent record(s) erased through the ledger's redaction, 1 already erased"
        ),
        "idempotent: {}",
        text(&o)
    );
    // Found no more; the other person's consent stays; the ledger verifies.
    let again = tmp.join("again");
    let o = dsr(
        &shop,
        &own,
        &[
            "access",
            "--registry",
            s(&reg),
            "--email",
            ADA,
            "--subject",
            &subject,
            "--out",
            s(&again),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let pkg: Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("data.json")).unwrap()).unwrap();
    assert_eq!(pkg["assent"]["consents"], json!([]), "{pkg}");
    let mut verify = vec!["ledger", "verify"];
    verify.extend(&own);
    let o = Command::new(BIN)
        .args(&verify)
        .env_remove("ASSENT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        exported(&data, database.as_deref(), &receipts[2]),
        "the other person's consent is still there"
    );
}

/// Whether `assent export consents` still lists a receipt.
fn exported(data: &std::path::Path, database: Option<&str>, receipt: &str) -> bool {
    let mut args = vec!["export", "consents", "--data", s(data), "--site", "callkom"];
    args.extend(["--from", "2000-01-01", "--to", "2100-01-01"]);
    if let Some(db) = database {
        args.extend(["--database", db]);
    }
    let o = Command::new(BIN)
        .args(&args)
        .env_remove("ASSENT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).contains(receipt)
}

#[test]
fn own_records_sqlite() {
    own_records_are_included_and_erased(None);
}

#[test]
fn own_records_postgres() {
    let schema = format!("assent_dsr_{}", random_hex(6));
    let url = pg_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    own_records_are_included_and_erased(Some(format!("{url}{sep}schema={schema}")));
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
}
