#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dashboard over real loopback, on SQLite and PostgreSQL: consents of every action and
//! banner displays give exact numbers, the display beacon keeps nothing about the visitor,
//! earlier consents are counted by the backfill, rights requests by deadline, bad input is
//! refused naming the field, and the page renders (in English and French).

mod common;

use common::{Backend, TestApp, assert_error, json, subject};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
const SHOWN: &str = "/v1/sites/callkom/shown";

both_backends!(
    numbers_are_exact,
    beacon_keeps_nothing_about_the_visitor,
    backfill_counts_earlier_consents,
    rights_requests_by_deadline,
    bad_input_is_refused,
    page_renders,
);

fn body(action: &str, lang: &str, choices: Value) -> Value {
    json!({"subject": subject(), "policy_version": 1, "action": action, "language": lang, "choices": choices})
}

async fn consent(app: &TestApp, b: &Value, headers: &[(&str, &str)]) {
    let r = app
        .post_json_with("/v1/sites/callkom/consents", headers, b)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

async fn beacon(app: &TestApp, lang: &str) -> reqwest::Response {
    let body = json!({"policy_version": 1, "language": lang}).to_string();
    post_text(app, SHOWN, &[], body).await
}

/// A `text/plain` POST, as `navigator.sendBeacon` sends a string.
async fn post_text(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<String>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.header("content-type", "text/plain;charset=UTF-8")
        .body(body.into())
        .send()
        .await
        .unwrap()
}

/// Records the same mix of choices and displays: returns nothing, the numbers are below.
async fn record_mix(app: &TestApp) {
    let none = json!({});
    for _ in 0..3 {
        consent(app, &body("accept_all", "fr", none.clone()), &[]).await;
    }
    consent(app, &body("reject_all", "en", none.clone()), &[]).await;
    consent(
        app,
        &body("reject_all", "en", none.clone()),
        &[("sec-gpc", "1")],
    )
    .await;
    let custom = json!({"functional": true, "performance": false});
    consent(app, &body("custom", "de", custom), &[]).await;
    consent(app, &body("withdraw", "fr", none.clone()), &[]).await;
    for lang in ["fr", "fr", "fr", "fr", "fr", "en", "en", "en", "de", "de"] {
        assert_eq!(beacon(app, lang).await.status(), 204);
    }
}

async fn stats(app: &TestApp, query: &str) -> Value {
    let (s, v) = json(app.admin_get(&format!("/admin/v1/stats?{query}")).await).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// Rates travel as JSON numbers: equal to the last bit is not asked.
fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!((got - want).abs() < 1e-12, "{got} != {want}");
}

fn purpose<'a>(group: &'a Value, id: &str) -> &'a Value {
    group["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()
}

async fn numbers_are_exact(b: Backend) {
    let app = TestApp::spawn(b).await;
    record_mix(&app).await;
    // The next day (in Paris): one more acceptance, in English.
    app.clock.advance_ms(DAY);
    consent(&app, &body("accept_all", "en", json!({})), &[]).await;
    assert_eq!(beacon(&app, "en").await.status(), 204);

    let v = stats(&app, "site=callkom&period=7").await;
    assert_eq!(v["site"], "callkom");
    assert_eq!(v["time_zone"], "Europe/Paris");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-09-16"), Some("2026-09-22"))
    );
    assert_eq!(v["source"], "ledger");
    let t = &v["totals"];
    let counts = |g: &Value| {
        [
            "shown",
            "choices",
            "accept_all",
            "reject_all",
            "custom",
            "withdraw",
            "gpc",
        ]
        .map(|k| g[k].as_i64().unwrap())
    };
    assert_eq!(counts(t), [11, 8, 4, 2, 1, 1, 1]);
    assert_eq!(t["accept_all_share"], 0.5);
    assert_eq!(t["gpc_share"], 0.125);
    close(&t["no_choice_rate"], 3.0 / 11.0);
    // Functional: the four acceptances and the custom choice; performance: the acceptances.
    let f = purpose(t, "functional");
    assert_eq!(
        (f["opt_ins"].as_i64(), f["name"].as_str()),
        (Some(5), Some("Functional"))
    );
    close(&f["opt_in_rate"], 5.0 / 11.0);
    close(&f["consent_rate"], 5.0 / 8.0);
    assert_eq!(purpose(t, "performance")["opt_ins"], 4);
    // Strictly necessary purposes are no choice: not listed.
    assert!(
        t["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "necessary")
    );
    // Per day: seven days, the last two hold the consents.
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[5]["date"], "2026-09-21");
    assert_eq!(counts(&days[5]), [10, 7, 3, 2, 1, 1, 1]);
    assert_eq!(counts(&days[6]), [1, 1, 1, 0, 0, 0, 0]);
    assert_eq!(counts(&days[0]), [0; 7]);
    assert_eq!(days[0]["accept_all_share"], Value::Null);
    // By language and by version.
    let langs: Vec<(String, [i64; 7])> = v["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["language"].as_str().unwrap().to_owned(), counts(l)))
        .collect();
    assert_eq!(
        langs,
        vec![
            ("de".to_owned(), [2, 1, 0, 0, 1, 0, 0]),
            ("en".to_owned(), [4, 3, 1, 2, 0, 0, 1]),
            ("fr".to_owned(), [5, 4, 3, 0, 0, 1, 0]),
        ]
    );
    assert_eq!(
        purpose(&v["languages"][2], "functional")["consent_rate"],
        0.75
    );
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(
        (versions[0]["version"].as_i64(), counts(&versions[0])),
        (Some(1), [11, 8, 4, 2, 1, 1, 1])
    );
    // A custom period of the first day only.
    let v = stats(&app, "site=callkom&from=2026-09-21&to=2026-09-21").await;
    assert_eq!(counts(&v["totals"]), [10, 7, 3, 2, 1, 1, 1]);
    // Nothing else is configured yet: said so, no invented numbers.
    for k in ["retention", "last_scan", "marketing"] {
        assert_eq!(v[k], json!({"configured": false}), "{k}");
    }
    app.stop().await;
}

