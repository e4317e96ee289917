#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 15, the workflow side, over real HTTP, a real SMTP sink and both backends: offline
//! intake with the real receipt date, requests awaiting verification with their age, the
//! restriction list and its lookup, Art. 19 tasks with prepared messages, fulfilment runs
//! (access package behind a single-use link, erasure of Assent's own records), rectification
//! reviewed by the DPO, and the attention flag of a failed or stalled run. Ledger entries
//! never carry the person's identifiers.

mod common;

use assent_app::rights::fulfilment::{RunKind, RunStatus, record_finish, record_start};
use assent_app::rights::jobs::run_due_jobs;
use assent_model::clock::rfc3339;
use assent_model::rights::{due_at, time_zone};
use common::smtp_sink::{Captured, SmtpSink};
use common::unzip::unzip;
use common::{BASE_TIME_MS, Backend, Options, TestApp, assert_error, json, subject};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
const EMAIL: &str = "zoe.martin@example.org";

async fn spawn(b: Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(
        b,
        Options {
            smtp: Some(sink.url.clone()),
            ..Options::default()
        },
    )
    .await;
    (app, sink)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(
        app.admin_post(path, body.to_string(), "application/json")
            .await,
    )
    .await
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    json(app.admin_get(path).await).await
}

fn offline(kind: &str, channel: &str, days_ago: i64) -> Value {
    json!({"site": "callkom", "type": kind, "email": EMAIL, "name": "Zoé Martin",
           "details": "Letter of 20 September.", "channel": channel,
           "received_at": rfc3339(BASE_TIME_MS - days_ago * DAY), "language": "fr"})
}

/// Records a request offline and verifies it by hand; returns its id.
async fn verified(app: &TestApp, body: Value) -> String {
    let (s, v) = post(app, "/admin/v1/requests", body).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = post(
        app,
        &format!("/admin/v1/requests/{id}/verify"),
        json!({"note": "signed letter, ID card checked"}),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("verified")), "{v}");
    id
}

/// Every ledger payload, as text.
async fn ledger_text(app: &TestApp) -> String {
    let chain = app.state.store.writer_chain();
    app.state
        .store
        .entries(chain, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, p)| {
            format!(
                "{} {}\n",
                e.kind,
                p.map(|p| String::from_utf8(p).unwrap()).unwrap_or_default()
            )
        })
        .collect()
}

