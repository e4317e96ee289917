//! The worked example of `docs/fulfilment.md`, end to end through the binary on each engine:
//! introspect the shop, check the annotations (and a wrong one, with its line), write an
//! access package, dry-run then run an erasure whose receipt lands in Assent's ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../datastore/tests/common/mod.rs"]
mod shop;

use std::process::{Command, Output};

use assent_model::datastore::DatastoreKind;
use common::{BIN, TempDir, text};
use shop::Db;

const BASE: &str = include_str!("../../../examples/callkom.toml");

/// The shop's annotations as a registry block, with ids of the Callkom registry.
fn registry_block(kind: DatastoreKind) -> String {
    let block = shop::shop_registry(kind)
        .replace("[[tables]]", "[[datastores.tables]]")
        .replace("purpose = \"orders\"", "purpose = \"functional\"")
        .replace("purpose = \"newsletter\"", "purpose = \"performance\"")
        .replace(
            "retention = \"invoices\"",
            "retention = \"rights-requests\"",
        );
    format!("{BASE}\n[[datastores]]\n{block}")
}

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

/// `assent dsr SUB --registry REG ARGS...`
fn dsr(db: &Db, sub: &str, reg: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["dsr", sub, "--registry", reg.to_str().unwrap()];
    all.extend_from_slice(args);
    run(db, &all)
}

