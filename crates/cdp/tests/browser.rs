//! Browser tests: they drive a real Chromium (Debian's `chromium` package) and fail, never
//! skip, when it is missing.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use assent_cdp::{Browser, BrowserContext, CdpError, Cookie, LaunchOptions, Modifiers, Page, json};
use assent_testkit::{Request, Response, serve};

async fn launch(allow_third_party_cookies: bool) -> Browser {
    assent_testkit::launch(LaunchOptions {
        allow_third_party_cookies,
        ..LaunchOptions::default()
    })
    .await
}

fn site(req: &Request) -> Response {
    match req.path() {
        "/" => Response::html(
            "<!doctype html><title>Hello</title><h1>Hi</h1>\
             <script>document.cookie = 'js_cookie=1; path=/; max-age=600';</script>",
        )
        .header("Set-Cookie", "sid=abc; Path=/; HttpOnly")
        .header(
            "Set-Cookie",
            "pref=dark; Path=/; Max-Age=3600; SameSite=Lax",
        ),
        "/form" => Response::html(
            "<!doctype html><title>Form</title>\
             <input id=name><button id=b onclick=\"window.clicks=(window.clicks||0)+1\">Go</button>\
             <div id=far style=\"margin-top:3000px\"><button id=low onclick=\"window.low=event.isTrusted\">Low</button></div>\
             <script>document.addEventListener('keydown', e => { (window.keys = window.keys || []).push(e.key + (e.shiftKey ? '+shift' : '')); });</script>",
        ),
        _ => Response::not_found(),
    }
}

/// The test site on loopback, a browser, and a page showing `path` of it. Returns the site's
/// `http://host:port` too.
async fn browse(path: &str) -> (String, Browser, Page) {
    let addr = serve("127.0.0.1:0", Arc::new(site)).await;
    let browser = launch(false).await;
    let page = browser.new_page().await.unwrap();
    let base = format!("http://{addr}");
    page.navigate(&format!("{base}{path}")).await.unwrap();
    (base, browser, page)
}

#[tokio::test]
async fn launch_navigate_evaluate_and_cookies() {
    let addr = serve("127.0.0.1:0", Arc::new(site)).await;
    let browser = launch(false).await;
    assert!(browser.version().await.unwrap().contains('/'));
    let context = browser.new_context().await.unwrap();
    let page = context.new_page().await.unwrap();

    page.navigate(&format!("http://{addr}/")).await.unwrap();
    assert_eq!(
        page.evaluate("document.title").await.unwrap(),
        json!("Hello")
    );
    assert_eq!(
        page.evaluate("new Promise(r => setTimeout(() => r(6 * 7), 10))")
            .await
            .unwrap(),
        json!(42)
    );
    assert_eq!(page.evaluate("undefined").await.unwrap(), json!(null));
    match page.evaluate("throw new Error('boom')").await {
        Err(CdpError::JavaScript(m)) => assert!(m.contains("boom"), "{m}"),
        other => panic!("expected a JavaScript error, got {other:?}"),
    }
    assert_eq!(page.url().await.unwrap(), format!("http://{addr}/"));

    let cookies = context.cookies().await.unwrap();
    let sid = cookies
        .iter()
        .find(|c| c.name == "sid")
        .expect("sid cookie");
    assert!(sid.http_only, "HttpOnly cookie is seen with its flag");
    assert!(sid.session);
    assert_eq!(sid.domain, "127.0.0.1");
    let pref = cookies
        .iter()
        .find(|c| c.name == "pref")
        .expect("pref cookie");
    assert!(!pref.session && pref.expires_at_ms().is_some());
    assert!(cookies.iter().any(|c| c.name == "js_cookie"));
    // The page sees the same jar.
    assert_eq!(page.cookies().await.unwrap().len(), cookies.len());

    // Another context has its own, empty, jar.
    let other = browser.new_context().await.unwrap();
    assert!(other.cookies().await.unwrap().is_empty());
    other.close().await.unwrap();

    context.clear_cookies().await.unwrap();
    assert!(context.cookies().await.unwrap().is_empty());
    browser.close().await.unwrap();
}

#[tokio::test]
async fn navigation_errors_are_reported() {
    let browser = launch(false).await;
    let page = browser.new_page().await.unwrap();
    // Port 9 (discard) on loopback is closed.
    match page.navigate("http://127.0.0.1:9/").await {
        Err(CdpError::Navigation { error, .. }) => assert!(error.contains("ERR_"), "{error}"),
        other => panic!("expected a navigation error, got {other:?}"),
    }
    browser.close().await.unwrap();
}

