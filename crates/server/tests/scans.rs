#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Scans run by the server (issue 18), on SQLite and PostgreSQL, in Debian's Chromium (these
//! tests fail, never skip, when it is missing): queue a scan of the site's own page through
//! the admin API, the server's browser runs it, the history lists it, the report reads back
//! as JSON and HTML, a second scan shows what changed; a page that does not answer makes a
//! failed scan with its reason; schedules fire once per period (and the server's own loop
//! runs them); a scan left running by a stopped server is marked interrupted; the default
//! retention rule deletes old reports; roles and bad input.

mod common;

use assent_app::retention::{RuleSet, RunOptions, plan, run};
use assent_app::scans::{ScanOptions, enqueue_due, run_next};
use assent_store::ScanRow;
use common::{BASE_TIME_MS, Backend, Options, TestApp, examples_dir, json};
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

/// Callkom's registry, with the test server's host among the site's domains (the server
/// scans only a site's own pages).
fn registry() -> String {
    let src = std::fs::read_to_string(examples_dir().join("callkom.toml")).unwrap();
    let with = src.replacen(
        "domains = [\"callkom.io\",",
        "domains = [\"127.0.0.1\", \"callkom.io\",",
        1,
    );
    assert_ne!(
        with, src,
        "callkom.toml's domains line changed: update this test"
    );
    with
}

async fn spawn(b: Backend, scan_poll_secs: u64) -> TestApp {
    TestApp::spawn_with(
        b,
        Options {
            registry_src: registry(),
            scan_poll_secs,
            ..Options::default()
        },
    )
    .await
}

/// One browser at a time in this test binary (the two backends' tests run in parallel).
async fn browser_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE.lock().await
}

