#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retention rules bound to datastore tables (issue 16), run by Assent with an injected
//! clock, the store on SQLite or PostgreSQL and the controller's database on SQLite,
//! PostgreSQL or MariaDB: the plan (due, held by a restriction flag and by a DPO hold, rows
//! without an anchor, next due in the controller's zone), a run while the datastore is down
//! (recorded failed, nothing changed), a run cut by its budget (partial) and the run that
//! resumes it, customers anonymised by their last order with the table's annotations, one
//! `retention.run` ledger entry per rule and run, and the admin listing naming what is
//! missing.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_app::retention::{RulePlan, RuleSet, RunOptions, plan, run, set_hold};
use assent_datastore::conn::Query;
use assent_model::clock::parse_time;
use assent_model::datastore::DatastoreKind;
use common::{Backend, TempDir, TestApp, json, random_hex};
use serde_json::Value;

const VAR: &str = "ASSENT_TEST_RETENTION_SHOP_URL";

fn admin_url(kind: DatastoreKind) -> String {
    match kind {
        DatastoreKind::Postgres => common::pg_url(),
        _ => std::env::var("ASSENT_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned()),
    }
}

/// Runs blocking datastore calls off the async runtime (the PostgreSQL client starts its own).
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// A fresh database of the controller's, on one engine, dropped at the end.
struct Shop {
    kind: DatastoreKind,
    url: String,
    name: String,
    _dir: Option<TempDir>,
}

impl Shop {
    fn new(kind: DatastoreKind) -> Shop {
        blocking(|| Self::create(kind))
    }

    fn create(kind: DatastoreKind) -> Shop {
        let name = format!("rt_{}", random_hex(6));
        let (url, dir) = match kind {
            DatastoreKind::Sqlite => {
                let dir = TempDir::new("retention-shop");
                let path = dir.join("shop.db");
                rusqlite::Connection::open(&path).unwrap();
                (format!("sqlite://{}", path.display()), Some(dir))
            }
            _ => {
                let admin = admin_url(kind);
                let base = admin.split('?').next().unwrap();
                let (base, _) = base.rsplit_once('/').unwrap();
                let mut c = assent_datastore::connect(kind, &admin, Default::default())
                    .expect("the engine must be reachable");
                c.execute(&Query {
                    sql: format!("CREATE DATABASE {name}"),
                    params: vec![],
                })
                .unwrap();
                (format!("{base}/{name}"), None)
            }
        };
        let shop = Shop {
            kind,
            url,
            name,
            _dir: dir,
        };
        let (boolean, no) = match kind {
            DatastoreKind::Sqlite => ("INTEGER", "0"),
            _ => ("BOOLEAN", "FALSE"),
        };
        shop.exec_here(&format!(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), \
               full_name VARCHAR(200), created_on DATE, restricted {boolean} NOT NULL DEFAULT {no});
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), \
               amount_cents INTEGER, placed_at DATE);
             CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, subscribed_on DATE)"
        ));
        let yes = if kind == DatastoreKind::Sqlite {
            "1"
        } else {
            "TRUE"
        };
        shop.exec_here(&format!(
            "INSERT INTO customers (id, email, full_name, created_on, restricted) VALUES \
               (1, 'Ada@Example.org', 'Ada Lovelace', '2020-01-01', {no}), \
               (2, 'bob@example.org', 'Bob Martin', '2020-01-01', {no}), \
               (3, 'cy@example.org', 'Cy', NULL, {no}), \
               (4, 'dee@example.org', 'Dee', '2021-01-01', {yes}), \
               (5, 'eve@example.org', 'Eve', '2022-01-01', {no});
             INSERT INTO orders (id, customer_id, amount_cents, placed_at) VALUES \
               (10, 1, 4200, '2021-03-01'), (11, 1, 990, '2023-05-01'), (20, 2, 1500, '2024-01-01')"
        ));
        let mut rows: Vec<String> = (1..=29)
            .map(|i| format!("({i}, 'n{i}@example.org', '2025-01-15')"))
            .collect();
        rows.push("(30, 'eve@example.org', '2025-01-15')".into());
        rows.push("(31, 'late@example.org', '2026-03-01')".into());
        rows.push("(32, 'undated@example.org', NULL)".into());
        shop.exec_here(&format!(
            "INSERT INTO newsletter (id, email, subscribed_on) VALUES {}",
            rows.join(", ")
        ));
        shop
    }

    fn exec_here(&self, sql: &str) {
        let mut c = assent_datastore::connect(self.kind, &self.url, Default::default()).unwrap();
        for st in sql.split(';').filter(|s| !s.trim().is_empty()) {
            c.execute(&Query {
                sql: st.to_owned(),
                params: vec![],
            })
            .unwrap();
        }
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        blocking(|| {
            let mut c =
                assent_datastore::connect(self.kind, &self.url, Default::default()).unwrap();
            c.select(&Query {
                sql: sql.to_owned(),
                params: vec![],
            })
            .unwrap()
        })
    }

    fn count(&self, sql: &str) -> u64 {
        match &self.rows(sql)[0][0] {
            Value::String(s) => s.parse().unwrap(),
            v => v.as_u64().unwrap(),
        }
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        if self.kind == DatastoreKind::Sqlite {
            return;
        }
        blocking(|| self.drop_database());
    }
}

