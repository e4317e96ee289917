#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The DPO console in real headless Chromium against the real server (SQLite), issue 18: log
//! in (with Chromium's own Origin and Sec-Fetch headers: the referrer policy no longer makes
//! them `null`), a wrong password, every request action from the forms (an attachment
//! uploaded, a wrong file type refused), a forged CSRF token, an auditor's forged form
//! refused, an expired session (the injected clock), logout; axe-core (wcag2a, wcag2aa,
//! wcag21aa, wcag22aa, target-size) reports nothing on any console page at 1280 and 320 px;
//! the keyboard reaches every action of a request.
//!
//! `ASSENT_CONSOLE_SHOTS=docs/images cargo test -p assent-server --test console_browser`
//! also rewrites the screenshots of docs/admin.md.

mod common;

use std::time::Duration;

use assent_cdp::{BrowserContext, Page, Value, js_string, json};
use common::console::{PASSWORD, new_person};
use common::{Backend, TestApp};

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

/// Waits until the page that was current when `mark` ran has been replaced by a loaded one.
async fn next_document(page: &Page) {
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(Value::Bool(true)) = page
            .evaluate("window.__assentOld === undefined && document.readyState === 'complete'")
            .await
        {
            return;
        }
    }
    panic!("no new page after the form was sent");
}

