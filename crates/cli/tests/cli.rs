//! The `assent` binary end to end: `check`, `apply`, `token`, `serve`, `ledger verify` on a
//! database tampered with in every way, `receipt verify`, `export`, and a SIGKILL in the
//! middle of a write load on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    BIN, Server, TempDir, admin_token, assent, assert_exit, assert_ok, assert_says, checkpoint,
    examples, get_text, post_consents, random_hex, random_uuid, s, text,
};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

fn pg_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[test]
fn check_passes_on_every_example() {
    for name in ["kaliop", "kalido", "callkom", "kaltiot", "klivar"] {
        let f = examples().join(format!("{name}.toml"));
        let o = assent(&["check", s(&f)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
    }
}

#[test]
fn check_reports_file_line_col() {
    let d = TempDir::new("cli");
    let src = std::fs::read_to_string(examples().join("callkom.toml")).unwrap();
    let cases = [
        (
            src.replacen("lifetime = \"30 minutes\"", "lifetime = \"2 years\"", 1),
            "error: tracker `__cf_bm` lives 2 years",
        ),
        (
            src.replacen("[[sites]]", "[[sites]]\ncolour = \"red\"", 1),
            "error: unknown field `colour`",
        ),
        (src.replacen("[[sites]]", "[[sites]\n", 1), "error:"),
        (
            src.replacen(
                "consent_lifetime_days = 182",
                "consent_lifetime_days = \"six months\"",
                1,
            ),
            "error: invalid type",
        ),
    ];
    for (i, (bad, want)) in cases.iter().enumerate() {
        assert_ne!(bad, &src, "case {i} did not change the fixture");
        let f = d.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, bad).unwrap();
        let o = assent(&["check", s(&f)]);
        assert_eq!(o.status.code(), Some(1), "case {i}: {}", text(&o));
        let out = text(&o);
        let prefix = format!("{}:", f.display());
        let line = out
            .lines()
            .find(|l| l.contains(want))
            .unwrap_or_else(|| panic!("case {i}: want {want} in {out}"));
        assert!(line.starts_with(&prefix), "{line}");
        let rest: Vec<&str> = line[prefix.len()..].splitn(3, ':').collect();
        assert!(
            rest[0].parse::<usize>().unwrap() > 0 && rest[1].parse::<usize>().unwrap() > 0,
            "{line}"
        );
    }
    let o = assent(&["check", "/nonexistent/registry.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert_says(&o, "/nonexistent/registry.toml: error: cannot read");
}

#[test]
fn apply_versions_and_refuses_bad_input_without_touching_data() {
    let d = TempDir::new("cli");
    let data = d.path().join("data");
    let reg = examples().join("callkom.toml");
    let o = assent(&["apply", s(&reg), "--data", s(&data)]);
    assert_ok(&o);
    assert_says(&o, "site callkom: new policy version 1");
    let o = assent(&["apply", s(&reg), "--data", s(&data)]);
    assert_says(&o, "site callkom: unchanged (version 1)");

    let db = data.join("assent.db");
    let before = std::fs::read(&db).unwrap();
    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "[controller]\nname = \"x\"\nbogus = 1\n").unwrap();
    let o = assent(&["apply", s(&bad), "--data", s(&data)]);
    assert_exit(&o, 2);
    assert_says(&o, ":3:1: error: unknown field `bogus`");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "a refused apply changes nothing"
    );

    let o = assent(&["apply", "/missing.toml", "--data", s(&data)]);
    assert_exit(&o, 2);
    assert_says(&o, "/missing.toml: cannot read");

    for (url, named) in [
        ("mysql://root@127.0.0.1/test", "mysql"),
        ("postgres://postgres@127.0.0.1:1/test", "127.0.0.1:1"),
    ] {
        let o = assent(&["apply", s(&reg), "--database", url]);
        assert_exit(&o, 2);
        assert_says(&o, named);
    }

    // A mistyped data directory is refused by read-only commands, never created empty.
    let typo = d.path().join("dta");
    let o = assent(&["token", "list", "--data", s(&typo)]);
    assert_exit(&o, 2);
    assert!(!typo.exists());
}

fn consent_body(i: usize) -> Value {
    let action = ["accept_all", "reject_all"][i % 2];
    json!({"subject": random_uuid(), "policy_version": 1, "action": action, "language": "fr"})
}

/// Builds a ledger through the real server: consents, a checkpoint, more consents.
fn populated(d: &TempDir) -> (PathBuf, Vec<String>) {
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let token = admin_token(&data);
    let server = Server::start(&data, None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receipts = rt.block_on(async {
        let c = reqwest::Client::new();
        let mut ids = post_consents(&c, &server.base, (0..8).map(consent_body)).await;
        checkpoint(&c, &server.base, &token).await;
        ids.extend(post_consents(&c, &server.base, (8..12).map(consent_body)).await);
        ids
    });
    server.stop();
    (data, receipts)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn ledger_verify_catches_every_tampering() {
    let d = TempDir::new("cli");
    let (data, receipts) = populated(&d);
    let o = assent(&["ledger", "verify", "--data", s(&data)]);
    assert_ok(&o);
    assert_says(&o, "ledger OK:");

    // (name, SQL, the position the report must name)
    let cases: &[(&str, &str, &str)] = &[
        ("edit a payload", "UPDATE ledger_entries SET payload = CAST(replace(CAST(payload AS TEXT), 'reject_all', 'accept_all') AS BLOB) WHERE seq = 3", "position 3"),
        ("edit a header", "UPDATE ledger_entries SET ts_ms = ts_ms + 1 WHERE seq = 5", "position 5"),
        ("delete an entry", "DELETE FROM consents WHERE seq = 6; DELETE FROM ledger_entries WHERE seq = 6", "position 6"),
        (
            "insert an entry",
            "CREATE TEMP TABLE t AS SELECT * FROM ledger_entries WHERE seq >= 7;
             DELETE FROM consents WHERE seq >= 7; DELETE FROM ledger_entries WHERE seq >= 7;
             INSERT INTO ledger_entries SELECT chain, seq + 1, ts_ms, kind, payload_hash, prev_hash, hash, payload FROM t;
             INSERT INTO ledger_entries SELECT chain, 7, ts_ms, kind, payload_hash, prev_hash, hash, payload FROM ledger_entries WHERE seq = 3",
            "position 7",
        ),
        (
            "reorder two entries",
            "CREATE TEMP TABLE a AS SELECT * FROM ledger_entries WHERE seq = 2;
             CREATE TEMP TABLE b AS SELECT * FROM ledger_entries WHERE seq = 3;
             DELETE FROM consents WHERE seq IN (2, 3); DELETE FROM ledger_entries WHERE seq IN (2, 3);
             INSERT INTO ledger_entries SELECT chain, 2, ts_ms, kind, payload_hash, prev_hash, hash, payload FROM b;
             INSERT INTO ledger_entries SELECT chain, 3, ts_ms, kind, payload_hash, prev_hash, hash, payload FROM a",
            "position 2",
        ),
        (
            "forge a checkpoint",
            "UPDATE ledger_checkpoints SET body_json = replace(body_json, '\"size\":', '\"size\":1') WHERE id = (SELECT min(id) FROM ledger_checkpoints)",
            "checkpoint",
        ),
        ("redact without record", "UPDATE ledger_entries SET payload = NULL WHERE seq = 9", "position 9"),
    ];
    for (name, sql, want) in cases {
        let copy = d.path().join(name.replace(' ', "_"));
        copy_dir(&data, &copy);
        let conn = rusqlite::Connection::open(copy.join("assent.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        conn.execute_batch(sql)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        drop(conn);
        let o = assent(&["ledger", "verify", "--data", s(&copy)]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name} was not detected: {out}");
        assert!(out.contains("FAILED"), "{name}: {out}");
        assert!(
            out.to_lowercase().contains(want),
            "{name}: wanted {want:?} in {out}"
        );
    }

    // Receipts verify offline with the published key; a tampered one does not.
    let server = Server::start(&data, None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (receipt, key) = rt.block_on(async {
        let c = reqwest::Client::new();
        let r = get_text(&c, &format!("{}/v1/receipts/{}", server.base, receipts[2])).await;
        let k = get_text(
            &c,
            &format!("{}/.well-known/assent-ledger-key", server.base),
        )
        .await;
        (r, k)
    });
    server.stop();
    let rf = d.path().join("receipt.json");
    let kf = d.path().join("key.json");
    std::fs::write(&rf, &receipt).unwrap();
    std::fs::write(&kf, &key).unwrap();
    let o = assent(&["receipt", "verify", s(&rf), "--key", s(&kf)]);
    assert_ok(&o);
    assert_says(&o, "Anchored");
    std::fs::write(&rf, receipt.replacen("\"fr\"", "\"en\"", 1)).unwrap();
    let o = assent(&["receipt", "verify", s(&rf), "--key", s(&kf)]);
    assert_exit(&o, 1);

    // Export for a supervisory authority: CSV and JSON lines.
    let o = assent(&export_args(s(&data), "2000-01-01", Some("csv")));
    assert_ok(&o);
    let csv = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(csv.lines().count(), 13, "{csv}");
    assert!(csv.starts_with("receipt_id,site,subject,"));
    for id in &receipts {
        assert!(csv.contains(id.as_str()));
    }
    let o = assent(&export_args(s(&data), "2000-01-01", Some("jsonl")));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    let o = assent(&export_args(s(&data), "nonsense", None));
    assert_exit(&o, 2);
    assert_says(&o, "--from");
}

/// `export consents` of the callkom site from `from` to 2100, in `format` when given.
fn export_args<'a>(data: &'a str, from: &'a str, format: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["export", "consents", "--data", data, "--site", "callkom"];
    args.extend(["--from", from, "--to", "2100-01-01"]);
    args.extend(format.iter().flat_map(|f| ["--format", *f]));
    args
}

/// Kills the server with SIGKILL during a write load, restarts it, and checks that every
/// acknowledged consent is there and the ledger verifies.
fn sigkill_keeps_every_acknowledged_write(database: Option<String>) {
    let d = TempDir::new("cli");
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = Server::start(&data, database.as_deref());
    let base = server.base.clone();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acked2 = acked.clone();
    let load = rt.spawn(async move {
        let c = reqwest::Client::new();
        let mut tasks = vec![];
        for w in 0..16 {
            let c = c.clone();
            let base = base.clone();
            let acked = acked2.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..100_000usize {
                    let r = c
                        .post(format!("{base}/v1/sites/callkom/consents"))
                        .json(&consent_body(w + i))
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        break;
                    };
                    acked
                        .lock()
                        .unwrap()
                        .push(v["receipt"]["id"].as_str().unwrap().to_string());
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    // Let the load run, then kill the server mid-write.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while acked.lock().unwrap().len() < 300 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill9();
    rt.block_on(load).unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "the load produced only {} writes",
        acked.len()
    );

    let server = Server::start(&data, database.as_deref());
    let missing = rt.block_on(async {
        let c = reqwest::Client::new();
        let mut missing = vec![];
        for id in &acked {
            let r = c
                .get(format!("{}/v1/receipts/{id}", server.base))
                .send()
                .await
                .unwrap();
            if r.status() != 200 {
                missing.push(id.clone());
            }
        }
        missing
    });
    server.stop();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged consents lost",
        missing.len(),
        acked.len()
    );
    let mut args = vec!["ledger", "verify", "--data", s(&data)];
    if let Some(db) = &database {
        args.extend(["--database", db.as_str()]);
    }
    let o = assent(&args);
    assert_ok(&o);
}

#[test]
fn sigkill_under_load_sqlite() {
    sigkill_keeps_every_acknowledged_write(None);
}

#[test]
fn sigkill_under_load_postgres() {
    let schema = format!("assent_k_{}", random_hex(6));
    let url = pg_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    sigkill_keeps_every_acknowledged_write(Some(format!("{url}{sep}schema={schema}")));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .unwrap();
    });
}

/// `assent user create` with `--password-stdin` (the trailing newline is not part of the
/// password) or a setup link, `list`, `disable`, `reset`; bad input named with its line.
#[test]
fn user_accounts() {
    let d = TempDir::new("cli");
    let data = d.path().join("data");
    let dir = data.to_str().unwrap();
    let run_stdin = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut c = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    };
    let create = [
        "user",
        "create",
        "--data",
        dir,
        "--email",
        "DPO@Example.org",
        "--role",
        "dpo",
        "--password-stdin",
    ];
    let o = run_stdin(&create, "a long enough password\n");
    assert!(o.status.success(), "{}", text(&o));
    let o = run_stdin(&create, "a long enough password\n");
    assert!(
        !o.status.success() && text(&o).contains("already exists"),
        "{}",
        text(&o)
    );
    let o = run_stdin(
        &[
            "user",
            "create",
            "--data",
            dir,
            "--email",
            "x@example.org",
            "--role",
            "dpo",
            "--password-stdin",
        ],
        "one\ntwo\n",
    );
    assert!(
        !o.status.success() && text(&o).contains("line 2"),
        "{}",
        text(&o)
    );
    let o = assent(&[
        "user",
        "create",
        "--data",
        dir,
        "--email",
        "a@example.org",
        "--role",
        "marketing",
    ]);
    assert!(
        !o.status.success() && text(&o).contains("use admin, dpo or auditor"),
        "{}",
        text(&o)
    );
    let o = assent(&[
        "user",
        "create",
        "--data",
        dir,
        "--email",
        "a@example.org",
        "--role",
        "auditor",
        "--public-url",
        "https://privacy.example.org/",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let link = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(
        link.starts_with("https://privacy.example.org/admin/setup/") && link.len() == 40 + 64,
        "{link}"
    );
    let o = assent(&["user", "list", "--data", dir]);
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        list.contains("dpo@example.org\tdpo\tactive")
            && list.contains("a@example.org\tauditor\tsetup pending"),
        "{list}"
    );
    assert!(!list.contains("password"), "{list}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = assent_store::Store::open(
            &assent_store::Location::parse(None, &data).unwrap(),
            assent_store::OpenOptions::existing(),
        )
        .await
        .unwrap();
        let u = store
            .user_by_email("dpo@example.org")
            .await
            .unwrap()
            .unwrap();
        let h = u.password_hash.unwrap();
        assert!(
            assent_app::accounts::password::verify("a long enough password", &h),
            "no trailing newline"
        );
        store.close().await;
    });
    let o = assent(&["user", "disable", "--data", dir, "dpo@example.org"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = assent(&["user", "reset", "--data", dir, "dpo@example.org"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("/admin/setup/"),
        "{}",
        text(&o)
    );
    let o = assent(&["user", "disable", "--data", dir, "nobody@example.org"]);
    assert!(
        !o.status.success() && text(&o).contains("no such account"),
        "{}",
        text(&o)
    );
}

/// A command run beside the server (here `token create`, which appends an audit entry) and
/// the server's own writer share the SQLite ledger chain without breaking it.
#[test]
fn commands_beside_a_running_server_share_the_chain() {
    let d = TempDir::new("cli");
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = Server::start(&data, None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::new();
    let post = |i: usize| rt.block_on(post_consents(&c, &server.base, [consent_body(i)]));
    post(0);
    let o = assent(&["token", "create", "--data", s(&data)]);
    assert_ok(&o);
    post(1);
    post(2);
    server.stop();
    let o = assent(&["ledger", "verify", "--data", s(&data)]);
    assert_ok(&o);
    assert_says(&o, "ledger OK: 5 entries");
}

/// Assent's own demo passes Assent's own audit, in a real Chromium.
#[test]
fn the_demo_passes_its_own_scan() {
    let d = TempDir::new("cli");
    let server = Server::demo(&d.path().join("data"));
    let out = d.path().join("report.json");
    let url = format!("{}/demo/", server.base);
    let reg = examples().join("callkom.toml");
    let o = Command::new(BIN)
        .args([
            "scan",
            &url,
            "--registry",
            s(&reg),
            "--site",
            "callkom",
            "--pages",
            "3",
            "--quiet",
            "--out",
            s(&out),
        ])
        .output()
        .unwrap();
    server.stop();
    assert_eq!(
        o.status.code(),
        Some(0),
        "the demo has violations:\n{}",
        text(&o)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["summary"]["violations"], 0);
}

/// `serve` on an empty directory without a registry says what it did and that nothing is
/// served; a second server on the same SQLite directory is refused with the holder's pid while
/// other commands keep working beside the first; logs to a pipe carry no colour codes.
#[test]
fn serve_speaks_and_one_server_per_data_directory() {
    let d = TempDir::new("cli");
    let data = d.path().join("fresh");
    let a = ["serve", "--data", s(&data), "--listen", "127.0.0.1:0"];
    let server = Server::spawn_logging(&a, None, "info");
    let said = server.startup.join("\n");
    assert!(said.contains("Created the data directory"), "{said}");
    assert!(said.contains("warning: no site is served"), "{said}");
    assert!(said.contains("--registry"), "{said}");
    assert!(said.contains("INFO"), "logs at info: {said}");
    assert!(
        !said.contains('\x1b'),
        "colour codes in piped logs: {said:?}"
    );
    let lock = std::fs::read_to_string(data.join("serve.lock")).unwrap();
    assert_eq!(lock.trim(), server.child.id().to_string());

    // A second server on the same directory: refused, naming the first one's pid.
    let o = Command::new(BIN)
        .args(a)
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_REGISTRY")
        .output()
        .unwrap();
    assert_exit(&o, 2);
    let t = text(&o);
    assert!(t.contains("another Assent server"), "{t}");
    assert!(t.contains(&format!("pid {}", server.child.id())), "{t}");
    assert!(t.contains("PostgreSQL"), "{t}");

    // Commands beside the running server: apply, token create, backup, export.
    let dir = s(&data);
    let reg = examples().join("callkom.toml");
    let o = assent(&["apply", s(&reg), "--data", dir]);
    assert_ok(&o);
    let o = assent(&["token", "create", "--data", dir]);
    assert_ok(&o);
    let backup = d.path().join("backup.db");
    let o = assent(&["backup", "--data", dir, "--out", s(&backup)]);
    assert_ok(&o);
    let o = assent(&export_args(dir, "2020-01-01", None));
    assert_ok(&o);
    server.stop();

    // Once it stopped, the directory can be served again (the lock died with the process).
    let server = Server::spawn(&a, None);
    assert!(
        server.startup.join("\n").contains("Sites served: callkom"),
        "{:?}",
        server.startup
    );
    server.stop();
}

/// `export ... | head`: the reader closes the pipe early; the export ends quietly with 0.
#[test]
fn export_into_a_closed_pipe_ends_quietly() {
    let d = TempDir::new("cli");
    let (data, _) = populated(&d);
    let mut child = Command::new(BIN)
        .args(export_args(s(&data), "2020-01-01", None))
        .env_remove("ASSENT_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `head` that has read enough
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        !err.contains("error") && !err.contains("Broken pipe"),
        "{err}"
    );
}

/// Every `serve` flag has a description and shows its default; the demo names the admin
/// console and how to get in.
#[test]
fn serve_help_and_demo_message() {
    let o = assent(&["serve", "--help"]);
    let help = text(&o);
    for flag in [
        "--config",
        "--registry",
        "--data",
        "--listen",
        "--database",
        "--smtp",
        "--public-url",
    ] {
        let line = help
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(flag))
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            line.len() > flag.len() + 20,
            "{flag} has no description:\n{help}"
        );
        assert!(
            line.contains("[default: "),
            "{flag} shows no default:\n{line}"
        );
    }
    let d = TempDir::new("cli");
    let server = Server::demo(&d.path().join("data"));
    let said = server.startup.join("\n");
    assert!(
        said.contains("admin console:") && said.contains("/admin/"),
        "{said}"
    );
    assert!(said.contains("assent user create --data"), "{said}");
    server.stop();
}
