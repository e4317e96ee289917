#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 20, finding 6: `/readyz` was a `SELECT 1`, so it said ready while every consent
//! failed (a read-only database, a full disk). It now also proves, at most every 5 s, that
//! the store can commit. Here the store stops being able to commit (its `meta` table is
//! dropped behind the server's back, on PostgreSQL where another session can do it), and
//! `/readyz` turns 503 within one probe interval; startup on a read-only SQLite file is
//! refused (tests/witness.rs of the CLI).

mod common;

use common::{Backend, TestApp, pg_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_not_ready_when_the_store_cannot_commit() {
    let app = TestApp::spawn(Backend::Postgres).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let schema = app
        .database
        .as_deref()
        .and_then(|u| u.split("schema=").nth(1))
        .map(|s| s.split('&').next().unwrap_or(s).to_owned())
        .expect("the test's PostgreSQL schema");
    let (client, conn) = tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP TABLE \"{schema}\".meta"))
        .await
        .unwrap();
    // Within the probe interval the last good probe stands; after it, the failure shows.
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.clock.advance_ms(5_001);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(body.contains("cannot commit"), "{body}");
    // And it stays unready on the next call (a failed probe is not cached as good).
    assert_eq!(app.get("/readyz").await.status(), 503);
}