async fn open(page: &Page, url: &str) {
    page.navigate(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
}

/// Fills `fields` (`selector`, value) and sends the form `form` as a person would (its
/// submit button clicked), then waits for the answer page.
async fn send(page: &Page, form: &str, fields: &[(&str, &str)]) {
    for (sel, v) in fields {
        let js = format!(
            "(() => {{ const el = document.querySelector({}); el.value = {}; return true; }})()",
            js_string(sel),
            js_string(v)
        );
        assert_eq!(eval(page, &js).await, Value::Bool(true), "{sel}");
    }
    eval(page, "window.__assentOld = true").await;
    let click = format!(
        "document.querySelector({}).querySelector('button[type=submit]').click()",
        js_string(form)
    );
    eval(page, &click).await;
    next_document(page).await;
}

async fn text(page: &Page) -> String {
    eval(page, "document.body.innerText")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn login(page: &Page, app: &TestApp, email: &str, password: &str) {
    open(page, &app.url("/admin/")).await;
    send(
        page,
        "form[action='/admin/login']",
        &[("#email", email), ("#password", password)],
    )
    .await;
}

/// axe at 1280 and 320 px, and a screenshot for the docs when asked.
async fn check_page(page: &Page, name: &str) {
    for width in [1280, 320] {
        page.set_viewport(width, 900).await.unwrap();
        let v = assent_testkit::axe::violations(page).await;
        assert!(v.is_empty(), "{name} at {width} px:\n{}", v.join("\n"));
    }
    page.set_viewport(1280, 900).await.unwrap();
    if let Ok(dir) = std::env::var("ASSENT_CONSOLE_SHOTS") {
        let png = page.screenshot_png_full_page().await.unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
            .join(format!("console-{name}.png"));
        std::fs::write(&path, png).unwrap();
    }
}

async fn submit_request(app: &TestApp, email: &str, name: &str) -> String {
    let ids = || async {
        let list: Value = app
            .admin_get("/admin/v1/requests?status=all")
            .await
            .json()
            .await
            .unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect::<Vec<String>>()
    };
    let before = ids().await;
    let body = json!({"site": "callkom", "type": "access", "email": email, "name": name, "details": "<img src=x onerror=alert(1)> my data please", "language": "en"});
    let r = app.post_json("/v1/requests", &body).await;
    assert_eq!(r.status(), 202);
    // The new request is the one that was not listed before.
    ids()
        .await
        .into_iter()
        .find(|id| !before.contains(id))
        .expect("the new request")
}

/// Sets the file of `<input type=file>` `selector` (DOM.setFileInputFiles).
async fn choose_file(page: &Page, selector: &str, path: &std::path::Path) {
    let r = page
        .call(
            "Runtime.evaluate",
            json!({"expression": format!("document.querySelector({})", js_string(selector))}),
        )
        .await
        .unwrap();
    let object = r["result"]["objectId"].as_str().unwrap().to_owned();
    page.call(
        "DOM.setFileInputFiles",
        json!({"files": [path.to_str().unwrap()], "objectId": object}),
    )
    .await
    .unwrap();
}

async fn new_page(ctx: &BrowserContext) -> Page {
    let page = ctx.new_page().await.unwrap();
    page.set_viewport(1280, 900).await.unwrap();
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dpo = new_person(&app, "dpo").await;
    let auditor = new_person(&app, "auditor").await;
    let admin = new_person(&app, "admin").await;
    let id = submit_request(&app, "zoe@example.org", "<script>alert('zoé')</script>").await;
    let browser = assent_testkit::launch(assent_cdp::LaunchOptions::default()).await;
    let ctx = browser.new_context().await.unwrap();
    let page = new_page(&ctx).await;

    // The login form, a wrong password, then the right one.
    open(&page, &app.url("/admin")).await;
    assert!(page.url().await.unwrap().ends_with("/admin/"));
    check_page(&page, "login").await;
    login(&page, &app, &dpo, "not my password").await;
    assert!(text(&page).await.contains("Wrong email, password or code."));
    login(&page, &app, &dpo, PASSWORD).await;
    let home = text(&page).await;
    assert!(home.contains("Dashboard") && home.contains(&dpo), "{home}");
    check_page(&page, "dashboard").await;

    // The queue and the request; hostile text shown as text.
    open(&page, &app.url("/admin/requests")).await;
    check_page(&page, "requests").await;
    let detail = app.url(&format!("/admin/requests/{id}"));
    open(&page, &detail).await;
    assert_eq!(
        eval(&page, "document.querySelectorAll('script, img').length").await,
        json!(0)
    );
    assert!(text(&page).await.contains("<script>alert('zoé')</script>"));
    check_page(&page, "request").await;

    // The keyboard reaches every action.
    let total = eval(&page, "document.querySelectorAll('main button, main textarea, main input:not([type=hidden])').length").await;
    let mut reached = std::collections::BTreeSet::new();
    for _ in 0..90 {
        page.press_key("Tab").await.unwrap();
        let v = eval(&page, "(() => { const a = document.activeElement; return a && a.closest('main') && a.matches('button, textarea, input') ? (a.id || a.closest('form').action + ' ' + a.textContent) : null })()").await;
        if let Value::String(s) = v {
            reached.insert(s);
        }
    }
    assert_eq!(json!(reached.len()), total, "{reached:?}");

    // A forged token is refused.
    eval(
        &page,
        "document.querySelector('form[action$=\"/note\"] input[name=csrf]').value = '0'.repeat(64)",
    )
    .await;
    send(&page, "form[action$='/note']", &[("#note", "forged")]).await;
    assert!(text(&page).await.contains("did not come from this console"));

    // Every action, from its form.
    open(&page, &detail).await;
    send(
        &page,
        "form[action$='/verify']",
        &[("#verify-note", "Passport seen at the front desk")],
    )
    .await;
    assert!(
        text(&page)
            .await
            .contains("The requester’s identity is verified.")
    );
    send(&page, "form[action$='/start']", &[]).await;
    assert!(
        text(&page)
            .await
            .contains("Work on the request has started.")
    );
    send(
        &page,
        "form[action$='/note']",
        &[("#note", "Asked IT for the CRM export")],
    )
    .await;
    assert!(text(&page).await.contains("The note is added."));

    // Fulfilment from its forms: a preview (nothing changes), the run, its package, a
    // restriction and its lifting, a rectification, the Art. 19 tasks.
    send(
        &page,
        "form[action$='/preview']",
        &[("#run-kind", "access")],
    )
    .await;
    assert!(
        text(&page).await.contains("Nothing has changed yet"),
        "{}",
        text(&page).await
    );
    check_page(&page, "preview").await;
    send(&page, "form[action$='/run']", &[]).await;
    assert!(
        text(&page).await.contains("The run is finished"),
        "{}",
        text(&page).await
    );
    assert_eq!(
        eval(&page, "!!document.querySelector('a[href$=\"/package\"]')").await,
        json!(true)
    );
    send(
        &page,
        "form[action$='/restrict']",
        &[("#restrict-reason", "Accuracy contested")],
    )
    .await;
    assert!(
        text(&page)
            .await
            .contains("The requester is on the restriction list."),
        "{}",
        text(&page).await
    );
    send(
        &page,
        "form[action*='/admin/restrictions/']",
        &[("#lift-1", "Accuracy checked")],
    )
    .await;
    assert!(
        text(&page).await.contains("The restriction is lifted."),
        "{}",
        text(&page).await
    );
    send(
        &page,
        "form[action$='/rectify']",
        &[("#rectify-changes", "name")],
    )
    .await;
    assert!(
        text(&page).await.contains("line 1"),
        "{}",
        text(&page).await
    );
    open(&page, &detail).await;
    send(
        &page,
        "form[action$='/rectify']",
        &[("#rectify-changes", "name = Zoé Martin")],
    )
    .await;
    assert!(
        text(&page).await.contains("The corrections are applied."),
        "{}",
        text(&page).await
    );
    for _ in 0..10 {
        if eval(
            &page,
            "!!document.querySelector('form[action*=\"/tasks/\"]')",
        )
        .await
            != json!(true)
        {
            break;
        }
        send(&page, "form[action*='/tasks/']", &[]).await;
        assert!(
            text(&page)
                .await
                .contains("The recipient is marked as told."),
            "{}",
            text(&page).await
        );
    }
    check_page(&page, "request-fulfilment").await;
    // The requester was told by phone at 16:25 Paris time, 12 minutes after the request.
    app.clock.advance_ms(20 * 60_000);
    send(
        &page,
        "form[action$='/extend']",
        &[
            ("#extend-reason", "Several systems to search"),
            ("#notified", "2026-09-21T16:25"),
        ],
    )
    .await;
    assert!(
        text(&page).await.contains("The deadline is extended."),
        "{}",
        text(&page).await
    );
    let dir = assent_testkit::TempDir::new("console-upload");
    let bad = dir.join("export.html");
    std::fs::write(&bad, "<html></html>").unwrap();
    choose_file(&page, "#attachment", &bad).await;
    send(
        &page,
        "form[action$='/complete']",
        &[("#message", "Here is your data.")],
    )
    .await;
    assert!(
        text(&page).await.contains("This file type is not accepted"),
        "{}",
        text(&page).await
    );
    open(&page, &detail).await;
    let good = dir.join("export.csv");
    std::fs::write(&good, "purpose,choice\nanalytics,granted\n").unwrap();
    choose_file(&page, "#attachment", &good).await;
    send(
        &page,
        "form[action$='/complete']",
        &[("#message", "Here is your data.")],
    )
    .await;
    assert!(
        text(&page).await.contains("The request is completed"),
        "{}",
        text(&page).await
    );
    let atts = app.state.store.rights_events(&id).await.unwrap();
    assert!(atts.iter().any(|e| e.kind == "completed"), "{atts:?}");

    // A request received by post, logged from its form: it waits for verification.
    open(&page, &app.url("/admin/requests/new")).await;
    check_page(&page, "intake").await;
    send(
        &page,
        "form[action='/admin/requests']",
        &[
            ("#in-site", "callkom"),
            ("#in-type", "erasure"),
            ("#in-channel", "post"),
            ("#in-received", "2026-09-20T09:30"),
            ("#in-name", "Paul <b>Post</b>"),
        ],
    )
    .await;
    assert!(
        text(&page).await.contains("The request is logged"),
        "{}",
        text(&page).await
    );
    assert!(text(&page).await.contains("Paul <b>Post</b>"));
    open(&page, &app.url("/admin/requests")).await;
    assert!(
        text(&page).await.contains("(waiting for 1 d)"),
        "{}",
        text(&page).await
    );

    let id2 = submit_request(&app, "yann@example.org", "Yann").await;
    open(&page, &app.url(&format!("/admin/requests/{id2}"))).await;
    send(
        &page,
        "form[action$='/reject']",
        &[("#reasons", "We hold no data about this address.")],
    )
    .await;
    assert!(text(&page).await.contains("The request is rejected"));

    // An expired session: 31 minutes idle.
    app.clock.advance_ms(31 * 60_000);
    open(&page, &app.url("/admin/requests")).await;
    assert!(page.url().await.unwrap().ends_with("/admin/"));
    assert_eq!(
        eval(&page, "!!document.querySelector('#password')").await,
        json!(true)
    );

    // An auditor sees no action, and a forged action form is refused.
    let ctx2 = browser.new_context().await.unwrap();
    let page2 = new_page(&ctx2).await;
    login(&page2, &app, &auditor, PASSWORD).await;
    let home = text(&page2).await;
    assert!(home.contains(&auditor), "{home}");
    let id3 = submit_request(&app, "x@example.org", "X").await;
    open(&page2, &app.url(&format!("/admin/requests/{id3}"))).await;
    assert_eq!(
        eval(
            &page2,
            "document.querySelectorAll('form[action*=\"/admin/requests/\"]').length"
        )
        .await,
        json!(0)
    );
    let forge = format!(
        "(() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = '/admin/requests/{id3}/start'; \
          const c = document.createElement('input'); c.type = 'hidden'; c.name = 'csrf'; c.value = document.querySelector('input[name=csrf]').value; \
          f.appendChild(c); const b = document.createElement('button'); b.type = 'submit'; f.appendChild(b); document.body.appendChild(f); \
          window.__assentOld = true; b.click(); return true; }})()"
    );
    eval(&page2, &forge).await;
    next_document(&page2).await;
    assert!(
        text(&page2).await.contains("does not have the permission"),
        "{}",
        text(&page2).await
    );
    assert_eq!(
        app.state
            .store
            .rights_get(&id3)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "received"
    );

    // Logout ends the session.
    send(&page2, "form[action='/admin/logout']", &[]).await;
    open(&page2, &app.url("/admin/audit")).await;
    assert!(page2.url().await.unwrap().ends_with("/admin/"));

    // The admin's pages.
    let ctx3 = browser.new_context().await.unwrap();
    let page3 = new_page(&ctx3).await;
    login(&page3, &app, &admin, PASSWORD).await;
    for (path, name) in [
        ("/admin/users", "users"),
        ("/admin/tokens", "tokens"),
        ("/admin/account", "account"),
        ("/admin/audit", "audit"),
    ] {
        open(&page3, &app.url(path)).await;
        check_page(&page3, name).await;
    }
    open(&page3, &app.url("/admin/tokens")).await;
    send(
        &page3,
        "form[action='/admin/tokens']",
        &[("#label", "Prometheus")],
    )
    .await;
    assert!(text(&page3).await.contains("Copy it now"));
    check_page(&page3, "token-created").await;
    open(&page3, &app.url("/admin/account")).await;
    send(
        &page3,
        "form[action='/admin/account/preferences']",
        &[("#lang", "fr"), ("#tz", "Europe/Paris")],
    )
    .await;
    open(&page3, &app.url(&format!("/admin/requests/{id}"))).await;
    let fr = text(&page3).await;
    assert!(
        fr.contains("Demande d’exercice de droits") && fr.contains("Traitée"),
        "{fr}"
    );
    check_page(&page3, "request-fr").await;
    open(&page3, &app.url("/admin/audit")).await;
    assert!(text(&page3).await.contains("account.login"));
}