impl Shop {
    fn drop_database(&self) {
        if let Ok(mut c) =
            assent_datastore::connect(self.kind, &admin_url(self.kind), Default::default())
        {
            let force = if self.kind == DatastoreKind::Postgres {
                " WITH (FORCE)"
            } else {
                ""
            };
            let _ = c.execute(&Query {
                sql: format!("DROP DATABASE IF EXISTS {}{force}", self.name),
                params: vec![],
            });
        }
    }
}

fn registry(kind: DatastoreKind) -> String {
    let base = std::fs::read_to_string(common::examples_dir().join("callkom.toml"))
        .unwrap()
        // An activity keeps the customer file, so that the privacy policy lists its rule.
        .replacen(
            "retention = [\"rights-requests\"]",
            "retention = [\"rights-requests\", \"inactive-customers\"]",
            1,
        );
    format!(
        r#"{base}

[[retention]]
id = "inactive-customers"
data_category.en = "Customer file"
data_category.fr = "Fichier clients"
data_category.de = "Kundendatei"
period = "3 years"
trigger = "last_activity"
applies_to = "shop.customers"
anchor = ["orders.placed_at", "created_on"]
action = "anonymise"

[[retention]]
id = "newsletter-list"
data_category.en = "Newsletter list"
data_category.fr = "Liste de la lettre d'information"
data_category.de = "Newsletter-Verteiler"
period = "1 year"
trigger = "collection"
applies_to = "shop.newsletter"
anchor = ["subscribed_on"]

[[datastores]]
id = "shop"
kind = "{}"
url_env = "{VAR}"

[[datastores.tables]]
name = "customers"
purpose = "functional"
restrict_column = "restricted"
columns = [
  {{ name = "email", identity = "email", category = "contact details", erase = "hash" }},
  {{ name = "full_name", category = "identity" }},
]

[[datastores.tables]]
name = "orders"
purpose = "functional"
columns = [{{ name = "amount_cents", category = "order history", erase = "keep" }}]
references = [{{ column = "customer_id", to = "customers.id" }}]

[[datastores.tables]]
name = "newsletter"
purpose = "functional"
erase = "delete"
columns = [{{ name = "email", identity = "email", category = "contact details" }}]
"#,
        kind.as_str()
    )
}

fn rule<'a>(v: &'a [RulePlan], id: &str) -> &'a RulePlan {
    v.iter().find(|r| r.id == id).unwrap()
}

