#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Fulfilment runs on the operator's own database (issue 15): a SQLite shop declared as
//! `[[datastores]]` in the registry, its URL in an environment variable. The runs find the
//! person's rows across references for an access package, erase them (others untouched, a
//! second run idempotent) with a receipt in the ledger, and report a datastore that fails
//! (a missing table) by name on the request, which then needs attention.
//!
//! The URL is only ever read from the environment, so each case runs in a child process of
//! this test binary started with the variable set (the parent, `datastore_runs`, is the test).

mod common;

use common::{BASE_TIME_MS, Backend, Options, TempDir, TestApp, json};
use serde_json::{Value, json};

const VAR: &str = "ASSENT_TEST_SHOP_URL";
const EMAIL: &str = "ada@example.org";

fn shop(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), shipping_address TEXT);
         INSERT INTO customers VALUES (1, 'Ada@Example.org', 'Ada Lovelace'), (2, 'bob@example.org', 'Bob');
         INSERT INTO orders VALUES (10, 1, '1 Analytical St'), (11, 1, '1 Analytical St'), (20, 2, '2 Other Rd');",
    )
    .unwrap();
}

fn registry(extra_table: &str) -> String {
    let base = std::fs::read_to_string(common::examples_dir().join("callkom.toml")).unwrap();
    format!(
        r#"{base}

[[datastores]]
id = "shop"
kind = "sqlite"
url_env = "{VAR}"

[[datastores.tables]]
name = "customers"
purpose = "functional"
columns = [
  {{ name = "email", identity = "email", category = "contact details", erase = "hash" }},
  {{ name = "full_name", category = "identity" }},
]

[[datastores.tables]]
name = "orders"
purpose = "functional"
erase = "delete"
columns = [{{ name = "shipping_address", category = "contact details" }}]
references = [{{ column = "customer_id", to = "customers.id" }}]
{extra_table}"#
    )
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(
        app.admin_post(path, body.to_string(), "application/json")
            .await,
    )
    .await
}

