//! The dashboard's counters (`consent_stats`) on both backends: the group-commit writer adds
//! a batch's tallies in its transaction (a failed request adds nothing), displays and the
//! backfill add through their own statements, the backfill's progress is guarded.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use assent_store::{AppendItem, ConsentKey, StatRow, Store, StoreError, Tally};

#[macro_use]
mod common;

use common::{Backend, TestDb};

suite!(
    writer_adds_tallies_in_the_batch,
    displays_and_backfill_add_to_counters,
);

fn kinds() -> Arc<[String]> {
    ["accept_all", "reject_all", "gpc", "purpose:ads"]
        .map(String::from)
        .into()
}

fn consent(receipt: &str, day: i32, lang: &str, bits: u128, kinds: &Arc<[String]>) -> AppendItem {
    AppendItem {
        ts_ms: 1_000,
        kind: "consent".into(),
        payload: b"{}".to_vec(),
        consent: Some(ConsentKey {
            receipt_id: receipt.to_owned(),
            site: "shop".to_owned(),
            subject: "u".to_owned(),
            created_at_ms: 1_000,
            tally: Some(Tally {
                day,
                version: 1,
                lang: lang.to_owned(),
                kinds: kinds.clone(),
                bits,
            }),
        }),
    }
}

/// `(day, lang, kind) -> n` of the site's counters.
async fn counters(s: &Store, from: i32, to: i32) -> Vec<(i32, String, String, i64)> {
    s.stats_between("shop", from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.day, r.lang, r.kind, r.n))
        .collect()
}

async fn writer_adds_tallies_in_the_batch(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let k = kinds();
    // 40 concurrent consents (few batches): 30 accept-all with ads on day 10 in fr, 10
    // reject-all under GPC on day 11 in en; one duplicate receipt fails and adds nothing.
    s.append(vec![consent("dup", 10, "fr", 0b1001, &k)])
        .await
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(41));
    let mut tasks = vec![];
    for t in 0..41u32 {
        let (s, k, barrier) = (s.clone(), k.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let item = match t {
                40 => consent("dup", 10, "fr", 0b1001, &k),
                t if t < 30 => consent(&format!("a{t}"), 10, "fr", 0b1001, &k),
                t => consent(&format!("r{t}"), 11, "en", 0b0110, &k),
            };
            barrier.wait().await;
            (t, s.append(vec![item]).await)
        }));
    }
    for task in tasks {
        let (t, r) = task.await.unwrap();
        if t == 40 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
        } else {
            r.unwrap();
        }
    }
    let want = vec![
        (10, "fr".to_owned(), "accept_all".to_owned(), 31),
        (10, "fr".to_owned(), "purpose:ads".to_owned(), 31),
        (11, "en".to_owned(), "gpc".to_owned(), 10),
        (11, "en".to_owned(), "reject_all".to_owned(), 10),
    ];
    assert_eq!(counters(&s, 0, 100).await, want);
    assert_eq!(counters(&s, 11, 11).await, want[2..].to_vec());
    // An append without tally (audit entries) adds nothing.
    let audit = AppendItem {
        ts_ms: 1,
        kind: "audit.test".into(),
        payload: b"{}".to_vec(),
        consent: None,
    };
    s.append(vec![audit]).await.unwrap();
    assert_eq!(counters(&s, 0, 100).await, want);
    s.close().await;
    // Kept across a reopen.
    let s = db.reopen().await.unwrap();
    assert_eq!(counters(&s, 0, 100).await, want);
    s.close().await;
}

fn row(day: i32, kind: &str, n: i64) -> StatRow {
    StatRow {
        site: "shop".into(),
        day,
        version: 1,
        lang: "en".into(),
        kind: kind.into(),
        n,
    }
}

async fn displays_and_backfill_add_to_counters(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    // Nothing to backfill in a new database.
    assert_eq!(s.stats_backfill_pending().await.unwrap(), vec![]);
    s.stats_add(&[row(5, "shown", 3), row(5, "shown_zero", 0)])
        .await
        .unwrap();
    s.stats_add(&[row(5, "shown", 2)]).await.unwrap();
    s.append(vec![consent("c1", 5, "en", 0b1, &kinds())])
        .await
        .unwrap();
    assert_eq!(
        counters(&s, 5, 5).await,
        vec![
            (5, "en".to_owned(), "accept_all".to_owned(), 1),
            (5, "en".to_owned(), "shown".to_owned(), 5)
        ]
    );
    // A backfill noted by the migration (entries 0..=9 of chain `c`): each step is taken once.
    let c = s.writer_chain();
    db.exec_raw(&format!(
        "INSERT INTO consent_stats_backfill (chain, upto_seq, done_seq) VALUES ({c}, 9, -1)"
    ))
    .await;
    assert_eq!(s.stats_backfill_pending().await.unwrap(), vec![(c, 0, 9)]);
    assert!(
        s.stats_backfill_step(c, -1, 4, &[row(5, "accept_all", 2)])
            .await
            .unwrap()
    );
    // Another server's copy of the same step changes nothing.
    assert!(
        !s.stats_backfill_step(c, -1, 4, &[row(5, "accept_all", 2)])
            .await
            .unwrap()
    );
    assert_eq!(s.stats_backfill_pending().await.unwrap(), vec![(c, 5, 9)]);
    assert!(s.stats_backfill_step(c, 4, 9, &[]).await.unwrap());
    assert_eq!(s.stats_backfill_pending().await.unwrap(), vec![]);
    assert_eq!(
        counters(&s, 5, 5).await,
        vec![
            (5, "en".to_owned(), "accept_all".to_owned(), 3),
            (5, "en".to_owned(), "shown".to_owned(), 5)
        ]
    );
    assert_eq!(s.rights_due_counts("shop", 0).await.unwrap(), (0, 0, 0, 0));
    s.close().await;
}