fn rule_set(src: &str, url: &str) -> RuleSet {
    let (reg, _) = assent_model::check::parse(src).unwrap_or_else(|d| panic!("{d:?}"));
    let mut set = RuleSet::from_registry(&reg).unwrap();
    let urls: BTreeMap<String, String> = [(VAR.to_owned(), url.to_owned())].into();
    set.tables.urls = Arc::new(urls);
    set.tables.key = Some(Arc::new(
        assent_app::fulfil::ErasureKey::from_bytes(b"retention test key, 32 bytes long".to_vec())
            .unwrap(),
    ));
    set
}

async fn retention_entries(app: &TestApp) -> Vec<Value> {
    let chain = app.state.store.writer_chain();
    app.state
        .store
        .entries(chain, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|(e, _)| e.kind == "retention.run")
        .map(|(_, p)| serde_json::from_slice(&p.unwrap()).unwrap())
        .filter(|v: &Value| v["applies_to"].as_str().unwrap().starts_with("shop."))
        .collect()
}

async fn table_rules(b: Backend, kind: DatastoreKind) {
    let shop = Shop::new(kind);
    let src = registry(kind);
    let app = TestApp::spawn_with_registry(b, src.clone()).await;
    let st = &app.state;
    let at = parse_time("2026-06-01T00:00:00Z").unwrap();
    set_hold(
        &st.store,
        at - 1,
        "dpo",
        "eve@example.org",
        "litigation 2026-17",
        None,
    )
    .await
    .unwrap();

    // The plan: Ada's last order (1 May 2023) + 3 years is due; Bob's (1 January 2024) falls
    // due on 1 January 2027 at midnight in Paris; Cy has no anchor; Dee (restricted) and Eve
    // (a DPO hold) are held.
    let set = rule_set(&src, &shop.url);
    let p = plan(&st.store, &set, at).await.unwrap();
    let c = rule(&p.rules, "inactive-customers");
    assert_eq!(
        (c.enforced_by, c.due, c.held, c.unanchored),
        ("assent", Some(1), Some(2), Some(1)),
        "{c:?}"
    );
    assert_eq!(c.next_due_at.as_deref(), Some("2026-12-31T23:00:00Z"));
    let n = rule(&p.rules, "newsletter-list");
    assert_eq!(
        (n.due, n.held, n.unanchored),
        (Some(29), Some(1), Some(1)),
        "{n:?}"
    );
    assert_eq!(n.next_due_at.as_deref(), Some("2027-02-28T23:00:00Z"));

    // The datastore is down: both rules fail, recorded, nothing changed.
    let down_url = match kind {
        DatastoreKind::Sqlite => "sqlite:///nonexistent/dir/shop.db".to_owned(),
        DatastoreKind::Postgres => "postgres://postgres@127.0.0.1:1/none".to_owned(),
        DatastoreKind::Mysql => "mysql://root@127.0.0.1:1/none".to_owned(),
    };
    let down = rule_set(&src, &down_url);
    let opts = RunOptions {
        chunk: 10,
        max_rows: Some(15),
        ..RunOptions::at(at, at)
    };
    let rep = run(&st.store, &down, &opts).await.unwrap();
    for id in ["inactive-customers", "newsletter-list"] {
        let r = rep.rules.iter().find(|r| r.id == id).unwrap();
        assert_eq!(r.status, "failed", "{r:?}");
        assert!(
            r.error.as_deref().unwrap().contains("datastore `shop`"),
            "{r:?}"
        );
        assert_eq!((r.deleted, r.anonymised), (0, 0));
    }
    assert_eq!(shop.count("SELECT COUNT(*) FROM newsletter"), 32);

    // Up again, a run stopped after 15 rows: partial; the next resumes.
    let rep = run(&st.store, &set, &opts).await.unwrap();
    let c = rep
        .rules
        .iter()
        .find(|r| r.id == "inactive-customers")
        .unwrap();
    assert_eq!(
        (c.status.as_str(), c.anonymised, c.held, c.unanchored),
        ("done", 1, 2, Some(1)),
        "{c:?}"
    );
    let n = rep
        .rules
        .iter()
        .find(|r| r.id == "newsletter-list")
        .unwrap();
    assert_eq!((n.status.as_str(), n.deleted), ("partial", 15), "{n:?}");
    let rep = run(
        &st.store,
        &set,
        &RunOptions {
            max_rows: None,
            ..opts.clone()
        },
    )
    .await
    .unwrap();
    let n = rep
        .rules
        .iter()
        .find(|r| r.id == "newsletter-list")
        .unwrap();
    assert_eq!(
        (n.status.as_str(), n.deleted, n.held),
        ("done", 14, 1),
        "{n:?}"
    );
    let c = rep
        .rules
        .iter()
        .find(|r| r.id == "inactive-customers")
        .unwrap();
    assert_eq!((c.status.as_str(), c.anonymised), ("done", 0), "{c:?}");

    // What is left: the held, the late and the undated subscribers; Ada anonymised (name
    // dropped, email hashed), her orders' amounts kept; the others untouched.
    assert_eq!(shop.count("SELECT COUNT(*) FROM newsletter"), 3);
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM newsletter WHERE id IN (30, 31, 32)"),
        3
    );
    let ada = shop.rows("SELECT email, full_name FROM customers WHERE id = 1");
    assert_eq!(ada[0][0].as_str().unwrap().len(), 64, "{ada:?}");
    assert_eq!(ada[0][1], Value::Null);
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM customers WHERE full_name IS NOT NULL"),
        4
    );
    assert_eq!(
        shop.count("SELECT SUM(amount_cents) FROM orders WHERE customer_id = 1"),
        5190
    );

    // The ledger: one entry per rule and run, with the counts and no personal data.
    let entries = retention_entries(&app).await;
    let statuses: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 6, "{statuses:?}");
    let last = entries
        .iter()
        .rev()
        .find(|e| e["rule"] == "newsletter-list")
        .unwrap();
    assert_eq!(
        (last["deleted"].as_i64(), last["unanchored"].as_i64()),
        (Some(14), Some(1))
    );
    let text = serde_json::to_string(&entries).unwrap();
    assert!(
        !text.contains("example.org") && !text.contains("Ada"),
        "{text}"
    );

    // The server reads the registry file that declares the datastore, but the datastore's URL
    // variable is unset in its environment (the runs above were given their URLs directly):
    // its scheduled run cannot reach the table, so the privacy policy names the controller,
    // never Assent.
    let body = app.text("/sites/callkom/privacy-policy?lang=en").await;
    let i = body
        .find("<table id=\"retention\"")
        .expect("retention table");
    let table = &body[i..i + body[i..].find("</table>").unwrap()];
    let row = table
        .split("<tr>")
        .find(|r| r.contains("Customer file"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(!row.contains("Automatically, by Assent"), "{row}");
    assert!(row.contains("outside the consent platform"), "{row}");

    // The server reads its URLs from the environment, unset here: the admin listing says so.
    let (s, v) = json(app.admin_get("/admin/v1/retention").await).await;
    assert_eq!(s, 200, "{v}");
    let rules = v["rules"].as_array().or(v.as_array()).unwrap();
    let r = rules.iter().find(|r| r["id"] == "newsletter-list").unwrap();
    assert!(r["error"].as_str().unwrap().contains(VAR), "{r}");
    app.stop().await;
}

mod sqlite_store {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_datastore() {
        table_rules(Backend::Sqlite, DatastoreKind::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb_datastore() {
        table_rules(Backend::Sqlite, DatastoreKind::Mysql).await
    }
}

mod postgres_store {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_datastore() {
        table_rules(Backend::Postgres, DatastoreKind::Postgres).await
    }
}