/// A consent of a new subject; returns its receipt id.
async fn consent(app: &TestApp) -> String {
    let (s, v) = json(
        app.consent(
            json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "fr"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["receipt"]["id"].as_str().unwrap().to_owned()
}

/// An admin page, as the DPO's browser (or a script with the token) gets it.
async fn admin_page(app: &TestApp, path: &str) -> String {
    let bearer = format!("Bearer {}", app.token);
    app.get_with(path, &[("authorization", &bearer)])
        .await
        .text()
        .await
        .unwrap()
}

/// The next email to the requester (the DPO's notices are skipped).
async fn to_requester(sink: &mut SmtpSink) -> Captured {
    loop {
        let m = sink.next().await;
        if m.rcpt == vec![EMAIL.to_string()] {
            return m;
        }
    }
}

/// The first line of a mail's body starting with `prefix`.
fn line_with(mail: &Captured, prefix: &str) -> String {
    let body = mail.body();
    body.lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix} in:\n{body}"))
        .to_owned()
}

async fn offline_intake(b: Backend) {
    let (app, _sink) = spawn(b).await;
    let received = BASE_TIME_MS - 10 * DAY;
    let (s, v) = post(&app, "/admin/v1/requests", offline("access", "post", 10)).await;
    assert_eq!(s, 201, "{v}");
    // The deadline runs from the real receipt date, in the controller's zone.
    let due = due_at(received, &time_zone("Europe/Paris").unwrap()).unwrap();
    assert_eq!(
        (
            v["status"].as_str(),
            v["channel"].as_str(),
            v["received_at"].as_str(),
            v["due_at"].as_str()
        ),
        (
            Some("received"),
            Some("post"),
            Some(rfc3339(received).as_str()),
            Some(rfc3339(due).as_str())
        ),
        "{v}"
    );
    assert_eq!(v["email"], EMAIL);
    let id = v["id"].as_str().unwrap().to_owned();
    // A request received by phone may have no email address.
    let mut phone = offline("erasure", "phone", 2);
    phone.as_object_mut().unwrap().remove("email");
    let (s, v) = post(&app, "/admin/v1/requests", phone).await;
    assert_eq!((s, v["email"].clone()), (201, Value::Null), "{v}");

    // Awaiting verification: listed with their age and channel.
    let (s, v) = get(&app, "/admin/v1/requests?status=awaiting_verification").await;
    assert_eq!(s, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    let it = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(
        (
            it["age_days"].as_i64(),
            it["channel"].as_str(),
            it["awaiting_verification"].as_bool()
        ),
        (Some(10), Some("post"), Some(true))
    );
    let page = admin_page(&app, "/admin/requests").await;
    assert!(page.contains("(waiting for 10 d)"), "{page}");

    // Verified by hand: the deadline does not move.
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/verify"),
        json!({"note": "signed letter"}),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("verified")), "{v}");
    assert_eq!(v["due_at"], rfc3339(due));

    // Bad input names the field; nothing is stored.
    let with = |k: &str, val: Value| {
        let mut b = offline("access", "email", 1);
        b[k] = val;
        b
    };
    let cases = [
        (with("channel", json!("fax")), 422, "channel"),
        (
            with("received_at", json!(rfc3339(BASE_TIME_MS + DAY))),
            422,
            "received_at",
        ),
        (
            with("received_at", json!("2020-01-01T00:00:00Z")),
            422,
            "received_at",
        ),
        (
            with("received_at", json!("last Tuesday")),
            422,
            "received_at",
        ),
        (with("email", json!("")), 422, "email"),
        (
            with("email", json!("zoe@example.org\r\nBcc: x@y.org")),
            422,
            "email",
        ),
        (with("name", json!("")), 422, "name"),
        (with("type", json!("nope")), 422, "type"),
        (
            with("correction", json!([{"field": "name", "value": "x"}])),
            422,
            "correction",
        ),
    ];
    for (body, status, field) in cases {
        let answer = post(&app, "/admin/v1/requests", body.clone()).await;
        assert_error(&answer, status, "field", field);
    }
    let (s, _) = post(&app, "/admin/v1/requests", with("site", json!("nope"))).await;
    assert_eq!(s, 404);
    let (s, _) = post(&app, "/admin/v1/requests", with("extra", json!(1))).await;
    assert_eq!(s, 422);
    let (_, v) = get(&app, "/admin/v1/requests?status=all").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2, "{v}");
    let ledger = ledger_text(&app).await;
    assert!(ledger.contains("\"channel\":\"post\""), "{ledger}");
    assert!(
        !ledger.contains(EMAIL) && !ledger.contains("Zoé"),
        "{ledger}"
    );
}

