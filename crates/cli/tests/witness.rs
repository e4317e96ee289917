//! Issue 20 end to end, with the real binary and a real server on SQLite: each attack is
//! reproduced first, then must fail. `receipt verify` on a receipt invented from scratch, on
//! an edited and on a deleted context; `ledger verify` on a ledger rewritten with its
//! checkpoints deleted, shorter than and forked from a pinned checkpoint; `ledger witness`
//! following an honest server, then a forked one and a rolled-back one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    BIN, TempDir, admin_token, assent, assert_ok, assert_says, checkpoint, get_text, post_consents,
    random_hex, s, text,
};

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

/// `assent serve` on an ephemeral port, with an admin token.
struct Server {
    server: common::Server,
    token: String,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(data: &Path) -> Server {
        let token = admin_token(data);
        Server {
            server: common::Server::start(data, None),
            token,
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    fn base(&self) -> &str {
        &self.server.base
    }

    /// Records `n` consents (subjects numbered from 0) and returns their receipt ids.
    fn consents(&self, n: usize) -> Vec<String> {
        let bodies = (0..n).map(|i| {
            let action = ["accept_all", "reject_all"][i % 2];
            json!({"subject": format!("5f0c1e2d-0000-4000-8000-{i:012}"), "policy_version": 1,
                "action": action, "language": "fr"})
        });
        let c = reqwest::Client::new();
        self.rt.block_on(post_consents(&c, self.base(), bodies))
    }

    fn checkpoint(&self) {
        let c = reqwest::Client::new();
        self.rt.block_on(checkpoint(&c, self.base(), &self.token));
    }

    fn get(&self, path: &str) -> String {
        let c = reqwest::Client::new();
        self.rt
            .block_on(get_text(&c, &format!("{}{path}", self.base())))
    }

    fn witness(&self, state: &Path) -> Output {
        assent(&[
            "ledger",
            "witness",
            "--url",
            self.base(),
            "--state",
            s(state),
        ])
    }

    fn stop(self) {
        self.server.stop();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The attacker of finding 4, with write access to the database and no key: changes the
/// payload of entry `at` (a consent), recomputes every later hash, shifts every time back by
/// `age_ms` (a ledger written that long ago) and deletes the checkpoints.
fn rewrite(data: &Path, at: i64, age_ms: i64) {
    let conn = rusqlite::Connection::open(data.join("assent.db")).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    type Row = (i64, i64, String, Option<Vec<u8>>, Vec<u8>);
    let rows: Vec<Row> = {
        let mut st = conn
            .prepare(
                "SELECT seq, ts_ms, kind, payload, payload_hash FROM ledger_entries ORDER BY seq",
            )
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut head = assent_ledger::ChainHead::new(0);
    for (seq, ts, kind, payload, ph) in rows {
        let mut payload_hash: [u8; 32] = ph.try_into().unwrap();
        let mut payload = payload;
        if seq == at {
            let p = String::from_utf8(payload.unwrap())
                .unwrap()
                .replace("reject_all", "accept_all")
                .replace("false", "true");
            payload_hash = assent_ledger::payload_hash(p.as_bytes());
            payload = Some(p.into_bytes());
        }
        let e = head.append_hashed(ts - age_ms, &kind, payload_hash);
        conn.execute(
            "UPDATE ledger_entries SET ts_ms = ?1, payload = ?2, payload_hash = ?3, prev_hash = ?4, hash = ?5 WHERE seq = ?6",
            rusqlite::params![e.ts_ms, payload, &e.payload_hash[..], &e.prev_hash[..], &e.hash[..], seq],
        )
        .unwrap();
    }
    conn.execute_batch("DELETE FROM ledger_checkpoints;")
        .unwrap();
}

/// Seq of the first consent entry.
fn first_consent_seq(data: &Path) -> i64 {
    let conn = rusqlite::Connection::open(data.join("assent.db")).unwrap();
    conn.query_row(
        "SELECT min(seq) FROM ledger_entries WHERE kind = 'consent'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn receipt_verify(d: &TempDir, receipt: &str, extra: &[&str]) -> Output {
    let f = d.join(format!("receipt-{}.json", random_hex(4)));
    std::fs::write(&f, receipt).unwrap();
    let k = d.join("key.json");
    let mut args = vec!["receipt", "verify", s(&f), "--key", s(&k)];
    args.extend_from_slice(extra);
    assent(&args)
}

#[test]
fn receipts_ledgers_and_witnesses_resist_the_attacks_of_issue_20() {
    let d = TempDir::new("cli");
    let data = d.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let state = d.join("witness");

    // An honest server, followed by a witness.
    let server = Server::start(&data);
    let ids = server.consents(4);
    server.checkpoint();
    std::fs::write(
        d.join("key.json"),
        server.get("/.well-known/assent-ledger-key"),
    )
    .unwrap();
    let notes = server.get("/ledger/checkpoint");
    assert!(notes.contains("/ledger/chain/0\n"), "{notes}");
    std::fs::write(d.join("pinned.note"), &notes).unwrap();
    std::fs::write(d.join("pinned.json"), server.get("/v1/ledger/checkpoint")).unwrap();
    let o = server.witness(&state);
    assert_ok(&o);
    assert_says(&o, "first seen");
    let receipt0 = server.get(&format!("/v1/receipts/{}", ids[0]));
    server.consents(3);
    server.checkpoint();
    let o = server.witness(&state);
    assert_ok(&o);
    assert_says(&o, "consistent with");
    let fresh = server.consents(1);
    let pending = server.get(&format!("/v1/receipts/{}", fresh[0]));
    let base = server.base().to_owned();

    // The issued receipt verifies, also against the witness (which saw its checkpoint).
    let o = receipt_verify(&d, &receipt0, &["--witness-state", s(&state)]);
    assert_ok(&o);
    assert_says(&o, "Anchored");
    assert_says(&o, "NOT covered");
    // A receipt of the newer checkpoint: the witness saw it too.
    let receipt_new = server.get(&format!("/v1/receipts/{}", ids[1]));
    let o = receipt_verify(
        &d,
        &receipt_new,
        &["--witness-state", s(&state), "--url", &base],
    );
    assert_ok(&o);

    // Issue 19: `--json` for machines, one object (the sentences are for people).
    let o = receipt_verify(&d, &receipt0, &["--json"]);
    assert_ok(&o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["status"].as_str()),
        (Some(true), Some("anchored"))
    );
    assert_eq!(v["receipt"], ids[0].as_str());
    assert!(v["checkpoint"]["tree_size"].as_u64().is_some(), "{v}");

    // Finding 3: a pending receipt is not called valid, unless asked.
    let o = receipt_verify(&d, &pending, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "not yet anchored");
    let o = receipt_verify(&d, &pending, &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["status"].as_str()),
        (Some(false), Some("pending"))
    );
    let o = receipt_verify(&d, &pending, &["--accept-pending"]);
    assert_ok(&o);

    // Finding 3: a receipt invented from scratch.
    let record = json!({"version": "KI-CR-v1.1.0", "consentReceiptID": "forged", "purposes": {"advertising": true}});
    let mut w = assent_ledger::ChainWriter::new(0);
    let entry = w.append(
        1,
        "consent",
        &assent_ledger::canonical_json(&record).unwrap(),
    );
    let forged = assent_ledger::Receipt::new(record, entry)
        .to_json()
        .unwrap();
    let o = receipt_verify(&d, &forged, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains("valid ("), "{}", text(&o));

    // Finding 3: an edited context (a granted flag, the termination), a deleted one.
    let mut v: Value = serde_json::from_str(&receipt0).unwrap();
    let flag = v["context"]["services"][0]["purposes"][0]["granted"].clone();
    v["context"]["services"][0]["purposes"][0]["granted"] = json!(!flag.as_bool().unwrap());
    let o = receipt_verify(&d, &v.to_string(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "granted");
    let mut v: Value = serde_json::from_str(&receipt0).unwrap();
    v["context"]["termination"] = json!("Never");
    assert_eq!(
        receipt_verify(&d, &v.to_string(), &[]).status.code(),
        Some(1)
    );
    let mut v: Value = serde_json::from_str(&receipt0).unwrap();
    v.as_object_mut().unwrap().remove("context");
    let o = receipt_verify(&d, &v.to_string(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "context is missing");
    server.stop();

    // The honest ledger verifies against everything kept outside it.
    let (pinned_note, pinned_json) = (d.join("pinned.note"), d.join("pinned.json"));
    let all = [
        "--trusted-checkpoint",
        s(&pinned_note),
        "--trusted-checkpoint",
        s(&pinned_json),
        "--witness-state",
        s(&state),
    ];
    let mut args = vec!["ledger", "verify", "--data", s(&data)];
    args.extend_from_slice(&all);
    let o = assent(&args);
    assert_ok(&o);

    // Finding 4: rewritten an hour ago, checkpoints deleted. Before: "ledger OK".
    let rewritten = d.join("rewritten");
    copy_dir(&data, &rewritten);
    rewrite(&rewritten, first_consent_seq(&data), 3_600_000);
    let unpinned = ["ledger", "verify", "--data", s(&rewritten)];
    let unpinned = [&unpinned[..], &["--checkpoint-interval", "0"]].concat();
    let o = assent(&unpinned);
    assert!(
        o.status.success(),
        "the attack reproduces without the rule: {}",
        text(&o)
    );
    let o = assent(&["ledger", "verify", "--data", s(&rewritten)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "covered by no signed checkpoint");
    // Against the pinned checkpoints and the witness: forked.
    for pin in [&all[0..2], &all[2..4], &all[4..6]] {
        let args = [&unpinned[..], pin].concat();
        let o = assent(&args);
        assert_eq!(o.status.code(), Some(1), "{pin:?}: {}", text(&o));
        assert!(text(&o).contains("forked"), "{pin:?}: {}", text(&o));
    }

    // Finding 4: a ledger cut back below a pinned checkpoint.
    let cut = d.join("cut");
    copy_dir(&data, &cut);
    let conn = rusqlite::Connection::open(cut.join("assent.db")).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DELETE FROM ledger_entries WHERE seq > (SELECT max(seq) - 6 FROM ledger_entries);
         DELETE FROM ledger_checkpoints;",
    )
    .unwrap();
    drop(conn);
    let mut args = vec![
        "ledger",
        "verify",
        "--data",
        s(&cut),
        "--checkpoint-interval",
        "0",
    ];
    args.extend_from_slice(&all[4..6]);
    let o = assent(&args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "cut back");

    // Witnesses: the operator (who holds the key) serves the rewritten history, grown: FORK.
    let server = Server::start(&rewritten);
    server.consents(2);
    server.checkpoint();
    let o = server.witness(&state);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "FORK");
    server.stop();
    // ... or the cut-back one: ROLLBACK. The witness's memory is unchanged by both.
    let server = Server::start(&cut);
    server.checkpoint();
    let o = server.witness(&state);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_says(&o, "ROLLBACK");
    server.stop();
    let log = std::fs::read_to_string(state.join("chain-0.log")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}

/// Finding 8: a payload re-typed by hand no longer aborts `ledger verify` (exit 2, no report):
/// TEXT with the committed bytes still verifies, edited TEXT is reported as edited, another
/// type as a missing payload, and the rest of the ledger is verified.
#[test]
fn a_retyped_payload_is_reported_and_verification_goes_on() {
    let d = TempDir::new("cli");
    let data = d.join("data");
    let reg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/callkom.toml");
    let o = assent(&["token", "create", "--data", s(&data), "--role", "admin"]);
    assert_ok(&o);
    let o = assent(&["apply", s(&reg), "--data", s(&data)]);
    assert_ok(&o);
    // A key, as a server start would create it.
    assent_ledger::LedgerKey::load_or_create(&data.join("ledger.key")).unwrap();
    let verify = |dir: &Path| {
        assent(&[
            "ledger",
            "verify",
            "--data",
            s(dir),
            "--checkpoint-interval",
            "0",
        ])
    };
    let o = verify(&data);
    assert_ok(&o);
    let cases = [
        (
            "same bytes as TEXT",
            "UPDATE ledger_entries SET payload = CAST(payload AS TEXT) WHERE seq = 0",
            Some(0),
            "",
        ),
        (
            "edited TEXT",
            "UPDATE ledger_entries SET payload = 'edited' WHERE seq = 0",
            Some(1),
            "payload edited",
        ),
        (
            "an integer",
            "UPDATE ledger_entries SET payload = 42 WHERE seq = 0",
            Some(1),
            "payload missing",
        ),
    ];
    for (name, sql, code, want) in cases {
        let copy = d.join(name.replace(' ', "_"));
        copy_dir(&data, &copy);
        let conn = rusqlite::Connection::open(copy.join("assent.db")).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let o = verify(&copy);
        assert_eq!(o.status.code(), code, "{name}: {}", text(&o));
        assert!(text(&o).contains(want), "{name}: {}", text(&o));
        assert!(
            text(&o).contains("position 0") || code == Some(0),
            "{name}: {}",
            text(&o)
        );
    }
}

/// Finding 8: `ledger verify` reads a copy of a data directory on read-only media (a
/// write-protected USB stick, a read-only mount handed to an auditor). The read-only mount is
/// made in a private mount namespace (`unshare -m`, which needs root): skipped elsewhere.
#[test]
fn ledger_verify_reads_a_copy_on_read_only_media() {
    let Some((d, data)) = applied_data_if_mounts() else {
        return;
    };
    // A copy as an operator hands it over: `assent backup` (one file, no -wal or -shm); and
    // the same file switched to WAL mode, whose -shm cannot be created on read-only media.
    for wal in [false, true] {
        let copy = d.join(if wal { "copy-wal" } else { "copy" });
        std::fs::create_dir_all(&copy).unwrap();
        let o = assent(&[
            "backup",
            "--data",
            s(&data),
            "--out",
            s(&copy.join("assent.db")),
        ]);
        assert_ok(&o);
        std::fs::copy(data.join("ledger.key"), copy.join("ledger.key")).unwrap();
        if wal {
            let c = rusqlite::Connection::open(copy.join("assent.db")).unwrap();
            let mode: String = c
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let args = format!("ledger verify --data {} --checkpoint-interval 0", s(&copy));
        let o = with_read_only(&copy, &args);
        assert!(o.status.success(), "wal={wal}: {}", text(&o));
        assert!(
            text(&o).contains("ledger OK: 2 entries"),
            "wal={wal}: {}",
            text(&o)
        );
    }
}

/// For the read-only media tests: a data directory with the demo registry applied, when this
/// machine can make a private mount namespace (see [`private_mount_namespace`]).
fn applied_data_if_mounts() -> Option<(TempDir, std::path::PathBuf)> {
    if !private_mount_namespace() {
        return None;
    }
    let d = TempDir::new("cli");
    let data = applied_data(&d);
    Some((d, data))
}

/// A data directory with the demo registry applied and a ledger key.
fn applied_data(d: &TempDir) -> std::path::PathBuf {
    let data = d.join("data");
    let reg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/callkom.toml");
    let o = assent(&["apply", s(&reg), "--data", s(&data)]);
    assert_ok(&o);
    assent_ledger::LedgerKey::load_or_create(&data.join("ledger.key")).unwrap();
    data
}

/// Runs `assent ARGS` in a private mount namespace where `ro` (a file or a directory) is
/// mounted read-only; fails the test if `ro` is still writable there.
fn with_read_only(ro: &Path, args: &str) -> Output {
    let script = format!(
        "mount --bind {r} {r} && mount -o remount,bind,ro {r} && \
         (if [ -d {r} ]; then touch {r}/probe; else echo x >> {r}; fi) 2>/dev/null && echo WRITABLE; \
         timeout 20 {BIN} {args}",
        r = s(ro)
    );
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_DATA")
        .output()
        .unwrap();
    assert!(!text(&o).contains("WRITABLE"), "the mount is not read-only");
    o
}

/// Whether this machine lets the test make a private mount namespace (`unshare -m`, root).
/// Under `CI=true` it must: the test then fails instead of being skipped.
fn private_mount_namespace() -> bool {
    let ok = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and no private mount namespace (unshare -m needs root)"
        );
        eprintln!("skipped: no private mount namespace (unshare -m) here");
    }
    ok
}

/// Issue 20, finding 6: SQLite silently opened a write-protected database read-only, the
/// server started, every consent failed with 500 and `/readyz` said ready. Now `serve`
/// refuses to start on it and says why. (As root, file modes do not stop writes: the data
/// directory is made read-only with a read-only bind mount in a private mount namespace.)
#[test]
fn serve_refuses_a_database_it_cannot_write() {
    let Some((_dir, data)) = applied_data_if_mounts() else {
        return;
    };
    // The database file alone is read-only (its directory is not: the server's lock file
    // and SQLite's -wal and -shm files could be created).
    let args = format!("serve --data {} --listen 127.0.0.1:0", s(&data));
    let o = with_read_only(&data.join("assent.db"), &args);
    let out = text(&o);
    assert!(
        !o.status.success(),
        "serve started on a read-only database: {out}"
    );
    assert!(out.contains("cannot be written"), "{out}");
}
