//! Dashboard benchmark (not a test): the dashboard of a site with 10,000,000 consents over 90
//! days, on SQLite (default) or PostgreSQL (`--database URL`, in a fresh schema dropped at the
//! end). Starts the server in this process on the demo registry, fills the counters table
//! (`consent_stats`) as 10 million consents would have left it, then times the dashboard:
//! the counters query, the application operation, and `GET /admin/v1/stats` and `GET /admin/`
//! over loopback (server time, plus a local round trip).
//!
//! The counters are inserted directly (`Store::stats_add_on`), not by writing 10 million
//! consents: what the dashboard reads is one row per (site, day, version, language, kind,
//! writer chain), whatever the number of consents behind it; writing the consents themselves is
//! what the consent write path's benchmark measures (docs/benchmarks.md). The data set is a
//! generous one: on each of 90 days two policy versions are answered, in three languages, by
//! `--chains` writers (default 4, as four servers sharing PostgreSQL), with 8 kinds (four
//! actions, GPC, displays, two purposes); and `--sites` sites (default 20) of the same size
//! fill the table around the measured one.
//!
//! ```sh
//! cargo run --release -p assent-server --example dashboard_bench [-- --runs 50 --chains 4 --sites 20 --database postgres://postgres@127.0.0.1:5432/test]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_app::Secret;
use assent_model::clock::{SharedClock, SystemClock};
use assent_model::stats::local_day;
use assent_server::config::{Config, RateLimit};
use assent_store::StatRow;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median, 95th percentile and maximum, in milliseconds.
fn summary(v: &mut [Duration]) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} runs)",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(v[v.len() - 1]),
        v.len()
    )
}

/// The counters `consents` consents over the 90 days to `today` leave for `site` on one chain
/// of `chains`.
fn counters(site: &str, consents: i64, today: i32, chains: i64) -> Vec<StatRow> {
    let per_cell = consents / 90 / 2 / 3 / chains;
    let mut rows = vec![];
    for day in today - 89..=today {
        let k = i64::from(today - day);
        // The current version and the one before (visitors answering an older banner).
        for (version, share) in [(3 - k / 30, 85), (2 - k / 30, 15)] {
            for lang in ["fr", "en", "de"] {
                let n = per_cell * 2 * share / 100;
                let accept = n * 55 / 100;
                let reject = n * 30 / 100;
                let custom = n * 10 / 100;
                let withdraw = n - accept - reject - custom;
                for (kind, v) in [
                    ("accept_all", accept),
                    ("reject_all", reject),
                    ("custom", custom),
                    ("withdraw", withdraw),
                    ("gpc", n * 3 / 100),
                    ("shown", n * 14 / 10),
                    ("purpose:functional", accept + custom * 6 / 10),
                    ("purpose:performance", accept + custom * 3 / 10),
                ] {
                    rows.push(StatRow {
                        site: site.to_owned(),
                        day,
                        version,
                        lang: lang.to_owned(),
                        kind: kind.to_owned(),
                        n: v,
                    });
                }
            }
        }
    }
    rows
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs", 50);
    let chains: i64 = arg(&args, "--chains", 4);
    let sites: usize = arg(&args, "--sites", 20);
    let consents: i64 = arg(&args, "--consents", 10_000_000);
    let pg: Option<String> = args
        .iter()
        .position(|a| a == "--database")
        .and_then(|i| args.get(i + 1))
        .cloned();

    let dir = std::env::temp_dir().join(format!("assent-dash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let registry = dir.join("registry.toml");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/callkom.toml");
    std::fs::copy(&src, &registry).unwrap();
    let schema = format!("assent_dash_bench_{}", std::process::id());
    let database = pg.as_ref().map(|u| {
        let sep = if u.contains('?') { '&' } else { '?' };
        Secret::new(format!("{u}{sep}schema={schema}"))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = Config {
        listen: addr,
        data_dir: dir.clone(),
        database,
        registry: Some(registry),
        public_url: Some(base.clone()),
        rate_limit: RateLimit {
            per_second: 0,
            burst: 0,
        },
        ..Config::default()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let app = assent_server::build(config, clock.clone())
        .await
        .expect("server");
    let state = app.state.clone();
    let (token, row) = assent_app::tokens::new_token("auditor", "bench", clock.now_ms()).unwrap();
    state.store.insert_token(row).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = rx.await;
    }));

    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let today = local_day(clock.now_ms(), &tz);
    let t = Instant::now();
    let mut total = 0;
    for s in 0..sites {
        let site = if s == 0 {
            "callkom".to_owned()
        } else {
            format!("site-{s}")
        };
        for chain in 0..chains {
            let rows = counters(&site, consents, today, chains);
            total += rows.len();
            for part in rows.chunks(2_000) {
                state.store.stats_add_on(part, chain).await.unwrap();
            }
        }
    }
    println!(
        "backend {}: {total} counter rows ({sites} sites, {chains} chains), inserted in {:.1} s",
        state.store.backend(),
        t.elapsed().as_secs_f64()
    );

    let q = assent_app::stats::Query {
        site: Some("callkom".into()),
        period: Some("90".into()),
        ..Default::default()
    };
    let d = assent_app::stats::dashboard(&state, &q, "en")
        .await
        .unwrap();
    println!(
        "callkom over 90 days: {} choices made, {} banners shown, {} days",
        d.totals.choices,
        d.totals.shown,
        d.days.len()
    );

    let mut query = vec![];
    let mut op = vec![];
    let mut api = vec![];
    let mut page = vec![];
    let client = reqwest::Client::new();
    for _ in 0..runs {
        let t = Instant::now();
        let rows = state
            .store
            .stats_between("callkom", today - 89, today)
            .await
            .unwrap();
        query.push(t.elapsed());
        assert!(!rows.is_empty());
        let t = Instant::now();
        let _ = assent_app::stats::dashboard(&state, &q, "en")
            .await
            .unwrap();
        op.push(t.elapsed());
        for (path, out) in [
            ("/admin/v1/stats?site=callkom&period=90", &mut api),
            ("/admin/?site=callkom&period=90", &mut page),
        ] {
            let t = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await.unwrap();
            out.push(t.elapsed());
        }
    }
    println!(
        "counters query (stats_between, 90 days): {}",
        summary(&mut query)
    );
    println!(
        "app operation (stats::dashboard):        {}",
        summary(&mut op)
    );
    println!(
        "GET /admin/v1/stats (JSON, loopback):    {}",
        summary(&mut api)
    );
    println!(
        "GET /admin/ (HTML page, loopback):        {}",
        summary(&mut page)
    );

    let _ = tx.send(());
    let _ = server.await;
    if let Some(u) = pg {
        let (c, conn) = tokio_postgres::connect(&u, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
