//! Helpers shared by the `assent` binary's tests (`cli.rs`, `witness.rs`): the binary, a
//! temporary directory removed on drop (testkit's), a command's output as text and the
//! assertions on it, and a running `assent serve` with the HTTP calls both files make.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_assent");

pub use assent_testkit::{TempDir, random_hex, random_uuid};

/// Runs `assent ARGS`, without the environment's database or data directory.
pub fn assent(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_DATA")
        .output()
        .unwrap()
}

/// Standard output and standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as the `&str` an argument list wants.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The repository's example registries.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Asserts that the command succeeded, showing what it said otherwise.
pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

/// Asserts that the command ended with `code`, showing what it said otherwise.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

/// Asserts that the command's output (standard output and error) contains `want`.
pub fn assert_says(o: &Output, want: &str) {
    let out = text(o);
    assert!(out.contains(want), "wanted {want:?} in {out}");
}

/// Creates an admin API token in `data` and returns it.
pub fn admin_token(data: &Path) -> String {
    let tok = assent(&["token", "create", "--data", s(data), "--role", "admin"]);
    assert_ok(&tok);
    String::from_utf8_lossy(&tok.stdout).trim().to_string()
}

/// A running `assent serve` (or `demo`) on an ephemeral port.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// What the server printed on standard error before it listened.
    pub startup: Vec<String>,
}

impl Server {
    /// `serve` with the callkom example registry on `data` (and `database` when given).
    pub fn start(data: &Path, database: Option<&str>) -> Server {
        let reg = examples().join("callkom.toml");
        let args = ["serve", "--registry", s(&reg), "--data", s(data)];
        Self::spawn(
            &[&args[..], &["--listen", "127.0.0.1:0"]].concat(),
            database,
        )
    }

    pub fn demo(data: &Path) -> Server {
        Self::spawn(
            &["demo", "--data", s(data), "--listen", "127.0.0.1:0"],
            None,
        )
    }

    pub fn spawn(args: &[&str], database: Option<&str>) -> Server {
        Self::spawn_logging(args, database, "warn")
    }

    pub fn spawn_logging(args: &[&str], database: Option<&str>, log: &str) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("ASSENT_DATABASE_URL")
            .env_remove("ASSENT_REGISTRY")
            .env("ASSENT_RATE_LIMIT", "off")
            .env("ASSENT_LOG", log)
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        if let Some(db) = database {
            cmd.args(["--database", db]);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut startup = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("server exited before listening: {startup:#?}"))
                .unwrap();
            if let Some(rest) = line.strip_prefix("Assent is listening on ") {
                break rest.trim_end_matches('/').to_string();
            }
            startup.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe; the lines printed
        // right after "listening" (the demo's links) are kept too.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        startup.extend(rx.try_iter());
        Server {
            child,
            base,
            startup,
        }
    }

    /// Sends `signal` (`-9`, `-TERM`) to the server and waits for it to end.
    fn signal(mut self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    pub fn kill9(self) {
        self.signal("-9");
    }

    pub fn stop(self) {
        self.signal("-TERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts each consent body to the callkom site at `base`; every one must be answered 201.
/// Returns the receipt ids, in order.
pub async fn post_consents(
    c: &reqwest::Client,
    base: &str,
    bodies: impl IntoIterator<Item = Value>,
) -> Vec<String> {
    let mut ids = vec![];
    for body in bodies {
        let r = c
            .post(format!("{base}/v1/sites/callkom/consents"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["receipt"]["id"].as_str().unwrap().to_string());
    }
    ids
}

/// Asks the server at `base` for a signed checkpoint now.
pub async fn checkpoint(c: &reqwest::Client, base: &str, token: &str) {
    let r = c
        .post(format!("{base}/admin/v1/ledger/checkpoints"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// `GET url`, its body as text.
pub async fn get_text(c: &reqwest::Client, url: &str) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}
