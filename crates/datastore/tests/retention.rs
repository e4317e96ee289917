//! Retention on a datastore table, on PostgreSQL, MariaDB and SQLite: rows due by their
//! latest anchor (the customer's last order through a reference, or the customer's own
//! date), held rows (a restriction flag, a held identity), rows without an anchor (reported,
//! kept), anonymisation with the erasure annotations (done once), chunked deletes, a lock
//! held mid-run (the chunks before stay done, nothing else changes, the next run finishes),
//! and a rule naming a column that does not exist, is not a date, or is not linked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assent_datastore::retention::{TableRule, plan, purge_chunk};
use assent_datastore::{ConnectOptions, ErrorKind, Identity};
use assent_model::datastore::DatastoreKind;
use common::Db;

const KEY: &[u8] = b"test erasure key, 32 bytes long!";

fn shop(kind: DatastoreKind) -> Db {
    let db = Db::shop(kind);
    db.exec(
        "ALTER TABLE customers ADD COLUMN created_on DATE;
         UPDATE customers SET created_on = '2020-01-01';
         INSERT INTO customers (id, email, full_name, customer_no, created_on) VALUES
           (3, 'cy@example.org', 'Cy', 1003, NULL),
           (4, 'dee@example.org', 'Dee', 1004, '2021-01-01');",
    );
    db.exec(&format!(
        "UPDATE customers SET restricted = {} WHERE id = 4",
        if kind == DatastoreKind::Sqlite {
            "1"
        } else {
            "TRUE"
        }
    ));
    db
}

fn rule(table: &str, anchor: &[&str], cutoff: &str, anonymise: bool) -> TableRule {
    TableRule {
        table: table.into(),
        anchor: anchor.iter().map(|s| s.to_string()).collect(),
        tz: "Europe/Paris".into(),
        cutoff_local: cutoff.into(),
        anonymise,
        held: vec![],
    }
}

