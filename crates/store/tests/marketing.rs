//! The marketing tables (`0006_marketing`), on both backends, on real databases (see
//! `common`): states and their ledger entries commit together, the batch lookup finds every
//! hash across chunks, suppressions and erasure keep the hashes, pending opt-ins confirm once
//! and expire.

#![allow(clippy::unwrap_used)]

use assent_model::marketing::{MarketingChannel, SubscriptionStatus};
use assent_store::{AppendItem, LOOKUP_CHUNK, PendingRow, Store, SubscriptionRow};

#[macro_use]
mod common;

use common::{Backend, TestDb};

suite!(
    states_and_ledger_commit_together,
    lookup_in_chunks,
    suppressions_and_erasure,
    pending_confirms_once_and_expires,
);

fn hash(n: u32) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&n.to_be_bytes());
    h[31] = 7;
    h
}

fn row(n: u32, purpose: &str, status: SubscriptionStatus, at: i64) -> SubscriptionRow {
    SubscriptionRow {
        site: "kalido".into(),
        channel: MarketingChannel::Email,
        addr_hash: hash(n),
        purpose: purpose.into(),
        status,
        basis: (status == SubscriptionStatus::Confirmed).then(|| "consent".into()),
        source: "api".into(),
        receipt_id: format!("r{n}-{at}"),
        address: Some(format!("p{n}@example.org")),
        sha256: Some(format!("{n:064x}")),
        updated_at_ms: at,
    }
}

fn entry(n: i64) -> AppendItem {
    AppendItem {
        ts_ms: n,
        kind: "marketing.choice".into(),
        payload: format!(r#"{{"n":{n}}}"#).into_bytes(),
        consent: None,
    }
}

async fn entries(s: &Store) -> usize {
    s.entries(s.writer_chain(), 0, 100_000).await.unwrap().len()
}

async fn states_and_ledger_commit_together(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.marketing_set(
        &[row(1, "newsletter", SubscriptionStatus::Confirmed, 10)],
        Some(entry(10)),
    )
    .await
    .unwrap();
    // An opt-out through a link knows no address: the stored one stays.
    let mut out = row(1, "newsletter", SubscriptionStatus::OptedOut, 20);
    out.address = None;
    out.sha256 = None;
    s.marketing_set(&[out], Some(entry(20))).await.unwrap();
    let rows = s
        .marketing_of("kalido", MarketingChannel::Email, &hash(1))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, SubscriptionStatus::OptedOut);
    assert_eq!(rows[0].address.as_deref(), Some("p1@example.org"));
    assert_eq!(rows[0].updated_at_ms, 20);
    assert_eq!(rows[0].basis, None);
    assert_eq!(entries(&s).await, 2);
    // Reopened, the state is the same.
    drop(s);
    let s = db.reopen().await.unwrap();
    let again = s
        .marketing_of("kalido", MarketingChannel::Email, &hash(1))
        .await
        .unwrap();
    assert_eq!(again, rows);
}

async fn lookup_in_chunks(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let n = u32::try_from(LOOKUP_CHUNK * 2 + 17).unwrap();
    let rows: Vec<SubscriptionRow> = (0..n)
        .filter(|k| k % 3 == 0)
        .map(|k| row(k, "offers", SubscriptionStatus::Confirmed, 5))
        .collect();
    s.marketing_set(&rows, Some(entry(5))).await.unwrap();
    s.marketing_set(
        &[row(3, "*", SubscriptionStatus::OptedOut, 6)],
        Some(entry(6)),
    )
    .await
    .unwrap();
    // Another purpose and another channel are not returned.
    s.marketing_set(
        &[row(6, "newsletter", SubscriptionStatus::Confirmed, 7)],
        None,
    )
    .await
    .unwrap();
    let hashes: Vec<[u8; 32]> = (0..n).map(hash).collect();
    let found = s
        .marketing_lookup("kalido", MarketingChannel::Email, "offers", &hashes)
        .await
        .unwrap();
    assert_eq!(found.len(), rows.len() + 1);
    assert!(
        found
            .iter()
            .any(|f| f.addr_hash == hash(3) && f.all_purposes)
    );
    let sms = s
        .marketing_lookup("kalido", MarketingChannel::Sms, "offers", &hashes)
        .await
        .unwrap();
    assert!(sms.is_empty());
}

