//! The rights-request tables (`0002_rights`), on both backends, on real databases.
//! SQLite: a fresh temporary directory per test. PostgreSQL: `ASSENT_TEST_DATABASE_URL`
//! (default `postgres://root@127.0.0.1:5432/test`, as in `suite.rs`), a fresh schema per
//! test, dropped at the end. An unreachable PostgreSQL FAILS the postgres tests.

#![allow(clippy::unwrap_used)]

use assent_model::rights::{RequestType, Status};
use assent_store::{
    AppendItem, RightsAttachmentRow, RightsEventRow, RightsGuard, RightsMark, RightsPatch,
    RightsRequestRow, RightsTokenRow, SCHEMA_VERSION, Store, StoreError,
};

#[macro_use]
mod common;

use common::{Backend, TestDb};

suite!(
    requests_roundtrip_and_order,
    guarded_updates,
    tokens_single_use,
    attachments,
    erasure,
    changes_and_their_ledger_entries_commit_together,
    unknown_status_or_type_is_corruption,
);

// ---------------------------------------------------------------------------------------
// Fixtures

fn request(id: &str, status: &str, due: i64) -> RightsRequestRow {
    RightsRequestRow {
        id: id.to_owned(),
        site: "shop".to_owned(),
        kind: RequestType::Access,
        status: Status::parse(status).unwrap(),
        language: "fr".to_owned(),
        email: Some(format!("{id}@example.org")),
        name: Some("Zoé <b>".to_owned()),
        details: Some("line 1\nline 2 — ünïcode".to_owned()),
        received_at_ms: due - 1_000,
        verified_at_ms: None,
        due_at_ms: due,
        extended_due_at_ms: None,
        extension_reason: None,
        closed_at_ms: None,
        response: None,
        subject: None,
        receipt_id: Some("r1".to_owned()),
        mail_problem: None,
        reminded_7d_at_ms: None,
        reminded_1d_at_ms: None,
        overdue_at_ms: None,
        erased_at_ms: None,
    }
}

/// A fresh store holding request `a` (received) and its first history line.
async fn with_request_a(b: Backend) -> (TestDb, Store, RightsRequestRow) {
    with_request_a_and(b, &[], None).await
}

/// Like [`with_request_a`], inserted with `tokens` and the ledger entry `ledger`.
async fn with_request_a_and(
    b: Backend,
    tokens: &[RightsTokenRow],
    ledger: Option<AppendItem>,
) -> (TestDb, Store, RightsRequestRow) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let a = request("a", "received", 3_000_000);
    s.rights_insert(&a, tokens, &event("a", 1, "submitted", None), ledger)
        .await
        .unwrap();
    (db, s, a)
}

/// received -> verified at 10.
fn verify_patch() -> RightsPatch {
    RightsPatch {
        status: Some(Status::Verified),
        verified_at_ms: Some(10),
        ..RightsPatch::default()
    }
}

/// Eight concurrent identical transitions of request `a` from received to verified, at
/// `base + k`, with a ledger entry each when `ledger`: how many won.
async fn race_to_verify(s: &Store, base: i64, ledger: bool) -> usize {
    let mut tasks = vec![];
    for k in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.rights_update(
                "a",
                &RightsGuard::status(Status::Received),
                &verify_patch(),
                Some(&event("a", base + k, "verified", None)),
                ledger.then(|| entry("rights.verified", base + k)),
            )
            .await
            .unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    wins
}

fn event(id: &str, ts: i64, kind: &str, note: Option<&str>) -> RightsEventRow {
    RightsEventRow {
        request_id: id.to_owned(),
        ts_ms: ts,
        kind: kind.to_owned(),
        actor: "requester".to_owned(),
        note: note.map(str::to_owned),
    }
}

fn token(id: &str, b: u8, purpose: &str, expires: i64) -> RightsTokenRow {
    RightsTokenRow {
        hash: [b; 32],
        request_id: id.to_owned(),
        purpose: purpose.to_owned(),
        expires_at_ms: expires,
        used_at_ms: None,
        attempts: 0,
    }
}

// ---------------------------------------------------------------------------------------
// Tests