async fn beacon_keeps_nothing_about_the_visitor(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = beacon(&app, "fr").await;
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("set-cookie").is_none());
    // From a site's page: same answer, still no cookie.
    let headers = [
        ("origin", "https://www.callkom.io"),
        ("cookie", "anything=1"),
    ];
    let r = post_text(
        &app,
        SHOWN,
        &headers,
        r#"{"policy_version":1,"language":"en"}"#,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("set-cookie").is_none());
    assert_assent_domains(&app).await;
    assent_app::stats::shown::flush(&app.state).await.unwrap();
    // What is stored: counters of (site, day, version, language), nothing else.
    let rows = app
        .state
        .store
        .stats_between("callkom", 0, i32::MAX)
        .await
        .unwrap();
    let got: Vec<(String, i64, String, String, i64)> = rows
        .into_iter()
        .map(|r| (r.site, r.version, r.lang, r.kind, r.n))
        .collect();
    assert_eq!(
        got,
        vec![
            ("callkom".into(), 1, "en".into(), "shown".into(), 1),
            ("callkom".into(), 1, "fr".into(), "shown".into(), 1)
        ]
    );
    app.state.store.clone().close().await;
    if b == Backend::Sqlite {
        // Not a byte of the client's address anywhere in the database files.
        for entry in std::fs::read_dir(app.data.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("assent.db") {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(9).any(|w| w == b"127.0.0.1"),
                    "{} holds the client's address",
                    path.display()
                );
            }
        }
    }
}

/// The demo site's domains include the origin used above.
async fn assert_assent_domains(app: &TestApp) {
    let cur = app.state.sites.current("callkom").unwrap();
    assert!(
        cur.snapshot
            .site
            .domains
            .iter()
            .any(|d| d == "www.callkom.io"),
        "{:?}",
        cur.snapshot.site.domains
    );
}

async fn backfill_counts_earlier_consents(b: Backend) {
    let app = TestApp::spawn(b).await;
    record_mix(&app).await;
    assent_app::stats::shown::flush(&app.state).await.unwrap();
    let before = stats(&app, "site=callkom&period=7").await;
    // As if the consents had been recorded before the counters existed: only displays are
    // left, and the migration noted the ledger's end for the backfill.
    let st = &app.state;
    let heads = st.store.chain_heads().await.unwrap();
    raw(&app, "DELETE FROM consent_stats WHERE kind <> 'shown'").await;
    for h in &heads {
        raw(
            &app,
            &format!(
                "INSERT INTO consent_stats_backfill (chain, upto_seq, done_seq) VALUES ({}, {}, -1)",
                h.chain, h.seq
            ),
        )
        .await;
    }
    let emptied = stats(&app, "site=callkom&period=7").await;
    assert_eq!(emptied["totals"]["choices"], 0);
    // Small steps, to cross step boundaries.
    while assent_app::stats::backfill::step(st, 2).await.unwrap() > 0 {}
    let after = stats(&app, "site=callkom&period=7").await;
    assert_eq!(after["totals"], before["totals"]);
    assert_eq!(after["days"], before["days"]);
    // Done once: another run adds nothing.
    assert_eq!(assent_app::stats::backfill::run(st).await.unwrap(), 0);
    assert_eq!(
        stats(&app, "site=callkom&period=7").await["totals"],
        before["totals"]
    );
    app.stop().await;
}

