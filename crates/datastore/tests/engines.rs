//! Access, erasure, restriction and rectification on the test shop, on PostgreSQL, MariaDB
//! and SQLite, with the failures a DPO meets: a missing table or column, an unreachable
//! server, refused credentials, a missing privilege, a lock held by someone else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assent_datastore::ops::{self, Action, Change};
use assent_datastore::{ConnectOptions, ErrorKind, Identity};
use assent_model::datastore::DatastoreKind;
use common::{Db, random_hex};

const KEY: &[u8] = b"test erasure key, 32 bytes long!";

fn ada() -> Vec<Identity> {
    vec![Identity::new("email", "ADA.lovelace@example.ORG")]
}

fn rows_of<'a>(found: &'a [ops::TableData], table: &str) -> &'a ops::TableData {
    found.iter().find(|t| t.table == table).unwrap()
}

fn access_follows_references(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let ds = db.datastore();
    let found = ops::find(db.conn().as_mut(), &ds, &ada()).unwrap();
    let n = |t: &str| rows_of(&found, t).rows.len();
    assert_eq!(
        [
            n("customers"),
            n("orders"),
            n("order_lines"),
            n("invoices"),
            n("newsletter")
        ],
        [1, 2, 3, 1, 1]
    );
    let c = rows_of(&found, "customers");
    assert_eq!(
        c.columns,
        [
            "id",
            "email",
            "full_name",
            "phone",
            "customer_no",
            "restricted"
        ]
    );
    assert_eq!(c.rows[0][2], "Ada Lovelace");
    assert_eq!(c.rows[0][0], 1);
    // Another identity kind finds the same person.
    let by_no = ops::find(
        db.conn().as_mut(),
        &ds,
        &[Identity::new("customer_number", "1001")],
    )
    .unwrap();
    assert_eq!(rows_of(&by_no, "order_lines").rows.len(), 3);
    assert_eq!(rows_of(&by_no, "newsletter").rows.len(), 0);
}

fn nobody_matches(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let found = ops::find(
        db.conn().as_mut(),
        &db.datastore(),
        &[Identity::new("email", "nobody@example.org")],
    )
    .unwrap();
    assert!(found.iter().all(|t| t.rows.is_empty()));
}

/// Everything of the shop, to compare before and after.
fn snapshot(db: &Db) -> Vec<Vec<Vec<Option<String>>>> {
    [
        "customers",
        "orders",
        "order_lines",
        "invoices",
        "newsletter",
        "products",
    ]
    .iter()
    .map(|t| db.rows(&format!("SELECT * FROM {t} ORDER BY id")))
    .collect()
}

fn dry_run_changes_nothing(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let before = snapshot(&db);
    let plan = ops::plan(db.conn().as_mut(), &db.datastore(), &ada()).unwrap();
    let got: Vec<(&str, Action, u64)> = plan
        .iter()
        .map(|t| (t.table.as_str(), t.action, t.rows))
        .collect();
    assert_eq!(
        got,
        [
            ("order_lines", Action::Delete, 3),
            ("invoices", Action::Kept, 1),
            ("newsletter", Action::Delete, 1),
            ("orders", Action::Delete, 2),
            ("customers", Action::Mask, 1),
        ]
    );
    assert_eq!(
        plan[4].columns,
        ["email", "full_name", "phone", "customer_no"]
    );
    assert_eq!(snapshot(&db), before);
}