fn options() -> ScanOptions {
    ScanOptions::default()
}

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> (u16, Value) {
    json(
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    json(app.admin_get(path).await).await
}

async fn ledger_kinds(app: &TestApp) -> Vec<String> {
    let chain = app.state.store.writer_chain();
    app.state
        .store
        .entries(chain, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.kind)
        .collect()
}

async fn queue_run_history_report_diff(b: Backend) {
    let app = spawn(b, 0).await;
    let page = app.url("/demo/?site=callkom");
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scans",
        json!({"url": page, "pages": 2}),
        &app.token,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["status"], "queued");
    let first = v["id"].as_str().unwrap().to_owned();

    let one = browser_turn().await;
    let ran = run_next(&app.state, options).await.unwrap().unwrap();
    assert_eq!(ran.id, first);
    assert_eq!(ran.status, "done", "{:?}", ran.error);
    assert!(run_next(&app.state, options).await.unwrap().is_none());

    let (s, v) = get(&app, "/admin/v1/sites/callkom/scans").await;
    assert_eq!(s, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "done");
    assert!(items[0].get("report").is_none_or(Value::is_null), "{v}");

    let (s, v) = get(&app, &format!("/admin/v1/scans/{first}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["url"], page.as_str());
    assert!(v["report_json"]["schema"].as_str().is_some(), "{v}");
    assert!(
        v["changes"].is_null(),
        "the first scan of a page has nothing to compare: {v}"
    );
    let findings = v["findings"].as_i64().unwrap();
    assert_eq!(
        findings,
        i64::try_from(v["report_json"]["findings"].as_array().unwrap().len()).unwrap()
    );

    let r = app
        .admin_get(&format!("/admin/v1/scans/{first}/report.html"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(common::content_type(&r).starts_with("text/html"));
    let csp = common::header(&r, "content-security-policy").to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<html"), "{}", &html[..html.len().min(200)]);

    // A second scan of the same page: compared with the first.
    app.clock.set(BASE_TIME_MS + HOUR_MS);
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scans",
        json!({"url": page, "pages": 2}),
        &app.token,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let second = v["id"].as_str().unwrap().to_owned();
    let ran = run_next(&app.state, options).await.unwrap().unwrap();
    assert_eq!(ran.status, "done", "{:?}", ran.error);
    let (_, v) = get(&app, &format!("/admin/v1/scans/{second}")).await;
    let changes = &v["changes"];
    assert_eq!(changes["previous"], first.as_str(), "{v}");
    let unchanged = changes["unchanged"].as_i64().unwrap();
    let new = changes["new"].as_array().unwrap().len();
    let resolved = changes["resolved"].as_array().unwrap().len();
    assert_eq!(
        unchanged + i64::try_from(new).unwrap(),
        v["findings"].as_i64().unwrap(),
        "{changes}"
    );
    assert_eq!(
        unchanged + i64::try_from(resolved).unwrap(),
        findings,
        "{changes}"
    );

    // A page of the site's host where nothing answers: a failed scan, with its reason.
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scans",
        json!({"url": "http://127.0.0.1:9/"}),
        &app.token,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let ran = run_next(&app.state, options).await.unwrap().unwrap();
    drop(one);
    assert_eq!(ran.status, "failed");
    assert!(!ran.error.clone().unwrap_or_default().is_empty());
    let (_, v) = get(&app, &format!("/admin/v1/scans/{}", ran.id)).await;
    assert_eq!(v["status"], "failed");
    assert!(v["report_json"].is_null());
    let r = app
        .admin_get(&format!("/admin/v1/scans/{}/report.html", ran.id))
        .await;
    assert_eq!(r.status(), 409);

    let kinds = ledger_kinds(&app).await;
    assert_eq!(kinds.iter().filter(|k| *k == "scan.queued").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "scan.finished").count(), 3);

    // Retention: Assent's default rule for scan reports (3 years after the scan) applies.
    let set = RuleSet::for_app(&app.state).unwrap();
    let rule = |p: &assent_app::retention::Plan| {
        p.rules
            .iter()
            .find(|r| r.applies_to.as_deref() == Some("scan_reports"))
            .cloned()
            .unwrap()
    };
    let now = plan(&app.state.store, &set, BASE_TIME_MS + 2 * HOUR_MS)
        .await
        .unwrap();
    let r = rule(&now);
    assert_eq!(r.enforced_by, "assent");
    assert!(r.default);
    assert_eq!(r.due, Some(0));
    assert!(r.next_due_at.is_some());
    let later = BASE_TIME_MS + (3 * 366 + 1) * 24 * HOUR_MS;
    assert_eq!(
        rule(&plan(&app.state.store, &set, later).await.unwrap()).due,
        Some(3)
    );
    let rep = run(&app.state.store, &set, &RunOptions::at(later, later))
        .await
        .unwrap();
    let done = rep
        .rules
        .iter()
        .find(|r| r.applies_to.as_deref() == Some("scan_reports"))
        .unwrap();
    assert_eq!((done.status.as_str(), done.deleted), ("done", 3), "{rep:?}");
    let (_, v) = get(&app, "/admin/v1/sites/callkom/scans").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    let (s, _) = get(&app, &format!("/admin/v1/scans/{first}")).await;
    assert_eq!(s, 404);
    app.stop().await;
}

async fn schedules_fire_once_per_period(b: Backend) {
    let app = spawn(b, 0).await;
    let page = app.url("/demo/?site=callkom");
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scan-schedules",
        json!({"url": page, "pages": 1, "every_hours": 24}),
        &app.token,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (_, v) = get(&app, "/admin/v1/sites/callkom/scan-schedules").await;
    assert_eq!(v["items"][0]["every_hours"], 24);

    // Due at once, then not again until a day later; a server down for three days queues one
    // scan, not three.
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 1);
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 0);
    app.clock.set(BASE_TIME_MS + 23 * HOUR_MS);
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 0);
    app.clock.set(BASE_TIME_MS + 24 * HOUR_MS);
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 1);
    app.clock.set(BASE_TIME_MS + 4 * 24 * HOUR_MS);
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 1);
    assert_eq!(enqueue_due(&app.state).await.unwrap(), 0);
    let sched = app
        .state
        .store
        .scan_schedule_get(&id)
        .await
        .unwrap()
        .unwrap();
    assert!(sched.next_at_ms > BASE_TIME_MS + 4 * 24 * HOUR_MS);
    let (_, v) = get(&app, "/admin/v1/sites/callkom/scans").await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["schedule_id"] == id.as_str()
        && i["requested_by"] == "schedule"
        && i["status"] == "queued"));

    // Unschedule: gone, its scans stay.
    let r = app
        .client
        .delete(app.url(&format!("/admin/v1/scan-schedules/{id}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .delete(app.url(&format!("/admin/v1/scan-schedules/{id}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (_, v) = get(&app, "/admin/v1/sites/callkom/scans").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    let kinds = ledger_kinds(&app).await;
    assert!(kinds.iter().any(|k| k == "scan.scheduled"));
    assert!(kinds.iter().any(|k| k == "scan.unscheduled"));

    // A scan a stopped server left running is marked interrupted by the next run, and the
    // queue goes on (here: the three queued scans, run in turn).
    let stale = ScanRow {
        id: "0000stale".into(),
        site: "callkom".into(),
        url: page.clone(),
        pages: 1,
        schedule_id: None,
        requested_by: "admin:t".into(),
        queued_at_ms: BASE_TIME_MS,
        started_at_ms: Some(BASE_TIME_MS),
        finished_at_ms: None,
        status: "running".into(),
        violations: None,
        findings: None,
        report: None,
        error: None,
    };
    app.state.store.scan_insert(&stale).await.unwrap();
    let one = browser_turn().await;
    let ran = run_next(&app.state, options).await.unwrap().unwrap();
    drop(one);
    assert_eq!(ran.status, "done", "{:?}", ran.error);
    let (_, v) = get(&app, "/admin/v1/scans/0000stale").await;
    assert_eq!(v["status"], "interrupted", "{v}");
    assert!(v["error"].as_str().unwrap().contains("stopped"));
    app.stop().await;
}

/// The server's own loop: a schedule made through the API is scanned without anyone calling
/// the queue.
async fn the_server_loop_runs_schedules(b: Backend) {
    let app = spawn(b, 1).await;
    let page = app.url("/demo/?site=callkom");
    let one = browser_turn().await;
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scan-schedules",
        json!({"url": page, "pages": 1, "every_hours": 168}),
        &app.token,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let mut status = String::new();
    for _ in 0..240 {
        let (_, v) = get(&app, "/admin/v1/sites/callkom/scans").await;
        status = v["items"][0]["status"].as_str().unwrap_or("").to_owned();
        if status == "done" || status == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    drop(one);
    assert_eq!(status, "done");
    app.stop().await;
}

async fn roles_and_bad_input(b: Backend) {
    let app = spawn(b, 0).await;
    let page = app.url("/demo/?site=callkom");
    let (auditor, _) = app.new_token("auditor").await;
    let (dpo, _) = app.new_token("dpo").await;
    let path = "/admin/v1/sites/callkom/scans";
    let (s, _) = post(&app, path, json!({"url": page}), &auditor).await;
    assert_eq!(s, 403);
    let (s, v) = post(&app, path, json!({"url": page}), &dpo).await;
    assert_eq!(s, 202, "{v}");
    let r = app.get_as(path, &auditor).await;
    assert_eq!(r.status(), 200);

    let bad = [
        (json!({"url": "https://www.example.com/"}), "url"),
        (json!({"url": "ftp://127.0.0.1/"}), "url"),
        (json!({"url": "javascript:alert(1)"}), "url"),
        (json!({"url": "http://127.0.0.1.evil.test/"}), "url"),
        (json!({"url": "http://evil.test@/"}), "url"),
        (json!({"url": page, "pages": 0}), "pages"),
        (json!({"url": page, "pages": 51}), "pages"),
    ];
    for (body, field) in bad {
        let (s, v) = post(&app, path, body.clone(), &app.token).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }
    let (s, v) = post(&app, path, json!({"url": page, "extra": 1}), &app.token).await;
    assert!(s == 400 || s == 422, "{s} {v}");
    let (s, v) = post(
        &app,
        "/admin/v1/sites/nosuch/scans",
        json!({"url": page}),
        &app.token,
    )
    .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = post(
        &app,
        "/admin/v1/sites/callkom/scan-schedules",
        json!({"url": page, "every_hours": 0}),
        &app.token,
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("every_hours")),
        "{v}"
    );
    let (s, _) = get(&app, "/admin/v1/scans/nosuch").await;
    assert_eq!(s, 404);

    // The queue is bounded: 20 waiting, the 21st is refused until some have run.
    for _ in 1..20 {
        let (s, v) = post(&app, path, json!({"url": page}), &app.token).await;
        assert_eq!(s, 202, "{v}");
    }
    let (s, v) = post(&app, path, json!({"url": page}), &app.token).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["code"], "queue_full", "{v}");
    app.stop().await;
}

both_backends!(
    queue_run_history_report_diff,
    schedules_fire_once_per_period,
    the_server_loop_runs_schedules,
    roles_and_bad_input
);
