//! An open-loop HTTP/1.1 load generator for Assent's consent API: it *offers* a fixed rate
//! (requests are scheduled on a clock, and latency is measured from the scheduled time, so a
//! slow server cannot hide its queueing: no coordinated omission), over keep-alive
//! connections, and prints throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release -p assent-server --example loadgen -- \
//!     --addr 127.0.0.1:8080 --rate 10000 --secs 10 --connections 64 [--path /healthz] \
//!     [--timeline 250]
//! ```
//!
//! `--timeline MS` also prints, per MS milliseconds of scheduled send time, the number of
//! requests and their worst latency: where a stall happened, and for how long.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    rate: u64,
    secs: u64,
    connections: u64,
    path: Option<String>,
    site: String,
    timeline_ms: Option<u64>,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".parse().unwrap(),
        rate: 10_000,
        secs: 10,
        connections: 64,
        path: None,
        site: "callkom".into(),
        timeline_ms: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        match v[i].as_str() {
            "--addr" => a.addr = v[i + 1].parse().expect("--addr HOST:PORT"),
            "--rate" => a.rate = v[i + 1].parse().expect("--rate N"),
            "--secs" => a.secs = v[i + 1].parse().expect("--secs N"),
            "--connections" => a.connections = v[i + 1].parse().expect("--connections N"),
            "--path" => a.path = Some(v[i + 1].clone()),
            "--site" => a.site = v[i + 1].clone(),
            "--timeline" => a.timeline_ms = Some(v[i + 1].parse().expect("--timeline MS")),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A subject id: UUIDv7 (48-bit millisecond time first) as the banner makes them, or a
/// random v4 with `ASSENT_BENCH_SUBJECTS=v4`.
#[allow(clippy::disallowed_methods)] // a load generator, not the server: wall-clock time
fn uuid(r: &mut Rng) -> String {
    let a = r.next();
    let b = r.next();
    if std::env::var("ASSENT_BENCH_SUBJECTS").as_deref() == Ok("v4") {
        return format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        );
    }
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-7{:03x}-a{:03x}-{:012x}",
        ms >> 16,
        ms & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn request(a: &Args, r: &mut Rng, n: u64) -> Vec<u8> {
    match &a.path {
        Some(p) => format!("GET {p} HTTP/1.1\r\nHost: {}\r\n\r\n", a.addr).into_bytes(),
        None => {
            let action = if n.is_multiple_of(2) {
                "accept_all"
            } else {
                "reject_all"
            };
            let body = format!(
                r#"{{"subject":"{}","policy_version":1,"action":"{action}","language":"fr"}}"#,
                uuid(r)
            );
            format!(
                "POST /v1/sites/{}/consents HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                a.site,
                a.addr,
                body.len()
            )
            .into_bytes()
        }
    }
}

/// Reads one response; returns its status.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head.get(9..12).and_then(|x| x.parse().ok()).unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return Ok(status);
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = Arc::new(args());
    let total = a.rate * a.secs;
    let interval_ns = 1_000_000_000u64 * a.connections / a.rate.max(1);
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = vec![];
    for c in 0..a.connections {
        let a = a.clone();
        let ok = ok.clone();
        let bad = bad.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(a.addr).await.expect("connect");
            s.set_nodelay(true).unwrap();
            let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ (c + 1).wrapping_mul(0x1234_5678_9abc_def1));
            let mut buf = Vec::with_capacity(8192);
            let mut lat = Vec::with_capacity((total / a.connections + 1) as usize);
            let per_conn = total / a.connections;
            // Stagger connections across the interval.
            let offset = Duration::from_nanos(interval_ns * c / a.connections);
            for i in 0..per_conn {
                let due = start + offset + Duration::from_nanos(interval_ns * i);
                tokio::time::sleep_until(due.into()).await;
                let req = request(&a, &mut r, i);
                if s.write_all(&req).await.is_err() {
                    bad.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                match read_response(&mut s, &mut buf).await {
                    Ok(st) if (200..300).contains(&st) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.push((
                    (due - start).as_millis() as u64,
                    due.elapsed().as_micros() as u64,
                ));
            }
            lat
        }));
    }
    let mut timed = vec![];
    for t in tasks {
        timed.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(ms) = a.timeline_ms.filter(|ms| *ms > 0) {
        let mut buckets = vec![(0u64, 0u64); (a.secs * 1000 / ms + 1) as usize];
        let last = buckets.len() - 1;
        for (at, l) in &timed {
            let b = &mut buckets[((at / ms) as usize).min(last)];
            b.0 += 1;
            b.1 = b.1.max(*l);
        }
        for (i, (n, max)) in buckets.iter().enumerate() {
            println!(
                "t={:>6} ms: {n:>6} requests, worst {:.2} ms",
                i as u64 * ms,
                *max as f64 / 1000.0
            );
        }
    }
    let mut all: Vec<u64> = timed.into_iter().map(|(_, l)| l).collect();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "offered {} req/s for {} s over {} connections: {} ok, {} errors, achieved {:.0} req/s",
        a.rate,
        a.secs,
        a.connections,
        ok.load(Ordering::Relaxed),
        bad.load(Ordering::Relaxed),
        all.len() as f64 / elapsed
    );
    println!(
        "latency from scheduled send (ms): p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
}
