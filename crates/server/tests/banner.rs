#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The banner, end to end: the `/assent.js` HTTP contract and its size budget (everything in one
//! response),
//! then real headless Chromium (assent-cdp) against the real server (TestApp, SQLite; the accept
//! flow also on PostgreSQL), on the demo site `/demo/`: prior blocking, accept / refuse /
//! customize / withdraw, policy versions, subdomains, GPC, keyboard-only use, Consent Mode and
//! layout shift. One browser per test, a fresh browser context (cookie jar) per scenario.
//!
//! `ASSENT_BANNER_SHOTS=docs/images cargo test -p assent-server --test banner screenshots`
//! rewrites the documentation screenshots.

mod common;

use std::time::Duration;

use assent_cdp::{Browser, BrowserContext, LaunchOptions, Modifiers, Page, Value, js_string};
use common::{Backend, Options, TestApp, examples_dir, json};

const SIZE_BUDGET: usize = 6144;
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// helpers

/// The preferences layer's text, white space made plain spaces (Intl may put a no-break space
/// before a unit).
async fn prefs_text(page: &assent_cdp::Page) -> String {
    let v = eval(
        page,
        "document.getElementById('assent-prefs').textContent.replace(/\\s/g,' ')",
    )
    .await;
    v.as_str().unwrap().to_owned()
}

/// Asserts that the preferences layer shows each of `wanted`; returns its text.
async fn assert_prefs_show(page: &assent_cdp::Page, wanted: &[&str]) -> String {
    let text = prefs_text(page).await;
    for s in wanted {
        assert!(text.contains(s), "{s} missing from the preferences: {text}");
    }
    text
}

/// Closes the browser context, the browser and the server, at the end of a test.
async fn close_all(ctx: BrowserContext, browser: Browser, app: TestApp) {
    ctx.close().await.unwrap();
    browser.close().await.unwrap();
    app.stop().await;
}

async fn launch(rules: Option<&str>) -> Browser {
    let opts = LaunchOptions {
        host_resolver_rules: rules.map(str::to_owned),
        ..LaunchOptions::default()
    };
    Browser::launch(opts)
        .await
        .expect("Chromium (apt-get install chromium; scripts/test.sh does it)")
}

/// A fresh context and page; JS errors of the page are collected in `window.__errors`, and the
/// HTTP cache is off (a new policy version must be seen at once).
async fn fresh(browser: &Browser, init: &[&str]) -> (BrowserContext, Page) {
    let ctx = browser.new_context().await.unwrap();
    let page = ctx.new_page().await.unwrap();
    page.set_viewport(1280, 800).await.unwrap();
    page.add_init_script(
        "window.__errors=[];addEventListener('error',e=>__errors.push(String(e.message)));addEventListener('unhandledrejection',e=>__errors.push(String(e.reason)));\
         window.__cls=0;new PerformanceObserver(l=>{for(const e of l.getEntries())if(!e.hadRecentInput)__cls+=e.value}).observe({type:'layout-shift',buffered:true});",
    )
    .await
    .unwrap();
    for s in init {
        page.add_init_script(s).await.unwrap();
    }
    page.enable_network().await.unwrap();
    page.call(
        "Network.setCacheDisabled",
        assent_cdp::json!({"cacheDisabled": true}),
    )
    .await
    .unwrap();
    (ctx, page)
}

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

async fn eval_bool(page: &Page, js: &str) -> bool {
    eval(page, js).await == Value::Bool(true)
}