/// Runs one statement on the test's database.
async fn raw(app: &TestApp, sql: &str) {
    match &app.database {
        None => {
            let c = rusqlite::Connection::open(app.data.path().join("assent.db")).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
            c.execute_batch(sql).unwrap();
        }
        Some(url) => {
            let (base, schema) = url.rsplit_once("schema=").unwrap();
            let base = base.trim_end_matches(['?', '&']);
            let (c, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            c.batch_execute(&format!("SET search_path TO {schema}; {sql}"))
                .await
                .unwrap();
        }
    }
}

async fn rights_requests_by_deadline(b: Backend) {
    let app = TestApp::spawn(b).await;
    let req = json!({"site": "callkom", "type": "access", "email": "zoe@example.org", "name": "Zoé", "details": "My data", "language": "en"});
    let (s, v) = json(app.post_json("/v1/requests", &req).await).await;
    assert_eq!(s, 202, "{v}");
    let rights = |v: &Value| {
        let r = &v["rights_requests"];
        ["open", "due_within_10_days", "due_within_5_days", "overdue"]
            .map(|k| r[k].as_i64().unwrap())
    };
    assert_eq!(rights(&stats(&app, "site=callkom").await), [1, 0, 0, 0]);
    // Due one month after receipt (21 October): 8 days left, then 3, then overdue.
    app.clock.advance_ms(22 * DAY);
    assert_eq!(rights(&stats(&app, "site=callkom").await), [1, 1, 0, 0]);
    app.clock.advance_ms(5 * DAY);
    assert_eq!(rights(&stats(&app, "site=callkom").await), [1, 1, 1, 0]);
    app.clock.advance_ms(5 * DAY);
    assert_eq!(rights(&stats(&app, "site=callkom").await), [1, 0, 0, 1]);
    app.stop().await;
}

async fn bad_input_is_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let get = |q: &'static str| {
        let app = &app;
        async move { json(app.admin_get(&format!("/admin/v1/stats?{q}")).await).await }
    };
    assert_error(&get("site=callkom&period=8").await, 422, "field", "period");
    assert_error(
        &get("site=callkom&from=2026-01-01").await,
        422,
        "field",
        "to",
    );
    assert_error(
        &get("site=callkom&to=2026-01-01").await,
        422,
        "field",
        "from",
    );
    assert_error(
        &get("site=callkom&from=yesterday&to=2026-01-01").await,
        422,
        "field",
        "from",
    );
    assert_error(
        &get("site=callkom&from=2026-01-02&to=2026-01-01").await,
        422,
        "field",
        "to",
    );
    assert_error(
        &get("site=callkom&from=2020-01-01&to=2026-01-01").await,
        422,
        "field",
        "to",
    );
    assert_error(
        &get("site=callkom&period=7&from=2026-01-01&to=2026-01-02").await,
        422,
        "field",
        "period",
    );
    assert_error(&get("site=nope").await, 404, "field", "site");
    let (s, _) = get("site=callkom&colour=1").await;
    assert_eq!(s, 400);
    // The API needs a token; the page sends a browser to the login form.
    let r = app.get("/admin/v1/stats?site=callkom").await;
    assert_eq!(r.status(), 401);
    let r = app.client.get(app.url("/admin/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the login form");
    assert!(r.text().await.unwrap().contains("id=\"password\""));
    // The beacon.
    let post = |b: &'static str| {
        let app = &app;
        async move { json(post_text(app, SHOWN, &[], b).await).await }
    };
    assert_error(
        &post(r#"{"policy_version":2,"language":"fr"}"#).await,
        422,
        "field",
        "policy_version",
    );
    assert_error(
        &post(r#"{"policy_version":0,"language":"fr"}"#).await,
        422,
        "field",
        "policy_version",
    );
    assert_error(
        &post(r#"{"policy_version":1,"language":"it"}"#).await,
        422,
        "field",
        "language",
    );
    assert_error(
        &post(r#"{"policy_version":1}"#).await,
        422,
        "field",
        "language",
    );
    assert_eq!(post("{not json").await.0, 400);
    let ok = r#"{"policy_version":1,"language":"fr"}"#;
    let r = post_text(&app, "/v1/sites/nope/shown", &[], ok).await;
    assert_error(&json(r).await, 404, "field", "site");
    let r = post_text(&app, SHOWN, &[("origin", "https://evil.example")], ok).await;
    assert_error(&json(r).await, 403, "field", "Origin");
    // Nothing of the refused displays was counted.
    assent_app::stats::shown::flush(&app.state).await.unwrap();
    assert_eq!(app.state.store.stats_row_count().await.unwrap(), 0);
    app.stop().await;
}

async fn page_renders(b: Backend) {
    let app = TestApp::spawn(b).await;
    record_mix(&app).await;
    let r = app.admin_get("/admin/?site=callkom&period=7").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = r.text().await.unwrap();
    for want in [
        "Consent dashboard: callkom",
        "signed ledger",
        "<svg",
        "role=\"img\"",
        "<table>",
        "Banners shown",
        "<dd>10</dd>",
        "<dd>7</dd>",
        "Functional",
        // What is not on the dashboard yet says where it is, never that nothing exists.
        "console page is not built yet",
        "2026-09-21",
    ] {
        assert!(html.contains(want), "{want} not in the page:\n{html}");
    }
    assert!(!html.contains("<script"));
    let fr = app
        .admin_get("/admin/?site=callkom&period=30&lang=fr")
        .await
        .text()
        .await
        .unwrap();
    for want in [
        "lang=\"fr\"",
        "Bannières affichées",
        "Fonctionnels",
        "existe pas encore",
    ] {
        assert!(fr.contains(want), "{want} not in the French page");
    }
    assert!(!fr.contains("Banners shown"));
    // A bad period on the page: an error page naming it, not a panic.
    let r = app.admin_get("/admin/?site=callkom&period=365").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("period"));
    app.stop().await;
}
