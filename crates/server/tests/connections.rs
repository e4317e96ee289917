//! Connection hardening over real TCP on loopback: header and idle timeouts, the global and
//! per-network caps (accept and close), keep-alive clients that are not cut off, and a
//! shutdown that does not wait for idle or half-sent connections. Timeouts are set in
//! milliseconds through the config, so no test sleeps for long.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_model::clock::{ManualClock, SharedClock};
use assent_server::config::{Config, Connections, RateLimit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{BASE_TIME_MS, TempDir, examples_dir, serve};

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    _data: TempDir,
}

impl Server {
    async fn start(connections: Connections) -> Server {
        let data = TempDir::new("conn-test");
        let registry = data.path().join("registry.toml");
        std::fs::copy(examples_dir().join("callkom.toml"), &registry).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config {
            listen: addr,
            data_dir: data.path().to_path_buf(),
            registry: Some(registry),
            rate_limit: RateLimit {
                per_second: 0,
                burst: 0,
            },
            connections,
            checkpoint_interval_secs: 3600,
            ..Config::default()
        };
        let clock: SharedClock = Arc::new(ManualClock::new(BASE_TIME_MS));
        let app = assent_server::build(config, clock).await.unwrap();
        let (tx, handle) = serve(app, listener);
        Server {
            addr,
            stop: Some(tx),
            handle,
            _data: data,
        }
    }

    /// Stops the server and returns how long the drain took.
    async fn stop(mut self) -> Duration {
        let t = Instant::now();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the server drains within 10 s")
            .unwrap();
        t.elapsed()
    }
}

fn limits(header_ms: u64, idle_ms: u64, max: usize, per_network: usize) -> Connections {
    Connections {
        header_timeout_ms: header_ms,
        idle_timeout_ms: idle_ms,
        max,
        max_per_network: per_network,
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

/// Reads one response (head and `Content-Length` body) from a keep-alive connection.
async fn read_response(s: &mut TcpStream) -> String {
    let mut buf = vec![];
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("a response within 5 s")
            .unwrap();
        assert!(n > 0, "connection closed mid-response: {text:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits until the server closes the connection (EOF or reset) and returns how long it took.
async fn closed_after(s: &mut TcpStream, limit: Duration) -> Duration {
    let t = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, s.read(&mut chunk)).await {
            Err(_) => panic!("still open after {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return t.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// A new connection on which `bytes` (possibly nothing) have been sent.
async fn send_on_new(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    s
}

/// Opens `n` connections that send `start` (possibly nothing) and then wait, and lets the
/// accept loop take them all before the next one.
async fn fill(addr: SocketAddr, n: usize, start: &[u8]) -> Vec<TcpStream> {
    let mut held = vec![];
    for _ in 0..n {
        held.push(send_on_new(addr, start).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    held
}

/// Over a cap: a new connection is accepted and closed at once.
async fn assert_closed_at_once(addr: SocketAddr) {
    let mut over = TcpStream::connect(addr).await.unwrap();
    let took = closed_after(&mut over, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_millis(400),
        "not closed at once: {took:?}"
    );
}

async fn healthz(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    s.write_all(HEALTHZ).await.ok()?;
    let mut buf = vec![];
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if String::from_utf8_lossy(&buf).contains("\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    (!text.is_empty()).then_some(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_request_lines_are_closed_after_the_header_timeout() {
    let srv = Server::start(limits(300, 60_000, 1000, 1024)).await;
    let mut slow = send_on_new(srv.addr, b"GET / HTTP/1.1\r\n").await;
    let mut silent = TcpStream::connect(srv.addr).await.unwrap();
    let took = closed_after(&mut slow, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(200),
        "closed too early: {took:?}"
    );
    closed_after(&mut silent, Duration::from_secs(5)).await;
    // A header trickled byte by byte is cut at the same deadline: the timer does not restart.
    let mut trickle = TcpStream::connect(srv.addr).await.unwrap();
    let t = Instant::now();
    for b in b"GET /healthz HTTP/1.1\r\nX-A: b" {
        if trickle.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    closed_after(&mut trickle, Duration::from_secs(5)).await;
    assert!(t.elapsed() < Duration::from_secs(3));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    // The idle timeout (900 ms) is longer than the header timeout (200 ms): a keep-alive
    // connection may wait longer than a header may take.
    let srv = Server::start(limits(200, 900, 1000, 1024)).await;
    let mut s = send_on_new(srv.addr, HEALTHZ).await;
    assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(450)).await;
    s.write_all(HEALTHZ).await.unwrap();
    assert!(
        read_response(&mut s).await.starts_with("HTTP/1.1 200"),
        "an idle connection outlives the header timeout"
    );
    let took = closed_after(&mut s, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(700),
        "closed too early: {took:?}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_clients_doing_many_requests_are_not_cut_off() {
    let srv = Server::start(limits(300, 600, 1000, 16)).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let t = Instant::now();
    let mut n = 0;
    // Well past both timeouts in total, with pauses shorter than the idle timeout.
    while t.elapsed() < Duration::from_millis(1500) {
        s.write_all(HEALTHZ).await.unwrap();
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(n >= 5);
    // A pooled HTTP client too (it may open a second connection before the first is back in
    // its pool, hence a cap above 2).
    let client = reqwest::Client::new();
    for _ in 0..50 {
        let r = client
            .get(format!("http://{}/healthz", srv.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_network_cap_connections_are_accepted_and_closed() {
    // Every test client is 127.0.0.1, one network: the cap is 4.
    let srv = Server::start(limits(700, 60_000, 1000, 4)).await;
    let mut slow = fill(srv.addr, 4, b"GET / HTTP/1.1\r\n").await;
    assert_closed_at_once(srv.addr).await;
    assert_eq!(healthz(srv.addr).await, None, "over the cap, even /healthz");
    for s in &mut slow {
        closed_after(s, Duration::from_secs(5)).await;
    }
    let ok = healthz(srv.addr).await.expect("/healthz answers again");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_global_cap_connections_are_accepted_and_closed() {
    let srv = Server::start(limits(700, 60_000, 3, 1024)).await;
    let held = fill(srv.addr, 3, b"").await;
    assert_closed_at_once(srv.addr).await;
    drop(held);
    // The server notices the closed sockets and frees their places.
    let t = Instant::now();
    loop {
        if let Some(ok) = healthz(srv.addr).await {
            assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(3), "places never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_idle_or_half_sent_connections() {
    let srv = Server::start(limits(30_000, 30_000, 1000, 1024)).await;
    let mut half = send_on_new(srv.addr, b"GET / HTTP/1.1\r\n").await;
    let mut idle = send_on_new(srv.addr, HEALTHZ).await;
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    let took = srv.stop().await;
    assert!(took < Duration::from_secs(3), "shutdown waited {took:?}");
    closed_after(&mut half, Duration::from_secs(1)).await;
    closed_after(&mut idle, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_a_request_in_flight() {
    let srv = Server::start(limits(30_000, 30_000, 1000, 1024)).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    // The handler is running (it waits for the rest of its body) when shutdown begins.
    s.write_all(
        b"POST /v1/sites/callkom/consents HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(srv.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "shutdown waits for the request");
    s.write_all(b"}").await.unwrap();
    let resp = read_response(&mut s).await;
    assert!(resp.starts_with("HTTP/1.1 4"), "{resp}");
    closed_after(&mut s, Duration::from_secs(2)).await;
    let took = stopping.await.unwrap();
    assert!(took < Duration::from_secs(3), "{took:?}");
}