/// Waits until `js` is truthy (polled in the page).
async fn wait_js(page: &Page, js: &str) {
    let expr = format!(
        "new Promise(r=>{{const end=performance.now()+{};const f=()=>{{let v;try{{v=({js})}}catch(e){{}}if(v)return r(true);if(performance.now()>end)return r(false);setTimeout(f,20)}};f()}})",
        WAIT.as_millis()
    );
    let ok = page
        .evaluate_with_timeout(&expr, WAIT + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(ok, Value::Bool(true), "timed out waiting for: {js}");
}

/// Loads `url` and checks that the page raised no JavaScript error.
async fn visit(page: &Page, url: &str) {
    page.navigate(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    no_errors(page).await;
}

async fn no_errors(page: &Page) {
    let errs = eval(page, "window.__errors").await;
    assert_eq!(
        errs,
        Value::Array(vec![]),
        "JavaScript errors on {}",
        page.url().await.unwrap()
    );
}

async fn banner_shown(page: &Page) -> bool {
    page.wait_for_selector("#assent-banner", Duration::from_secs(3))
        .await
        .unwrap()
}

/// No first layer after the load event (it is inserted at DOMContentLoaded or never).
async fn no_banner(page: &Page) -> bool {
    eval_bool(
        page,
        "!document.getElementById('assent-banner') && typeof assent === 'object'",
    )
    .await
}

async fn cookie_names(ctx: &BrowserContext) -> Vec<String> {
    let mut v: Vec<String> = ctx
        .cookies()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    v.sort();
    v
}

/// A real mouse click, once the banner's entrance animation (a slide) has ended.
async fn click(page: &Page, selector: &str) {
    wait_js(
        page,
        "document.getAnimations().every(a=>a.playState!=='running')",
    )
    .await;
    page.click_real(selector)
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

/// The choice cookie's subject, once the receipt has arrived.
async fn subject_with_receipt(page: &Page) -> String {
    wait_js(page, "assent.choice() && assent.choice().receipt").await;
    eval(page, "assent.choice().subject")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// The ledger's records of the page's choice (newest last), once its receipt has arrived.
async fn records(app: &TestApp, page: &Page) -> Vec<Value> {
    let subject = subject_with_receipt(page).await;
    ledger(app, "callkom", &subject).await
}

/// The ledger's records for a subject (newest last).
async fn ledger(app: &TestApp, site: &str, subject: &str) -> Vec<Value> {
    let (s, v) = json(
        app.admin_get(&format!("/admin/v1/consents?site={site}&subject={subject}"))
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mut items = v["items"].as_array().unwrap().clone();
    items.sort_by_key(|i| i["seq"].as_i64());
    items
}

/// The callkom banner's script.
const SCRIPT: &str = "/assent.js?site=callkom";

const IFRAME: &str = "document.querySelector('iframe[title=Calendly]')";

/// A server on `backend`, a browser, and a fresh page on the demo's `path`, whose banner is
/// shown.
async fn on_demo_page(backend: Backend, path: &str) -> (TestApp, Browser, BrowserContext, Page) {
    let app = TestApp::spawn(backend).await;
    let browser = launch(None).await;
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &app.url(path)).await;
    assert!(banner_shown(&page).await);
    (app, browser, ctx, page)
}

/// Waits until the Calendly stand-in is loaded in its iframe.
async fn wait_iframe_loaded(page: &Page) {
    wait_js(
        page,
        &format!(
            "{IFRAME}.contentDocument && {IFRAME}.contentDocument.getElementById('calendly-widget')"
        ),
    )
    .await;
}

/// Opens the preferences layer from the banner and waits for its texts.
async fn customize(page: &Page) {
    click(page, "#assent-banner [data-assent-action=customize]").await;
    wait_js(page, "document.getElementById('assent-s2d')").await;
}

/// Closes the preferences layer without a choice.
async fn dismiss_prefs(page: &Page) {
    click(page, "#assent-prefs [data-assent-action=dismiss]").await;
    wait_js(page, "!document.getElementById('assent-prefs')").await;
}

/// Asserts that the page's first recorded choice was `action`, in `language`.
async fn assert_recorded(app: &TestApp, page: &Page, action: &str, language: &str) {
    let recs = records(app, page).await;
    assert_eq!(
        (recs[0]["action"].as_str(), recs[0]["language"].as_str()),
        (Some(action), Some(language))
    );
}

async fn iframe_loaded(page: &Page) -> bool {
    eval_bool(
        page,
        &format!("!!({IFRAME}.getAttribute('src')||'').startsWith('/demo/embed') && !!{IFRAME}.contentDocument?.getElementById('calendly-widget')"),
    )
    .await
}

async fn iframe_blocked(page: &Page) -> bool {
    eval_bool(
        page,
        &format!("!{IFRAME}.getAttribute('src') || {IFRAME}.getAttribute('src')==='about:blank'"),
    )
    .await
        && eval_bool(page, &format!("{IFRAME}.classList.contains('assent-off') && !!document.querySelector('.assent-ph [data-assent-allow=functional]')")).await
}

/// The Consent Mode commands in `window.dataLayer`, as `[command, {type: value}]`.
async fn consent_calls(page: &Page) -> Vec<(String, Value)> {
    let v = eval(
        page,
        "dataLayer.filter(a=>a[0]==='consent').map(a=>[a[1],JSON.parse(JSON.stringify(a[2]))])",
    )
    .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| (a[0].as_str().unwrap().to_owned(), a[1].clone()))
        .collect()
}

fn registry_with(f: impl FnOnce(String) -> String) -> String {
    f(std::fs::read_to_string(examples_dir().join("callkom.toml")).unwrap())
}

// ---------------------------------------------------------------------------------------------
// HTTP contract

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_response_contract_and_size_budget() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get(SCRIPT).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        h["cache-control"],
        "public, max-age=300, stale-while-revalidate=86400"
    );
    assert_eq!(h["vary"], "Accept-Encoding, Accept-Language");
    assert!(h.get("set-cookie").is_none());
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("((S,C,f)=>f(C,S))(") && body.ends_with("\n});\n"),
        "{}",
        &body[..60]
    );
    assert!(body.contains(&format!("\"a\":\"{}\"", app.base)));
    assert!(!body.contains("src-sha256"));
    // Everything is in this one response: the second layer's details (services, providers,
    // cookies, lifetimes as codes, legal bases) and the texts, in the visitor's language (here
    // the site's default: no `lang`, no Accept-Language).
    for s in [
        "\"Google Analytics 4\",\"Google Ireland Limited\"",
        "[\"_ga_*\",135]",
        "\"hubspotutk\"",
        "\"Calendly LLC\"",
        "\"b\":[\"Legitimate interest\",\"Consent\"]",
        "\"Refuse all\"",
        ".assent-sw",
    ] {
        assert!(body.contains(s), "{s} missing from /assent.js");
    }
    assert!(!body.contains("\"Tout refuser\"") && !body.contains("\"Alle ablehnen\""));
    let fr = app
        .get("/assent.js?site=callkom&lang=fr")
        .await
        .text()
        .await
        .unwrap();
    for s in [
        "\"Tout refuser\"",
        "\"b\":[\"Intérêt légitime\",\"Consentement\"]",
    ] {
        assert!(fr.contains(s), "{s} missing from /assent.js?lang=fr");
    }

    // Conditional request.
    let r = app.get_with(SCRIPT, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);

    // gzip, precompressed (Zopfli): the size budget of the whole response (script + CSS + the
    // seed-002 configuration of examples/callkom.toml, both layers, en + fr).
    let r = app
        .get_with(SCRIPT, &[("accept-encoding", "gzip, br")])
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz_etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_etag, etag, "each encoding has its own strong ETag");
    let gz = r.bytes().await.unwrap();
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .unwrap();
    assert_eq!(unzipped, body);
    println!(
        "/assent.js?site=callkom: {} bytes, {} bytes gzipped (budget {SIZE_BUDGET})",
        body.len(),
        gz.len()
    );
    assert!(
        gz.len() <= SIZE_BUDGET,
        "/assent.js is {} bytes gzipped, over the {SIZE_BUDGET}-byte budget",
        gz.len()
    );
    // The budget holds in every language of the site.
    for lang in ["fr", "de"] {
        let r = app
            .get_with(
                SCRIPT,
                &[("accept-encoding", "gzip"), ("accept-language", lang)],
            )
            .await;
        let n = r.bytes().await.unwrap().len();
        println!("/assent.js?site=callkom in {lang}: {n} bytes gzipped");
        assert!(n <= SIZE_BUDGET, "{lang}: {n} bytes gzipped, over budget");
    }
    let r = app
        .get_with(
            SCRIPT,
            &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)],
        )
        .await;
    assert_eq!(r.status(), 304);
    let r = app
        .get_with(SCRIPT, &[("accept-encoding", "gzip;q=0")])
        .await;
    assert!(r.headers().get("content-encoding").is_none());

    // Errors: a script that says what is wrong in the console (a JSON error would be dropped by
    // the browser unseen), never cached; the id is echoed only when valid, as a JS string.
    for (query, says) in [
        ("", "missing `site`"),
        ("?site=", "missing `site`"),
        (
            "?site=nope",
            "unknown site \\\"nope\\\" in assent.js?site=nope",
        ),
        (
            "?site=%22%29%3Balert(1)%2F%2F%3C%2Fscript%3E",
            "not a valid site id",
        ),
        ("?site=x%E2%80%A8y", "not a valid site id"),
    ] {
        let r = app.get(&format!("/assent.js{query}")).await;
        assert_eq!(r.status(), 200, "{query}");
        let h = r.headers();
        assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
        assert_eq!(h["cache-control"], "no-store");
        let body = r.text().await.unwrap();
        assert!(body.starts_with("console.error(\"Assent: "), "{body}");
        assert!(
            body.ends_with("\");\n") && body.lines().count() == 1,
            "{body}"
        );
        assert!(body.contains(says), "{query}: {body}");
        assert!(!body.contains("alert") && !body.contains('<') && !body.contains('\u{2028}'));
    }

    // The second layer's details: a separate cacheable response in the visitor's language,
    // readable cross-origin, outside the first layer's budget (measured here).
    let r = app
        .get_with(
            "/assent-details.json?site=callkom&v=1&lang=fr",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["etag"].to_str().unwrap().ends_with("-gz\""));
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"));
    let gz = r.bytes().await.unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut body).unwrap();
    println!(
        "/assent-details.json?site=callkom&lang=fr: {} bytes gzipped",
        gz.len()
    );
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["r"], "Si vous refusez :");
    let p = d["p"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    assert!(
        p[0][0].as_str().unwrap().starts_with("Indispensables"),
        "{d}"
    );
    assert_eq!(p[0][1], Value::Null, "the exempt purpose cannot be refused");
    assert!(
        p[2][1]
            .as_str()
            .unwrap()
            .starts_with("Nous ne mesurerons pas"),
        "{d}"
    );
    let (s, _) = json(app.get("/assent-details.json?site=nope").await).await;
    assert_eq!(s, 404);
    let (s, _) = json(app.get("/assent-details.json").await).await;
    assert_eq!(s, 400);

    // There is no second request: the former /assent.json is gone.
    assert_eq!(app.get("/assent.json?site=callkom&v=1").await.status(), 404);

    // A new policy version changes the body and its ETag.
    let reg =
        registry_with(|s| s.replace("Remember your preferences", "Remembers your preferences"));
    let (s, v) = json(
        app.admin_post("/admin/v1/registry", reg, "application/toml")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let r = app.get(SCRIPT).await;
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.text().await.unwrap().contains("\"v\":2"));

    // The demo pages.
    for path in ["/demo/", "/demo/page2", "/demo/embed", "/demo/?lang=fr"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    }
    assert!(
        app.get("/demo/")
            .await
            .text()
            .await
            .unwrap()
            .contains("href=\"/demo/page2?lang=en\"")
    );
    app.stop().await;
}