async fn suppressions_and_erasure(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.marketing_set(
        &[
            row(1, "newsletter", SubscriptionStatus::OptedOut, 10),
            row(2, "newsletter", SubscriptionStatus::Confirmed, 11),
            row(3, "offers", SubscriptionStatus::OptedOut, 30),
        ],
        None,
    )
    .await
    .unwrap();
    let all = s
        .marketing_suppressions(MarketingChannel::Email, 0)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.addr_hash).collect::<Vec<_>>(),
        [hash(1), hash(3)]
    );
    let since = s
        .marketing_suppressions(MarketingChannel::Email, 20)
        .await
        .unwrap();
    assert_eq!(since.len(), 1);
    // Erasure: the address goes, the hashes and the suppression stay, pending rows go.
    s.marketing_insert_pending(&pending(1, 100)).await.unwrap();
    s.marketing_erase_address(
        &hash(1),
        &[row(1, "*", SubscriptionStatus::OptedOut, 40)],
        Some(entry(40)),
    )
    .await
    .unwrap();
    let rows = s
        .marketing_of("kalido", MarketingChannel::Email, &hash(1))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.address.is_none() && r.sha256.is_some())
    );
    assert!(s.marketing_pending(&[1; 32]).await.unwrap().is_none());
}

fn pending(n: u32, expires: i64) -> PendingRow {
    PendingRow {
        token_hash: [u8::try_from(n).unwrap(); 32],
        id: format!("p{n}"),
        site: "kalido".into(),
        channel: MarketingChannel::Email,
        purpose: "newsletter".into(),
        addr_hash: hash(n),
        address: format!("p{n}@example.org"),
        basis: "consent".into(),
        provenance: "{}".into(),
        language: "fr".into(),
        created_at_ms: 1,
        expires_at_ms: expires,
        mail_sent_at_ms: None,
        mail_attempts: 0,
        mail_error: None,
    }
}

async fn pending_confirms_once_and_expires(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.marketing_insert_pending(&pending(1, 100)).await.unwrap();
    s.marketing_insert_pending(&pending(2, 50)).await.unwrap();
    // A failed sending is visible, then retried with a new token.
    s.marketing_mail_attempt("p1", None, Some("sending failed: connection refused"))
        .await
        .unwrap();
    let failed = s.marketing_failed_mails().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].mail_attempts, 1);
    assert_eq!(s.marketing_unsent(10).await.unwrap().len(), 2);
    assert_eq!(s.marketing_unsent(60).await.unwrap().len(), 1);
    s.marketing_rotate_token("p1", &[9; 32]).await.unwrap();
    assert!(s.marketing_pending(&[1; 32]).await.unwrap().is_none());
    let p = s.marketing_pending(&[9; 32]).await.unwrap().unwrap();
    assert_eq!(p.address, "p1@example.org");
    let confirmed = row(1, "newsletter", SubscriptionStatus::Confirmed, 20);
    assert!(
        s.marketing_confirm(&[9; 32], &confirmed, entry(20))
            .await
            .unwrap()
    );
    assert!(
        !s.marketing_confirm(&[9; 32], &confirmed, entry(21))
            .await
            .unwrap()
    );
    assert_eq!(
        entries(&s).await,
        1,
        "only the first confirmation is recorded"
    );
    assert_eq!(s.marketing_expire(60).await.unwrap(), 1);
    assert!(s.marketing_pending(&[2; 32]).await.unwrap().is_none());
}
