//! Banner benchmark (not a test): starts the server in this process on the demo registry
//! (examples/callkom.toml, SQLite in a temporary directory), loads the demo page `/demo/` in
//! headless Chromium N times, each in a fresh browser context (empty cache and cookie jar), and
//! reports:
//! - the delay between the page's own first paint / first contentful paint
//!   (`PerformanceObserver` type `paint`) and the banner's insertion (`assent.shownAt`, the
//!   `performance.now()` of the insertion; the banner has no fade, so it is visible in the next
//!   frame). A negative delay means that the banner was in the DOM before the page first
//!   painted, i.e. visible in the first frame;
//! - the cumulative layout shift of the page until 1 s after load;
//! - the size of `/assent.js?site=callkom` (gzip, as served): script, CSS and both layers.
//!
//! ```sh
//! cargo run --release -p assent-server --example banner_timing [-- --runs 10]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use assent_cdp::{Browser, LaunchOptions, Value};
use assent_model::clock::{SharedClock, SystemClock};
use assent_server::config::{Config, RateLimit};

const OBSERVERS: &str = "window.__paint={};new PerformanceObserver(l=>{for(const e of l.getEntries())__paint[e.name]=e.startTime}).observe({type:'paint',buffered:true});\
window.__cls=0;new PerformanceObserver(l=>{for(const e of l.getEntries())if(!e.hadRecentInput)__cls+=e.value}).observe({type:'layout-shift',buffered:true});";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);

    let dir = std::env::temp_dir().join(format!("assent-banner-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let registry = dir.join("registry.toml");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/callkom.toml");
    std::fs::copy(&src, &registry).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = Config {
        listen: addr,
        data_dir: dir.clone(),
        registry: Some(registry),
        public_url: Some(base.clone()),
        rate_limit: RateLimit {
            per_second: 0,
            burst: 0,
        },
        demo: true,
        ..Config::default()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let app = assent_server::build(config, clock).await.expect("server");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = rx.await;
    }));

    // Sizes, as served.
    let client = reqwest::Client::new();
    let gz = client
        .get(format!("{base}/assent.js?site=callkom"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let script = client
        .get(format!("{base}/assent.js?site=callkom"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let raw = script.len();
    println!("/assent.js?site=callkom: {raw} B, {gz} B gzipped (budget 6144 B)");
    let t = std::time::Instant::now();
    let zopfli = assent_server::banner::gzip(&script).len();
    println!(
        "Zopfli gzip of that body: {zopfli} B in {:.0} ms (done once per site and policy version)",
        t.elapsed().as_secs_f64() * 1e3
    );

    let browser = Browser::launch(LaunchOptions::default())
        .await
        .expect("Chromium");
    println!("{}", browser.version().await.unwrap_or_default());
    let url = format!("{base}/demo/");
    let (mut fp_delays, mut fcp_delays, mut cls_all) = (vec![], vec![], vec![]);
    for i in 0..runs {
        let ctx = browser.new_context().await.unwrap();
        let page = ctx.new_page().await.unwrap();
        page.set_viewport(1280, 800).await.unwrap();
        page.add_init_script(OBSERVERS).await.unwrap();
        page.navigate(&url).await.unwrap();
        let v = page
            .evaluate(
                "new Promise(r=>{const f=()=>{const p=window.__paint||{};if(window.assent&&assent.shownAt&&p['first-contentful-paint']!==undefined)\
                 setTimeout(()=>r({shown:assent.shownAt,fp:p['first-paint'],fcp:p['first-contentful-paint'],cls:__cls}),1000);else setTimeout(f,10)};f()})",
            )
            .await
            .unwrap();
        let num = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let (shown, fp, fcp, cls) = (num("shown"), num("fp"), num("fcp"), num("cls"));
        println!(
            "run {:2}: first paint {fp:6.1} ms, first contentful paint {fcp:6.1} ms, banner inserted {shown:6.1} ms: {:+6.1} ms after first paint, CLS {cls}",
            i + 1,
            shown - fp
        );
        fp_delays.push(shown - fp);
        fcp_delays.push(shown - fcp);
        cls_all.push(cls);
        ctx.close().await.unwrap();
    }
    let worst_cls = cls_all.iter().copied().fold(0.0, f64::max);
    println!(
        "median over {runs} fresh loads: banner inserted {:+.1} ms after first paint ({:+.1} ms after first contentful paint); visible {:.1} ms after first paint; max CLS {worst_cls}",
        median(&mut fp_delays.clone()),
        median(&mut fcp_delays),
        median(&mut fp_delays.iter().map(|d| d.max(0.0)).collect::<Vec<_>>()),
    );
    browser.close().await.unwrap();
    let _ = tx.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