async fn requests_roundtrip_and_order(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    let a = request("a", "received", 3_000_000);
    let mut c = request("c", "verified", 2_000_000);
    c.extended_due_at_ms = Some(5_000_000);
    let d = request("d", "verified", 4_000_000);
    for r in [&a, &c, &d] {
        s.rights_insert(r, &[], &event(&r.id, 1, "submitted", None), None)
            .await
            .unwrap();
    }
    // Duplicate id: conflict, nothing else written.
    let e = s
        .rights_insert(&a, &[], &event("a", 2, "submitted", None), None)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(s.rights_events("a").await.unwrap().len(), 1);

    assert_eq!(s.rights_get("a").await.unwrap().unwrap(), a);
    assert!(s.rights_get("zz").await.unwrap().is_none());
    // Ordered by the due date in force (c is extended past d).
    let ids: Vec<String> = s
        .rights_list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["a", "d", "c"]);
    let ids: Vec<String> = s
        .rights_list(Some(Status::Verified))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["d", "c"]);
    let found = s
        .rights_by_email("shop", "a@example.org", Status::Received)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        s.rights_by_email("other", "a@example.org", Status::Received)
            .await
            .unwrap()
            .is_empty()
    );

    s.rights_add_event(&event("a", 7, "note", Some("called back")), None)
        .await
        .unwrap();
    let ev = s.rights_events("a").await.unwrap();
    assert_eq!(
        ev.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["submitted", "note"]
    );
    assert_eq!(ev[1].note.as_deref(), Some("called back"));

    // Survives a reopen.
    s.close().await;
    let s = db.reopen().await.unwrap();
    assert_eq!(s.rights_get("c").await.unwrap().unwrap(), c);
    s.close().await;
}

async fn guarded_updates(b: Backend) {
    let (_db, s, _a) = with_request_a(b).await;
    // Wrong expected status: nothing changes, no event.
    let ok = s
        .rights_update(
            "a",
            &RightsGuard::status(Status::Verified),
            &verify_patch(),
            Some(&event("a", 10, "x", None)),
            None,
        )
        .await
        .unwrap();
    assert!(!ok);
    assert_eq!(s.rights_events("a").await.unwrap().len(), 1);
    // Concurrent identical transitions: exactly one wins.
    assert_eq!(race_to_verify(&s, 10, false).await, 1);
    let r = s.rights_get("a").await.unwrap().unwrap();
    assert_eq!(
        (r.status.as_str(), r.verified_at_ms),
        ("verified", Some(10))
    );
    assert_eq!(s.rights_events("a").await.unwrap().len(), 2);
    // Marks are set once: setting the 7-day reminder at `at`, true when this call set it.
    let remind_7d = async |at: i64| {
        let mark = RightsPatch {
            reminded_7d_at_ms: Some(at),
            ..RightsPatch::default()
        };
        let guard = RightsGuard::unset(RightsMark::Reminded7d);
        s.rights_update("a", &guard, &mark, None, None)
            .await
            .unwrap()
    };
    assert!(remind_7d(20).await);
    assert!(!remind_7d(30).await);
    assert_eq!(
        s.rights_get("a").await.unwrap().unwrap().reminded_7d_at_ms,
        Some(20)
    );
    // mail_problem can be set and cleared; unknown ids and empty patches do nothing.
    let p = RightsPatch {
        mail_problem: Some(Some("no SMTP".into())),
        ..RightsPatch::default()
    };
    assert!(
        s.rights_update("a", &RightsGuard::default(), &p, None, None)
            .await
            .unwrap()
    );
    assert_eq!(
        s.rights_get("a")
            .await
            .unwrap()
            .unwrap()
            .mail_problem
            .as_deref(),
        Some("no SMTP")
    );
    let p = RightsPatch {
        mail_problem: Some(None),
        ..RightsPatch::default()
    };
    assert!(
        s.rights_update("a", &RightsGuard::default(), &p, None, None)
            .await
            .unwrap()
    );
    assert_eq!(s.rights_get("a").await.unwrap().unwrap().mail_problem, None);
    let mark = RightsPatch {
        reminded_7d_at_ms: Some(20),
        ..RightsPatch::default()
    };
    assert!(
        !s.rights_update("zz", &RightsGuard::default(), &mark, None, None)
            .await
            .unwrap()
    );
    assert!(
        !s.rights_update(
            "a",
            &RightsGuard::default(),
            &RightsPatch::default(),
            None,
            None
        )
        .await
        .unwrap()
    );
    s.close().await;
}

