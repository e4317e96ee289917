//! One suite, run against both backends on real databases (no mocks).
//!
//! `suite!` generates `sqlite::NAME` and `postgres::NAME` for every test function below.
//! SQLite: a fresh temporary directory per test. PostgreSQL: `ASSENT_TEST_DATABASE_URL`
//! (default `postgres://root@127.0.0.1:5432/test`), a fresh schema per test, dropped at the
//! end. An unreachable PostgreSQL FAILS the postgres tests: they are never skipped.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_ledger::{GENESIS, payload_hash};
use assent_store::{
    AppendItem, ConsentKey, ConsentRow, Entry, Location, NewPolicyVersion, OpenOptions,
    SCHEMA_VERSION, Store, StoreError, TokenRow,
};

#[macro_use]
mod common;

use common::{Backend, PgSchema, TestDb, pg_url, random_hex, raw_pg};

suite!(
    migrations_idempotent_on_reopen,
    newer_schema_is_refused,
    upgrade_from_v2_keeps_consents,
    policy_versions_numbering_and_floor,
    tokens,
    append_order_and_chain_across_reopen,
    concurrent_appends_are_gap_free,
    duplicate_receipt_fails_alone,
    redaction,
    consent_queries_and_paging,
    create_false_refuses_missing,
    backup,
    checkpoints_and_meta,
    for_each_entry_scans_everything,
);

fn consent(receipt: &str, site: &str, subject: &str, created: i64) -> ConsentRow {
    ConsentRow {
        receipt_id: receipt.to_owned(),
        site: site.to_owned(),
        subject: subject.to_owned(),
        policy_version: 1,
        action: "accept_all".to_owned(),
        method: "banner".to_owned(),
        channel: "web".to_owned(),
        language: "en".to_owned(),
        choices_json: r#"{"analytics":true,"necessary":true}"#.to_owned(),
        fingerprint: "f".repeat(64),
        created_at_ms: created,
        expires_at_ms: created + 15_552_000_000,
    }
}

