//! The test shop on each engine: a fresh database per test (a PostgreSQL database, a MariaDB
//! database, a SQLite file), created with the same schema and rows, dropped at the end even
//! when the test panics. PostgreSQL: `ASSENT_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); MariaDB: `ASSENT_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`). An unreachable server FAILS its engine's tests: they
//! are never skipped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use assent_datastore::{Conn, ConnectOptions};
use assent_model::datastore::{Datastore, DatastoreKind};
use mysql::prelude::Queryable;

pub use assent_testkit::{TempDir, random_hex};

/// Generates `postgres::NAME`, `mysql::NAME` and `sqlite::NAME` for every test named.
#[macro_export]
macro_rules! engines {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[test] fn $name() { super::$name(assent_model::datastore::DatastoreKind::Postgres) } )* }
        mod mysql { $( #[test] fn $name() { super::$name(assent_model::datastore::DatastoreKind::Mysql) } )* }
        mod sqlite { $( #[test] fn $name() { super::$name(assent_model::datastore::DatastoreKind::Sqlite) } )* }
    };
}

pub fn pg_admin_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}
pub fn my_admin_url() -> String {
    std::env::var("ASSENT_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

/// `scheme://auth@host:port/` of an admin URL and its database swapped for `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

/// A fresh database of one engine.
pub struct Db {
    pub kind: DatastoreKind,
    pub name: String,
    pub url: String,
    pub dir: Option<TempDir>,
}

impl Db {
    pub fn new(kind: DatastoreKind) -> Db {
        let name = format!("ds_{}", random_hex(6));
        match kind {
            DatastoreKind::Postgres => {
                let mut c = postgres::Client::connect(&pg_admin_url(), postgres::NoTls)
                    .expect("PostgreSQL must be reachable (ASSENT_TEST_DATABASE_URL)");
                c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let url = with_db(&pg_admin_url(), &name);
                Db {
                    kind,
                    name,
                    url,
                    dir: None,
                }
            }
            DatastoreKind::Mysql => {
                let mut c = mysql::Conn::new(mysql::Opts::from_url(&my_admin_url()).unwrap())
                    .expect("MariaDB must be reachable (ASSENT_TEST_MYSQL_URL)");
                c.query_drop(format!("CREATE DATABASE {name}")).unwrap();
                let url = with_db(&my_admin_url(), &name);
                Db {
                    kind,
                    name,
                    url,
                    dir: None,
                }
            }
            DatastoreKind::Sqlite => {
                let dir = TempDir::new("ds");
                let path = dir.join("shop.db");
                rusqlite::Connection::open(&path).unwrap();
                let url = format!("sqlite://{}", path.display());
                Db {
                    kind,
                    name,
                    url,
                    dir: Some(dir),
                }
            }
        }
    }

    /// The test shop, filled.
    pub fn shop(kind: DatastoreKind) -> Db {
        let db = Db::new(kind);
        db.exec(&shop_schema(kind));
        db.exec(SHOP_ROWS);
        db
    }

    /// Runs statements as the administrator.
    pub fn exec(&self, sql: &str) {
        match self.kind {
            DatastoreKind::Postgres => {
                let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
                c.batch_execute(sql).unwrap();
            }
            DatastoreKind::Mysql => {
                let mut c = mysql::Conn::new(mysql::Opts::from_url(&self.url).unwrap()).unwrap();
                for st in sql.split(';').filter(|s| !s.trim().is_empty()) {
                    c.query_drop(st).unwrap();
                }
            }
            DatastoreKind::Sqlite => {
                let c = rusqlite::Connection::open(self.sqlite_path()).unwrap();
                c.execute_batch(sql).unwrap();
            }
        }
    }

    pub fn sqlite_path(&self) -> std::path::PathBuf {
        self.dir.as_ref().unwrap().join("shop.db")
    }

    /// Every value of a query as text (`None` for NULL).
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.kind {
            DatastoreKind::Postgres => {
                let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
                c.simple_query(sql)
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
            DatastoreKind::Mysql => {
                let mut c = mysql::Conn::new(mysql::Opts::from_url(&self.url).unwrap()).unwrap();
                let rows: Vec<mysql::Row> = c.query(sql).unwrap();
                rows.into_iter()
                    .map(|r| {
                        r.unwrap()
                            .into_iter()
                            .map(|v| match v {
                                mysql::Value::NULL => None,
                                mysql::Value::Bytes(b) => Some(String::from_utf8(b).unwrap()),
                                other => Some(other.as_sql(true)),
                            })
                            .collect()
                    })
                    .collect()
            }
            DatastoreKind::Sqlite => {
                let c = rusqlite::Connection::open(self.sqlite_path()).unwrap();
                let mut st = c.prepare(sql).unwrap();
                let n = st.column_count();
                st.query_map([], |r| {
                    Ok((0..n)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                            rusqlite::types::ValueRef::Real(f) => Some(f.to_string()),
                            rusqlite::types::ValueRef::Text(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(_) => Some("<blob>".into()),
                        })
                        .collect())
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
        }
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0].as_deref().unwrap().parse().unwrap()
    }

    pub fn conn(&self) -> Box<dyn Conn> {
        self.conn_with(&self.url, ConnectOptions::default())
    }

    pub fn conn_with(&self, url: &str, opts: ConnectOptions) -> Box<dyn Conn> {
        assent_datastore::connect(self.kind, url, opts).unwrap()
    }

    /// The shop's annotations for this engine.
    pub fn datastore(&self) -> Datastore {
        toml::from_str(&shop_registry(self.kind)).unwrap()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self.kind {
            DatastoreKind::Postgres => {
                if let Ok(mut c) = postgres::Client::connect(&pg_admin_url(), postgres::NoTls) {
                    let _ = c.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ));
                }
            }
            DatastoreKind::Mysql => {
                if let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(&my_admin_url()).unwrap())
                {
                    let _ = c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
                }
            }
            DatastoreKind::Sqlite => {}
        }
    }
}

/// The shop's tables: customers, their orders and order lines, invoices kept for a legal
/// obligation, a newsletter list, and products (no personal data).
pub fn shop_schema(kind: DatastoreKind) -> String {
    let boolean = match kind {
        DatastoreKind::Sqlite => "INTEGER",
        _ => "BOOLEAN",
    };
    format!(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200), \
           phone VARCHAR(40), customer_no INTEGER, restricted {boolean} NOT NULL DEFAULT FALSE);
         CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(100));
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), \
           shipping_address VARCHAR(200), placed_at DATE);
         CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), \
           product_id INTEGER REFERENCES products(id), qty INTEGER);
         CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), \
           billing_name VARCHAR(200), amount_cents INTEGER);
         CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, subscribed_on DATE);"
    )
    .replace("DEFAULT FALSE", if kind == DatastoreKind::Sqlite { "DEFAULT 0" } else { "DEFAULT FALSE" })
}

