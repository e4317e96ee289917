#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `assent marketing import` on SQLite and PostgreSQL: a subscriber list (CSV) imported with
//! its provenance through the same operation as `POST /admin/v1/marketing/import`; bad lines
//! reported with their line number and nothing written; then a running server's check before
//! a campaign sees the imported subscribers, and the ledger verifies.

mod common;

use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

fn pg_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

const GOOD: &str = "email,phone,purpose,basis,notice,order_ref,objection_offered,collected_at
zoe@example.fr,,newsletter,consent,old-form v1,,,2025-03-01
Zoe@Example.fr,,offers,soft_opt_in,,C-77,true,2025-03-01
,06 12 34 56 78,offers,consent,shop-sms v2,,,2025-04-01
";

/// `assent ARGS --data DATA [--database URL]`.
fn run(args: &[&str], data: &std::path::Path, database: Option<&str>) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data", s(data)]);
    if let Some(db) = database {
        all.extend(["--database", db]);
    }
    assent(&all)
}

/// `POST /v1/marketing/check` for one purpose; the `allowed` flags in order.
async fn allowed(base: &str, token: &str, channel: &str, purpose: &str, who: &[&str]) -> Vec<bool> {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/marketing/check"))
        .bearer_auth(token)
        .json(&json!({"site": "kalido", "channel": channel, "purpose": purpose, "recipients": who}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["allowed"].as_bool().unwrap())
        .collect()
}

fn import_list(database: Option<&str>) {
    let d = TempDir::new("cli-mkt");
    let data = d.path().join("data");
    let kalido = examples().join("kalido.toml");

    // No store yet: refused, and none is created.
    let list = d.path().join("list.csv");
    std::fs::write(&list, GOOD).unwrap();
    if database.is_none() {
        let o = run(
            &["marketing", "import", s(&list), "--site", "kalido"],
            &data,
            None,
        );
        assert_exit(&o, 2);
        assert!(!data.join("assent.db").exists(), "{}", text(&o));
    }
    assert_ok(&run(&["apply", s(&kalido)], &data, database));

    // Bad lines: the first error names the file and its line; nothing is written.
    let cases: [(&str, &str); 6] = [
        (
            "email,purpose,notice\nzoe@example.fr,newsletter,v1\nann@example.fr,webinars,v1\n",
            "line 3, purpose",
        ),
        (
            "email,purpose,notice\nnot-an-address,newsletter,v1\n",
            "line 2, email",
        ),
        (
            "email,purpose\nzoe@example.fr,newsletter\n",
            "line 2, notice",
        ),
        (
            "email,purpose,basis,order_ref\nzoe@example.fr,newsletter,soft_opt_in,C-1\n",
            "line 2, basis",
        ),
        (
            "email,purpose,basis,order_ref\nzoe@example.fr,offers,soft_opt_in,C-1\n",
            "line 2, objection_offered",
        ),
        (
            "email,purpose,colour\nzoe@example.fr,newsletter,red\n",
            "line 1: unknown column `colour`",
        ),
    ];
    for (csv, want) in cases {
        let bad = d.path().join("bad.csv");
        std::fs::write(&bad, csv).unwrap();
        let o = run(
            &["marketing", "import", s(&bad), "--site", "kalido"],
            &data,
            database,
        );
        assert_exit(&o, 2);
        assert_says(&o, &format!("bad.csv: {want}"));
    }
    let o = run(
        &["marketing", "import", s(&list), "--site", "nosuchsite"],
        &data,
        database,
    );
    assert_exit(&o, 2);
    assert_says(&o, "nosuchsite");
    std::fs::write(
        d.path().join("latin1.csv"),
        b"email,purpose,notice\nz\xe9@example.fr,newsletter,v1\n",
    )
    .unwrap();
    let o = run(
        &[
            "marketing",
            "import",
            s(&d.path().join("latin1.csv")),
            "--site",
            "kalido",
        ],
        &data,
        database,
    );
    assert_exit(&o, 2);
    assert_says(&o, "not UTF-8");

    // The good list, from standard input: three lines, three ledger entries.
    let mut cmd = Command::new(BIN);
    cmd.args([
        "marketing",
        "import",
        "-",
        "--site",
        "kalido",
        "--json",
        "--data",
        s(&data),
    ])
    .env_remove("ASSENT_DATABASE_URL")
    .env_remove("ASSENT_DATA")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(db) = database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), GOOD.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_ok(&o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, json!({"imported": 3}));

    // A server on the same store sees them; nobody else is allowed.
    let tok = run(&["token", "create", "--role", "marketing"], &data, database);
    assert_ok(&tok);
    let tok = String::from_utf8_lossy(&tok.stdout).trim().to_string();
    let args = [
        "serve",
        "--registry",
        s(&kalido),
        "--data",
        s(&data),
        "--listen",
        "127.0.0.1:0",
    ];
    let server = Server::spawn(&args, database);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = &server.base;
        let who = ["zoe@example.fr", "ann@example.fr"];
        assert_eq!(
            allowed(b, &tok, "email", "newsletter", &who).await,
            [true, false]
        );
        assert_eq!(
            allowed(b, &tok, "email", "offers", &who).await,
            [true, false]
        );
        assert_eq!(
            allowed(b, &tok, "sms", "offers", &["+33612345678"]).await,
            [true]
        );
        assert_eq!(
            allowed(b, &tok, "sms", "offers", &["+33700000000"]).await,
            [false]
        );
    });
    server.stop();
    if database.is_none() {
        let o = run(&["ledger", "verify"], &data, None);
        assert_ok(&o);
    }
}

#[test]
fn marketing_import_sqlite() {
    import_list(None);
}

#[test]
fn marketing_import_postgres() {
    let schema = format!("assent_m_{}", random_hex(6));
    let url = pg_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    import_list(Some(&format!("{url}{sep}schema={schema}")));
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