/// A hostile site id or language in the query string never reaches a demo page as markup:
/// both are refused (the page falls back to `callkom` and English), and whatever the pages
/// print is escaped by their templates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pages_refuse_hostile_query_values() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let site = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let lang = "fr%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E";
    for page in ["/demo/", "/demo/page2", "/demo/embed"] {
        for query in [
            format!("site={site}"),
            format!("lang={lang}"),
            format!("site={site}&lang={lang}"),
        ] {
            let path = format!("{page}?{query}");
            let r = app.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            let body = r.text().await.unwrap();
            for bad in ["alert(", "<img", "onerror", "%22", "%3C"] {
                assert!(!body.contains(bad), "{path} echoes {bad:?}");
            }
            assert!(body.contains(r#"<html lang="en">"#), "{path}");
            if page != "/demo/embed" {
                assert!(
                    body.contains(r#"<script src="/assent.js?site=callkom&amp;lang=en"></script>"#),
                    "{path}"
                );
                assert!(
                    body.contains(r#"href="/sites/callkom/cookie-policy?lang=en""#),
                    "{path}"
                );
            }
        }
    }
    app.stop().await;
}

/// Without `demo` (every server but `assent demo`), `/demo/` does not exist; the banner does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pages_only_in_demo_mode() {
    let data = common::TempDir::new("banner-nodemo");
    let registry = data.path().join("registry.toml");
    std::fs::copy(examples_dir().join("callkom.toml"), &registry).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = assent_server::config::Config {
        listen: addr,
        data_dir: data.path().to_path_buf(),
        registry: Some(registry),
        demo: false,
        ..Default::default()
    };
    let clock: assent_model::clock::SharedClock =
        std::sync::Arc::new(assent_model::clock::ManualClock::new(common::BASE_TIME_MS));
    let app = assent_server::build(config, clock).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    for path in ["/demo/", "/demo/page2", "/demo/embed", "/demo"] {
        let r = client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = client
        .get(format!("http://{addr}/assent.js?site=callkom"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = tx.send(());
    let _ = server.await;
}

// ---------------------------------------------------------------------------------------------
// Browser: the main flows

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_flows() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let browser = launch(None).await;
    let home = app.url("/demo/");
    let page2 = app.url("/demo/page2");

    // --- Before any choice: nothing non-necessary, the banner at once, no layout shift.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    assert!(banner_shown(&page).await);
    assert_eq!(
        cookie_names(&ctx).await,
        Vec::<String>::new(),
        "no cookie before a choice"
    );
    assert!(
        eval_bool(&page, "window.demoAnalytics === undefined").await,
        "blocked script ran"
    );
    assert!(iframe_blocked(&page).await, "blocked iframe loaded");
    assert!(
        eval_bool(
            &page,
            "localStorage.length === 0 && sessionStorage.length === 0"
        )
        .await
    );
    let calls = consent_calls(&page).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "default");
    for k in [
        "ad_storage",
        "ad_user_data",
        "ad_personalization",
        "analytics_storage",
        "functionality_storage",
        "personalization_storage",
    ] {
        assert_eq!(calls[0].1[k], "denied", "{k}");
    }
    assert_eq!(calls[0].1["security_storage"], "granted");
    assert_eq!(calls[0].1["wait_for_update"], 500);
    assert!(
        eval_bool(
            &page,
            "JSON.stringify(dataLayer[0]).startsWith('{\"0\":\"consent\",\"1\":\"default\"')"
        )
        .await,
        "default comes first"
    );
    // The first layer: a labelled dialog; three choices of identical size and style.
    assert!(eval_bool(&page, "(b=>b.getAttribute('role')==='dialog' && !!document.getElementById(b.getAttribute('aria-labelledby')).textContent && b===document.body.firstElementChild)(document.getElementById('assent-banner'))").await);
    let same = eval(
        &page,
        "(()=>{const s=[...document.querySelectorAll('#assent-banner .assent-bt button')].map(b=>{const c=getComputedStyle(b),r=b.getBoundingClientRect();return [b.dataset.assentAction,Math.round(r.width),Math.round(r.height),c.backgroundColor,c.color,c.fontSize,c.fontWeight,c.borderRadius].join('|')});return s})()",
    )
    .await;
    let rows: Vec<&str> = same
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let tails: Vec<&str> = rows.iter().map(|r| r.split_once('|').unwrap().1).collect();
    assert!(
        tails.iter().all(|t| *t == tails[0]),
        "buttons differ: {rows:?}"
    );
    assert!(
        rows[0].starts_with("accept-all|")
            && rows[1].starts_with("reject-all|")
            && rows[2].starts_with("customize|")
    );
    assert!(
        eval_bool(
            &page,
            "!!document.querySelector('#assent-banner [data-assent-action=close]')"
        )
        .await
    );
    assert_eq!(
        eval(&page, "window.__cls").await,
        Value::from(0),
        "layout shift before any choice"
    );
    assert!(eval_bool(&page, "typeof assent.shownAt === 'number'").await);
    // The manage link got its text; the policy link points to the cookie policy.
    assert!(eval_bool(&page, "document.querySelector('footer [data-assent-manage]').textContent==='Manage my cookies'").await);
    assert!(eval_bool(&page, "document.querySelector('#assent-banner-d a').href.includes('/sites/callkom/cookie-policy?lang=en')").await);
    ctx.close().await.unwrap();

    // --- Accept all: everything activates without reload; the consent is in the ledger.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    assert!(banner_shown(&page).await);
    eval(&page, "window.__same = 1").await;
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    assert!(
        eval_bool(
            &page,
            "window.__same === 1 && !document.getElementById('assent-banner')"
        )
        .await,
        "no reload, banner gone"
    );
    wait_iframe_loaded(&page).await;
    assert!(iframe_loaded(&page).await);
    assert!(eval_bool(&page, "!document.querySelector('.assent-ph')").await);
    let names = cookie_names(&ctx).await;
    assert_eq!(names, ["_ga", "_ga_CALLKOM", "assent_consent"], "{names:?}");
    assert!(eval_bool(&page, "assent.hasConsent('performance') && assent.hasConsent('functional') && assent.hasConsent('necessary') && !assent.hasConsent('nope')").await);
    let calls = consent_calls(&page).await;
    assert_eq!(
        calls.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["default", "update"]
    );
    assert_eq!(calls[1].1["analytics_storage"], "granted");
    assert_eq!(calls[1].1["functionality_storage"], "granted");
    assert_eq!(calls[1].1["ad_storage"], "denied");
    let subject = subject_with_receipt(&page).await;
    // A UUIDv7 whose time is the first visit (time-ordered: the subject index grows at its end).
    assert_eq!(subject.len(), 36);
    assert_eq!(&subject[14..15], "7", "{subject}");
    let ms = u64::from_str_radix(&subject[..13].replace('-', ""), 16).unwrap();
    #[allow(clippy::disallowed_methods)] // the browser used the wall clock too
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        ms <= now && now - ms < 300_000,
        "{subject} is not from the last minutes"
    );
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["action"], "accept_all");
    assert_eq!(recs[0]["channel"], "banner");
    assert_eq!(recs[0]["method"], "explicit");
    assert_eq!(recs[0]["language"], "en");
    assert_eq!(recs[0]["policy_version"], 1);
    assert_eq!(
        recs[0]["choices"],
        assent_cdp::json!({"necessary": true, "functional": true, "performance": true})
    );
    let receipt = eval(&page, "assent.choice().receipt").await;
    assert_eq!(receipt, recs[0]["receipt_id"]);
    // The next page: no banner, the update right after the default, before the page's own tags.
    visit(&page, &page2).await;
    assert!(no_banner(&page).await);
    assert!(eval_bool(&page, "window.demoAnalytics === 1").await);
    assert!(eval_bool(&page, "dataLayer[0][1]==='default' && dataLayer[1][1]==='update' && dataLayer[1][2].analytics_storage==='granted'").await);
    // "Manage my cookies" shows the current choice (date, version, receipt link).
    click(&page, "footer [data-assent-manage]").await;
    wait_js(
        &page,
        "document.querySelector('#assent-prefs .assent-k a[href*=\"/receipts/\"]')",
    )
    .await;
    // The receipt id is shown next to the link (the rights form's "shown under Manage my
    // cookies"), and the link opens the human-readable page, not the JSON.
    let receipt_id = receipt.as_str().unwrap_or_default().to_string();
    assert!(eval_bool(&page, &format!("document.querySelector('#assent-prefs .assent-c > .assent-k').textContent.includes('{receipt_id}')")).await);
    assert!(eval_bool(&page, "!document.querySelector('#assent-prefs .assent-k a').getAttribute('href').includes('/v1/')").await);
    assert!(eval_bool(&page, "document.querySelector('#assent-prefs .assent-c > .assent-k').textContent.includes('policy version 1')").await);
    assert!(
        eval_bool(
            &page,
            "[...document.querySelectorAll('#assent-prefs input[role=switch]')].every(i=>i.checked)"
        )
        .await
    );
    no_errors(&page).await;
    ctx.close().await.unwrap();

    // --- Refuse all: nothing activates, on this page and the next.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    assert!(banner_shown(&page).await);
    click(&page, "#assent-banner [data-assent-action=reject-all]").await;
    wait_js(
        &page,
        "!document.getElementById('assent-banner') && assent.choice()",
    )
    .await;
    let subject = subject_with_receipt(&page).await;
    assert!(eval_bool(&page, "window.demoAnalytics === undefined").await);
    assert!(iframe_blocked(&page).await);
    assert_eq!(cookie_names(&ctx).await, ["assent_consent"]);
    let calls = consent_calls(&page).await;
    assert_eq!(calls[1].0, "update");
    assert_eq!(calls[1].1["analytics_storage"], "denied");
    assert_eq!(calls[1].1["security_storage"], "granted");
    visit(&page, &page2).await;
    assert!(no_banner(&page).await, "a refusal is remembered");
    assert!(eval_bool(&page, "window.demoAnalytics === undefined").await);
    assert_eq!(cookie_names(&ctx).await, ["assent_consent"]);
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(
        (recs.len(), recs[0]["action"].as_str()),
        (1, Some("reject_all"))
    );
    assert_eq!(
        recs[0]["choices"],
        assent_cdp::json!({"necessary": true, "functional": false, "performance": false})
    );
    ctx.close().await.unwrap();

    // --- Customize: only the chosen purposes.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    assert!(banner_shown(&page).await);
    let requests = "performance.getEntriesByType('resource').length";
    // Once the first layer is shown, the second layer's details are fetched (one request)
    // and the display is counted (an anonymous beacon, docs/dashboard.md).
    wait_js(
        &page,
        "performance.getEntriesByType('resource').some(e=>e.name.includes('/assent-details.json'))",
    )
    .await;
    wait_js(
        &page,
        "performance.getEntriesByType('resource').some(e=>e.name.endsWith('/v1/sites/callkom/shown'))",
    )
    .await;
    let before = eval(&page, requests).await;
    click(&page, "#assent-banner [data-assent-action=customize]").await;
    wait_js(&page, "document.getElementById('assent-s1d')").await;
    assert!(eval_bool(&page, "document.getElementById('assent-banner').hidden && !!document.activeElement.closest('#assent-prefs')").await);
    // The second layer comes from /assent.js and the details already fetched: opening it
    // made no request.
    assert_eq!(
        eval(&page, requests).await,
        before,
        "a request when opening the preferences"
    );
    assert!(
        eval_bool(
            &page,
            "performance.getEntriesByType('resource').filter(e=>e.name.includes('/assent')).map(e=>new URL(e.name).pathname).join()==='/assent.js,/assent-details.json'"
        )
        .await,
        "two banner requests: /assent.js, then /assent-details.json"
    );
    // Each purpose's description, and what refusing it changes (not for the exempt one), in
    // the visitor's language, described to assistive technology with the switch.
    let text = &assert_prefs_show(
        &page,
        &[
            "Essential to the site and the SaaS platform",
            "If you refuse: We will not measure audience (GA4/HubSpot Analytics)",
            "If you refuse: The site remains accessible, but Calendly is not loaded",
        ],
    )
    .await;
    assert!(!text.contains("If you refuse: Without them"), "{text}");
    assert_eq!(
        eval(
            &page,
            "document.getElementById('assent-s2').getAttribute('aria-describedby')"
        )
        .await,
        "assent-s2i assent-s2d"
    );
    // No pre-ticked switch; the exempt purpose is shown as always on.
    assert_eq!(
        eval(&page, "[...document.querySelectorAll('#assent-prefs input[role=switch]')].map(i=>[i.dataset.assentPurpose,i.checked,i.disabled])").await,
        assent_cdp::json!([["necessary", true, true], ["functional", false, false], ["performance", false, false]])
    );
    // The second layer lists services, providers, cookies, lifetimes and legal bases.
    assert_prefs_show(
        &page,
        &[
            "Google Analytics 4 · Google Ireland Limited: _ga (13 months), _ga_* (13 months)",
            "Microsoft Corporation: ai_user (11 months), ai_session (30 minutes)",
            "Callkom · CALLKOM: wp-wpml_current_language (Session)",
            "Legal basis Legitimate interest",
            "Legal basis Consent",
            "Calendly LLC",
            "Services (3)",
            "Always active",
        ],
    )
    .await;
    click(&page, "#assent-prefs input[data-assent-purpose=functional]").await;
    assert!(
        eval_bool(
            &page,
            "document.querySelector('#assent-prefs input[data-assent-purpose=functional]').checked"
        )
        .await
    );
    click(&page, "#assent-prefs [data-assent-action=save]").await;
    wait_js(
        &page,
        "!document.getElementById('assent-prefs') && assent.choice()",
    )
    .await;
    wait_iframe_loaded(&page).await;
    assert!(eval_bool(&page, "window.demoAnalytics === undefined").await);
    assert_eq!(cookie_names(&ctx).await, ["assent_consent"]);
    let subject = subject_with_receipt(&page).await;
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs[0]["action"], "custom");
    assert_eq!(recs[0]["channel"], "banner");
    assert_eq!(
        recs[0]["choices"],
        assent_cdp::json!({"necessary": true, "functional": true, "performance": false})
    );
    no_errors(&page).await;
    ctx.close().await.unwrap();

    // --- Withdraw from "Manage my cookies": the listed cookies are deleted, wildcards included.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    let subject = subject_with_receipt(&page).await;
    visit(&page, &page2).await; // a later page, where the trackers run again
    eval(
        &page,
        "localStorage.setItem('_ga_X', '1'); localStorage.setItem('mine', '1')",
    )
    .await;
    assert_eq!(
        cookie_names(&ctx).await,
        ["_ga", "_ga_CALLKOM", "assent_consent"]
    );
    click(&page, "footer [data-assent-manage]").await;
    wait_js(
        &page,
        "document.querySelector('#assent-prefs [data-assent-action=reject-all]')",
    )
    .await;
    click(&page, "#assent-prefs [data-assent-action=reject-all]").await;
    wait_js(&page, "!document.getElementById('assent-prefs')").await;
    wait_js(&page, "!/(^|; )_ga/.test(document.cookie)").await;
    assert_eq!(
        cookie_names(&ctx).await,
        ["assent_consent"],
        "_ga and _ga_* deleted"
    );
    assert!(
        eval_bool(
            &page,
            "localStorage.getItem('_ga_X') === null && localStorage.getItem('mine') === '1'"
        )
        .await
    );
    assert!(eval_bool(&page, "!assent.hasConsent('performance')").await);
    wait_js(&page, "assent.choice().receipt").await;
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (recs[1]["action"].as_str(), recs[1]["channel"].as_str()),
        (Some("withdraw"), Some("preferences"))
    );
    // The blocked iframe returns to its placeholder on withdrawal (on the home page).
    visit(&page, &home).await;
    assert!(no_banner(&page).await);
    assert!(iframe_blocked(&page).await);
    assert!(eval_bool(&page, "window.demoAnalytics === undefined").await);
    ctx.close().await.unwrap();

    // --- The placeholder's "Allow" button grants its purpose only.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    click(&page, ".assent-ph [data-assent-allow=functional]").await;
    wait_iframe_loaded(&page).await;
    assert!(eval_bool(&page, "assent.hasConsent('functional') && !assent.hasConsent('performance') && window.demoAnalytics === undefined && !document.getElementById('assent-banner')").await);
    ctx.close().await.unwrap();

    // --- Languages: the page's lang decides; closing (×) is a refusal.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &app.url("/demo/?lang=fr")).await;
    assert!(banner_shown(&page).await);
    assert!(eval_bool(&page, "document.getElementById('assent-banner-t').textContent==='Les cookies sur Callkom' && document.getElementById('assent-banner').lang==='fr'").await);
    assert!(eval_bool(&page, "document.querySelector('#assent-banner [data-assent-action=reject-all]').textContent==='Tout refuser'").await);
    // The second layer in French too, from the same response (lifetimes formatted by Intl: the
    // space before the unit may be a no-break space, hence the replace).
    customize(&page).await;
    assert_prefs_show(
        &page,
        &[
            "Base légale Intérêt légitime",
            "Google Analytics 4 · Google Ireland Limited: _ga (13 mois), _ga_* (13 mois)",
            "ai_session (30 minutes)",
            "Toujours actifs",
        ],
    )
    .await;
    dismiss_prefs(&page).await;
    click(&page, "#assent-banner [data-assent-action=close]").await;
    assert_recorded(&app, &page, "reject_all", "fr").await;
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// A third language: German