fn erase_removes_identifiers_and_keeps_others(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let ds = db.datastore();
    let bob_before: Vec<_> = [
        "SELECT * FROM customers WHERE id = 2",
        "SELECT * FROM orders WHERE customer_id = 2",
        "SELECT * FROM order_lines WHERE id = 103",
        "SELECT * FROM newsletter WHERE id = 2",
        "SELECT * FROM invoices ORDER BY id",
    ]
    .iter()
    .map(|q| db.rows(q))
    .collect();
    let done = ops::erase(db.conn().as_mut(), &ds, &ada(), KEY).unwrap();
    let rows: Vec<u64> = done.iter().map(|t| t.rows).collect();
    assert_eq!(rows, [3, 1, 1, 2, 1]);
    // Ada's identifiers appear nowhere in the annotated tables.
    let all = format!("{:?}", snapshot(&db)).to_lowercase();
    for needle in ["ada.lovelace", "+33 1 23", "rue de la paix", "1001,"] {
        assert!(!all.contains(needle), "{needle} still present");
    }
    let c = db.rows("SELECT email, full_name, phone, customer_no FROM customers WHERE id = 1");
    let hash = c[0][0].clone().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(c[0][1..], [None, None, None]);
    // Kept for a legal obligation: the invoice is intact; Bob untouched.
    let bob_after: Vec<_> = [
        "SELECT * FROM customers WHERE id = 2",
        "SELECT * FROM orders WHERE customer_id = 2",
        "SELECT * FROM order_lines WHERE id = 103",
        "SELECT * FROM newsletter WHERE id = 2",
        "SELECT * FROM invoices ORDER BY id",
    ]
    .iter()
    .map(|q| db.rows(q))
    .collect();
    assert_eq!(bob_after, bob_before);
    // Referential integrity.
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id \
             WHERE o.id IS NULL"
        ),
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM orders WHERE customer_id = 1"),
        0
    );
    // Idempotent: a second run finds nothing and changes nothing.
    let before = snapshot(&db);
    let again = ops::erase(db.conn().as_mut(), &ds, &ada(), KEY).unwrap();
    assert!(again.iter().all(|t| t.rows == 0), "{again:?}");
    assert_eq!(snapshot(&db), before);
}

fn missing_table_and_column_are_named(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let mut ds = db.datastore();
    ds.tables[1].columns[0].name = "shipping_adress".into();
    let e = ops::erase(db.conn().as_mut(), &ds, &ada(), KEY).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Missing);
    assert_eq!(e.table.as_deref(), Some("orders"));
    assert!(e.message.contains("orders.shipping_adress"), "{e}");
    let mut ds = db.datastore();
    ds.tables[4].name = "newsletters".into();
    let e = ops::find(db.conn().as_mut(), &ds, &ada()).unwrap_err();
    assert_eq!(
        (e.kind, e.table.as_deref()),
        (ErrorKind::Missing, Some("newsletters"))
    );
}

fn unreachable_is_said(kind: DatastoreKind) {
    let url = match kind {
        DatastoreKind::Postgres => "postgres://postgres@127.0.0.1:1/x".to_string(),
        DatastoreKind::Mysql => "mysql://root@127.0.0.1:1/x".to_string(),
        DatastoreKind::Sqlite => "sqlite:///nonexistent/dir/shop.db".to_string(),
    };
    let e = assent_datastore::connect(kind, &url, ConnectOptions::default())
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    assert!(!format!("{e}").contains("root@"), "{e}");
}

fn wrong_credentials_are_refused(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let user = format!("ds_u_{}", random_hex(4));
    let url = match kind {
        // Trust authentication on the test server: an unknown role is what it refuses.
        DatastoreKind::Postgres => format!("postgres://{user}:wrong@127.0.0.1:5432/{}", db.name),
        DatastoreKind::Mysql => {
            db.exec(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right'"));
            format!("mysql://{user}:wrong@127.0.0.1:3306/{}", db.name)
        }
        // No credentials on a file: a file that is not a database.
        DatastoreKind::Sqlite => {
            let p = db.dir.as_ref().unwrap().join("notes.txt");
            std::fs::write(
                &p,
                "not a database, just some text that is long enough to be a header",
            )
            .unwrap();
            format!("sqlite://{}", p.display())
        }
    };
    let r = assent_datastore::connect(kind, &url, ConnectOptions::default())
        .and_then(|mut c| ops::find(c.as_mut(), &db.datastore(), &ada()).map(|_| ()));
    let e = r.unwrap_err();
    let want = if kind == DatastoreKind::Sqlite {
        ErrorKind::Unreachable
    } else {
        ErrorKind::Auth
    };
    assert_eq!(e.kind, want, "{e}");
    assert!(!format!("{e}").contains("wrong"), "{e}");
    if kind == DatastoreKind::Mysql {
        db.exec(&format!("DROP USER '{user}'@'%'"));
    }
}

fn permission_denied_rolls_back(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let user = format!("ds_ro_{}", random_hex(4));
    let url = match kind {
        DatastoreKind::Postgres => {
            db.exec(&format!(
                "CREATE ROLE {user} LOGIN; GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA public TO {user}"
            ));
            format!("postgres://{user}@127.0.0.1:5432/{}", db.name)
        }
        DatastoreKind::Mysql => {
            db.exec(&format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, DELETE ON {}.* TO '{user}'@'%'",
                db.name
            ));
            format!("mysql://{user}:pw@127.0.0.1:3306/{}", db.name)
        }
        DatastoreKind::Sqlite => format!("{}?mode=ro", db.url),
    };
    let before = snapshot(&db);
    let mut conn = db.conn_with(&url, ConnectOptions::default());
    let e = ops::erase(conn.as_mut(), &db.datastore(), &ada(), KEY).unwrap_err();
    drop(conn);
    assert_eq!(e.kind, ErrorKind::Permission, "{e}");
    if kind != DatastoreKind::Sqlite {
        // The deletes before it were rolled back with the failing UPDATE.
        assert_eq!(e.table.as_deref(), Some("customers"), "{e}");
    }
    assert_eq!(snapshot(&db), before);
    match kind {
        DatastoreKind::Postgres => db.exec(&format!(
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {user}; DROP ROLE {user}"
        )),
        DatastoreKind::Mysql => db.exec(&format!("DROP USER '{user}'@'%'")),
        DatastoreKind::Sqlite => {}
    }
}

