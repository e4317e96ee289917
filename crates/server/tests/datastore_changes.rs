#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Rectification and restriction from the request workflow reaching the operator's own
//! database (issue 15, item 7), over HTTP, on PostgreSQL, MariaDB and SQLite (the test shop
//! of `crates/datastore/tests`): the DPO's reviewed correction changes the datastore's column
//! and the ledger names the field, not the value; bad input (a column that does not exist,
//! one not annotated as personal, a table not annotated, a value of the wrong type) is a 422
//! naming the change and changes nothing; a restriction sets the table's `restrict_column`
//! for the person's rows only, and lifting it clears the flag.
//!
//! The datastore's URL is only ever read from the environment, so each engine's case runs
//! in a child process of this test binary started with the variable set (the parent,
//! `changes_reach_every_engine`, is the test and creates and drops the databases).

mod common;
#[path = "../../datastore/tests/common/mod.rs"]
mod shop;

use assent_datastore::conn::Query;
use assent_datastore::{ConnectOptions, connect};
use assent_model::datastore::DatastoreKind;
use common::{BASE_TIME_MS, Backend, Options, TestApp, assert_error, json};
use serde_json::{Value, json};

const VAR: &str = "ASSENT_TEST_CHANGES_SHOP_URL";
const KIND: &str = "ASSENT_TEST_CHANGES_SHOP_KIND";
const ADA: &str = "ada.lovelace@example.org";
/// The restriction flags, as text on every engine.
const FLAGS: &str = "SELECT CASE WHEN restricted THEN '1' ELSE '0' END FROM customers ORDER BY id";

/// The shop's annotations in the Callkom registry, its URL in `VAR`.
fn registry(kind: DatastoreKind) -> String {
    let base = std::fs::read_to_string(common::examples_dir().join("callkom.toml")).unwrap();
    let block = shop::shop_registry(kind)
        .replace("[[tables]]", "[[datastores.tables]]")
        .replace("SHOP_DATABASE_URL", VAR)
        .replace("purpose = \"orders\"", "purpose = \"functional\"")
        .replace("purpose = \"newsletter\"", "purpose = \"performance\"")
        .replace(
            "retention = \"invoices\"",
            "retention = \"rights-requests\"",
        );
    format!("{base}\n[[datastores]]\n{block}")
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(
        app.admin_post(path, body.to_string(), "application/json")
            .await,
    )
    .await
}