pub const SHOP_ROWS: &str = "
INSERT INTO customers (id, email, full_name, phone, customer_no) VALUES
  (1, 'Ada.Lovelace@Example.org', 'Ada Lovelace', '+33 1 23 45 67 89', 1001),
  (2, 'bob@example.org', 'Bob Martin', '+33 6 00 00 00 00', 1002);
INSERT INTO products (id, name) VALUES (1, 'Kettle'), (2, 'Teapot');
INSERT INTO orders (id, customer_id, shipping_address, placed_at) VALUES
  (10, 1, '1 rue de la Paix, Paris', '2026-01-05'),
  (11, 1, '1 rue de la Paix, Paris', '2026-02-05'),
  (12, 2, '2 avenue Foch, Lyon', '2026-03-05');
INSERT INTO order_lines (id, order_id, product_id, qty) VALUES
  (100, 10, 1, 1), (101, 10, 2, 2), (102, 11, 1, 1), (103, 12, 2, 3);
INSERT INTO invoices (id, customer_id, billing_name, amount_cents) VALUES
  (1000, 1, 'Ada Lovelace', 4200), (1001, 2, 'Bob Martin', 990);
INSERT INTO newsletter (id, email, subscribed_on) VALUES
  (1, 'ada.lovelace@example.ORG', '2025-12-01'), (2, 'bob@example.org', '2025-12-02');
";

/// The shop's `[[datastores]]` block (one datastore, as a table of its own).
pub fn shop_registry(kind: DatastoreKind) -> String {
    format!(
        r#"id = "shop"
kind = "{}"
url_env = "SHOP_DATABASE_URL"

[[tables]]
name = "customers"
purpose = "orders"
restrict_column = "restricted"
columns = [
  {{ name = "email", identity = "email", category = "contact details", erase = "hash" }},
  {{ name = "full_name", category = "identity" }},
  {{ name = "phone", identity = "phone", category = "contact details" }},
  {{ name = "customer_no", identity = "customer_number", category = "identity" }},
]

[[tables]]
name = "orders"
purpose = "orders"
erase = "delete"
columns = [{{ name = "shipping_address", category = "contact details" }}]
references = [{{ column = "customer_id", to = "customers.id" }}]

[[tables]]
name = "order_lines"
purpose = "orders"
erase = "delete"
references = [{{ column = "order_id", to = "orders.id" }}]

[[tables]]
name = "invoices"
retention = "invoices"
legal_hold = true
columns = [{{ name = "billing_name", category = "identity" }}]
references = [{{ column = "customer_id", to = "customers.id" }}]

[[tables]]
name = "newsletter"
purpose = "newsletter"
erase = "delete"
columns = [{{ name = "email", identity = "email", category = "contact details" }}]
"#,
        kind.as_str()
    )
}