fn last_order_anonymises_customers(kind: DatastoreKind) {
    let db = shop(kind);
    let ds = db.datastore();
    let mut r = rule(
        "customers",
        &["orders.placed_at", "created_on"],
        "2026-02-28 00:00:00.000",
        true,
    );
    // Ada's last order (5 February) is due; Bob's (5 March) is next; Cy has no order and no
    // date; Dee is restricted.
    let p = plan(db.conn().as_mut(), &ds, &r).unwrap();
    assert_eq!((p.due, p.held, p.unanchored), (1, 1, 1), "{p:?}");
    assert!(
        p.next_anchor.as_deref().unwrap().starts_with("2026-03-05"),
        "{p:?}"
    );
    // Ada held (an open request): nothing due.
    r.held = vec![Identity::new("email", "ada.lovelace@example.org")];
    let p = plan(db.conn().as_mut(), &ds, &r).unwrap();
    assert_eq!((p.due, p.held), (0, 2), "{p:?}");
    assert!(
        purge_chunk(db.conn().as_mut(), &ds, &r, 10, KEY)
            .unwrap()
            .keys
            .is_empty()
    );
    r.held.clear();
    let c = purge_chunk(db.conn().as_mut(), &ds, &r, 10, KEY).unwrap();
    assert_eq!(c.keys, ["1"]);
    let ada = db.rows("SELECT email, full_name, phone, customer_no FROM customers WHERE id = 1");
    let email = ada[0][0].clone().unwrap();
    assert_eq!(email.len(), 64, "{ada:?}");
    assert_eq!(&ada[0][1..], [None, None, None]);
    // Everything else as it was; the orders (another rule's) kept.
    assert_eq!(
        db.rows("SELECT full_name FROM customers WHERE id <> 1 ORDER BY id"),
        [
            [Some("Bob Martin".to_string())],
            [Some("Cy".to_string())],
            [Some("Dee".to_string())]
        ]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM orders"), 3);
    // Anonymised once: a second pass finds nothing, the hash is not hashed again.
    assert!(
        purge_chunk(db.conn().as_mut(), &ds, &r, 10, KEY)
            .unwrap()
            .keys
            .is_empty()
    );
    assert_eq!(plan(db.conn().as_mut(), &ds, &r).unwrap().due, 0);
    assert_eq!(
        db.rows("SELECT email FROM customers WHERE id = 1")[0][0],
        Some(email)
    );
}

fn newsletter(kind: DatastoreKind) -> Db {
    let db = shop(kind);
    let mut values: Vec<String> = (3..=25)
        .map(|i| format!("({i}, 'n{i}@example.org', '2025-06-01')"))
        .collect();
    values.push("(26, 'late@example.org', '2026-05-01')".into());
    values.push("(27, 'undated@example.org', NULL)".into());
    db.exec(&format!(
        "INSERT INTO newsletter (id, email, subscribed_on) VALUES {}",
        values.join(", ")
    ));
    db
}

fn chunked_delete_skips_held_and_unanchored(kind: DatastoreKind) {
    let db = newsletter(kind);
    let ds = db.datastore();
    let mut r = rule(
        "newsletter",
        &["subscribed_on"],
        "2026-01-01 00:00:00.000",
        false,
    );
    r.held = vec![Identity::new("email", "BOB@example.org")];
    let p = plan(db.conn().as_mut(), &ds, &r).unwrap();
    assert_eq!((p.due, p.held, p.unanchored), (24, 1, 1), "{p:?}");
    let mut sizes = vec![];
    let mut keys = vec![];
    loop {
        let c = purge_chunk(db.conn().as_mut(), &ds, &r, 10, KEY).unwrap();
        if c.keys.is_empty() {
            break;
        }
        sizes.push(c.keys.len());
        keys.extend(c.keys);
    }
    assert_eq!(sizes, [10, 10, 4]);
    assert_eq!(keys[..3], ["1", "3", "4"]);
    assert_eq!(
        db.rows("SELECT id FROM newsletter ORDER BY id"),
        [
            [Some("2".to_string())],
            [Some("26".to_string())],
            [Some("27".to_string())]
        ]
    );
    let p = plan(db.conn().as_mut(), &ds, &r).unwrap();
    assert_eq!((p.due, p.held, p.unanchored), (0, 1, 1), "{p:?}");
    assert!(p.next_anchor.unwrap().starts_with("2026-05-01"));
}

fn lock_mid_run_keeps_done_chunks(kind: DatastoreKind) {
    let db = newsletter(kind);
    // Rows not due, so that a chunk is a small part of the table, as in production (on a
    // table of 30 rows InnoDB scans it whole and waits on every locked row).
    let late: Vec<String> = (100..400)
        .map(|i| format!("({i}, 'l{i}@example.org', '2026-04-01')"))
        .collect();
    db.exec(&format!(
        "INSERT INTO newsletter (id, email, subscribed_on) VALUES {}",
        late.join(", ")
    ));
    let ds = db.datastore();
    let r = rule(
        "newsletter",
        &["subscribed_on"],
        "2026-01-01 00:00:00.000",
        false,
    );
    let opts = ConnectOptions {
        lock_timeout_ms: 300,
        ..ConnectOptions::default()
    };
    // Someone else holds row 15 (in the second chunk; SQLite: the whole file).
    let mut holder = db.conn();
    holder.begin().unwrap();
    holder
        .execute(&assent_datastore::conn::Query {
            sql: "UPDATE newsletter SET email = email WHERE id = 15".into(),
            params: vec![],
        })
        .unwrap();
    let mut conn = db.conn_with(&db.url, opts);
    let mut done = 0;
    let err = loop {
        match purge_chunk(conn.as_mut(), &ds, &r, 10, KEY) {
            Ok(c) if c.keys.is_empty() => panic!("the lock was never met"),
            Ok(c) => done += c.keys.len(),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, ErrorKind::LockTimeout, "{err}");
    let first = if kind == DatastoreKind::Sqlite { 0 } else { 10 };
    assert_eq!(done, first, "{err}");
    // The failed chunk changed nothing: the done chunk's rows are gone, the others are there.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM newsletter"),
        327 - first as i64
    );
    holder.rollback().unwrap();
    // The next run resumes.
    loop {
        let c = purge_chunk(conn.as_mut(), &ds, &r, 10, KEY).unwrap();
        if c.keys.is_empty() {
            break;
        }
        done += c.keys.len();
    }
    assert_eq!(done, 25);
    assert_eq!(db.count("SELECT COUNT(*) FROM newsletter"), 302);
}

fn bad_anchors_are_named(kind: DatastoreKind) {
    let db = shop(kind);
    let ds = db.datastore();
    let before = db.rows("SELECT * FROM customers ORDER BY id");
    let cut = "2030-01-01 00:00:00.000";
    let e = plan(
        db.conn().as_mut(),
        &ds,
        &rule("customers", &["nope"], cut, false),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Missing, "{e}");
    assert!(e.to_string().contains("`customers.nope`"), "{e}");
    let e = purge_chunk(
        db.conn().as_mut(),
        &ds,
        &rule("customers", &["customer_no"], cut, false),
        10,
        KEY,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("not a date"), "{e}");
    let e = plan(
        db.conn().as_mut(),
        &ds,
        &rule("customers", &["newsletter.subscribed_on"], cut, false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no reference"), "{e}");
    let e = plan(
        db.conn().as_mut(),
        &ds,
        &rule("products", &["x"], cut, false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not annotated"), "{e}");
    assert_eq!(db.rows("SELECT * FROM customers ORDER BY id"), before);
}

engines!(
    last_order_anonymises_customers,
    chunked_delete_skips_held_and_unanchored,
    lock_mid_run_keeps_done_chunks,
    bad_anchors_are_named,
);