fn item(n: u64) -> AppendItem {
    AppendItem {
        ts_ms: 1_700_000_000_000 + n as i64,
        kind: "audit.test".to_owned(),
        payload: format!(r#"{{"n":{n}}}"#).into_bytes(),
        consent: None,
    }
}

/// A consent append: `c`'s decision as a consent record (the fields the store reads back
/// from the payload), `c`'s key as its index row.
fn consent_item(c: ConsentRow) -> AppendItem {
    AppendItem {
        ts_ms: c.created_at_ms,
        kind: "consent".to_owned(),
        payload: record_payload(&c).into_bytes(),
        consent: Some(ConsentKey {
            receipt_id: c.receipt_id,
            site: c.site,
            subject: c.subject,
            created_at_ms: c.created_at_ms,
            tally: None,
        }),
    }
}

/// The record of `c` as the server writes it (`assent-consent/2`), members sorted.
fn record_payload(c: &ConsentRow) -> String {
    format!(
        r#"{{"action":"{}","collectionMethod":"{}","consentReceiptID":"{}","consentTimestamp":{},"expiresAt":{},"jurisdiction":"FR","language":"{}","method":"{}","piiPrincipalId":"{}","policyHash":"{}","policyVersion":{},"purposes":{},"site":"{}","textFingerprint":"{}","version":"assent-consent/2"}}"#,
        c.action,
        c.channel,
        c.receipt_id,
        c.created_at_ms,
        c.expires_at_ms,
        c.language,
        c.method,
        c.subject,
        "0".repeat(64),
        c.policy_version,
        c.choices_json,
        c.site,
        c.fingerprint
    )
}

/// Checks that `chain` is gap-free from seq 0, every hash is right and links to the
/// previous one, and stored payloads match their hashes. Returns the entries.
async fn check_chain(store: &Store, chain: u32) -> Vec<(Entry, Option<Vec<u8>>)> {
    let all = store.entries(chain, 0, u32::MAX).await.unwrap();
    let mut prev = GENESIS;
    for (i, (e, p)) in all.iter().enumerate() {
        assert_eq!(e.chain, chain);
        assert_eq!(e.seq, i as u64, "gap in chain {chain}");
        assert_eq!(e.prev_hash, prev, "broken link at {chain}/{}", e.seq);
        assert!(e.hash_is_valid(), "bad hash at {chain}/{}", e.seq);
        if let Some(p) = p {
            assert_eq!(payload_hash(p), e.payload_hash);
        }
        prev = e.hash;
    }
    all
}

// ---------------------------------------------------------------------------------------
// The suite

async fn migrations_idempotent_on_reopen(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    assert_eq!(
        s.backend(),
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    s.ping().await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    s.meta_set("instance", "one").await.unwrap();
    s.close().await;
    for _ in 0..2 {
        let s = db.reopen().await.unwrap();
        assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
        assert_eq!(
            s.meta_get("instance").await.unwrap().as_deref(),
            Some("one")
        );
        s.close().await;
    }
    // One row per migration, each recorded once (numbers may have gaps while branches merge).
    assert_eq!(
        db.count_raw("SELECT COUNT(DISTINCT version) FROM schema_migrations")
            .await,
        db.count_raw("SELECT COUNT(*) FROM schema_migrations").await,
    );
    assert_eq!(
        db.count_raw("SELECT MAX(version) FROM schema_migrations")
            .await,
        SCHEMA_VERSION
    );
    assert_eq!(
        db.count_raw("SELECT COUNT(*) - COUNT(DISTINCT version) FROM schema_migrations")
            .await,
        0
    );
}

async fn newer_schema_is_refused(b: Backend) {
    let db = TestDb::new(b).await;
    db.open().await.close().await;
    db.exec_raw("INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future')")
        .await;
    match db.reopen().await {
        Err(e @ StoreError::SchemaTooNew { found: 999, .. }) => {
            assert!(e.to_string().contains("upgrade assent"), "{e}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// A version-2 database, made from the migration files 0001 and 0002 themselves (WITHOUT
/// ROWID tables on SQLite, consents as full rows with a foreign key to their ledger entry), is
/// upgraded to the current schema (3: rowid tables; 4: consents keep their keys only) with its
/// chain and consents intact, whether a receipt id starts with its creation time or not.
async fn upgrade_from_v2_keeps_consents(b: Backend) {
    let db = TestDb::new(b).await;
    let dir = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir);
    let file = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    let t0 = 1_700_000_000_000_i64;
    // Three consents: an id of Assent's form, an id that is not, and one of Assent's form
    // whose time prefix is not its creation time (all must be found after the upgrade).
    let timed = format!("{t0:012x}{}", "ab".repeat(10));
    let skewed = format!("{:012x}{}", t0 + 5, "cd".repeat(10));
    let rows = [
        consent(&timed, "s1", "alice", t0),
        consent("r-legacy", "s1", "alice", t0 + 1),
        consent(&skewed, "s2", "bob", t0 + 2),
    ];
    let mut head = assent_ledger::ChainHead::new(0);
    let mut sql = file("0001_init.sql") + ";\n" + &file("0002_rights.sql") + ";\n";
    sql += "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL);
            INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init'), (2, '0002_rights');\n";
    let bytes = |v: &[u8]| match b {
        Backend::Sqlite => format!("X'{}'", hex::encode(v)),
        Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(v)),
    };
    let mut entries = Vec::new();
    for c in &rows {
        let payload = record_payload(c);
        let e = head.append(c.created_at_ms, "consent", payload.as_bytes());
        sql += &format!(
            "INSERT INTO ledger_entries (chain, seq, ts_ms, kind, payload_hash, prev_hash, hash, payload) \
             VALUES (0, {}, {}, 'consent', {}, {}, {}, {});\n",
            e.seq,
            e.ts_ms,
            bytes(&e.payload_hash),
            bytes(&e.prev_hash),
            bytes(&e.hash),
            bytes(payload.as_bytes())
        );
        sql += &format!(
            "INSERT INTO consents (receipt_id, site, subject, policy_version, action, method, \
             channel, language, choices_json, fingerprint, created_at_ms, expires_at_ms, chain, seq) \
             VALUES ('{}', '{}', '{}', {}, '{}', '{}', '{}', '{}', '{}', '{}', {}, {}, 0, {});\n",
            c.receipt_id,
            c.site,
            c.subject,
            c.policy_version,
            c.action,
            c.method,
            c.channel,
            c.language,
            c.choices_json,
            c.fingerprint,
            c.created_at_ms,
            c.expires_at_ms,
            e.seq
        );
        entries.push(e);
    }
    if b == Backend::Sqlite {
        std::fs::create_dir_all(db.loc.sqlite_path().unwrap().parent().unwrap()).unwrap();
    }
    db.exec_raw(&sql).await;
    assert_eq!(
        db.count_raw("SELECT MAX(version) FROM schema_migrations")
            .await,
        2
    );

    let s = db.reopen().await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    let fk_count = match b {
        Backend::Sqlite => "SELECT COUNT(DISTINCT id) FROM pragma_foreign_key_list('consents')",
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' \
             AND conrelid = 'consents'::regclass"
        }
    };
    assert_eq!(db.count_raw(fk_count).await, 0);
    if b == Backend::Sqlite {
        let rowid = "SELECT COUNT(*) FROM pragma_table_list \
                     WHERE name IN ('ledger_entries', 'consents') AND wr = 0";
        assert_eq!(db.count_raw(rowid).await, 2);
        // Only the ids that do not start with their creation time are listed aside.
        assert_eq!(
            db.count_raw("SELECT COUNT(*) FROM consent_receipt_ids")
                .await,
            2
        );
    }
    // Only the keys are left in the consents table.
    let cols = match b {
        Backend::Sqlite => "SELECT COUNT(*) FROM pragma_table_info('consents')",
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'consents'"
        }
    };
    assert_eq!(
        db.count_raw(cols).await,
        if b == Backend::Sqlite { 5 } else { 6 }
    );
    // The copied chain still verifies, and its head is where it was.
    let chain = check_chain(&s, 0).await;
    assert_eq!(chain.len(), 3);
    assert_eq!(s.chain_heads().await.unwrap(), vec![entries[2].clone()]);
    for (c, e) in rows.iter().zip(&entries) {
        let (row, entry) = s.consent_by_receipt(&c.receipt_id).await.unwrap().unwrap();
        assert_eq!(&row, c);
        assert_eq!(&entry, e);
    }
    assert_eq!(s.consents_by_subject("s1", "alice").await.unwrap().len(), 2);
    let page = s
        .consents_between("s1", t0, t0 + 10, Some(&timed), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].0.receipt_id, "r-legacy");
    // Writes and redactions go on after the upgrade.
    s.append(vec![consent_item(consent("r-up2", "s1", "alice", t0 + 3))])
        .await
        .unwrap();
    assert_eq!(s.consents_by_subject("s1", "alice").await.unwrap().len(), 3);
    let red = AppendItem {
        ts_ms: t0 + 4,
        kind: "ledger.redaction".to_owned(),
        payload: br#"{"chain":0,"seq":1}"#.to_vec(),
        consent: None,
    };
    s.redact(0, 1, red).await.unwrap();
    assert_eq!(s.consent_by_receipt("r-legacy").await.unwrap(), None);
    assert_eq!(s.consents_by_subject("s1", "alice").await.unwrap().len(), 2);
    check_chain(&s, 0).await;
    s.close().await;
}

fn policy(site: &str, fresh: bool, n: u32) -> NewPolicyVersion {
    NewPolicyVersion {
        site: site.to_owned(),
        content_hash: format!("{n:064x}"),
        requires_fresh_consent: fresh,
        changes_json: "[]".to_owned(),
        registry_json: format!(r#"{{"n":{n}}}"#),
        source_toml: format!("n = {n}\n"),
    }
}

async fn policy_versions_numbering_and_floor(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    assert_eq!(s.latest_policy_version("a").await.unwrap(), None);
    let cases = [
        (false, 1, 1),
        (false, 2, 1),
        (true, 3, 3),
        (false, 4, 3),
        (true, 5, 5),
    ];
    let mut entries = Vec::new();
    for (i, (fresh, version, floor)) in cases.into_iter().enumerate() {
        let payload = format!(r#"{{"site":"a","v":{version}}}"#).into_bytes();
        let (row, entry) = s
            .insert_policy_version(
                policy("a", fresh, i as u32),
                payload.clone(),
                1000 + i as i64,
            )
            .await
            .unwrap();
        assert_eq!(
            (row.version, row.consent_floor),
            (version, floor),
            "case {i}"
        );
        assert_eq!(row.created_at_ms, 1000 + i as i64);
        assert_eq!(entry.kind, "policy.version");
        assert_eq!(entry.payload_hash, payload_hash(&payload));
        entries.push(entry);
    }
    // The first version's floor is 1 even when it requires fresh consent.
    let (first_b, _) = s
        .insert_policy_version(policy("b", true, 9), b"{}".to_vec(), 5)
        .await
        .unwrap();
    assert_eq!((first_b.version, first_b.consent_floor), (1, 1));

    let latest = s.latest_policy_version("a").await.unwrap().unwrap();
    assert_eq!((latest.version, latest.consent_floor), (5, 5));
    let v2 = s.policy_version("a", 2).await.unwrap().unwrap();
    assert_eq!(v2, policy("a", false, 1).to_row(2, 1, 1001));
    assert_eq!(s.policy_version("a", 9).await.unwrap(), None);
    let list = s.list_policy_versions("a").await.unwrap();
    assert_eq!(
        list.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(s.list_policy_versions("b").await.unwrap().len(), 1);
    assert_eq!(
        s.list_sites().await.unwrap(),
        vec!["a".to_owned(), "b".to_owned()]
    );

    // The ledger holds the payloads in the same order.
    let chain = s.writer_chain();
    let stored = check_chain(&s, chain).await;
    assert_eq!(stored.len(), 6);
    assert_eq!(stored[2].0, entries[2]);
    assert_eq!(stored[2].1.as_deref(), Some(&br#"{"site":"a","v":3}"#[..]));

    // Concurrent inserts for one site get distinct consecutive numbers.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_policy_version(policy("c", i % 3 == 0, i), b"{}".to_vec(), 7)
                .await
                .unwrap()
                .0
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (1..=10).collect::<Vec<i64>>());
    let list = s.list_policy_versions("c").await.unwrap();
    for w in list.windows(2) {
        let expect = if w[1].requires_fresh_consent {
            w[1].version
        } else {
            w[0].consent_floor
        };
        assert_eq!(w[1].consent_floor, expect);
    }
    s.close().await;
}

async fn tokens(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let t1 = TokenRow {
        id: "tok1".into(),
        hash: [1; 32],
        role: "admin".into(),
        label: "laptop".into(),
        created_at_ms: 10,
        revoked_at_ms: None,
    };
    let t2 = TokenRow {
        id: "tok2".into(),
        hash: [2; 32],
        created_at_ms: 20,
        ..t1.clone()
    };
    s.insert_token(t2.clone()).await.unwrap();
    s.insert_token(t1.clone()).await.unwrap();
    assert_eq!(s.find_token(&[1; 32]).await.unwrap(), Some(t1.clone()));
    assert_eq!(s.find_token(&[3; 32]).await.unwrap(), None);
    assert_eq!(s.list_tokens().await.unwrap(), vec![t1.clone(), t2.clone()]);
    assert!(s.revoke_token("tok1", 99).await.unwrap());
    assert!(!s.revoke_token("tok1", 100).await.unwrap());
    assert!(!s.revoke_token("nope", 100).await.unwrap());
    assert_eq!(
        s.find_token(&[1; 32]).await.unwrap().unwrap().revoked_at_ms,
        Some(99)
    );
    let dup_id = TokenRow {
        hash: [4; 32],
        ..t1.clone()
    };
    assert!(matches!(
        s.insert_token(dup_id).await,
        Err(StoreError::Conflict(_))
    ));
    let dup_hash = TokenRow {
        id: "tok3".into(),
        ..t2.clone()
    };
    assert!(matches!(
        s.insert_token(dup_hash).await,
        Err(StoreError::Conflict(_))
    ));
    s.close().await;
}

async fn append_order_and_chain_across_reopen(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let chain = s.writer_chain();
    assert_eq!(chain, 0);
    assert!(s.append(Vec::new()).await.unwrap().is_empty());
    let first = s.append(vec![item(0), item(1), item(2)]).await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(first[0].prev_hash, GENESIS);
    assert_eq!(first[1].prev_hash, first[0].hash);
    let e3 = s.append(vec![item(3)]).await.unwrap().remove(0);
    let e4 = s.append(vec![item(4)]).await.unwrap().remove(0);
    assert_eq!((e3.seq, e4.seq, e4.prev_hash), (3, 4, e3.hash));
    s.close().await;
    // The closed handle's clones refuse writes; a reopen continues the chain.
    let s = db.reopen().await.unwrap();
    assert_eq!(s.writer_chain(), 0);
    let e5 = s.append(vec![item(5)]).await.unwrap().remove(0);
    assert_eq!((e5.seq, e5.prev_hash), (5, e4.hash));
    let all = check_chain(&s, 0).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[4].0, e4);
    assert_eq!(all[4].1.as_deref(), Some(&br#"{"n":4}"#[..]));
    assert_eq!(s.chain_heads().await.unwrap(), vec![e5.clone()]);
    let hashes = s.entry_hashes(0, 1, 4).await.unwrap();
    assert_eq!(hashes, vec![first[1].hash, first[2].hash, e3.hash]);
    let page = s.entries(0, 2, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!(s.entries(0, 6, 10).await.unwrap().is_empty());
    assert!(s.entries(7, 0, 10).await.unwrap().is_empty());
    let clone = s.clone();
    s.close().await;
    assert!(matches!(
        clone.append(vec![item(6)]).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(clone.ping().await, Err(StoreError::Closed)));
}

async fn concurrent_appends_are_gap_free(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let tasks_n = 64u64;
    let per_task = 40u64;
    let mut tasks = Vec::new();
    for t in 0..tasks_n {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..per_task {
                let n = t * 1000 + i;
                let mut items = vec![consent_item(consent(
                    &format!("r{n}"),
                    "s",
                    &format!("u{t}"),
                    n as i64,
                ))];
                if i % 10 == 0 {
                    items.push(item(n)); // some requests carry two items
                }
                let entries = s.append(items).await.unwrap();
                for w in entries.windows(2) {
                    assert_eq!(w[1].seq, w[0].seq + 1, "one request's items are contiguous");
                    assert_eq!(w[1].prev_hash, w[0].hash);
                }
                got.extend(entries);
            }
            got
        }));
    }
    let mut returned = Vec::new();
    for t in tasks {
        returned.extend(t.await.unwrap());
    }
    let expected = (tasks_n * per_task + tasks_n * per_task / 10) as usize;
    assert_eq!(returned.len(), expected);
    let stored = check_chain(&s, s.writer_chain()).await;
    assert_eq!(stored.len(), expected);
    for e in &returned {
        assert_eq!(
            &stored[e.seq as usize].0, e,
            "acknowledged entry differs from the stored one"
        );
    }
    let consents = s
        .consents_between("s", i64::MIN, i64::MAX, None, 100_000)
        .await
        .unwrap();
    assert_eq!(consents.len(), (tasks_n * per_task) as usize);
    s.close().await;
}

async fn duplicate_receipt_fails_alone(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.append(vec![consent_item(consent("dup", "s", "u", 1))])
        .await
        .unwrap();
    // Sequential: the failure consumes no sequence number.
    let err = s
        .append(vec![consent_item(consent("dup", "s", "u", 2))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let e = s.append(vec![item(1)]).await.unwrap().remove(0);
    assert_eq!(e.seq, 1);
    // Concurrent: a duplicate among many requests (likely in one batch) fails alone, and
    // a request whose second item is the duplicate writes neither item.
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for t in 0..50u32 {
        let (s, barrier) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let items = match t {
                7 => vec![consent_item(consent("dup", "s", "u", 3))],
                13 => vec![item(99), consent_item(consent("dup", "s", "u", 4))],
                _ => vec![consent_item(consent(&format!("c{t}"), "s", "u", 5))],
            };
            barrier.wait().await;
            (t, s.append(items).await)
        }));
    }
    for task in tasks {
        let (t, r) = task.await.unwrap();
        match t {
            7 | 13 => assert!(matches!(r, Err(StoreError::Conflict(_))), "task {t}: {r:?}"),
            _ => assert_eq!(r.unwrap().len(), 1),
        }
    }
    let stored = check_chain(&s, s.writer_chain()).await;
    assert_eq!(stored.len(), 2 + 48);
    assert!(
        stored
            .iter()
            .all(|(e, _)| e.kind != "audit.test" || e.seq == 1)
    );
    s.close().await;
}

async fn redaction(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let chain = s.writer_chain();
    let e0 = s
        .append(vec![consent_item(consent("r0", "s", "alice", 10))])
        .await
        .unwrap()
        .remove(0);
    let e1 = s
        .append(vec![consent_item(consent("r1", "s", "alice", 20))])
        .await
        .unwrap()
        .remove(0);
    let red = AppendItem {
        ts_ms: 30,
        kind: "ledger.redaction".to_owned(),
        payload: format!(r#"{{"chain":{chain},"seq":{}}}"#, e0.seq).into_bytes(),
        consent: None,
    };
    let e2 = s.redact(chain, e0.seq, red.clone()).await.unwrap();
    assert_eq!(
        (e2.seq, e2.prev_hash, e2.kind.as_str()),
        (2, e1.hash, "ledger.redaction")
    );
    let all = check_chain(&s, chain).await;
    assert_eq!(all[0].0, e0, "the redacted entry keeps its header");
    assert_eq!(all[0].1, None);
    assert!(all[1].1.is_some());
    assert_eq!(all[2].1.as_deref(), Some(&red.payload[..]));
    assert_eq!(s.consent_by_receipt("r0").await.unwrap(), None);
    assert!(s.consent_by_receipt("r1").await.unwrap().is_some());
    let alice = s.consents_by_subject("s", "alice").await.unwrap();
    assert_eq!(
        alice
            .iter()
            .map(|(c, _)| c.receipt_id.as_str())
            .collect::<Vec<_>>(),
        vec!["r1"]
    );
    assert!(matches!(
        s.redact(chain, e0.seq, red.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.redact(chain, 99, red.clone()).await,
        Err(StoreError::NotFound(_))
    ));
    // Failed redactions consumed nothing.
    let e3 = s.append(vec![item(3)]).await.unwrap().remove(0);
    assert_eq!(e3.seq, 3);
    s.close().await;
}

async fn consent_queries_and_paging(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let rows = [
        ("a1", "s1", "alice", 1000),
        ("a2", "s1", "alice", 2000),
        ("a3", "s1", "alice", 3000),
        ("b1", "s1", "bob", 2000),
        ("b2", "s1", "bob", 2500),
        ("x1", "s2", "alice", 1500),
    ];
    let mut by_receipt = std::collections::HashMap::new();
    for (r, site, subj, at) in rows {
        let e = s
            .append(vec![consent_item(consent(r, site, subj, at))])
            .await
            .unwrap()
            .remove(0);
        by_receipt.insert(r, e);
    }
    let (row, entry) = s.consent_by_receipt("a2").await.unwrap().unwrap();
    assert_eq!(row, consent("a2", "s1", "alice", 2000));
    assert_eq!(&entry, &by_receipt["a2"]);
    assert_eq!(s.consent_by_receipt("zz").await.unwrap(), None);

    let alice = s.consents_by_subject("s1", "alice").await.unwrap();
    let ids: Vec<&str> = alice.iter().map(|(c, _)| c.receipt_id.as_str()).collect();
    assert_eq!(ids, vec!["a3", "a2", "a1"]);
    assert!(
        s.consents_by_subject("s3", "alice")
            .await
            .unwrap()
            .is_empty()
    );

    // Paging through everything, two at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s
            .consents_between("s1", 0, 10_000, cursor.as_deref(), 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        cursor = page.last().map(|(c, _)| c.receipt_id.clone());
        seen.extend(page.into_iter().map(|(c, e)| {
            assert_eq!(e, by_receipt[c.receipt_id.as_str()]);
            c.receipt_id
        }));
    }
    assert_eq!(seen, vec!["a1", "a2", "b1", "b2", "a3"]);
    // Half-open range.
    let mid = s
        .consents_between("s1", 2000, 3000, None, 100)
        .await
        .unwrap();
    let ids: Vec<&str> = mid.iter().map(|(c, _)| c.receipt_id.as_str()).collect();
    assert_eq!(ids, vec!["a2", "b1", "b2"]);
    assert!(matches!(
        s.consents_between("s1", 0, 10_000, Some("nope"), 2).await,
        Err(StoreError::NotFound(_))
    ));
    s.close().await;
}

async fn create_false_refuses_missing(b: Backend) {
    let db = TestDb::new(b).await;
    match b {
        Backend::Sqlite => {
            let missing_dir = db.dir.path().join("typo");
            let err = Store::open(
                &Location::DataDir(missing_dir.clone()),
                OpenOptions::existing(),
            )
            .await
            .unwrap_err();
            assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
            assert!(err.to_string().contains("typo"), "{err}");
            assert!(!missing_dir.exists(), "nothing may be created");
            // The directory exists but holds no database.
            let empty = Location::DataDir(db.dir.path().to_path_buf());
            let err = Store::open(&empty, OpenOptions::existing())
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
            assert!(!db.dir.path().join("assent.db").exists());
            let file = Location::SqliteFile(db.dir.path().join("x.db"));
            assert!(matches!(
                Store::open(&file, OpenOptions::existing()).await,
                Err(StoreError::Missing(_))
            ));
            // With create, both work; afterwards create=false opens them.
            Store::open(&file, OpenOptions::create())
                .await
                .unwrap()
                .close()
                .await;
            Store::open(&file, OpenOptions::existing())
                .await
                .unwrap()
                .close()
                .await;
        }
        Backend::Postgres => {
            let name = format!("assent_t_missing_{}", random_hex(4));
            let opts = OpenOptions::existing().with_schema(&name);
            let err = Store::open(&db.loc, opts).await.unwrap_err();
            assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
            assert!(err.to_string().contains(&name), "{err}");
            let c = raw_pg(&pg_url()).await.unwrap();
            let n: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1",
                    &[&name],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(n, 0, "nothing may be created");
            // With create the schema is made (and dropped again here).
            let _guard = PgSchema {
                url: pg_url(),
                name: name.clone(),
            };
            let s = Store::open(&db.loc, OpenOptions::create().with_schema(&name))
                .await
                .unwrap();
            s.close().await;
        }
    }
    // An invalid schema name is rejected before connecting.
    if b == Backend::Postgres {
        let err = Store::open(&db.loc, OpenOptions::create().with_schema("Bad; DROP")).await;
        assert!(
            matches!(err, Err(StoreError::InvalidLocation(_))),
            "{err:?}"
        );
    }
}

async fn backup(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    s.append(vec![consent_item(consent("r0", "s", "u", 1)), item(1)])
        .await
        .unwrap();
    let target = db.dir.path().join("backup.db");
    match b {
        Backend::Sqlite => {
            s.backup_to(&target).await.unwrap();
            assert!(matches!(
                s.backup_to(&target).await,
                Err(StoreError::BackupTargetExists(_))
            ));
            // The store keeps working, and the backup opens as a store.
            s.append(vec![item(2)]).await.unwrap();
            let copy = Store::open(
                &Location::SqliteFile(target.clone()),
                OpenOptions::existing(),
            )
            .await
            .unwrap();
            assert_eq!(check_chain(&copy, 0).await.len(), 2);
            assert!(copy.consent_by_receipt("r0").await.unwrap().is_some());
            copy.close().await;
        }
        Backend::Postgres => {
            let err = s.backup_to(&target).await.unwrap_err();
            assert!(matches!(err, StoreError::Unsupported(_)), "{err:?}");
            assert!(err.to_string().contains("pg_dump"), "{err}");
            assert!(!target.exists());
        }
    }
    s.close().await;
}

async fn checkpoints_and_meta(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    assert_eq!(s.latest_checkpoint().await.unwrap(), None);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            s.insert_checkpoint(100 + i, format!(r#"{{"i":{i}}}"#))
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        s.latest_checkpoint().await.unwrap(),
        Some((ids[2], r#"{"i":2}"#.to_owned()))
    );
    let list = s.list_checkpoints().await.unwrap();
    assert_eq!(list.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids);
    assert_eq!(list[0].1, r#"{"i":0}"#);

    assert_eq!(s.meta_get("k").await.unwrap(), None);
    s.meta_set("k", "v1").await.unwrap();
    s.meta_set("k", "v2").await.unwrap();
    assert_eq!(s.meta_get("k").await.unwrap().as_deref(), Some("v2"));
    // A counter (the banner's revalidation epoch): absent, then 1, then 2.
    s.meta_increment("n").await.unwrap();
    assert_eq!(s.meta_get("n").await.unwrap().as_deref(), Some("1"));
    s.meta_increment("n").await.unwrap();
    assert_eq!(s.meta_get("n").await.unwrap().as_deref(), Some("2"));
    s.close().await;
}

async fn for_each_entry_scans_everything(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.open().await;
    let chain = s.writer_chain();
    // More than one fetch batch on both backends.
    for k in 0..20u64 {
        let items: Vec<AppendItem> = (0..500).map(|i| item(k * 500 + i)).collect();
        s.append(items).await.unwrap();
    }
    let red = AppendItem {
        ts_ms: 1,
        kind: "ledger.redaction".into(),
        payload: b"{}".to_vec(),
        consent: None,
    };
    s.redact(chain, 1234, red).await.unwrap();
    let mut next = 0u64;
    let mut prev = GENESIS;
    let mut redacted = Vec::new();
    let n = s
        .for_each_entry(|e, p| {
            assert_eq!((e.chain, e.seq), (chain, next));
            assert_eq!(e.prev_hash, prev);
            match p {
                Some(p) => assert_eq!(payload_hash(p), e.payload_hash),
                None => redacted.push(e.seq),
            }
            prev = e.hash;
            next += 1;
        })
        .await
        .unwrap();
    assert_eq!(n, 10_001);
    assert_eq!(next, 10_001);
    assert_eq!(redacted, vec![1234]);
    s.close().await;
}

// ---------------------------------------------------------------------------------------
// Backend-specific tests

#[test]
fn unknown_scheme_is_named() {
    let err =
        Location::parse(Some("mysql://root@localhost/assent"), Path::new("/data")).unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownScheme(s) if s == "mysql"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`mysql`"), "{err}");
    assert_eq!(
        Location::parse(None, Path::new("/data")).unwrap(),
        Location::DataDir(PathBuf::from("/data"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_fails_fast_and_names_the_address() {
    let started = Instant::now();
    let loc = Location::Postgres("postgres://root:secret@127.0.0.1:1/test".to_owned());
    let err = Store::open(&loc, OpenOptions::create()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        StoreError::Connect { addr, .. } => assert_eq!(addr, "127.0.0.1:1"),
        other => panic!("expected Connect, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("secret"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_second_store_gets_chain_1() {
    let db = TestDb::new(Backend::Postgres).await;
    let s1 = db.open().await;
    assert_eq!(s1.writer_chain(), 0);
    // The second process selects the schema through the URL this time.
    let schema = db.schema.clone().unwrap();
    let url_loc = Location::Postgres(format!("{}?schema={schema}", pg_url()));
    let s2 = Store::open(&url_loc, OpenOptions::existing())
        .await
        .unwrap();
    assert_eq!(s2.writer_chain(), 1);

    let a = s1.append(vec![item(0), item(1)]).await.unwrap();
    let b = s2
        .append(vec![consent_item(consent("r", "s", "u", 1))])
        .await
        .unwrap();
    assert_eq!((a[1].chain, a[1].seq), (0, 1));
    assert_eq!((b[0].chain, b[0].seq, b[0].prev_hash), (1, 0, GENESIS));
    let heads = s2.chain_heads().await.unwrap();
    assert_eq!(heads, vec![a[1].clone(), b[0].clone()]);
    let (_, e) = s1.consent_by_receipt("r").await.unwrap().unwrap();
    assert_eq!(e, b[0]);
    let mut order = Vec::new();
    s1.for_each_entry(|e, _| order.push((e.chain, e.seq)))
        .await
        .unwrap();
    assert_eq!(order, vec![(0, 0), (0, 1), (1, 0)]);

    // When the first process stops, a new one takes chain 0 over and continues it.
    s1.close().await;
    let s3 = db.reopen().await.unwrap();
    assert_eq!(s3.writer_chain(), 0);
    let c = s3.append(vec![item(2)]).await.unwrap().remove(0);
    assert_eq!((c.chain, c.seq, c.prev_hash), (0, 2, a[1].hash));
    check_chain(&s3, 0).await;
    check_chain(&s3, 1).await;
    s2.close().await;
    s3.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writer_reconnects_after_losing_its_connection() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = format!("assent_t_{}", random_hex(4));
    let schema = db.schema.clone().unwrap();
    let loc = Location::Postgres(format!(
        "{}?schema={schema}&application_name={app}",
        pg_url()
    ));
    let s = Store::open(&loc, OpenOptions::existing()).await.unwrap();
    let first = s.append(vec![item(0), item(1)]).await.unwrap();

    // Kill every session of this store (the writer's, holding the chain lock, included).
    let admin = raw_pg(&pg_url()).await.unwrap();
    let killed: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 1);

    for _ in 0..100 {
        let left: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Nothing was committed on the dead connection, so the writer retries the batch on a
    // new one: it re-claims the chain and continues it from the stored head.
    let e = s.append(vec![item(2)]).await.unwrap().remove(0);
    assert_eq!((e.chain, e.seq, e.prev_hash), (0, 2, first[1].hash));
    // Pooled read connections were killed too: the pool replaces them.
    let mut ok = false;
    for _ in 0..3 {
        if let Ok(v) = s.entries(0, 0, 10).await {
            assert_eq!(v.len(), 3);
            ok = true;
            break;
        }
    }
    assert!(ok, "reads did not recover");
    check_chain(&s, 0).await;
    s.close().await;
}

/// TLS to PostgreSQL with libpq's `sslmode` values, against the local server's own
/// certificate (Debian's PostgreSQL offers TLS with a self-signed "snakeoil" certificate
/// named after the machine, not after 127.0.0.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_modes() {
    let db = TestDb::new(Backend::Postgres).await;
    let url = pg_url();
    let c = raw_pg(&url).await.unwrap();
    let ssl: String = c.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(ssl, "on", "the test PostgreSQL must offer TLS (ssl = on)");
    let cert: String = c.query_one("SHOW ssl_cert_file", &[]).await.unwrap().get(0);
    let sep = if url.contains('?') { '&' } else { '?' };
    let open = |q: String| {
        let loc = Location::Postgres(format!("{url}{sep}{q}"));
        let opts = db.opts(true);
        async move { Store::open(&loc, opts).await }
    };

    let s = open("sslmode=disable".into()).await.unwrap();
    assert_eq!(s.tls_version().await.unwrap(), None);
    s.close().await;
    for q in [
        "sslmode=require".to_owned(),
        "sslmode=prefer".to_owned(),
        format!("sslmode=verify-ca&sslrootcert={cert}"),
    ] {
        let s = open(q.clone()).await.unwrap();
        let v = s.tls_version().await.unwrap();
        assert!(
            v.as_deref().is_some_and(|v| v.starts_with("TLSv1.")),
            "{q}: {v:?}"
        );
        // The writer's connection is encrypted too: it appends and commits.
        s.append(vec![item(1)]).await.unwrap();
        s.close().await;
    }
    // verify-full: the certificate does not name 127.0.0.1; without sslrootcert it is not
    // even trusted. Both refuse to connect, and say why.
    for (q, why) in [
        (
            format!("sslmode=verify-full&sslrootcert={cert}"),
            "certificate",
        ),
        ("sslmode=verify-full".to_owned(), "certificate"),
    ] {
        let err = open(q.clone()).await.unwrap_err();
        assert!(matches!(err, StoreError::Connect { .. }), "{q}: {err:?}");
        assert!(err.to_string().contains(why), "{q}: {err}");
    }
    let err = open("sslmode=verify-ca&sslrootcert=/nonexistent.pem".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent.pem"), "{err}");
}