async fn restriction_and_art19(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    // Not before the identity is verified.
    let (_, v) = post(
        &app,
        "/admin/v1/requests",
        offline("restriction", "email", 1),
    )
    .await;
    let unverified = v["id"].as_str().unwrap().to_owned();
    let answer = post(
        &app,
        &format!("/admin/v1/requests/{unverified}/restrict"),
        json!({"reason": "contests accuracy"}),
    )
    .await;
    assert_error(&answer, 409, "code", "not_verified");
    let id = verified(&app, offline("restriction", "email", 1)).await;
    let path = format!("/admin/v1/requests/{id}/restrict");
    assert_error(
        &post(&app, &path, json!({"reason": " "})).await,
        422,
        "field",
        "reason",
    );
    assert_error(
        &post(&app, &path, json!({"reason": "r", "phone": "call me"})).await,
        422,
        "field",
        "phone",
    );
    let (s, v) = post(
        &app,
        &path,
        json!({"reason": "Art. 18(1)(a): contests accuracy", "phone": "+33 6 12 34 56 78"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let restrictions = v["restrictions"].as_array().unwrap().clone();
    assert_eq!(restrictions.len(), 2, "{v}");

    // The operator's systems ask the list: case and spacing do not matter.
    let (s, v) = get(&app, "/admin/v1/restrictions?email=Zoe.Martin@EXAMPLE.org").await;
    assert_eq!((s, v["restricted"].as_bool()), (200, Some(true)), "{v}");
    let hash = v["hash"].as_str().unwrap().to_owned();
    let (_, v) = get(&app, "/admin/v1/restrictions?phone=%2B33612345678").await;
    assert_eq!(v["restricted"], true, "{v}");
    let (_, v) = get(&app, &format!("/admin/v1/restrictions?hash={hash}")).await;
    assert_eq!(v["restricted"], true, "{v}");
    let (_, v) = get(
        &app,
        "/admin/v1/restrictions?email=someone.else@example.org",
    )
    .await;
    assert_eq!(
        (v["restricted"].as_bool(), v["since"].clone()),
        (Some(false), Value::Null)
    );
    assert_error(
        &get(&app, "/admin/v1/restrictions").await,
        422,
        "field",
        "email",
    );
    assert_error(
        &get(
            &app,
            "/admin/v1/restrictions?email=a@b.org&phone=0612345678",
        )
        .await,
        422,
        "field",
        "email",
    );
    assert_error(
        &get(&app, "/admin/v1/restrictions?hash=zz").await,
        422,
        "field",
        "hash",
    );
    assert_error(
        &get(&app, "/admin/v1/restrictions?email=nope").await,
        422,
        "field",
        "email",
    );

    // Art. 19: one task per recipient of the site's data, with a prepared message.
    let (s, v) = get(&app, &format!("/admin/v1/requests/{id}/notifications")).await;
    assert_eq!(s, 200, "{v}");
    let tasks = v["items"].as_array().unwrap().clone();
    let services = app
        .state
        .sites
        .current("callkom")
        .unwrap()
        .snapshot
        .services
        .len();
    assert!(tasks.len() >= services && services > 0, "{v}");
    assert_eq!(v["open"].as_u64(), Some(tasks.len() as u64));
    for t in &tasks {
        assert_eq!(t["action"], "restriction");
        let body = t["message"]["body"].as_str().unwrap();
        assert!(body.contains(EMAIL), "{body}");
        assert!(body.contains(&id), "{body}");
        assert!(
            body.contains(t["recipient_name"].as_str().unwrap()),
            "{body}"
        );
    }
    let task = tasks[0]["id"].as_str().unwrap();
    let done = format!("/admin/v1/requests/{id}/notifications/{task}/done");
    let (s, v) = post(&app, &done, json!({"note": "emailed their DPO"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["notifications"][0]["done"], true, "{v}");
    assert_error(
        &post(&app, &done, json!({})).await,
        409,
        "code",
        "already_done",
    );
    let (s, _) = post(
        &app,
        &format!("/admin/v1/requests/{id}/notifications/nope/done"),
        json!({}),
    )
    .await;
    assert_eq!(s, 404);
    assert_error(
        &post(
            &app,
            &done.replace(task, tasks[1]["id"].as_str().unwrap()),
            json!({"note": "x".repeat(3000)}),
        )
        .await,
        422,
        "field",
        "note",
    );

    // The request shows its run, recipients and restrictions.
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}")).await;
    assert_eq!(v["runs"][0]["kind"], "restrict");
    assert_eq!(v["runs"][0]["status"], "succeeded");
    assert_eq!(v["runs"][0]["outcome"]["assent"]["restrictions_added"], 2);
    assert_eq!(v["attention"], Value::Null);
    assert!(!v["recipients"].as_array().unwrap().is_empty(), "{v}");

    // Lifting keeps the entry; the phone stays restricted.
    let email_entry = restrictions
        .iter()
        .find(|x| x["identity"] == "email")
        .unwrap();
    let lift = format!(
        "/admin/v1/restrictions/{}/lift",
        email_entry["id"].as_str().unwrap()
    );
    assert_error(
        &post(&app, &lift, json!({"reason": ""})).await,
        422,
        "field",
        "reason",
    );
    let (s, v) = post(
        &app,
        &lift,
        json!({"reason": "accuracy verified; requester told"}),
    )
    .await;
    assert_eq!((s, v["active"].as_bool()), (200, Some(false)), "{v}");
    assert_error(
        &post(&app, &lift, json!({"reason": "again"})).await,
        409,
        "code",
        "already_lifted",
    );
    let (s, _) = post(
        &app,
        "/admin/v1/restrictions/nope/lift",
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, 404);
    let (_, v) = get(&app, &format!("/admin/v1/restrictions?email={EMAIL}")).await;
    assert_eq!(v["restricted"], false, "{v}");
    let (_, v) = get(&app, "/admin/v1/restrictions?phone=0033612345678").await;
    assert_eq!(v["restricted"], false, "another number: {v}");
    let (_, v) = get(
        &app,
        "/admin/v1/restrictions?phone=%2B33%206%2012%2034%2056%2078",
    )
    .await;
    assert_eq!(v["restricted"], true, "{v}");

    // The completion email tells the requester who the recipients are.
    let (s, _) = post(&app, &format!("/admin/v1/requests/{id}/start"), json!({})).await;
    assert_eq!(s, 200);
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/complete"),
        json!({"message": "Your data is restricted."}),
    )
    .await;
    assert_eq!((s, v["email_sent"].as_bool()), (200, Some(true)), "{v}");
    let mail = to_requester(&mut sink).await;
    let body = mail.body();
    assert!(body.contains("destinataires"), "{body}");
    assert!(
        body.contains(tasks[0]["recipient_name"].as_str().unwrap()),
        "{body}"
    );

    // No identifier, and no hash, in the ledger.
    let ledger = ledger_text(&app).await;
    for secret in [EMAIL, "612345678", hash.as_str(), "contests accuracy"] {
        assert!(!ledger.contains(secret), "{secret} in the ledger");
    }
    assert!(ledger.contains("rights.restricted") && ledger.contains("rights.restriction_lifted"));
    assert!(ledger.contains("rights.notified") && ledger.contains("admin.restrictions_queried"));
}

async fn access_run_and_package(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let receipt = consent(&app).await;
    let mut body = offline("access", "email", 3);
    body["receipt"] = json!(receipt);
    let id = verified(&app, body).await;
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/preview"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["kind"], "access");
    assert_eq!(v["datastores"]["assent"]["consents"]["rows"], 1, "{v}");
    assert_eq!(
        v["datastores"]["assent"]["rights_requests"]["rows"], 1,
        "{v}"
    );
    assert_error(
        &post(
            &app,
            &format!("/admin/v1/requests/{id}/fulfilment/preview"),
            json!({"kind": "delete"}),
        )
        .await,
        422,
        "field",
        "kind",
    );
    assert_error(
        &post(
            &app,
            &format!("/admin/v1/requests/{id}/fulfilment/run"),
            json!({"receipts": ["x"]}),
        )
        .await,
        422,
        "field",
        "receipts[0]",
    );

    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["kind"].as_str(),
            v["status"].as_str(),
            v["package_emailed"].as_bool()
        ),
        (Some("access"), Some("succeeded"), Some(true)),
        "{v}"
    );
    let mail = to_requester(&mut sink).await;
    let link = line_with(&mail, &format!("{}/v1/requests/{id}/download/", app.base));
    // The DPO's copy (a request received by post is handed over).
    let r = app
        .admin_get(&format!("/admin/v1/requests/{id}/fulfilment/package"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let files = unzip(&r.bytes().await.unwrap());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "assent.consents.csv",
            "assent.requests.csv",
            "data.json",
            "index.html"
        ]
    );
    let pkg: Value = serde_json::from_slice(&files["data.json"]).unwrap();
    assert_eq!(pkg["found"], true);
    assert_eq!(pkg["request"], id.as_str());
    assert_eq!(pkg["assent"]["consents"][0]["receipt_id"], receipt, "{pkg}");
    assert_eq!(pkg["assent"]["requests"][0]["email"], EMAIL);
    let csv = String::from_utf8(files["assent.consents.csv"].clone()).unwrap();
    assert!(csv.contains(&receipt), "{csv}");
    // The readable page, in the request's language (French).
    let html = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(html.contains("lang=\"fr\""), "{html}");
    assert!(html.contains("assent.requests.csv"), "{html}");
    assert!(
        pkg["processing"]["recipients"].as_array().unwrap().len() > 1,
        "{pkg}"
    );
    assert!(
        !pkg["processing"]["retention"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{pkg}"
    );
    // The requester's link works once; the package is then deleted.
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let got: Value =
        serde_json::from_slice(&unzip(&r.bytes().await.unwrap())["data.json"]).unwrap();
    assert_eq!(got["request"], id.as_str());
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 410);
    let r = app
        .admin_get(&format!("/admin/v1/requests/{id}/fulfilment/package"))
        .await;
    assert_eq!(r.status(), 404);

    // Unused, it is deleted at expiry by the rights job.
    let (s, _) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let _ = to_requester(&mut sink).await;
    let r = app
        .admin_get(&format!("/admin/v1/requests/{id}/fulfilment/package"))
        .await;
    assert_eq!(r.status(), 200);
    app.clock.advance_ms(8 * DAY);
    run_due_jobs(&app.state, BASE_TIME_MS + 8 * DAY)
        .await
        .unwrap();
    let r = app
        .admin_get(&format!("/admin/v1/requests/{id}/fulfilment/package"))
        .await;
    assert_eq!(r.status(), 404);
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}")).await;
    assert_eq!(v["attachments"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["runs"].as_array().unwrap().len(), 2, "{v}");
}

async fn erase_run(b: Backend) {
    let (app, _sink) = spawn(b).await;
    let receipt = consent(&app).await;
    let other = consent(&app).await;
    let mut body = offline("erasure", "post", 3);
    body["receipt"] = json!(receipt);
    let id = verified(&app, body).await;
    let run = format!("/admin/v1/requests/{id}/fulfilment/run");
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/preview"),
        json!({}),
    )
    .await;
    assert_eq!((s, v["kind"].as_str()), (200, Some("erase")), "{v}");
    assert!(
        !v["recipients_to_notify"].as_array().unwrap().is_empty(),
        "{v}"
    );
    // The preview changed nothing.
    let (s, _) = json(app.get(&format!("/v1/receipts/{receipt}")).await).await;
    assert_eq!(s, 200);
    let (s, v) = post(&app, &run, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["outcome"]["assent"]["consents"]["rows"], 1, "{v}");
    let (s, _) = json(app.get(&format!("/v1/receipts/{receipt}")).await).await;
    assert_eq!(s, 410, "the person's consent is erased");
    let (s, _) = json(app.get(&format!("/v1/receipts/{other}")).await).await;
    assert_eq!(s, 200, "another person's consent is untouched");
    // Idempotent: a second run finds nothing more to erase.
    let (s, v) = post(&app, &run, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")), "{v}");
    assert_eq!(v["outcome"]["assent"]["consents"]["rows"], 0, "{v}");
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}/notifications")).await;
    let tasks = v["items"].as_array().unwrap();
    assert!(
        !tasks.is_empty() && tasks.iter().all(|t| t["action"] == "erasure"),
        "{v}"
    );
    let n = tasks.len();
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}")).await;
    assert_eq!(
        v["notifications"].as_array().unwrap().len(),
        n,
        "one task per recipient, once"
    );
    // The erasure receipt is in the ledger, without the person.
    let ledger = ledger_text(&app).await;
    assert!(ledger.contains("rights.fulfilment"), "{ledger}");
    assert!(!ledger.contains(EMAIL), "{ledger}");
}