async fn tokens_single_use(b: Backend) {
    let tokens = [
        token("a", 1, "verify_link", 1_000),
        token("a", 2, "verify_code", 1_000),
    ];
    let (_db, s, _a) = with_request_a_and(b, &tokens, None).await;
    s.rights_insert_token(&token("a", 3, "download", 5_000))
        .await
        .unwrap();
    let e = s
        .rights_insert_token(&token("a", 3, "download", 5_000))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(s.rights_tokens("a").await.unwrap().len(), 3);
    let k = s.rights_token(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(
        (k.purpose.as_str(), k.attempts, k.used_at_ms),
        ("verify_code", 0, None)
    );
    assert_eq!(s.rights_token_attempt(&[2; 32]).await.unwrap(), 1);
    assert_eq!(s.rights_token_attempt(&[2; 32]).await.unwrap(), 2);
    // Expired: refused.
    assert!(!s.rights_use_token(&[1; 32], 1_000).await.unwrap());
    // First use wins, second is refused; the code of the same request is consumed too.
    assert!(s.rights_use_token(&[1; 32], 999).await.unwrap());
    assert!(!s.rights_use_token(&[1; 32], 999).await.unwrap());
    assert!(!s.rights_use_token(&[2; 32], 999).await.unwrap());
    assert_eq!(
        s.rights_token(&[2; 32]).await.unwrap().unwrap().used_at_ms,
        Some(999)
    );
    // The download token is not part of the verification family.
    assert_eq!(
        s.rights_token(&[3; 32]).await.unwrap().unwrap().used_at_ms,
        None
    );
    assert!(!s.rights_use_token(&[9; 32], 1).await.unwrap());
    s.close().await;
}

async fn attachments(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.rights_insert(
        &request("a", "in_progress", 3_000_000),
        &[],
        &event("a", 1, "submitted", None),
        None,
    )
    .await
    .unwrap();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let att = RightsAttachmentRow {
        id: "f1".into(),
        request_id: "a".into(),
        filename: "export.json".into(),
        content_type: "application/json".into(),
        bytes: bytes.clone(),
        size: 70_000,
        created_at_ms: 5,
        expires_at_ms: 500,
    };
    s.rights_insert_attachment(&att).await.unwrap();
    assert!(matches!(
        s.rights_insert_attachment(&att).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.rights_attachment("a", "f1").await.unwrap().unwrap(), att);
    assert!(s.rights_attachment("b", "f1").await.unwrap().is_none());
    let list = s.rights_attachments("a").await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].bytes.is_empty());
    assert_eq!(list[0].size, 70_000);
    // An attachment needs its request.
    let mut orphan = att.clone();
    orphan.id = "f2".into();
    orphan.request_id = "nope".into();
    assert!(s.rights_insert_attachment(&orphan).await.is_err());
    s.close().await;
}

async fn erasure(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let mut a = request("a", "completed", 3_000_000);
    a.response = Some("here is your data".into());
    a.subject = Some("0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a".into());
    a.closed_at_ms = Some(3_000_000);
    s.rights_insert(
        &a,
        &[token("a", 1, "download", 10)],
        &event("a", 1, "submitted", None),
        None,
    )
    .await
    .unwrap();
    s.rights_add_event(&event("a", 2, "note", Some("personal remark")), None)
        .await
        .unwrap();
    s.rights_insert_attachment(&RightsAttachmentRow {
        id: "f1".into(),
        request_id: "a".into(),
        filename: "x.csv".into(),
        content_type: "text/csv".into(),
        bytes: b"a,b\n".to_vec(),
        size: 4,
        created_at_ms: 1,
        expires_at_ms: 2,
    })
    .await
    .unwrap();
    let b2 = request("b", "received", 3_000_000);
    s.rights_insert(&b2, &[], &event("b", 1, "submitted", None), None)
        .await
        .unwrap();

    assert!(
        s.rights_erase("a", 99, &event("a", 99, "erased", None), None)
            .await
            .unwrap()
    );
    let r = s.rights_get("a").await.unwrap().unwrap();
    assert_eq!(r.erased_at_ms, Some(99));
    assert_eq!(
        (
            r.email,
            r.name,
            r.details,
            r.response,
            r.subject,
            r.receipt_id
        ),
        (None, None, None, None, None, None)
    );
    assert_eq!(
        (r.kind.as_str(), r.status.as_str(), r.due_at_ms),
        ("access", "completed", 3_000_000)
    );
    assert!(s.rights_tokens("a").await.unwrap().is_empty());
    assert!(s.rights_attachments("a").await.unwrap().is_empty());
    let ev = s.rights_events("a").await.unwrap();
    assert_eq!(
        ev.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["submitted", "note", "erased"]
    );
    assert!(ev.iter().all(|e| e.note.is_none()));
    // Once only; erased requests cannot be updated; other requests are untouched.
    assert!(
        !s.rights_erase("a", 100, &event("a", 100, "erased", None), None)
            .await
            .unwrap()
    );
    assert_eq!(s.rights_events("a").await.unwrap().len(), 3);
    let p = RightsPatch {
        status: Some(Status::Rejected),
        ..RightsPatch::default()
    };
    assert!(
        !s.rights_update("a", &RightsGuard::default(), &p, None, None)
            .await
            .unwrap()
    );
    assert_eq!(s.rights_get("b").await.unwrap().unwrap(), b2);
    assert!(
        !s.rights_erase("zz", 1, &event("zz", 1, "erased", None), None)
            .await
            .unwrap()
    );
    s.close().await;
}