/// The configuration `C` of a `/assent.js` body (`((S,C,f)=>f(C,S))(<css>,<C>,function...`).
fn config_of(body: &str) -> Value {
    let start = body.find(",{\"a\":").unwrap() + 1;
    let end = body.find(",function(C,S){").unwrap();
    serde_json::from_str(&body[start..end]).unwrap()
}

/// What a German visitor (by `Accept-Language`, or by the page's `lang` parameter) gets from
/// the one `/assent.js` response: German only. The catalogue's German UI strings, the
/// registry's German names and site texts, German legal bases; no English or French text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn german_visitor_gets_german_texts_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let get = |path: &str, accept_language: &str| {
        let req = app
            .client
            .get(app.url(path))
            .header("accept-language", accept_language);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let body = get(SCRIPT, "de-DE,de;q=0.9,en;q=0.8").await;
    assert_eq!(body, get("/assent.js?site=callkom&lang=de", "fr").await);
    for other in [
        "Accept all",
        "Refuse all",
        "Tout accepter",
        "Tout refuser",
        "Cookies on Callkom",
        "Les cookies sur Callkom",
        "Consentement",
        "Legitimate interest",
        "Strictly necessary",
        "Fonctionnels",
    ] {
        assert!(!body.contains(other), "{other} in the German response");
    }
    let c = config_of(&body);
    assert_eq!(c["l"], serde_json::json!(["de"]));
    assert_eq!(c["t"].as_array().unwrap().len(), 1);
    let de = c["t"][0].as_array().unwrap();
    let en = config_of(&get(SCRIPT, "en").await)["t"][0].clone();
    let fr = config_of(&get(SCRIPT, "fr").await)["t"][0].clone();
    let catalogue: Value =
        serde_json::from_str(include_str!("../assets/banner/texts.json")).unwrap();
    // The script's own order of its UI strings.
    let keys = assent_server::banner::config::UI_KEYS;
    assert_eq!(de.len(), keys.len());
    for (i, k) in keys.iter().enumerate() {
        let got = de[i].as_str().unwrap();
        let want = match *k {
            "title" => "Cookies auf Callkom".to_owned(),
            "body" => "Wir verwenden Cookies, um unsere Website zu betreiben".to_owned(),
            "gpc" => String::new(), // no GPC purpose on Callkom: no notice in any language
            "prefsBody" => catalogue["de"][k]
                .as_str()
                .unwrap()
                .replace("{period}", "6 Monate"),
            _ => catalogue["de"][k].as_str().unwrap().to_owned(),
        };
        assert!(got.starts_with(&want), "de.{k}: {got:?}, wanted {want:?}");
        if !got.is_empty() {
            assert_ne!(got, en[i], "de.{k} reads as English");
            assert_ne!(got, fr[i], "de.{k} reads as French");
        }
    }
    assert_eq!(
        [&de[8], &de[9], &de[3]],
        ["Alle akzeptieren", "Alle ablehnen", "Einstellungen"]
    );
    // Purpose names and legal bases: one string each, German.
    let names: Vec<&str> = c["p"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[3].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Unbedingt erforderlich", "Funktional", "Leistung"]);
    assert_eq!(
        c["b"],
        serde_json::json!(["Berechtigtes Interesse", "Einwilligung"])
    );
    app.stop().await;
}

