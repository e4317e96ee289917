//! Group-commit throughput: 256 concurrent tasks append consents (a ~400-byte payload and a
//! consent row each, one item per call, durable on return) for ~5 s per backend, then the
//! verifier-style full scan (`for_each_entry`) is timed.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-store cargo bench -p assent-store --bench append
//! ```
//!
//! Environment: `ASSENT_BENCH_SECS` (default 5), `ASSENT_BENCH_TASKS` (default 256),
//! `ASSENT_BENCH_BACKENDS` (default `sqlite,postgres`), `ASSENT_BENCH_DIR` (where the SQLite
//! file goes; default the system temp dir), `ASSENT_TEST_DATABASE_URL` (default
//! `postgres://root@127.0.0.1:5432/test`; a fresh schema is created and dropped).

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assent_store::{AppendItem, ConsentKey, Location, OpenOptions, Store};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn random_hex(n: usize) -> Res<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| format!("getrandom: {e}"))?;
    Ok(hex::encode(b))
}

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

async fn run() -> Res<()> {
    let secs: u64 = env_or("ASSENT_BENCH_SECS", 5);
    let tasks: usize = env_or("ASSENT_BENCH_TASKS", 256);
    let backends: String = env_or("ASSENT_BENCH_BACKENDS", "sqlite,postgres".to_owned());
    for b in backends.split(',').map(str::trim) {
        match b {
            "sqlite" => {
                let base = std::env::var_os("ASSENT_BENCH_DIR")
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(std::env::temp_dir);
                let dir = base.join(format!("assent-store-bench-{}", random_hex(6)?));
                let loc = Location::DataDir(dir.clone());
                let store = Store::open(&loc, OpenOptions::create()).await?;
                println!("sqlite: {}", dir.join("assent.db").display());
                let r = bench(&store, tasks, secs).await;
                store.close().await;
                let _ = std::fs::remove_dir_all(&dir);
                r?;
            }
            "postgres" => {
                let url = std::env::var("ASSENT_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned());
                let schema = format!("assent_bench_{}", random_hex(4)?);
                let store = Store::open(
                    &Location::Postgres(url.clone()),
                    OpenOptions::create().with_schema(&schema),
                )
                .await?;
                println!("postgres: schema {schema}");
                let r = bench(&store, tasks, secs).await;
                store.close().await;
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                    .await?;
                r?;
            }
            other => return Err(format!("unknown backend {other}").into()),
        }
    }
    Ok(())
}

/// splitmix64: random-looking ids without a random number generator.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn consent_item(task: usize, n: u64, ts: i64, ordered: bool) -> AppendItem {
    let key = ((task as u64) << 40) | n;
    // Receipt ids are random (like UUIDv4) unless ASSENT_BENCH_RECEIPTS=ordered, which makes
    // them time-ordered (like UUIDv7: millisecond prefix, random suffix). Subjects are random
    // pseudonymous ids, 1000 per task, as from the banner's cookie.
    let receipt = if ordered {
        format!("{ts:012x}{:020x}", u128::from(mix(key)))
    } else {
        format!("{:016x}{:016x}", mix(key), mix(!key))
    };
    let subject = format!("{:016x}{:016x}", mix(key % 1000 + 7), mix(task as u64));
    let choices = r#"{"analytics":true,"marketing":false,"necessary":true,"preferences":true}"#;
    // ~400 bytes of canonical JSON, like a real consent record.
    let payload = format!(
        r#"{{"action":"custom","channel":"web","choices":{choices},"expires_at_ms":{},"fingerprint":"{}","language":"en","method":"banner","policy_version":3,"receipt_id":"{receipt}","site":"callkom","subject":"{subject}","ts_ms":{ts},"user_agent_class":"desktop"}}"#,
        ts + 15_552_000_000,
        "ab".repeat(32),
    );
    AppendItem {
        ts_ms: ts,
        kind: "consent".to_owned(),
        payload: payload.into_bytes(),
        consent: Some(ConsentKey {
            receipt_id: receipt,
            site: "callkom".to_owned(),
            subject,
            created_at_ms: ts,
            tally: None,
        }),
    }
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`; 0 elsewhere).
/// The machine is shared, so appends per CPU-second is reported beside appends per second.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 12th, stime 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn bench(store: &Store, tasks: usize, secs: u64) -> Res<()> {
    let ordered = std::env::var("ASSENT_BENCH_RECEIPTS").is_ok_and(|v| v == "ordered");
    println!(
        "  payload bytes: {}, receipt ids {}",
        consent_item(0, 0, 1_700_000_000_000, ordered).payload.len(),
        if ordered { "time-ordered" } else { "random" }
    );
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_secs();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let (store, stop) = (store.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let ts = 1_700_000_000_000 + i64::try_from(n).unwrap_or(0);
                let t0 = Instant::now();
                store.append(vec![consent_item(t, n, ts, ordered)]).await?;
                lat.push(t0.elapsed());
                n += 1;
            }
            Ok::<_, assent_store::StoreError>(lat)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    lat.sort();
    let pct = |p: f64| {
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat.get(i).copied().unwrap_or_default()
    };
    println!(
        "  appends: {} in {elapsed:.2} s with {tasks} tasks = {:.0} appends/s \
         (latency p50 {:?}, p99 {:?}, max {:?})",
        lat.len(),
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
    println!(
        "  cpu: {cpu:.2} s for this process (bench clients included) = {:.0} appends per \
         cpu-second; load average {}",
        lat.len() as f64 / cpu.max(0.001),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    // The verifier's read path.
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let mut bytes = 0usize;
    let n = store
        .for_each_entry(|e, p| {
            bytes += e.kind.len() + p.map_or(0, <[u8]>::len);
        })
        .await?;
    let dt = t0.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "  for_each_entry: {n} entries in {dt:.2} s = {:.0} entries/s ({} MB of payload; \
         {cpu:.2} cpu-s)",
        n as f64 / dt,
        bytes / 1_000_000
    );
    Ok(())
}