async fn rectification(b: Backend) {
    let (app, _sink) = spawn(b).await;
    let mut body = offline("rectification", "email", 1);
    body["correction"] = json!([{"field": "name", "value": "Zoé Martin-Durand"}]);
    let (s, v) = post(&app, "/admin/v1/requests", body.clone()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["correction"][0]["value"], "Zoé Martin-Durand", "{v}");
    let early = v["id"].as_str().unwrap().to_owned();
    let change = json!({"changes": [{"field": "name", "value": "Zoé Martin-Durand"}]});
    assert_error(
        &post(
            &app,
            &format!("/admin/v1/requests/{early}/rectify"),
            change.clone(),
        )
        .await,
        409,
        "code",
        "not_verified",
    );
    let id = verified(&app, body).await;
    let path = format!("/admin/v1/requests/{id}/rectify");
    for (bad, field) in [
        (json!({"changes": []}), "changes"),
        (
            json!({"changes": [{"field": "shoe_size", "value": "42"}]}),
            "changes[0].field",
        ),
        (
            json!({"changes": [{"field": "shop.customers.name", "value": "x"}]}),
            "changes[0].field",
        ),
        (
            json!({"changes": [{"field": "email", "value": "not an email"}]}),
            "changes[0].value",
        ),
    ] {
        assert_error(&post(&app, &path, bad).await, 422, "field", field);
    }
    let (s, v) = post(&app, &path, change).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fields"], json!(["assent.rights_requests.name"]));
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}")).await;
    assert_eq!(v["name"], "Zoé Martin-Durand");
    assert_eq!(v["runs"][0]["kind"], "rectify");
    let tasks = v["notifications"].as_array().unwrap();
    assert!(!tasks.is_empty());
    let body = tasks[0]["message"]["body"].as_str().unwrap();
    assert!(body.contains("name"), "{body}");
    let ledger = ledger_text(&app).await;
    assert!(ledger.contains("rights.rectified") && ledger.contains("assent.rights_requests.name"));
    assert!(
        !ledger.contains("Martin-Durand"),
        "values never reach the ledger"
    );
}