fn lock_timeout_rolls_back(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let before = snapshot(&db);
    // The wait comes from the registry's `lock_timeout_ms` (default 5 s).
    let mut ds = db.datastore();
    ds.lock_timeout_ms = Some(1_000);
    let opts = ConnectOptions::default().for_datastore(&ds);
    assert_eq!(opts.lock_timeout_ms, 1_000);
    // Someone else holds a lock on Ada's customer row (SQLite: on the whole file).
    let mut holder = db.conn();
    holder.begin().unwrap();
    let lock = match kind {
        DatastoreKind::Sqlite => "UPDATE products SET name = name WHERE id = 1",
        _ => "UPDATE customers SET full_name = full_name WHERE id = 1",
    };
    holder
        .execute(&assent_datastore::conn::Query {
            sql: lock.into(),
            params: vec![],
        })
        .unwrap();
    let started = std::time::Instant::now();
    let e = ops::erase(db.conn_with(&db.url, opts).as_mut(), &ds, &ada(), KEY).unwrap_err();
    let waited = started.elapsed();
    holder.rollback().unwrap();
    assert!(
        waited < std::time::Duration::from_millis(4_000),
        "{waited:?}"
    );
    assert_eq!(e.kind, ErrorKind::LockTimeout, "{e}");
    // MariaDB already waits while reading Ada's row to delete her order lines.
    if kind != DatastoreKind::Sqlite {
        assert!(e.table.is_some(), "{e}");
    }
    assert_eq!(snapshot(&db), before);
}

fn restrict_and_rectify(kind: DatastoreKind) {
    let db = Db::shop(kind);
    let ds = db.datastore();
    let r = ops::restrict(db.conn().as_mut(), &ds, &ada(), true).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].table.as_str(), r[0].rows), ("customers", 1));
    let flags = db.rows("SELECT id FROM customers WHERE restricted ORDER BY id");
    assert_eq!(flags, [[Some("1".to_string())]]);
    ops::restrict(db.conn().as_mut(), &ds, &ada(), false).unwrap();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM customers WHERE restricted"),
        0
    );
    let changes = [Change {
        table: "customers".into(),
        column: "full_name".into(),
        value: Some("Ada King".into()),
    }];
    let t = ops::rectify(db.conn().as_mut(), &ds, &ada(), &changes).unwrap();
    assert_eq!(t[0].rows, 1);
    assert_eq!(
        db.rows("SELECT full_name FROM customers ORDER BY id"),
        [
            [Some("Ada King".to_string())],
            [Some("Bob Martin".to_string())]
        ]
    );
    let bad = [Change {
        table: "customers".into(),
        column: "nickname".into(),
        value: None,
    }];
    let e = ops::rectify(db.conn().as_mut(), &ds, &ada(), &bad).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Missing);
}

engines!(
    access_follows_references,
    nobody_matches,
    dry_run_changes_nothing,
    erase_removes_identifiers_and_keeps_others,
    missing_table_and_column_are_named,
    unreachable_is_said,
    wrong_credentials_are_refused,
    permission_denied_rolls_back,
    lock_timeout_rolls_back,
    restrict_and_rectify,
);