fn worked_example(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let tmp = TempDir::new("dsr");

    // 1. introspect proposes a block that passes `assent check`.
    let o = run(
        &db,
        &[
            "datastore",
            "introspect",
            "--id",
            "shop",
            "--kind",
            kind.as_str(),
            "--url-env",
            "SHOP_DATABASE_URL",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let proposed = String::from_utf8(o.stdout.clone()).unwrap();
    for want in [
        "[[datastores]]",
        "url_env = \"SHOP_DATABASE_URL\"",
        "name = \"customers\"",
        "{ name = \"email\", identity = \"email\", category = \"contact details\", erase = \"null\" }",
        "{ column = \"customer_id\", to = \"customers.id\" }",
        "name = \"order_lines\"",
    ] {
        assert!(proposed.contains(want), "{want} missing in:\n{proposed}");
    }
    assert!(!proposed.contains("name = \"products\""), "{proposed}");
    let warnings = String::from_utf8_lossy(&o.stderr);
    if kind == DatastoreKind::Mysql {
        assert!(warnings.contains("customers.email: identity column without an index: CREATE INDEX customers_email_idx ON customers (email)"), "{warnings}");
    } else {
        assert!(warnings.contains("(lower(email))"), "{warnings}");
        assert!(
            warnings.contains("orders.customer_id: reference column without an index"),
            "{warnings}"
        );
    }
    let pasted = tmp.join("proposed.toml");
    std::fs::write(&pasted, format!("{BASE}\n{proposed}")).unwrap();
    let o = run(&db, &["check", pasted.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    // 2. check: the hand-tuned block is clean but for warnings; a typo is an error at its line.
    let reg = tmp.join("registry.toml");
    std::fs::write(&reg, registry_block(kind)).unwrap();
    let o = run(
        &db,
        &["datastore", "check", "--registry", reg.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("identity column `customers.email` has no index"),
        "{}",
        text(&o)
    );
    let typo = registry_block(kind).replace("\"shipping_address\"", "\"shipping_adress\"");
    let line = typo
        .lines()
        .position(|l| l.contains("shipping_adress"))
        .unwrap()
        + 1;
    let bad = tmp.join("typo.toml");
    std::fs::write(&bad, &typo).unwrap();
    let o = run(
        &db,
        &["datastore", "check", "--registry", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let want = format!(
        "{}:{line}:12: error: datastore `shop`: column `orders.shipping_adress` does not exist",
        bad.display()
    );
    assert!(text(&o).contains(&want), "{want} not in {}", text(&o));

    // 3. access: the package, in French.
    let out = tmp.join("package");
    let o = dsr(
        &db,
        "access",
        &reg,
        &[
            "--email",
            "ADA.Lovelace@example.org",
            "--out",
            out.to_str().unwrap(),
            "--lang",
            "fr",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("skipped"), "{}", text(&o));
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("data.json")).unwrap()).unwrap();
    assert_eq!(
        data["datastores"]["shop"]["customers"][0]["full_name"],
        "Ada Lovelace"
    );
    assert_eq!(
        data["datastores"]["shop"]["order_lines"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(data["assent_searched"], false);
    let csv = std::fs::read_to_string(out.join("shop.customers.csv")).unwrap();
    assert!(
        csv.starts_with("id,email,full_name,phone,customer_no,restricted\n"),
        "{csv}"
    );
    assert!(
        csv.contains("'+33 1 23 45 67 89"),
        "a phone starting with + is defused: {csv}"
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("Vos données personnelles") && html.contains("Ada Lovelace"));
    assert!(
        html.contains("Conservé au titre d&#39;une obligation légale"),
        "{html}"
    );

    // Nobody: an empty package that says so.
    let empty = tmp.join("empty");
    let o = dsr(
        &db,
        "access",
        &reg,
        &[
            "--email",
            "nobody@example.org",
            "--out",
            empty.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(empty.join("index.html")).unwrap();
    assert!(html.contains("No data about you was found"), "{html}");

    // 4. dry run, then erasure with its receipt in Assent's ledger.
    let before = db.rows("SELECT * FROM order_lines ORDER BY id");
    let o = dsr(
        &db,
        "erase",
        &reg,
        &["--email", "ada.lovelace@example.org", "--dry-run"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dry run: nothing was changed"));
    assert!(
        text(&o).contains("order_lines                     3 rows to delete"),
        "{}",
        text(&o)
    );
    assert_eq!(db.rows("SELECT * FROM order_lines ORDER BY id"), before);

    let data_dir = tmp.join("assent-data");
    let o = run(
        &db,
        &[
            "apply",
            reg.to_str().unwrap(),
            "--data",
            data_dir.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = dsr(
        &db,
        "erase",
        &reg,
        &[
            "--email",
            "ada.lovelace@example.org",
            "--data",
            data_dir.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("erasure receipt appended to the ledger"),
        "{}",
        text(&o)
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM order_lines"), 1);
    let ledger = rusqlite::Connection::open(data_dir.join("assent.db")).unwrap();
    let payload: Vec<u8> = ledger
        .query_row(
            "SELECT payload FROM ledger_entries WHERE kind = 'erasure'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let payload = String::from_utf8(payload).unwrap();
    assert!(payload.contains("\"subject\":\"hmac-sha256:"), "{payload}");
    assert!(payload.contains("\"table\":\"order_lines\""), "{payload}");
    assert!(
        !payload.to_lowercase().contains("lovelace"),
        "no personal data: {payload}"
    );
}

fn failing_datastore_is_named(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let tmp = TempDir::new("dsr");
    let reg = tmp.join("registry.toml");
    std::fs::write(
        &reg,
        registry_block(kind).replace("name = \"newsletter\"", "name = \"mailing\""),
    )
    .unwrap();
    let o = dsr(&db, "erase", &reg, &["--email", "ada.lovelace@example.org"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("datastore `shop`, table `mailing`: missing table or column: table `mailing` does not exist"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("NOT recorded"), "{}", text(&o));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM order_lines"),
        4,
        "nothing changed"
    );
    // Bad input is named, never a panic.
    let o = dsr(&db, "erase", &reg, &["--email", "not-an-email"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("email: not an email address"),
        "{}",
        text(&o)
    );
    let o = dsr(
        &db,
        "access",
        &reg,
        &[
            "--identity",
            "nokind",
            "--out",
            tmp.join("x").to_str().unwrap(),
        ],
    );
    assert!(
        text(&o).contains("identity: expected KIND=VALUE"),
        "{}",
        text(&o)
    );
    // --data never creates a data directory.
    let missing = tmp.join("no-such-dir");
    let o = dsr(
        &db,
        "access",
        &reg,
        &[
            "--email",
            "a@b.fr",
            "--data",
            missing.to_str().unwrap(),
            "--out",
            tmp.join("y").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!missing.exists());
}

engines!(worked_example, failing_datastore_is_named);