#[tokio::test]
async fn screenshot_is_a_png() {
    let (_, browser, page) = browse("/form").await;
    page.set_viewport(640, 480).await.unwrap();
    let png = page.screenshot_png().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at offsets 16 and 20.
    assert_eq!(
        u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
        640
    );
    assert_eq!(
        u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
        480
    );
    let full = page.screenshot_png_full_page().await.unwrap();
    assert_eq!(&full[..8], b"\x89PNG\r\n\x1a\n");
    assert!(u32::from_be_bytes([full[20], full[21], full[22], full[23]]) > 3000);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn clicks_and_keys() {
    let (base, browser, page) = browse("/form").await;

    page.click("#b").await.unwrap();
    assert_eq!(page.evaluate("window.clicks").await.unwrap(), json!(1));
    page.click_real("#b").await.unwrap();
    assert_eq!(page.evaluate("window.clicks").await.unwrap(), json!(2));
    // A real click scrolls to the element and is trusted.
    page.click_real("#low").await.unwrap();
    assert_eq!(page.evaluate("window.low").await.unwrap(), json!(true));
    assert!(matches!(
        page.click("#missing").await,
        Err(CdpError::ElementNotFound(_))
    ));

    // Tab moves the focus to the input, typing fills it, Tab again to the button, Enter and
    // Space activate it.
    // A fresh document: the sequential focus starting point is the top again.
    page.navigate(&format!("{base}/form")).await.unwrap();
    page.press_key("Tab").await.unwrap();
    assert_eq!(focused_id(&page).await, json!("name"));
    page.type_text("Zoé").await.unwrap();
    page.press_key("x").await.unwrap();
    assert_eq!(
        page.evaluate("document.getElementById('name').value")
            .await
            .unwrap(),
        json!("Zoéx")
    );
    page.press_key("Tab").await.unwrap();
    assert_eq!(focused_id(&page).await, json!("b"));
    page.press_key("Enter").await.unwrap();
    page.press_key("Space").await.unwrap();
    assert_eq!(page.evaluate("window.clicks").await.unwrap(), json!(2));
    page.press_key_with("Tab", Modifiers::SHIFT).await.unwrap();
    assert_eq!(focused_id(&page).await, json!("name"));
    page.press_key("Escape").await.unwrap();
    let keys = page.evaluate("window.keys").await.unwrap();
    assert_eq!(
        keys,
        json!(["Tab", "x", "Tab", "Enter", " ", "Tab+shift", "Escape"])
    );
    assert!(matches!(
        page.press_key("NoSuchKey").await,
        Err(CdpError::UnknownKey(_))
    ));

    assert!(
        page.wait_for_selector("#b", Duration::from_secs(1))
            .await
            .unwrap()
    );
    page.evaluate(
        "setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p id=late></p>'), 100)",
    )
    .await
    .unwrap();
    assert!(
        page.wait_for_selector("#late", Duration::from_secs(5))
            .await
            .unwrap()
    );
    assert!(
        !page
            .wait_for_selector("#never", Duration::from_millis(100))
            .await
            .unwrap()
    );
    browser.close().await.unwrap();
}

#[tokio::test]
async fn events_are_filtered_by_session() {
    let addr = serve("127.0.0.1:0", Arc::new(site)).await;
    let browser = launch(false).await;
    let a = browser.new_page().await.unwrap();
    let b = browser.new_page().await.unwrap();
    a.enable_network().await.unwrap();
    b.enable_network().await.unwrap();
    let mut a_events = a.events();
    let mut all = browser.events();
    b.navigate(&format!("http://{addr}/")).await.unwrap();
    a.navigate(&format!("http://{addr}/form")).await.unwrap();
    let ev = a_events
        .wait_for("a response", Duration::from_secs(5), |e| {
            e.method == "Network.responseReceived"
        })
        .await
        .unwrap();
    assert_eq!(ev.session_id.as_deref(), Some(a.session_id()));
    assert!(
        ev.params["response"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/form")
    );
    // The unfiltered stream saw b's response too.
    let ev = all
        .wait_for("b's response", Duration::from_secs(5), |e| {
            e.method == "Network.responseReceived"
                && e.session_id.as_deref() == Some(b.session_id())
        })
        .await
        .unwrap();
    assert!(
        ev.params["response"]["url"]
            .as_str()
            .unwrap()
            .ends_with('/')
    );
    while let Some(e) = a_events.try_recv() {
        assert_eq!(e.session_id.as_deref(), Some(a.session_id()));
    }
    a.close().await.unwrap();
    browser.close().await.unwrap();
}

/// A top page on 127.0.0.1 embedding an iframe from 127.0.0.2 (another site) that sets a
/// cookie by header and one by script.
async fn cross_site_pair() -> (String, String) {
    let third = serve(
        "127.0.0.2:0",
        Arc::new(|req: &Request| match req.path() {
            "/frame" => Response::html(
                "<!doctype html><script>document.cookie = 'tp_js=1; path=/; max-age=600; SameSite=None; Secure';</script>",
            )
            .header("Set-Cookie", "tp_header=1; Path=/; Max-Age=600; SameSite=None; Secure"),
            _ => Response::not_found(),
        }),
    )
    .await;
    let frame_url = format!("http://{third}/frame");
    let url = frame_url.clone();
    let first = serve(
        "127.0.0.1:0",
        Arc::new(move |_req: &Request| {
            Response::html(format!(
                "<!doctype html><title>top</title><iframe src=\"{url}\"></iframe>"
            ))
        }),
    )
    .await;
    (format!("http://{first}/"), frame_url)
}

/// The id of the focused element.
async fn focused_id(page: &Page) -> assent_cdp::Value {
    page.evaluate("document.activeElement.id").await.unwrap()
}

/// The top page of [`cross_site_pair`], and a browser (third-party cookies allowed or not) with
/// a page in a new context.
async fn cross_site_in_a_context(allow: bool) -> (String, Browser, BrowserContext, Page) {
    let (top, _) = cross_site_pair().await;
    let browser = launch(allow).await;
    let context = browser.new_context().await.unwrap();
    let page = context.new_page().await.unwrap();
    (top, browser, context, page)
}

fn cookie_names(cookies: Vec<Cookie>) -> Vec<String> {
    cookies.into_iter().map(|c| c.name).collect()
}

#[tokio::test]
async fn third_party_cookies_are_stored_when_allowed() {
    // In a separate context (what the scanner uses) and in the default one.
    let (top, browser, context, page) = cross_site_in_a_context(true).await;
    page.navigate(&top).await.unwrap();
    let cookies = context.cookies().await.unwrap();
    let names: Vec<_> = cookies
        .iter()
        .map(|c| (c.name.as_str(), c.domain.as_str()))
        .collect();
    assert!(
        names.contains(&("tp_header", "127.0.0.2")),
        "{names:?}\n{}",
        browser.stderr_tail()
    );
    assert!(names.contains(&("tp_js", "127.0.0.2")), "{names:?}");

    let page = browser.new_page().await.unwrap();
    page.navigate(&top).await.unwrap();
    let names = cookie_names(browser.cookies().await.unwrap());
    assert!(names.contains(&"tp_header".to_owned()), "{names:?}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn third_party_cookies_are_blocked_with_default_settings() {
    // The control experiment: without the profile preference, Chromium refuses them, so the
    // test above shows that the preference is what lets them through.
    let (top, browser, context, page) = cross_site_in_a_context(false).await;
    page.enable_network().await.unwrap();
    let mut events = page.events();
    page.navigate(&top).await.unwrap();
    let names = cookie_names(context.cookies().await.unwrap());
    assert!(!names.contains(&"tp_header".to_owned()), "{names:?}");
    // The refusal is visible in the protocol.
    let ev = events
        .wait_for("a blocked cookie", Duration::from_secs(5), |e| {
            e.method == "Network.responseReceivedExtraInfo"
                && e.params["blockedCookies"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
        })
        .await
        .unwrap();
    let line = ev.params["blockedCookies"][0]["cookieLine"]
        .as_str()
        .unwrap();
    assert!(line.starts_with("tp_header=1"), "{line}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_browser_that_dies_at_start_up_is_reported_with_its_stderr() {
    let dir = std::env::temp_dir().join(format!("assent-cdp-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("fake-chromium");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'fatal: no display here' >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = Browser::launch(LaunchOptions {
        executable: Some(fake.clone()),
        ..LaunchOptions::default()
    })
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("exited during start-up"), "{msg}");
    assert!(msg.contains("fatal: no display here"), "{msg}");

    // One that never writes DevToolsActivePort times out within the bound.
    std::fs::write(&fake, "#!/bin/sh\necho 'hanging' >&2\nexec sleep 30\n").unwrap();
    let started = std::time::Instant::now();
    let err = Browser::launch(LaunchOptions {
        executable: Some(fake.clone()),
        launch_timeout: Duration::from_millis(500),
        ..LaunchOptions::default()
    })
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = err.to_string();
    assert!(
        msg.contains("did not write") && msg.contains("hanging"),
        "{msg}"
    );

    let err = Browser::launch(LaunchOptions {
        executable: Some(dir.join("missing")),
        ..LaunchOptions::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, CdpError::ChromiumNotFound { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_profile_is_removed_on_close_and_on_drop() {
    let browser = launch(true).await;
    let dir = browser.profile_dir().unwrap().to_path_buf();
    assert!(dir.join("Default/Preferences").is_file());
    browser.close().await.unwrap();
    assert!(!dir.exists(), "{dir:?} removed on close");

    let browser = launch(false).await;
    let dir = browser.profile_dir().unwrap().to_path_buf();
    assert!(dir.join("DevToolsActivePort").is_file());
    drop(browser);
    assert!(!dir.exists(), "{dir:?} removed on drop");
}