async fn verified_request(app: &TestApp, kind: &str) -> String {
    let body = json!({"site": "callkom", "type": kind, "email": ADA, "name": "Ada",
        "channel": "post", "received_at": assent_model::clock::rfc3339(BASE_TIME_MS - 86_400_000)});
    let (s, v) = post(app, "/admin/v1/requests", body).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = post(
        app,
        &format!("/admin/v1/requests/{id}/verify"),
        json!({"note": "signed letter"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    id
}

/// The cells of a query on the shop, as text (on a thread of its own: the blocking clients
/// must not run on the test's async runtime).
fn cells(kind: DatastoreKind, url: &str, sql: &str) -> Vec<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || cells_now(kind, &url, &sql))
        .join()
        .unwrap()
}

fn cells_now(kind: DatastoreKind, url: &str, sql: &str) -> Vec<String> {
    let mut c = connect(kind, url, ConnectOptions::default()).unwrap();
    c.select(&Query {
        sql: sql.into(),
        params: vec![],
    })
    .unwrap()
    .into_iter()
    .flatten()
    .map(|v| match v {
        Value::String(s) => s,
        Value::Bool(b) => if b { "1" } else { "0" }.into(),
        Value::Null => "NULL".into(),
        other => other.to_string(),
    })
    .collect()
}

async fn ledger_text(app: &TestApp) -> String {
    let chain = app.state.store.writer_chain();
    app.state
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
        .collect()
}

/// The child: runs with the shop's URL and kind in the environment.
async fn child() {
    let url = std::env::var(VAR).expect("started by changes_reach_every_engine");
    let kind = DatastoreKind::parse(&std::env::var(KIND).unwrap()).unwrap();
    let q = |sql: &str| cells(kind, &url, sql);
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            registry_src: registry(kind),
            ..Options::default()
        },
    )
    .await;

    // Rectification: bad changes are refused, naming the change, and change nothing.
    let id = verified_request(&app, "rectification").await;
    let path = format!("/admin/v1/requests/{id}/rectify");
    let ok = json!({"field": "shop.customers.full_name", "value": "Ada King"});
    for (bad, field) in [
        (
            json!([ok, {"field": "shop.customers.nickname", "value": "x"}]),
            "changes[1].field",
        ),
        (
            json!([{"field": "shop.products.name", "value": "x"}]),
            "changes[0].field",
        ),
        (
            json!([{"field": "shop.orders.placed_at", "value": "2026-01-01"}]),
            "changes[0].field",
        ),
        (
            json!([{"field": "crm.contacts.name", "value": "x"}]),
            "changes[0].field",
        ),
        (
            json!([{"field": "shop.customers", "value": "x"}]),
            "changes[0].field",
        ),
        (
            json!([ok, {"field": "shop.customers.customer_no", "value": "one thousand"}]),
            "changes[1].value",
        ),
        (
            json!([{"field": "shop.customers.phone", "value": "0".repeat(41)}]),
            "changes[0].value",
        ),
    ] {
        assert_error(
            &post(&app, &path, json!({ "changes": bad })).await,
            422,
            "field",
            field,
        );
    }
    assert_eq!(
        q("SELECT full_name FROM customers ORDER BY id"),
        ["Ada Lovelace", "Bob Martin"]
    );
    let (_, v) = json(app.admin_get(&format!("/admin/v1/requests/{id}")).await).await;
    assert_eq!(v["runs"].as_array().unwrap().len(), 0, "no run: {v}");

    // The reviewed correction reaches the datastore: Ada's rows only.
    let (s, v) = post(
        &app,
        &path,
        json!({"changes": [
            {"field": "shop.customers.full_name", "value": "Ada King"},
            {"field": "shop.customers.customer_no", "value": "1042"},
            {"field": "shop.orders.shipping_address", "value": "12 St James's Square, London"},
        ]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["fields"],
        json!([
            "shop.customers.full_name",
            "shop.orders.shipping_address",
            "shop.customers.customer_no"
        ]),
        "an identity column changes last: {v}"
    );
    assert!(v["recipients"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(
        q(
            "SELECT full_name, CASE WHEN customer_no = 1042 THEN 'new' ELSE 'old' END \
           FROM customers ORDER BY id"
        ),
        ["Ada King", "new", "Bob Martin", "old"]
    );
    assert_eq!(
        q("SELECT shipping_address FROM orders ORDER BY id"),
        [
            "12 St James's Square, London",
            "12 St James's Square, London",
            "2 avenue Foch, Lyon"
        ]
    );
    let (_, v) = json(app.admin_get(&format!("/admin/v1/requests/{id}")).await).await;
    let run = &v["runs"][0];
    assert_eq!(
        (run["kind"].as_str(), run["status"].as_str()),
        (Some("rectify"), Some("succeeded")),
        "{v}"
    );
    assert_eq!(run["outcome"]["shop"]["orders"]["rows"], 2, "{v}");
    let ledger = ledger_text(&app).await;
    assert!(
        ledger.contains("rights.rectified") && ledger.contains("shop.orders.shipping_address"),
        "{ledger}"
    );
    for value in ["Ada King", "James", "1042", ADA] {
        assert!(!ledger.contains(value), "{value} in the ledger");
    }

    // Restriction: the flag column of Ada's row is set, Bob's is not; lifting clears it.
    let id = verified_request(&app, "restriction").await;
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/restrict"),
        json!({"reason": "contests the accuracy of her address"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["datastores"]["shop"]["customers"]["rows"], 1, "{v}");
    assert_eq!(q(FLAGS), ["1", "0"]);
    let (_, v) = json(
        app.admin_get(&format!("/admin/v1/restrictions?email={ADA}"))
            .await,
    )
    .await;
    assert_eq!(v["restricted"], true, "{v}");
    let rid = v["restrictions"][0]["id"].as_str().unwrap().to_owned();
    let (s, v) = post(
        &app,
        &format!("/admin/v1/restrictions/{rid}/lift"),
        json!({"reason": "address verified; requester told"}),
    )
    .await;
    assert_eq!((s, v["active"].as_bool()), (200, Some(false)), "{v}");
    assert_eq!(v["datastores"]["shop"]["customers"]["rows"], 1, "{v}");
    assert_eq!(q(FLAGS), ["0", "0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by changes_reach_every_engine with the datastore's URL in the environment"]
async fn child_case() {
    child().await;
}

#[test]
fn changes_reach_every_engine() {
    for kind in [
        DatastoreKind::Postgres,
        DatastoreKind::Mysql,
        DatastoreKind::Sqlite,
    ] {
        let db = shop::Db::shop(kind);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_case",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(VAR, &db.url)
            .env(KIND, kind.as_str())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}:\n{text}", kind.as_str());
        assert!(text.contains("1 passed"), "{} ran:\n{text}", kind.as_str());
    }
}