async fn attention_of_failed_and_stalled_runs(b: Backend) {
    let (app, _sink) = spawn(b).await;
    let id = verified(&app, offline("erasure", "email", 1)).await;
    // A run that started and never finished (the server stopped during it).
    let run = record_start(&app.state, &id, RunKind::Erase, "admin:test")
        .await
        .unwrap();
    let (_, v) = get(&app, "/admin/v1/requests?attention=true").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "not yet: {v}");
    app.clock.advance_ms(16 * 60_000);
    let (_, v) = get(&app, "/admin/v1/requests?attention=true").await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert!(
        items[0]["attention"]
            .as_str()
            .unwrap()
            .contains("has not finished"),
        "{v}"
    );
    // A failure says what failed; the queue page shows it.
    let err = "datastore shop, table orders: permission denied for UPDATE".to_owned();
    record_finish(
        &app.state,
        &run,
        RunStatus::Failed,
        json!({"shop": {"orders": {"rows": 0}}}),
        Some(err.clone()),
    )
    .await
    .unwrap();
    let (_, v) = get(&app, &format!("/admin/v1/requests/{id}")).await;
    assert!(v["attention"].as_str().unwrap().contains(&err), "{v}");
    assert_eq!(v["runs"][0]["status"], "failed");
    assert!(
        record_finish(&app.state, &run, RunStatus::Succeeded, json!({}), None)
            .await
            .is_err(),
        "finished once"
    );
    let page = admin_page(&app, "/admin/requests").await;
    assert!(page.contains("needs attention"), "{page}");
    let detail = admin_page(&app, &format!("/admin/requests/{id}")).await;
    assert!(detail.contains("permission denied for UPDATE"), "{detail}");
    let (_, v) = get(&app, "/admin/v1/requests?attention=false").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    // A successful run clears it.
    let (s, v) = post(
        &app,
        &format!("/admin/v1/requests/{id}/fulfilment/run"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = get(&app, "/admin/v1/requests?attention=true").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
}

both_backends!(
    offline_intake,
    restriction_and_art19,
    access_run_and_package,
    erase_run,
    rectification,
    attention_of_failed_and_stalled_runs,
);