/// The German demo page shows the banner and the preferences in German, and the consent is
/// recorded in German.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn german_demo_page() {
    let (app, browser, ctx, page) = on_demo_page(Backend::Sqlite, "/demo/?lang=de").await;
    assert!(eval_bool(&page, "document.getElementById('assent-banner-t').textContent==='Cookies auf Callkom' && document.getElementById('assent-banner').lang==='de'").await);
    let buttons = eval(
        &page,
        "[...document.querySelectorAll('#assent-banner .assent-bt button')].map(b=>b.textContent)",
    )
    .await;
    assert_eq!(
        buttons,
        serde_json::json!(["Alle akzeptieren", "Alle ablehnen", "Einstellungen"])
    );
    customize(&page).await;
    let text = &assert_prefs_show(
        &page,
        &[
            "Cookie-Einstellungen",
            "Rechtsgrundlage Berechtigtes Interesse",
            "Google Analytics 4 · Google Ireland Limited: _ga (13 Monate), _ga_* (13 Monate)",
            "ai_session (30 Minuten)",
            "Immer aktiv",
            "Auswahl speichern",
        ],
    )
    .await;
    for s in [
        "Legal basis",
        "Base légale",
        "Always active",
        "Toujours actifs",
        "months",
        "mois",
    ] {
        assert!(!text.contains(s), "{s} in the German preferences: {text}");
    }
    dismiss_prefs(&page).await;
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    assert_recorded(&app, &page, "accept_all", "de").await;
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// Browser: keyboard only