async fn verified_request(app: &TestApp, kind: &str) -> String {
    let body = json!({"site": "callkom", "type": kind, "email": EMAIL, "name": "Ada",
        "channel": "email", "received_at": assent_model::clock::rfc3339(BASE_TIME_MS - 86_400_000)});
    let (s, v) = post(app, "/admin/v1/requests", body).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = post(
        app,
        &format!("/admin/v1/requests/{id}/verify"),
        json!({"note": "replied from the address"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    id
}

fn count(path: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The child: runs with `ASSENT_TEST_SHOP_URL` set by the parent.
async fn child(b: Backend) {
    let url = std::env::var(VAR).expect("started by datastore_runs");
    let path = std::path::PathBuf::from(url.strip_prefix("sqlite://").unwrap());
    let broken = std::env::var("ASSENT_TEST_SHOP_BROKEN").is_ok();
    let extra = if broken {
        "\n[[datastores.tables]]\nname = \"invoices\"\n"
    } else {
        ""
    };
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_src: registry(extra),
            ..Options::default()
        },
    )
    .await;
    if broken {
        // A missing table: the run says which, changes nothing, the request needs attention.
        let id = verified_request(&app, "erasure").await;
        let (s, v) = post(
            &app,
            &format!("/admin/v1/requests/{id}/fulfilment/run"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["status"], "partial",
            "Assent's own records were done: {v}"
        );
        let err = v["error"].as_str().unwrap();
        assert!(
            err.contains("datastore shop") && err.contains("invoices"),
            "{err}"
        );
        assert_eq!(
            count(&path, "SELECT COUNT(*) FROM orders"),
            3,
            "nothing changed"
        );
        let (_, v) = json(app.admin_get("/admin/v1/requests?attention=true").await).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
        return;
    }
    // Access: the person's rows across the reference, emails case-insensitively.
    let id = verified_request(&app, "access").await;
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/preview"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["datastores"]["shop"]["orders"]["rows"], 2, "{v}");
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["outcome"]["shop"]["customers"]["rows"], 1, "{v}");
    let r = app
        .admin_get(&format!("/admin/v1/requests/{id}/fulfilment/package"))
        .await;
    assert_eq!(r.status(), 200);
    // One archive with the files `assent dsr access` writes: data.json, a CSV per table
    // with rows, index.html.
    let files = common::unzip::unzip(&r.bytes().await.unwrap());
    for name in [
        "data.json",
        "index.html",
        "shop.customers.csv",
        "shop.orders.csv",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let pkg: Value = serde_json::from_slice(&files["data.json"]).unwrap();
    let shop = &pkg["datastores"]["shop"];
    assert_eq!(shop["customers"][0]["full_name"], "Ada Lovelace", "{pkg}");
    assert_eq!(shop["orders"].as_array().unwrap().len(), 2, "{pkg}");
    let csv = String::from_utf8(files["shop.orders.csv"].clone()).unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and two orders: {csv}");
    let html = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(
        html.contains("contact details"),
        "the column's category: {html}"
    );
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("Bob"),
            "other people stay out of {name}: {text}"
        );
    }

    // Erasure: dry run first, then the real one; others untouched; idempotent.
    let id = verified_request(&app, "erasure").await;
    let (_, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/preview"),
        json!({}),
    )
    .await;
    assert_eq!(
        v["datastores"]["shop"]["orders"],
        json!({"action": "delete", "rows": 2, "columns": []}),
        "{v}"
    );
    assert_eq!(
        count(&path, "SELECT COUNT(*) FROM orders"),
        3,
        "the dry run changes nothing"
    );
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["outcome"]["shop"]["orders"]["rows"], 2, "{v}");
    assert_eq!(
        v["outcome"]["shop"]["customers"]["columns"],
        json!(["email", "full_name"]),
        "{v}"
    );
    assert_eq!(count(&path, "SELECT COUNT(*) FROM orders"), 1);
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM customers WHERE lower(email) = 'ada@example.org' OR full_name IS NOT NULL AND id = 1"
        ),
        0
    );
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM customers WHERE email = 'bob@example.org' AND full_name = 'Bob'"
        ),
        1
    );
    let (_, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(v["outcome"]["shop"]["orders"]["rows"], 0, "{v}");
    // The receipt is in the ledger, without the person; the recipients of the erased
    // tables' purpose are to be told.
    let chain = app.state.store.writer_chain();
    let ledger: String = app
        .state
        .store
        .entries(chain, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, p)| {
            format!(
                "{} {}\n",
                e.kind,
                p.map(|p| String::from_utf8(p).unwrap()).unwrap_or_default()
            )
        })
        .collect();
    assert!(
        ledger.contains("\"orders\":{\"action\":\"delete\""),
        "{ledger}"
    );
    assert!(
        !ledger.to_lowercase().contains(EMAIL) && !ledger.contains("Lovelace"),
        "{ledger}"
    );
    let (_, v) = json(
        app.admin_get(&format!("/admin/v1/requests/{id}/notifications"))
            .await,
    )
    .await;
    assert!(!v["items"].as_array().unwrap().is_empty(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by datastore_runs with the datastore's URL in the environment"]
async fn child_sqlite() {
    child(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by datastore_runs with the datastore's URL in the environment"]
async fn child_postgres() {
    child(Backend::Postgres).await;
}

#[test]
fn datastore_runs() {
    for (case, broken) in [
        ("child_sqlite", false),
        ("child_postgres", false),
        ("child_sqlite", true),
    ] {
        let dir = TempDir::new("shop");
        let db = dir.path().join("shop.db");
        shop(&db);
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            case,
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(VAR, format!("sqlite://{}", db.display()));
        if broken {
            cmd.env("ASSENT_TEST_SHOP_BROKEN", "1");
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{case} (broken: {broken}):\n{text}");
        assert!(text.contains("1 passed"), "{case} ran:\n{text}");
    }
}