fn entry(kind: &str, n: i64) -> AppendItem {
    AppendItem {
        ts_ms: n,
        kind: kind.to_owned(),
        payload: format!(r#"{{"n":{n}}}"#).into_bytes(),
        consent: None,
    }
}

/// The ledger's kinds, in chain order.
async fn kinds(s: &Store) -> Vec<String> {
    let chain = s.writer_chain();
    s.entries(chain, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.kind)
        .collect()
}

/// A change recorded in the ledger is written with its entry or not at all: a failed guard
/// appends nothing, a failing statement rolls back the change and its entry, and concurrent
/// transitions append exactly one entry.
async fn changes_and_their_ledger_entries_commit_together(b: Backend) {
    let submitted = Some(entry("rights.submitted", 1));
    let (db, s, a) = with_request_a_and(b, &[], submitted).await;
    assert_eq!(kinds(&s).await, ["rights.submitted"]);
    // A duplicate id: the insert fails, and its entry is not appended.
    let dup = s
        .rights_insert(
            &a,
            &[],
            &event("a", 2, "submitted", None),
            Some(entry("rights.submitted", 2)),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(kinds(&s).await, ["rights.submitted"]);
    // A guard that fails: no change, no history line, no entry.
    let ok = s
        .rights_update(
            "a",
            &RightsGuard::status(Status::InProgress),
            &verify_patch(),
            Some(&event("a", 10, "verified", None)),
            Some(entry("rights.verified", 10)),
        )
        .await
        .unwrap();
    assert!(!ok);
    assert_eq!(kinds(&s).await, ["rights.submitted"]);
    assert_eq!(s.rights_events("a").await.unwrap().len(), 1);
    // Eight concurrent identical transitions: one wins, one entry.
    assert_eq!(race_to_verify(&s, 20, true).await, 1);
    assert_eq!(kinds(&s).await, ["rights.submitted", "rights.verified"]);
    assert_eq!(
        s.rights_get("a").await.unwrap().unwrap().status,
        Status::Verified
    );
    // In one batch with other appends, a failing rights write fails alone.
    let again = event("a", 31, "submitted", None);
    let (x, y) = tokio::join!(
        s.append(vec![entry("audit.test", 30)]),
        s.rights_insert(&a, &[], &again, Some(entry("rights.submitted", 31))),
    );
    x.unwrap();
    assert!(matches!(y, Err(StoreError::Conflict(_))), "{y:?}");
    // A history line and erasure with their entries; then the chain verifies.
    s.rights_add_event(
        &event("a", 40, "note", Some("n")),
        Some(entry("rights.note", 40)),
    )
    .await
    .unwrap();
    // Erasing `a` at `ts`, with its ledger entry: true when this call erased it.
    let erase = async |ts: i64| {
        let ev = event("a", ts, "erased", None);
        s.rights_erase("a", ts, &ev, Some(entry("rights.erased", ts)))
            .await
            .unwrap()
    };
    assert!(erase(50).await);
    assert!(!erase(51).await);
    assert_eq!(
        kinds(&s).await,
        [
            "rights.submitted",
            "rights.verified",
            "audit.test",
            "rights.note",
            "rights.erased"
        ]
    );
    let chain = s.writer_chain();
    let all = s.entries(chain, 0, 1000).await.unwrap();
    let mut prev = assent_ledger::GENESIS;
    for (e, _) in &all {
        assert_eq!(e.prev_hash, prev);
        assert!(e.hash_is_valid());
        prev = e.hash;
    }
    s.close().await;
    // What was acknowledged is there after a reopen.
    let s = db.reopen().await.unwrap();
    assert_eq!(kinds(&s).await.len(), 5);
    s.close().await;
}

/// A status or type this build does not know is reported as corruption naming the table,
/// the column and the value: never read as some valid state.
async fn unknown_status_or_type_is_corruption(b: Backend) {
    let (db, s, a) = with_request_a(b).await;
    for (column, value) in [("status", "on_hold"), ("type", "Access")] {
        db.exec_raw(&format!(
            "UPDATE rights_requests SET {column} = '{value}' WHERE id = 'a'"
        ))
        .await;
        for got in [
            s.rights_get("a").await.map(|_| ()),
            s.rights_list(None).await.map(|_| ()),
        ] {
            match got {
                Err(StoreError::CorruptValue {
                    table,
                    column: c,
                    value: v,
                }) => assert_eq!((table, c, v.as_str()), ("rights_requests", column, value)),
                other => panic!("{column} = {value}: {other:?}"),
            }
        }
        let restore = if column == "status" {
            "received"
        } else {
            "access"
        };
        db.exec_raw(&format!(
            "UPDATE rights_requests SET {column} = '{restore}' WHERE id = 'a'"
        ))
        .await;
    }
    assert_eq!(s.rights_get("a").await.unwrap().unwrap(), a);
    s.close().await;
}