async fn active(page: &Page) -> String {
    eval(
        page,
        "(a=>a.dataset.assentAction||a.dataset.assentPurpose||(a.closest('#assent-prefs')?'prefs:':'')+a.tagName.toLowerCase())(document.activeElement)",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// Whether the focus is in the banner, in the preferences dialog.
const IN_BANNER: &str = "document.activeElement.closest('#assent-banner') !== null";
const IN_PREFS: &str = "document.activeElement.closest('#assent-prefs') !== null";

async fn tab_to(page: &Page, target: &str, max: usize) {
    for _ in 0..max {
        page.press_key("Tab").await.unwrap();
        if active(page).await == target {
            return;
        }
    }
    panic!("{target} not reached with Tab");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only() {
    let (app, browser, ctx, page) = on_demo_page(Backend::Sqlite, "/demo/").await;
    // The banner comes first in the tab order: its link, then the three choices.
    page.press_key("Tab").await.unwrap();
    assert!(eval_bool(&page, IN_BANNER).await);
    tab_to(&page, "customize", 4).await;
    assert!(
        eval_bool(
            &page,
            "getComputedStyle(document.activeElement).outlineStyle === 'solid'"
        )
        .await,
        "visible focus"
    );
    page.press_key("Enter").await.unwrap();
    wait_js(&page, "document.getElementById('assent-s2d')").await;
    assert!(
        eval_bool(&page, IN_PREFS).await,
        "focus moved into the dialog"
    );
    // Focus stays inside the modal dialog, forwards and backwards.
    let mut seen = vec![];
    for _ in 0..25 {
        page.press_key("Tab").await.unwrap();
        assert!(eval_bool(&page, IN_PREFS).await, "focus escaped the dialog");
        seen.push(active(&page).await);
    }
    assert!(
        seen.contains(&"save".to_string()) && seen.contains(&"dismiss".to_string()),
        "{seen:?}"
    );
    for _ in 0..5 {
        page.press_key_with("Tab", Modifiers::SHIFT).await.unwrap();
        assert!(eval_bool(&page, IN_PREFS).await, "focus escaped backwards");
    }
    // Escape closes the preferences: back to the first layer, focus restored on "Customize".
    page.press_key("Escape").await.unwrap();
    wait_js(&page, "!document.getElementById('assent-prefs') && !document.getElementById('assent-banner').hidden").await;
    assert_eq!(active(&page).await, "customize");
    // Again, then Space toggles a switch and Enter saves.
    page.press_key("Enter").await.unwrap();
    wait_js(&page, "document.getElementById('assent-s2d')").await;
    tab_to(&page, "performance", 25).await;
    page.press_key("Space").await.unwrap();
    assert!(
        eval_bool(
            &page,
            "document.querySelector('#assent-prefs input[data-assent-purpose=performance]').checked"
        )
        .await
    );
    tab_to(&page, "save", 25).await;
    page.press_key("Enter").await.unwrap();
    wait_js(&page, "window.demoAnalytics === 1").await;
    assert!(eval_bool(&page, "!assent.hasConsent('functional') && !document.getElementById('assent-prefs') && !document.getElementById('assent-banner')").await);
    // The manage link works from the keyboard too; Escape closes it without a new choice.
    eval(
        &page,
        "document.querySelector('footer [data-assent-manage]').focus()",
    )
    .await;
    page.press_key("Enter").await.unwrap();
    wait_js(&page, "document.activeElement.closest('#assent-prefs')").await;
    page.press_key("Escape").await.unwrap();
    wait_js(&page, "!document.getElementById('assent-prefs')").await;
    assert!(eval_bool(&page, "document.activeElement.hasAttribute('data-assent-manage') && !document.getElementById('assent-banner')").await);
    no_errors(&page).await;
    ctx.close().await.unwrap();

    // Escape on the first layer is a refusal.
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &app.url("/demo/")).await;
    assert!(banner_shown(&page).await);
    tab_to(&page, "accept-all", 4).await;
    page.press_key("Escape").await.unwrap();
    let subject = subject_with_receipt(&page).await;
    assert_eq!(
        ledger(&app, "callkom", &subject).await[0]["action"],
        "reject_all"
    );
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// Browser: integration mistakes speak in the console; the change event carries the receipt

/// Records `console.error` calls in `window.__cerr` (before any page script).
const CONSOLE_ERRORS: &str = "window.__cerr=[];{const e=console.error;console.error=(...a)=>{__cerr.push(a.map(String).join(' '));e.apply(console,a)}}";
/// Records `assent:change` details in `window.__changes`.
const CHANGES: &str =
    "window.__changes=[];document.addEventListener('assent:change',e=>__changes.push(e.detail))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_mistakes_are_reported_in_the_console() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let assent = app.url("");
    // A page of the integrator on an origin that is not among the site's `domains` (another
    // port of 127.0.0.1), and one that names an unknown site.
    let base = assent.clone();
    let page_addr = assent_testkit::http::serve(
        "127.0.0.1:0",
        std::sync::Arc::new(move |req: &assent_testkit::http::Request| {
            let site = if req.path() == "/unknown" { "nope" } else { "callkom" };
            assent_testkit::http::Response::html(format!(
                "<!doctype html><html lang=en><head><script src=\"{base}/assent.js?site={site}\"></script>\
                 <script type=text/plain data-assent-purpose=performance>window.ran=1</script></head>\
                 <body><a href=# data-assent-manage>Manage my cookies</a></body></html>"
            ))
        }),
    )
    .await;
    let foreign = format!("http://127.0.0.1:{}", page_addr.port());
    let browser = launch(None).await;

    // --- An unknown site: one clear error, no `assent`, nothing released.
    let (ctx, page) = fresh(&browser, &[CONSOLE_ERRORS]).await;
    visit(&page, &format!("{foreign}/unknown")).await;
    wait_js(&page, "__cerr.length").await;
    let errs = eval(&page, "__cerr").await;
    assert_eq!(errs.as_array().unwrap().len(), 1, "{errs}");
    assert!(
        errs[0].as_str().unwrap().contains("unknown site \"nope\""),
        "{errs}"
    );
    assert!(eval_bool(&page, "typeof assent === 'undefined' && !window.ran").await);
    ctx.close().await.unwrap();

    // --- A foreign origin: the choice applies on the page, but the POST is refused by CORS;
    // one error names the origin's host and the setting, and the event says "no receipt".
    let (ctx, page) = fresh(&browser, &[CONSOLE_ERRORS, CHANGES]).await;
    visit(&page, &format!("{foreign}/")).await;
    assert!(banner_shown(&page).await);
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "__changes.length").await;
    assert!(eval_bool(&page, "window.ran === 1 && __changes.length === 1 && __changes[0].receipt === null && !assent.choice().receipt").await);
    let errs = eval(&page, "__cerr").await;
    let errs = errs.as_array().unwrap();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = errs[0].as_str().unwrap();
    for part in [
        "NOT recorded",
        &format!("this page's origin is {foreign}"),
        "\"127.0.0.1\"",
        "`domains`",
        "site \"callkom\"",
        "docs/banner.md",
    ] {
        assert!(e.contains(part), "{part} missing from: {e}");
    }
    let subject = eval(&page, "assent.choice().subject").await;
    assert!(
        ledger(&app, "callkom", subject.as_str().unwrap())
            .await
            .is_empty()
    );
    ctx.close().await.unwrap();

    // --- A listed origin (Assent's own, the demo): the event carries the receipt, once; no
    // console error.
    let (ctx, page) = fresh(&browser, &[CONSOLE_ERRORS, CHANGES]).await;
    visit(&page, &app.url("/demo/")).await;
    assert!(banner_shown(&page).await);
    eval(&page, "assent.onChange(c => window.__viaApi = c)").await;
    // The ×'s accessible name is its visible label (the × itself is hidden from assistive
    // technology): label in name, WCAG 2.5.3.
    let ax = page
        .call("Accessibility.getFullAXTree", assent_cdp::json!({}))
        .await
        .unwrap();
    let names: Vec<&str> = ax["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"]["value"] == "button")
        .filter_map(|n| n["name"]["value"].as_str())
        .collect();
    assert!(names.contains(&"Close (refuses all)"), "{names:?}");
    assert!(eval_bool(&page, "(b => !b.hasAttribute('aria-label') && b.innerText.replace('×', '').trim() === 'Close (refuses all)')(document.querySelector('#assent-banner .assent-x'))").await);
    click(&page, "#assent-banner [data-assent-action=reject-all]").await;
    wait_js(&page, "__changes.length").await;
    assert!(eval_bool(&page, "__changes.length === 1 && typeof __changes[0].receipt === 'string' && __changes[0].receipt === assent.choice().receipt && __viaApi.receipt === __changes[0].receipt && __changes[0].choices.performance === false").await);
    assert_eq!(eval(&page, "__cerr").await, Value::Array(vec![]));
    // A returning visitor sees no first layer, so nothing was fetched: "Manage my cookies"
    // opens the preferences at once, and the details are filled in when they arrive.
    visit(&page, &app.url("/demo/page2")).await;
    assert!(no_banner(&page).await);
    assert!(
        eval_bool(
            &page,
            "!performance.getEntriesByType('resource').some(e=>e.name.includes('/assent-details'))"
        )
        .await
    );
    click(&page, "[data-assent-manage]").await;
    assert!(eval_bool(&page, "!!document.getElementById('assent-prefs')").await);
    wait_js(
        &page,
        "document.getElementById('assent-s2i').textContent.includes('If you refuse:')",
    )
    .await;
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// Browser: policy versions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_versions_ask_again_only_when_material() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let browser = launch(None).await;
    let home = app.url("/demo/");
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &home).await;
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    subject_with_receipt(&page).await;

    // A wording-only version: not asked again; the stored choice still applies.
    let wording =
        registry_with(|s| s.replace("Remember your preferences", "Remembers your preferences"));
    let (s, v) = json(
        app.admin_post("/admin/v1/registry", wording.clone(), "application/toml")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["requires_fresh_consent"], false, "{v}");
    visit(&page, &home).await;
    assert!(eval_bool(&page, "window.demoAnalytics === 1").await);
    assert!(no_banner(&page).await, "asked again after a wording change");

    // A material version (a new service): asked again, and nothing runs until then.
    let material = wording.clone()
        + r#"
