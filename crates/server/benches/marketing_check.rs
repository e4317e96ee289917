//! Load generator of the check before a campaign (`POST /v1/marketing/check`, issue 17):
//! a real server on SQLite (the Kalido example), `SUBSCRIBERS` confirmed newsletter
//! subscribers, then `ROUNDS` checks of 10,000 recipients each (half subscribed, half not),
//! over loopback HTTP from `CLIENTS` concurrent clients. Prints recipients checked per second.
//!
//! Run against the release build (see docs/benchmarks.md for the figures):
//! `cargo bench -p assent-server --bench marketing_check`
//! (env: SUBSCRIBERS, ROUNDS, CLIENTS).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use assent_model::clock::SystemClock;
use assent_model::marketing::{MarketingChannel, SubscriptionStatus};
use assent_server::config::{Config, RateLimit};
use assent_store::SubscriptionRow;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn email(k: usize) -> String {
    format!("person.{k}@example.fr")
}

#[tokio::main]
async fn main() {
    let subscribers = env("SUBSCRIBERS", 100_000);
    let rounds = env("ROUNDS", 30);
    let clients = env("CLIENTS", 2);
    let dir = assent_testkit::TempDir::new("bench-marketing");
    let registry = dir.path().join("kalido.toml");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kalido.toml"),
        &registry,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        listen: addr,
        data_dir: dir.path().join("data"),
        registry: Some(registry),
        public_url: Some("https://consent.example".into()),
        rate_limit: RateLimit {
            per_second: 0,
            burst: 0,
        },
        ..Config::default()
    };
    let app = assent_server::build(config, Arc::new(SystemClock))
        .await
        .unwrap();
    let state = app.state.clone();
    // Seed the subscribers directly (the bench measures the check, not the recording).
    let t = Instant::now();
    let rows: Vec<SubscriptionRow> = (0..subscribers)
        .map(|k| {
            let e = email(k);
            SubscriptionRow {
                site: "kalido".into(),
                channel: MarketingChannel::Email,
                addr_hash: state.marketing_key.hash(MarketingChannel::Email, &e),
                purpose: "newsletter".into(),
                status: SubscriptionStatus::Confirmed,
                basis: Some("consent".into()),
                source: "import".into(),
                receipt_id: format!("r{k}"),
                address: Some(e),
                sha256: None,
                updated_at_ms: 1,
            }
        })
        .collect();
    for chunk in rows.chunks(5_000) {
        state.store.marketing_set(chunk, None).await.unwrap();
    }
    eprintln!("seeded {subscribers} subscribers in {:?}", t.elapsed());
    let (token, row) = assent_app::tokens::new_token("marketing", "bench", 1).unwrap();
    state.store.insert_token(row).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    // One body per round: 5,000 subscribers and 5,000 strangers, spread over the list.
    let bodies: Vec<Arc<String>> = (0..rounds)
        .map(|r| {
            let recipients: Vec<String> = (0..10_000)
                .map(|i| {
                    if i % 2 == 0 {
                        email((r * 7_919 + i * 13) % subscribers)
                    } else {
                        format!("stranger.{r}.{i}@example.org")
                    }
                })
                .collect();
            Arc::new(
                serde_json::json!({"site": "kalido", "channel": "email",
                    "purpose": "newsletter", "recipients": recipients})
                .to_string(),
            )
        })
        .collect();
    let url = format!("http://{addr}/v1/marketing/check");
    let client = reqwest::Client::new();
    // Warm-up.
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(bodies[0].as_str().to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let allowed = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["allowed"] == true)
        .count();
    assert_eq!(allowed, 5_000, "half the batch is subscribed");
    let t = Instant::now();
    let mut tasks = vec![];
    for c in 0..clients {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        let mine: Vec<Arc<String>> = bodies.iter().skip(c).step_by(clients).cloned().collect();
        tasks.push(tokio::spawn(async move {
            for b in mine {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(b.as_str().to_owned())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let checked = rounds * 10_000;
    println!(
        "marketing check: {checked} recipients in {secs:.3} s over {clients} clients = {:.0} recipients/s ({:.1} ms per batch of 10,000)",
        checked as f64 / secs,
        secs * 1000.0 / rounds as f64 * clients as f64
    );
    let _ = tx.send(());
    server.await.unwrap();
}
