//! Test harness: spawns the real server on 127.0.0.1:0 against a fresh SQLite data directory
//! or a fresh PostgreSQL schema, and speaks HTTP to it. Under CI a missing PostgreSQL fails
//! the test; it never skips.
#![allow(dead_code, unused_imports)]

pub mod console;
mod purposes;
pub mod smtp_sink;
pub mod unzip;
pub use purposes::purposes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assent_model::clock::{ManualClock, SharedClock};
use assent_server::config::{Config, RateLimit, Secret};
use reqwest::{Client, Response};
use serde_json::Value;

pub const BASE_TIME_MS: i64 = 1_790_000_000_000; // 2026-09-21

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub use assent_testkit::{TempDir, random_hex};

/// A PostgreSQL schema dropped when the test ends.
pub struct PgSchema(pub String);

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) =
                    tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: Client,
    pub clock: ManualClock,
    pub state: assent_server::state::AppState,
    pub token: String,
    pub data: TempDir,
    pub registry: PathBuf,
    pub database: Option<String>,
    _schema: Option<PgSchema>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub registry_src: String,
    pub rate_limit: RateLimit,
    /// `smtp://127.0.0.1:PORT` of a test sink (`smtp_sink::SmtpSink`); `None`: no SMTP.
    pub smtp: Option<String>,
    /// `sms_inbound_secret` of the configuration.
    pub sms_inbound_secret: Option<String>,
    /// `scan_poll_secs` of the configuration (0 by default: tests run scans themselves).
    pub scan_poll_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            registry_src: std::fs::read_to_string(examples_dir().join("callkom.toml")).unwrap(),
            rate_limit: RateLimit {
                per_second: 0,
                burst: 0,
            },
            smtp: None,
            sms_inbound_secret: None,
            scan_poll_secs: 0,
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Options::default()).await
    }

    /// A server whose registry file has `registry_src`.
    pub async fn spawn_with_registry(backend: Backend, registry_src: String) -> TestApp {
        let opts = Options {
            registry_src,
            ..Options::default()
        };
        Self::spawn_with(backend, opts).await
    }

    pub async fn spawn_with(backend: Backend, opts: Options) -> TestApp {
        let data = TempDir::new("server-test");
        let registry = data.path().join("registry.toml");
        std::fs::write(&registry, &opts.registry_src).unwrap();
        let (database, schema) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let name = format!("assent_t_{}", random_hex(6));
                let url = pg_url();
                let sep = if url.contains('?') { '&' } else { '?' };
                (
                    Some(format!("{url}{sep}schema={name}")),
                    Some(PgSchema(name)),
                )
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config {
            listen: addr,
            data_dir: data.path().to_path_buf(),
            database: database.clone().map(Secret::new),
            registry: Some(registry.clone()),
            public_url: Some(format!("http://{addr}")),
            rate_limit: opts.rate_limit,
            smtp: opts.smtp.clone().map(Secret::new),
            sms_inbound_secret: opts.sms_inbound_secret.clone().map(Secret::new),
            demo: true,
            checkpoint_interval_secs: 3600,
            scan_poll_secs: opts.scan_poll_secs,
            ..Config::default()
        };
        let clock = ManualClock::new(BASE_TIME_MS);
        let shared: SharedClock = Arc::new(clock.clone());
        let app = match assent_server::build(config, shared).await {
            Ok(a) => a,
            Err(e) => panic!(
                "cannot start the server on {backend:?} (is PostgreSQL running at {}?): {e}",
                pg_url()
            ),
        };
        let state = app.state.clone();
        let (token, row) = assent_app::tokens::new_token("admin", "tests", BASE_TIME_MS).unwrap();
        state.store.insert_token(row).await.unwrap();
        let (tx, handle) = serve(app, listener);
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: Client::builder().build().unwrap(),
            clock,
            state,
            token,
            data,
            registry,
            database,
            _schema: schema,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        send(self.client.get(self.url(path))).await
    }

    /// A GET with the admin token of the test.
    pub async fn admin_get(&self, path: &str) -> Response {
        self.get_as(path, &self.token).await
    }

    pub async fn admin_post(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        ct: &str,
    ) -> Response {
        let req = self.client.post(self.url(path)).bearer_auth(&self.token);
        send(req.header("content-type", ct).body(body)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post_json_with(path, &[], body).await
    }

    /// A GET with extra headers (`authorization`, `if-none-match`, ...).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        send(with_headers(self.client.get(self.url(path)), headers)).await
    }

    /// A GET with `token` as the bearer.
    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    /// A bodiless POST with `token` as the bearer.
    pub async fn post_as(&self, path: &str, token: &str) -> Response {
        send(self.client.post(self.url(path)).bearer_auth(token)).await
    }

    /// A JSON POST with extra headers (`origin`, `sec-gpc`, ...).
    pub async fn post_json_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Response {
        send(with_headers(self.client.post(self.url(path)), headers).json(body)).await
    }

    /// Posts an HTML form (`application/x-www-form-urlencoded`).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        send(self.client.post(self.url(path)).form(form)).await
    }

    /// The body of a GET, whatever its status.
    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// A new API token of `role`; returns the token and its id (to revoke it).
    pub async fn new_token(&self, role: &str) -> (String, String) {
        let (token, row) = assent_app::tokens::new_token(role, "tests", BASE_TIME_MS).unwrap();
        let id = row.id.clone();
        self.state.store.insert_token(row).await.unwrap();
        (token, id)
    }

    /// Posts a consent for the demo site.
    pub async fn consent(&self, body: Value) -> Response {
        self.post_json("/v1/sites/callkom/consents", &body).await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs `app` on `listener` in a task; sending on the returned channel shuts it down.
pub fn serve(
    app: assent_server::App,
    listener: tokio::net::TcpListener,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run(listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (tx, handle)
}

/// A random consent subject (a version-4 UUID).
pub fn subject() -> String {
    assent_testkit::random_uuid()
}

/// The `[[services]]` table of Hotjar, a performance service run from `country`: the
/// material change the registry tests apply.
pub fn hotjar_service(country: &str) -> String {
    format!(
        r#"
[[services]]
id = "hotjar"
name = "Hotjar"
provider = "Hotjar Ltd"
purposes = ["performance"]
privacy_policy = "https://www.hotjar.com/legal/policies/privacy/"
country = "{country}"
"#
    )
}

/// Header `name` of an answer, as text.
#[track_caller]
pub fn header<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers()[name].to_str().unwrap()
}

/// The `content-type` of an answer (empty when there is none).
pub fn content_type(r: &Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn send(req: reqwest::RequestBuilder) -> Response {
    req.send().await.unwrap()
}

fn with_headers(
    mut req: reqwest::RequestBuilder,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req
}

/// Asserts an error answer: its status, and `error.<key>` (`code`, `field` or `message`).
#[track_caller]
pub fn assert_error((status, v): &(u16, Value), want_status: u16, key: &str, want: &str) {
    assert_eq!(
        (*status, v["error"][key].as_str()),
        (want_status, Some(want)),
        "{v}"
    );
}

pub async fn json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

/// Generates one test per backend from an `async fn(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::common::Backend::Postgres).await } )*
        }
    };
}

/// Sends a raw HTTP/1.1 request (the whole body is written before the answer is read, so an
/// early 413 cannot race the upload) and returns the status and body.
pub async fn raw_post(
    addr: std::net::SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    let _ = s.write_all(&req).await;
    let mut out = vec![];
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}