[[services]]
id = "intercom"
name = "Intercom"
provider = "Intercom R&D Unlimited Company"
purposes = ["functional"]
description.en = "Live chat."
description.fr = "Messagerie instantanée."
description.de = "Live-Chat."
privacy_policy = "https://www.intercom.com/legal/privacy"
country = "IE"
"#;
    let (s, v) = json(
        app.admin_post("/admin/v1/registry", material, "application/toml")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["requires_fresh_consent"], true, "{v}");
    visit(&page, &home).await;
    assert!(
        banner_shown(&page).await,
        "not asked again after a material change"
    );
    assert!(eval_bool(&page, "window.demoAnalytics === undefined && !assent.hasConsent('performance') && assent.choice() === null").await);
    let subject_before = eval(&page, "document.cookie").await;
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    let subject = subject_with_receipt(&page).await;
    assert!(
        subject_before.as_str().unwrap().contains(&subject),
        "the subject id is kept across versions"
    );
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["policy_version"], 3);
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// Browser: subdomains share the choice; GPC

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subdomains_and_gpc() {
    let reg = registry_with(|s| {
        s.replace(
            r#"domains = ["callkom.io", "www.callkom.io", "app.callkom.io", "integration.callkom.io"]"#,
            r#"domains = ["www.callkom.test", "app.callkom.test"]"#,
        )
        .replace(r#"cookie_domain = ".callkom.io""#, r#"cookie_domain = ".callkom.test""#)
            + r#"
[[purposes]]
id = "advertising"
name.en = "Advertising"
name.fr = "Publicité"
name.de = "Werbung"
description.en = "Advertising measured and personalised by our partners."
description.fr = "Publicité mesurée et personnalisée par nos partenaires."
description.de = "Von unseren Partnern gemessene und personalisierte Werbung."
legal_basis = "consent"
gpc = true
consent_mode = ["ad_storage", "ad_user_data", "ad_personalization"]
"#
    });
    assert!(reg.contains("www.callkom.test"));
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            registry_src: reg,
            ..Options::default()
        },
    )
    .await;
    let port = app.addr.port();
    let browser = launch(Some(
        "MAP www.callkom.test 127.0.0.1, MAP app.callkom.test 127.0.0.1",
    ))
    .await;

    // --- One choice on www, honoured on app (the cookie is on .callkom.test).
    let (ctx, page) = fresh(&browser, &[]).await;
    visit(&page, &format!("http://www.callkom.test:{port}/demo/")).await;
    assert!(banner_shown(&page).await);
    assert!(
        eval_bool(&page, "!document.querySelector('.assent-g')").await,
        "no GPC notice without GPC"
    );
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    let subject = subject_with_receipt(&page).await;
    let cookie = ctx
        .cookies()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "assent_consent")
        .unwrap();
    assert_eq!(cookie.domain, ".callkom.test");
    assert!(cookie.expires_at_ms().is_some(), "a persistent cookie");
    visit(&page, &format!("http://app.callkom.test:{port}/demo/page2")).await;
    assert!(no_banner(&page).await, "the subdomain asked again");
    assert!(
        eval_bool(
            &page,
            &format!(
                "window.demoAnalytics === 1 && assent.choice().subject === {}",
                js_string(&subject)
            )
        )
        .await
    );
    assert!(
        eval_bool(&page, "assent.hasConsent('advertising')").await,
        "advertising granted without GPC"
    );
    ctx.close().await.unwrap();

    // --- GPC: advertising refused and locked, recorded with method gpc, and the banner says so.
    let gpc = "Object.defineProperty(Navigator.prototype,'globalPrivacyControl',{get:()=>true})";
    let (ctx, page) = fresh(&browser, &[gpc]).await;
    visit(&page, &format!("http://www.callkom.test:{port}/demo/")).await;
    assert!(banner_shown(&page).await);
    assert!(eval_bool(&page, "!!document.querySelector('#assent-banner .assent-g') && document.querySelector('#assent-banner .assent-g').textContent.includes('Global Privacy Control')").await);
    click(&page, "#assent-banner [data-assent-action=customize]").await;
    wait_js(&page, "document.getElementById('assent-s3d')").await;
    assert!(eval_bool(&page, "(i=>i.disabled && !i.checked)(document.querySelector('#assent-prefs input[data-assent-purpose=advertising]'))").await);
    click(&page, "#assent-prefs [data-assent-action=accept-all]").await;
    let subject = subject_with_receipt(&page).await;
    assert!(eval_bool(&page, "!assent.hasConsent('advertising') && assent.hasConsent('performance') && assent.choice().choices.advertising === false").await);
    let upd = consent_calls(&page)
        .await
        .into_iter()
        .rev()
        .find(|c| c.0 == "update")
        .unwrap()
        .1;
    assert_eq!(
        (
            upd["ad_storage"].as_str(),
            upd["analytics_storage"].as_str()
        ),
        (Some("denied"), Some("granted"))
    );
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs[0]["method"], "gpc");
    assert_eq!(recs[0]["action"], "accept_all");
    assert_eq!(recs[0]["choices"]["advertising"], false);
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the accept flow

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_flow_on_postgres() {
    let (app, browser, ctx, page) = on_demo_page(Backend::Postgres, "/demo/").await;
    assert_eq!(cookie_names(&ctx).await, Vec::<String>::new());
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    let recs = records(&app, &page).await;
    assert_eq!(
        (recs.len(), recs[0]["action"].as_str()),
        (1, Some("accept_all"))
    );
    close_all(ctx, browser, app).await;
}

/// Counts the page's `fetch` calls to the revalidation of a receipt (`window.__state`).
const COUNT_STATE: &str = "window.__state=0;{const f=window.fetch;window.fetch=(...a)=>{if(String(a[0]).includes('/state?'))__state++;return f(...a)}}";

/// How many times the page asked for the revalidation of its receipt, and, once its
/// resource timing entry is there, the transfer size of the answer (0: the browser's cache).
async fn state_fetches(page: &Page) -> (u64, u64) {
    let n = eval(page, "window.__state || 0").await.as_u64().unwrap();
    if n == 0 {
        return (0, 0);
    }
    let entry = "performance.getEntriesByType('resource').filter(e=>e.name.includes('/state?'))";
    wait_js(page, &format!("{entry}.length")).await;
    let size = eval(page, &format!("{entry}.at(-1).transferSize")).await;
    (n, size.as_u64().unwrap())
}

/// Issue 17, item 9: a withdrawal recorded on the server (a rights request, verified by the
/// DPO) reaches the browser. The stored choice is revalidated before the page's gated scripts
/// run; the answer is cached for a day; when the server says the choice was withdrawn, the
/// grants and the cookie go, the gated script does not run and Consent Mode is denied again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_recorded_on_the_server_reaches_the_browser() {
    let (app, browser, ctx, page) = on_demo_page(Backend::Sqlite, "/demo/").await;
    page.add_init_script(COUNT_STATE).await.unwrap();
    let home = app.url("/demo/");
    click(&page, "#assent-banner [data-assent-action=accept-all]").await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    let subject = subject_with_receipt(&page).await;
    let receipt = eval(&page, "assent.choice().receipt").await;
    let receipt = receipt.as_str().unwrap().to_owned();
    assert_eq!(
        state_fetches(&page).await.0,
        0,
        "no revalidation before a choice"
    );

    // With the browser's cache on: the next page asks once, the one after reads the cache.
    page.call(
        "Network.setCacheDisabled",
        assent_cdp::json!({"cacheDisabled": false}),
    )
    .await
    .unwrap();
    visit(&page, &home).await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    let (n, size) = state_fetches(&page).await;
    assert!(n == 1 && size > 0, "asked the server: {n} fetch, {size} B");
    visit(&page, &home).await;
    wait_js(&page, "window.demoAnalytics === 1").await;
    assert_eq!(
        state_fetches(&page).await,
        (1, 0),
        "answered from the cache"
    );
    assert!(no_banner(&page).await);

    // The visitor withdraws consent by a rights request with their receipt; the DPO verifies it.
    let (s, v) = json(
        app.post_json(
            "/v1/requests",
            &serde_json::json!({"site": "callkom", "type": "withdraw_consent",
                "email": "w@example.org", "name": "Wanda", "details": "Withdraw my consent.",
                "receipt": receipt, "language": "en"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let (_, list) = json(app.admin_get("/admin/v1/requests?status=received").await).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .admin_post(
            &format!("/admin/v1/requests/{id}/verify"),
            serde_json::json!({"note": "identity checked by phone"}).to_string(),
            "application/json",
        )
        .await;
    assert_eq!(r.status(), 200);
    let recs = ledger(&app, "callkom", &subject).await;
    assert_eq!(recs.last().unwrap()["action"], "withdraw");

    // The next page (once /assent.js is fresh again: its own cache lasts 5 minutes) carries the
    // new epoch, asks again, and drops the choice before the gated script could run.
    page.call(
        "Network.setCacheDisabled",
        assent_cdp::json!({"cacheDisabled": true}),
    )
    .await
    .unwrap();
    visit(&page, &home).await;
    wait_js(&page, "!document.cookie.includes('assent_consent')").await;
    assert!(
        eval_bool(&page, "window.demoAnalytics === undefined").await,
        "the gated script ran after the withdrawal"
    );
    assert!(
        eval_bool(
            &page,
            "assent.choice() === null && !assent.hasConsent('performance')"
        )
        .await
    );
    let calls = consent_calls(&page).await;
    let last = &calls.last().unwrap().1;
    assert_eq!(last["analytics_storage"], "denied", "{calls:?}");
    assert!(
        !cookie_names(&ctx)
            .await
            .contains(&"assent_consent".to_string())
    );
    no_errors(&page).await;
    // The page after that asks again (the first layer), and runs nothing gated.
    visit(&page, &home).await;
    assert!(banner_shown(&page).await);
    assert!(eval_bool(&page, "window.demoAnalytics === undefined").await);
    close_all(ctx, browser, app).await;
}

// ---------------------------------------------------------------------------------------------
// Documentation screenshots (only with ASSENT_BANNER_SHOTS=<dir>)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots() {
    let Ok(dir) = std::env::var("ASSENT_BANNER_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let app = TestApp::spawn(Backend::Sqlite).await;
    let browser = launch(None).await;
    for lang in ["en", "fr"] {
        let (ctx, page) = fresh(&browser, &[]).await;
        visit(&page, &app.url(&format!("/demo/?lang={lang}"))).await;
        assert!(banner_shown(&page).await);
        tokio::time::sleep(Duration::from_millis(400)).await; // the entrance animation
        std::fs::write(
            dir.join(format!("banner-first-layer-{lang}.png")),
            page.screenshot_png().await.unwrap(),
        )
        .unwrap();
        click(&page, "#assent-banner [data-assent-action=customize]").await;
        wait_js(&page, "document.getElementById('assent-s2i').textContent").await;
        eval(&page, "document.querySelectorAll('#assent-prefs details').forEach(d => d.open = true); document.activeElement.blur()").await;
        page.call(
            "Input.dispatchMouseEvent",
            assent_cdp::json!({"type": "mouseMoved", "x": 1, "y": 1}),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        std::fs::write(
            dir.join(format!("banner-preferences-{lang}.png")),
            page.screenshot_png().await.unwrap(),
        )
        .unwrap();
        ctx.close().await.unwrap();
    }
    browser.close().await.unwrap();
    app.stop().await;
}
