#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Data-subject rights requests over real HTTP and a real SMTP sink, on SQLite and
//! PostgreSQL: the full flow (submit, email, verify, extend with notice, complete with an
//! attachment whose link expires), no enumeration, hostile input, illegal transitions,
//! withdrawal of consent through a receipt id, reminders and overdue flags, retention
//! erasure, the admin pages.

mod common;

use assent_app::rights::jobs::{JobReport, run_due_jobs};
use assent_model::clock::{parse_time, rfc3339};
use common::smtp_sink::{Captured, SmtpSink};
use common::{
    BASE_TIME_MS, Backend, Options, TestApp, assert_error, content_type, header, json, subject,
};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

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

fn request_body(email: &str, kind: &str) -> Value {
    json!({"site": "callkom", "type": kind, "email": email, "name": "Zoé Martin", "details": "Please send me my data.", "language": "en"})
}

/// The first line of the body starting with `prefix`.
fn line_with(mail: &Captured, prefix: &str) -> String {
    let body = mail.body();
    body.lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix} in:\n{body}"))
        .to_owned()
}

/// The 6-digit code of a verification email.
fn code_of(mail: &Captured) -> String {
    let body = mail.body();
    body.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in:\n{body}"))
        .to_owned()
}

/// Posts the verification code form; returns the status.
async fn post_verify(app: &TestApp, form: &[(&str, &str)]) -> u16 {
    app.post_form("/sites/callkom/rights/verify", form)
        .await
        .status()
        .as_u16()
}

/// `n` six-digit codes that are not `code`.
fn wrong_codes(code: &str, n: u32) -> Vec<String> {
    let code: u32 = code.parse().unwrap();
    (0..n)
        .map(|i| format!("{:06}", (code + 1 + i) % 1_000_000))
        .collect()
}

/// Submits over the JSON API and returns the verification email.
async fn submit(app: &TestApp, sink: &mut SmtpSink, email: &str, kind: &str) -> Captured {
    let (s, v) = json(
        app.post_json("/v1/requests", &request_body(email, kind))
            .await,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let mail = sink.next().await;
    assert_eq!(mail.rcpt, vec![email.to_string()]);
    mail
}

/// Follows the verification link of `mail`; returns the (status, page).
async fn follow_link(app: &TestApp, mail: &Captured) -> (u16, String) {
    let link = line_with(mail, &format!("{}/v1/requests/verify?token=", app.base));
    let r = app.client.get(&link).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The one request in the admin list with `?status=all`.
async fn only_request(app: &TestApp) -> Value {
    let (s, v) = json(app.admin_get("/admin/v1/requests?status=all").await).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    v["items"][0].clone()
}

/// The id of that one request.
async fn only_request_id(app: &TestApp) -> String {
    only_request(app).await["id"].as_str().unwrap().to_owned()
}

/// Admin action `action` (`start`, `extend`, ...) on request `id`.
async fn act(app: &TestApp, id: &str, action: &str, body: Value) -> (u16, Value) {
    admin_json(app, &format!("/admin/v1/requests/{id}/{action}"), body).await
}

async fn admin_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(
        app.admin_post(path, body.to_string(), "application/json")
            .await,
    )
    .await
}

/// Every ledger payload, as text.
async fn ledger_payloads(app: &TestApp) -> Vec<(String, String)> {
    let chain = app.state.store.writer_chain();
    app.state
        .store
        .entries(chain, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, p)| {
            (
                e.kind,
                p.map(|p| String::from_utf8(p).unwrap()).unwrap_or_default(),
            )
        })
        .collect()
}

async fn full_flow(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let email = "zoe.martin@example.org";
    let mail = submit(&app, &mut sink, email, "access").await;
    assert_eq!(
        mail.header("Content-Type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        mail.header("Subject")
            .unwrap()
            .contains("confirm your request"),
        "{:?}",
        mail.headers()
    );
    assert_eq!(mail.header("To").as_deref(), Some(email));

    // Received at submission; due one calendar month later, end of day in Paris (UTC+2).
    let item = only_request(&app).await;
    assert_eq!(item["status"], "received");
    assert_eq!(item["type"], "access");
    assert_eq!(item["received_at"], rfc3339(BASE_TIME_MS));
    assert_eq!(item["due_at"], "2026-10-21T21:59:59.999Z");
    assert_eq!(item["overdue"], false);
    let id = item["id"].as_str().unwrap().to_owned();
    // Not yet shown as due to the DPO.
    let (_, v) = json(app.admin_get("/admin/v1/requests").await).await;
    assert_eq!(
        (
            v["items"].as_array().unwrap().len(),
            v["awaiting_verification"].as_u64()
        ),
        (0, Some(1))
    );

    // Verify by following the link from the captured email: single use.
    app.clock.advance_ms(3_600_000);
    let (s, page) = follow_link(&app, &mail).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Request confirmed"), "{page}");
    let dpo = sink.next().await;
    assert_eq!(dpo.rcpt, vec!["privacy@callkom.example".to_string()]);
    assert!(dpo.body().contains(&id));
    let (s, page) = follow_link(&app, &mail).await;
    assert_eq!(s, 200, "already verified: {page}");
    let (s, _) = json(app.admin_get(&format!("/admin/v1/requests/{id}")).await).await;
    assert_eq!(s, 200);

    // Start, then extend: the requester is emailed the reason before it is recorded.
    let (s, v) = act(&app, &id, "start", json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("in_progress")), "{v}");
    let answer = act(&app, &id, "extend", json!({"reason": " "})).await;
    assert_error(&answer, 422, "field", "reason");
    let reason = "Your request covers ten years of call recordings.";
    let (s, v) = act(&app, &id, "extend", json!({"reason": reason})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "extended");
    assert_eq!(v["extended_due_at"], "2026-12-21T22:59:59.999Z");
    assert_eq!(v["due_at"], "2026-12-21T22:59:59.999Z");
    assert_eq!(v["original_due_at"], "2026-10-21T21:59:59.999Z");
    let notice = sink.next().await;
    assert_eq!(notice.rcpt, vec![email.to_string()]);
    assert!(notice.body().contains(reason), "{}", notice.body());
    assert!(notice.body().contains("2026-12-21"), "{}", notice.body());
    let kinds: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    let sent = kinds.iter().rposition(|k| *k == "email_sent").unwrap();
    let ext = kinds.iter().position(|k| *k == "extended").unwrap();
    assert!(sent < ext, "the notice precedes the extension: {kinds:?}");
    let answer = act(&app, &id, "extend", json!({"reason": "again"})).await;
    assert_error(&answer, 409, "code", "already_extended");

    // Complete with a JSON export; the email carries a download link valid 7 days.
    let export = br#"{"subject":"zoe","calls":[]}"#;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(export);
    let body = json!({"message": "Here is a copy of your data.", "attachments": [{"filename": "export.json", "content_type": "application/json", "content_base64": b64}]});
    let (s, v) = act(&app, &id, "complete", body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["email_sent"].as_bool()),
        (Some("completed"), Some(true))
    );
    assert_eq!(v["attachments"][0]["size"], export.len());
    let answer = sink.next().await;
    assert!(answer.body().contains("Here is a copy of your data."));
    let link = line_with(&answer, "- export.json: ")
        .trim_start_matches("- export.json: ")
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/v1/requests/{id}/download/", app.base)),
        "{link}"
    );
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"export.json\""
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), export);
    // A wrong token or another request: 404. After 7 days: 410.
    let bad = format!("{}{}", &link[..link.len() - 4], "0000");
    assert_eq!(app.client.get(&bad).send().await.unwrap().status(), 404);
    app.clock.advance_ms(7 * DAY);
    let answer = json(app.client.get(&link).send().await.unwrap()).await;
    assert_error(&answer, 410, "code", "expired");

    // Every step is in the ledger, with no personal data in any payload.
    let ledger = ledger_payloads(&app).await;
    let kinds: Vec<&str> = ledger.iter().map(|(k, _)| k.as_str()).collect();
    for k in [
        "rights.submitted",
        "rights.verified",
        "rights.email_sent",
        "rights.started",
        "rights.extended",
        "rights.completed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    for (k, p) in ledger.iter().filter(|(k, _)| k.starts_with("rights.")) {
        for personal in [email, "Zoé", "Please send me", reason, "Here is a copy"] {
            assert!(!p.contains(personal), "{k} leaks {personal:?}: {p}");
        }
        assert!(p.contains(&id), "{k}: {p}");
    }
}

async fn no_enumeration(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let known = "known@example.org";
    let mail = submit(&app, &mut sink, known, "erasure").await;
    assert_eq!(follow_link(&app, &mail).await.0, 200);
    let _dpo = sink.next().await;
    let mut answers = vec![];
    let mut mails = vec![];
    for email in [known, "never.seen@example.org"] {
        let r = app
            .post_json("/v1/requests", &request_body(email, "access"))
            .await;
        let status = r.status().as_u16();
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        answers.push((status, ct, r.text().await.unwrap()));
        mails.push(sink.next().await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 202);
    assert!(!answers[0].2.contains("example.org"));
    // Links expire after 24 hours; the code too.
    app.clock.advance_ms(24 * 3_600_000);
    let (s, page) = follow_link(&app, &mails[1]).await;
    assert_eq!(s, 410, "{page}");
    let code = code_of(&mails[1]);
    let form = [("email", "never.seen@example.org"), ("code", &code)];
    assert_eq!(post_verify(&app, &form).await, 422);
    app.clock.advance_ms(-1);
    let (s, _) = follow_link(&app, &mails[0]).await;
    assert_eq!(s, 200, "valid until the last millisecond");
}

async fn hostile_input(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let base = request_body("a@example.org", "access");
    let with = |k: &str, v: Value| {
        let mut x = base.clone();
        x[k] = v;
        x
    };
    let cases = [
        (with("name", json!("x".repeat(201))), 422, "name"),
        (
            with("email", json!(format!("{}@example.org", "a".repeat(243)))),
            422,
            "email",
        ),
        (with("details", json!("x".repeat(5001))), 422, "details"),
        (
            with("name", json!("Eve\r\nBcc: victim@example.org")),
            422,
            "name",
        ),
        (with("name", json!("Eve\nX-Injected: 1")), 422, "name"),
        (
            with("email", json!("eve@example.org\r\nBcc: victim@example.org")),
            422,
            "email",
        ),
        (with("email", json!("Eve <eve@example.org>")), 422, "email"),
        (with("type", json!("everything")), 422, "type"),
        (with("receipt", json!("../../etc/passwd")), 422, "receipt"),
        (with("site", json!("nope")), 404, "site"),
    ];
    for (body, status, field) in cases {
        let (s, v) = json(app.post_json("/v1/requests", &body).await).await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (status, Some(field)),
            "{body}: {v}"
        );
    }
    // Over the body size cap: 413 before anything is parsed.
    let (s, v) = json(
        app.post_json("/v1/requests", &with("details", json!("é".repeat(20_000))))
            .await,
    )
    .await;
    assert_eq!(s, 413, "{v}");
    // Through the HTML form, the same refusals, as an accessible page.
    let r = app
        .post_form(
            "/sites/callkom/rights",
            &[
                ("type", "access"),
                ("email", "a@example.org"),
                ("name", "Eve\r\nBcc: x@example.org"),
                ("lang", "en"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("role=\"alert\"") && page.contains("name:"),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    // Nothing was stored or sent.
    let (_, v) = json(app.admin_get("/admin/v1/requests?status=all").await).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    assert!(sink.try_next().is_none());

    // HTML in details: escaped in the admin pages, verbatim (inert) in the text/plain email.
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let mut body = request_body("h@example.org", "rectification");
    body["details"] = json!(evil);
    body["name"] = json!("<b>Bold</b>");
    assert_eq!(app.post_json("/v1/requests", &body).await.status(), 202);
    let mail = sink.next().await;
    assert_eq!(follow_link(&app, &mail).await.0, 200);
    let dpo = sink.next().await;
    assert_eq!(
        dpo.header("Content-Type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert!(dpo.body().contains(evil), "{}", dpo.body());
    assert!(!dpo.headers().iter().any(|(_, v)| v.contains("<script>")));
    let id = only_request_id(&app).await;
    let page = app.admin_get(&format!("/admin/requests/{id}")).await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-security-policy").contains("default-src 'none'"));
    let page = page.text().await.unwrap();
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "{page}"
    );
    assert!(page.contains("&#60;b&#62;Bold&#60;/b&#62;"), "{page}");
}

/// Asserts that `action` on request `id` is refused as the transition `from` -> `to`.
async fn assert_illegal(app: &TestApp, id: &str, action: &str, body: Value, from: &str, to: &str) {
    let answer = act(app, id, action, body).await;
    assert_error(&answer, 409, "code", "illegal_transition");
    let message = format!("illegal transition from {from} to {to}");
    assert_eq!(answer.1["error"]["message"], message.as_str());
}

async fn illegal_transitions(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let mail = submit(&app, &mut sink, "t@example.org", "erasure").await;
    let id = only_request_id(&app).await;
    let done = || json!({"message": "done"});
    assert_illegal(&app, &id, "start", json!({}), "received", "in_progress").await;
    assert_illegal(&app, &id, "complete", done(), "received", "completed").await;
    follow_link(&app, &mail).await;
    let _ = sink.next().await;
    assert_illegal(&app, &id, "complete", done(), "verified", "completed").await;
    assert_eq!(act(&app, &id, "start", json!({})).await.0, 200);
    assert_illegal(&app, &id, "start", json!({}), "in_progress", "in_progress").await;
    // Reject needs reasons; the email states them and the right to complain and to go to court.
    let answer = act(&app, &id, "reject", json!({"reasons": ""})).await;
    assert_error(&answer, 422, "field", "reasons");
    let reasons = json!({"reasons": "We hold no data about you."});
    let (s, v) = act(&app, &id, "reject", reasons).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("rejected")), "{v}");
    let refusal = sink.next().await;
    let text = refusal.body();
    assert!(text.contains("We hold no data about you."), "{text}");
    assert!(
        text.contains("CNIL") && text.contains("supervisory authority") && text.contains("court"),
        "{text}"
    );
    assert_illegal(&app, &id, "complete", done(), "rejected", "completed").await;
    let late = json!({"reason": "late"});
    assert_illegal(&app, &id, "extend", late, "rejected", "extended").await;
    // Notes are fine at any time; unknown ids are 404; an auditor may not write.
    let (s, v) = act(&app, &id, "notes", json!({"note": "Called the requester."})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v["history"].as_array().unwrap().last().unwrap()["note"],
        "Called the requester."
    );
    assert_eq!(
        admin_json(&app, "/admin/v1/requests/nope/start", json!({}))
            .await
            .0,
        404
    );
    let (tok, _) = app.new_token("auditor").await;
    let r = app
        .client
        .post(app.url(&format!("/admin/v1/requests/{id}/notes")))
        .bearer_auth(&tok)
        .json(&json!({"note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.client
            .get(app.url("/admin/v1/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn withdrawal_records_consent(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let subj = subject();
    let (s, v) = json(
        app.consent(
            json!({"subject": subj, "policy_version": 1, "action": "accept_all", "language": "fr"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let receipt = v["receipt"]["id"].as_str().unwrap().to_owned();
    // Through the HTML form, in French, with the receipt id.
    let r = app
        .post_form(
            "/sites/callkom/rights",
            &[
                ("type", "withdraw_consent"),
                ("email", "w@example.org"),
                ("name", "Wanda"),
                ("receipt", receipt.as_str()),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(r.status(), 202);
    assert!(r.text().await.unwrap().contains("Demande reçue"));
    let mail = sink.next().await;
    assert!(
        mail.header("Subject").unwrap().contains("confirmez"),
        "{:?}",
        mail.header("Subject")
    );
    let code = code_of(&mail);
    // Verify by typing the code; wrong codes are refused the same way as unknown emails.
    let post_code = |email: &'static str, code: String| {
        let app = &app;
        async move {
            let form = [("email", email), ("code", code.as_str()), ("lang", "fr")];
            post_verify(app, &form).await
        }
    };
    let wrong = wrong_codes(&code, 1).remove(0);
    assert_eq!(post_code("w@example.org", wrong).await, 422);
    assert_eq!(post_code("nobody@example.org", code.clone()).await, 422);
    assert_eq!(post_code("W@Example.org", code.clone()).await, 200);
    assert_eq!(
        post_code("w@example.org", code.clone()).await,
        422,
        "single use"
    );
    let _dpo = sink.next().await;

    let list = app
        .state
        .store
        .consents_by_subject("callkom", &subj)
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    let (newest, _) = &list[0];
    assert_eq!(
        (newest.action.as_str(), newest.channel.as_str()),
        ("withdraw", "rights_request")
    );
    let choices: Value = serde_json::from_str(&newest.choices_json).unwrap();
    let snap = &app.state.sites.current("callkom").unwrap().snapshot;
    for p in &snap.purposes {
        assert_eq!(choices[&p.id], json!(!p.consent_required), "{}", p.id);
    }
    let item = only_request(&app).await;
    let (_, detail) = json(
        app.admin_get(&format!(
            "/admin/v1/requests/{}",
            item["id"].as_str().unwrap()
        ))
        .await,
    )
    .await;
    assert_eq!(detail["subject"], subj);
    assert!(
        detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "consent_withdrawn"),
        "{detail}"
    );
    let ledger = ledger_payloads(&app).await;
    let withdraw = ledger
        .iter()
        .find(|(k, p)| k == "consent" && p.contains("\"rights_request\""))
        .expect("a withdraw consent entry");
    assert!(withdraw.1.contains(item["id"].as_str().unwrap()));
    // The new consent is a receipt like any other.
    let (s, _) = json(
        app.get(&format!("/v1/receipts/{}", newest.receipt_id))
            .await,
    )
    .await;
    assert_eq!(s, 200);
}

async fn reminders_overdue_and_retention(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let mail = submit(&app, &mut sink, "r@example.org", "portability").await;
    follow_link(&app, &mail).await;
    let _ = sink.next().await;
    let item = only_request(&app).await;
    let id = item["id"].as_str().unwrap().to_owned();
    let due = parse_time(item["due_at"].as_str().unwrap()).unwrap();
    let st = &app.state;
    assert_eq!(
        run_due_jobs(st, BASE_TIME_MS).await.unwrap(),
        JobReport::default()
    );
    // 7 days before: one reminder to the DPO, once.
    let at = due - 7 * DAY + 60_000;
    assert_eq!(run_due_jobs(st, at).await.unwrap().reminders, 1);
    let r = sink.next().await;
    assert_eq!(r.rcpt, vec!["privacy@callkom.example".to_string()]);
    assert!(
        r.header("Subject").unwrap().contains("due in 7 day"),
        "{:?}",
        r.header("Subject")
    );
    assert!(
        !r.body().contains("r@example.org"),
        "no requester data in reminders"
    );
    assert_eq!(run_due_jobs(st, at + 60_000).await.unwrap().reminders, 0);
    let at = due - DAY + 60_000;
    assert_eq!(run_due_jobs(st, at).await.unwrap().reminders, 1);
    assert!(
        sink.next()
            .await
            .header("Subject")
            .unwrap()
            .contains("due in 1 day")
    );
    // Overdue after the due date: flagged once, listed first.
    assert_eq!(run_due_jobs(st, due + 1).await.unwrap().overdue, 1);
    assert_eq!(run_due_jobs(st, due + 2).await.unwrap().overdue, 0);
    app.clock.set(due + 1);
    let (_, v) = json(app.admin_get("/admin/v1/requests?overdue=true").await).await;
    assert_eq!(v["items"][0]["id"], id.as_str());
    assert_eq!(v["items"][0]["overdue"], true);
    let page = app.admin_get("/admin/requests").await.text().await.unwrap();
    assert!(
        page.contains("tag red\">overdue") && page.contains(&id),
        "{page}"
    );

    // Close it; erased by the retention run at the end of the calendar year of the request
    // + 2 (Paris time), not before.
    let (s, _) = act(&app, &id, "start", json!({})).await;
    assert_eq!(s, 200);
    let (s, v) = act(
        &app,
        &id,
        "reject",
        json!({"reasons": "Identity not proven."}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let _ = sink.next().await;
    let before = parse_time("2028-12-31T22:59:59Z").unwrap();
    let set = assent_app::retention::RuleSet::for_app(st).unwrap();
    let erased = |at: i64| {
        let set = set.clone();
        async move {
            let opts = assent_app::retention::RunOptions::at(at, at);
            let rep = assent_app::retention::run(&st.store, &set, &opts)
                .await
                .unwrap();
            rep.rules
                .iter()
                .find(|r| r.applies_to.as_deref() == Some("rights_requests"))
                .map(|r| r.deleted)
                .unwrap()
        }
    };
    assert_eq!(erased(before).await, 0);
    let after = parse_time("2028-12-31T23:00:00Z").unwrap(); // 1 January 2029, 00:00 in Paris
    assert_eq!(erased(after).await, 1);
    assert_eq!(erased(after + 1).await, 0);
    app.clock.set(after);
    let (_, v) = json(app.admin_get(&format!("/admin/v1/requests/{id}")).await).await;
    assert_eq!(v["erased"], true);
    assert_eq!(
        (
            v["email"].clone(),
            v["name"].clone(),
            v["details"].clone(),
            v["response"].clone()
        ),
        (Value::Null, Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(
        (v["type"].as_str(), v["status"].as_str()),
        (Some("portability"), Some("rejected"))
    );
    assert!(
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["note"].is_null()),
        "{v}"
    );
    let ledger = ledger_payloads(&app).await;
    assert!(ledger.iter().any(|(k, _)| k == "rights.erased"));
    assert!(
        ledger.iter().any(|(k, _)| k == "rights.submitted"),
        "ledger entries stay"
    );
    assert!(ledger.iter().any(|(k, _)| k == "rights.overdue"));
    // Erased requests take no more transitions or notes.
    assert_eq!(act(&app, &id, "notes", json!({"note": "x"})).await.0, 409);
}

async fn without_smtp(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, v) = json(
        app.post_json("/v1/requests", &request_body("n@example.org", "access"))
            .await,
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (202, Some("received")));
    // The email is logged as not sent (in the background) and the DPO sees it.
    let mut problem = Value::Null;
    for _ in 0..200 {
        problem = only_request(&app).await["email_problem"].clone();
        if !problem.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(problem, "not sent: no SMTP configured");

    // Issue 19: without SMTP the requester is told the truth (no link was sent), on the form
    // and over the API; the DPO sees the request waiting, with its age, and verifies the
    // identity by hand (issue 15's manual verification), which the ledger records.
    let (s, v) = json(
        app.post_json("/v1/requests", &request_body("m@example.org", "access"))
            .await,
    )
    .await;
    assert_eq!(s, 202);
    assert_eq!(v["email"], "not_sent");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no confirmation link was sent"),
        "{v}"
    );
    let form = app
        .client
        .post(app.url("/sites/callkom/rights"))
        .form(&[
            ("type", "access"),
            ("email", "f@example.org"),
            ("name", "Fanny"),
            ("lang", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 202);
    let page = form.text().await.unwrap();
    assert!(page.contains("aucun lien de confirmation"), "{page}");
    assert!(!page.contains("ont été envoyés"), "{page}");

    let (_, list) = json(app.admin_get("/admin/v1/requests?status=received").await).await;
    let waiting = list["items"].as_array().unwrap();
    assert_eq!(waiting.len(), 3, "{list}");
    assert!(waiting.iter().all(|r| r["age_days"] == 0), "{list}");
    let id = waiting[0]["id"].as_str().unwrap().to_owned();
    // The DPO's queue page lists them too (they were invisible there), with the mail problem.
    let page = app.admin_get("/admin/requests").await.text().await.unwrap();
    assert!(
        page.contains(&id[..8]) && page.contains("Awaiting verification"),
        "{page}"
    );
    let path = format!("/admin/v1/requests/{id}/verify");
    let (s, v) = admin_json(&app, &path, json!({"note": ""})).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("note")),
        "{v}"
    );
    let (s, v) = admin_json(
        &app,
        &path,
        json!({"note": "identity card seen at the desk"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "verified");
    assert!(
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "verified"
                && h["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("identity card"))),
        "{v}"
    );
    let (s, v) = admin_json(&app, &path, json!({"note": "again"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("not_awaiting_verification"))
    );
    // The ledger has the verification, without the note.
    let payloads = ledger_payloads(&app).await;
    let verified: Vec<_> = payloads
        .iter()
        .filter(|(k, _)| k == "rights.verified")
        .collect();
    assert_eq!(verified.len(), 1, "{payloads:?}");
    assert!(verified[0].1.contains("\"via\":\"hand\""), "{verified:?}");
    assert!(!verified[0].1.contains("identity card"), "{verified:?}");

    // Issue 19: the demo's mail catcher shows what would have been sent, escaped, and its
    // verification link works: a newcomer can follow the whole flow in a browser.
    let r = app.get("/demo/mail").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Mails Assent would have sent"), "{page}");
    assert!(page.contains("m@example.org"), "{page}");
    // The link of a request still awaiting verification (not the one verified by hand).
    let link = page
        .split("<article")
        .filter(|mail| !mail.contains(&id))
        .flat_map(|mail| mail.split(|c: char| c.is_whitespace() || c == '<'))
        .find(|w| w.contains("/v1/requests/verify?token="))
        .expect("a verification link in the caught mails")
        .replace("&#38;", "&");
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200, "{link}");
}

async fn pages_and_admin_login(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.get("/sites/callkom/rights?lang=fr").await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/html"));
    let page = r.text().await.unwrap();
    for needle in [
        "<html lang=\"fr\"",
        "<label for=\"email\">",
        "<label for=\"type\">",
        "un mois",
        "CNIL",
        "https://www.cnil.fr",
        "post mortem",
        "method=\"post\"",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(!page.contains("<script"), "works without JavaScript");
    let page = app.text("/sites/callkom/rights?lang=en").await;
    assert!(page.contains("within one month") && page.contains("supervisory authority"));
    assert_eq!(app.get("/sites/nope/rights").await.status(), 404);
    assert_eq!(app.get("/sites/callkom/rights/verify").await.status(), 200);
    assert_eq!(app.get("/v1/requests/verify?token=abc").await.status(), 410);

    // The DPO's pages are the console's (tests/console.rs): without a session, its login form.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(app.url("/admin/requests")).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/admin/")
    );
}

/// Issue 20, finding 2: 40 wrong codes and the right one sent together used to be compared
/// before their attempts were counted, so the right one got through with 30 attempts
/// recorded. Now each guess claims an attempt atomically first: exactly 5 are compared,
/// the rest are refused without a comparison, and the right code after them is refused.
async fn parallel_code_guesses(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let mail = submit(&app, &mut sink, "p@example.org", "access").await;
    let code = code_of(&mail);
    let post = |code: String| {
        let app = &app;
        async move { post_verify(app, &[("email", "p@example.org"), ("code", &code)]).await }
    };
    let answers =
        futures_util::future::join_all(wrong_codes(&code, 40).into_iter().map(post)).await;
    assert!(answers.iter().all(|s| *s == 422), "{answers:?}");
    let id = only_request_id(&app).await;
    let tokens = app.state.store.rights_tokens(&id).await.unwrap();
    let code_token = tokens.iter().find(|t| t.purpose == "verify_code").unwrap();
    assert_eq!(
        code_token.attempts, 5,
        "every guess counted, none beyond the limit"
    );
    assert_eq!(post(code).await, 422, "the right code after 5 wrong ones");
    assert_eq!(only_request(&app).await["status"], "received");

    // All together: at most one of 41 parallel guesses can verify, and only 5 are compared.
    let mail = submit(&app, &mut sink, "q@example.org", "access").await;
    let code = code_of(&mail);
    let mut guesses = wrong_codes(&code, 40);
    guesses.insert(20, code);
    let post_q = |code: String| {
        let app = &app;
        async move { post_verify(app, &[("email", "q@example.org"), ("code", &code)]).await }
    };
    let answers = futures_util::future::join_all(guesses.into_iter().map(post_q)).await;
    assert!(
        answers.iter().filter(|s| **s == 200).count() <= 1,
        "{answers:?}"
    );
    let (_, list) = json(app.admin_get("/admin/v1/requests?status=all").await).await;
    let q = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] != id.as_str())
        .unwrap();
    let tokens = app
        .state
        .store
        .rights_tokens(q["id"].as_str().unwrap())
        .await
        .unwrap();
    let t = tokens.iter().find(|t| t.purpose == "verify_code").unwrap();
    assert!(t.attempts <= 5, "{} attempts claimed", t.attempts);
}

/// Issue 20, finding 2: 60 submissions for one address sent 60 emails in a second. Now an
/// address gets at most 3 verification emails an hour; the requester's answer is the same.
async fn verification_mails_per_address(b: Backend) {
    let (app, mut sink) = spawn(b).await;
    let bodies: Vec<Value> = (0..10)
        .map(|_| request_body("victim@example.org", "access"))
        .collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|b| async { json(app.post_json("/v1/requests", b).await).await.0 }),
    )
    .await;
    assert!(answers.iter().all(|s| *s == 202), "{answers:?}");
    for _ in 0..3 {
        let m = sink.next().await;
        assert_eq!(m.rcpt, vec!["victim@example.org".to_string()]);
    }
    // The DPO sees why the others got no email (recorded by the same background tasks).
    let mut problems = 0;
    for _ in 0..100 {
        let (_, v) = json(app.admin_get("/admin/v1/requests?status=received").await).await;
        problems = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["email_problem"]
                    .as_str()
                    .is_some_and(|p| p.contains("last hour"))
            })
            .count();
        if problems == 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(problems, 7);
    assert!(
        sink.try_next().is_none(),
        "a fourth email reached the address"
    );
}

/// A site that lists German gets the form, its pages and the requester's emails in German;
/// a site that does not keeps English for `?lang=de`.
async fn german(b: Backend) {
    // Callkom without German among its languages (its registry has German texts).
    let without_de = Options::default().registry_src.replace(
        "languages = [\"en\", \"fr\", \"de\"]",
        "languages = [\"en\", \"fr\"]",
    );
    assert!(!without_de.contains("\"fr\", \"de\"]"));
    let plain = TestApp::spawn_with_registry(b, without_de).await;
    let page = plain.text("/sites/callkom/rights?lang=de").await;
    assert!(page.contains("<html lang=\"en\"") && !page.contains("Deutsche Fassung"));
    plain.stop().await;

    let mut sink = SmtpSink::start().await;
    // The example registry lists German (examples/callkom.toml).
    let src = Options::default().registry_src;
    assert!(src.contains("\"fr\", \"de\"]"));
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_src: src,
            smtp: Some(sink.url.clone()),
            ..Options::default()
        },
    )
    .await;
    let page = app.text("/sites/callkom/rights?lang=de").await;
    for needle in [
        "<html lang=\"de\"",
        "Ihre Rechte ausüben",
        "Auskunft über meine Daten",
        "Berichtigung",
        "Löschung",
        "Einschränkung der Verarbeitung",
        "Datenübertragbarkeit",
        "Widerspruch",
        "innerhalb eines Monats",
        "Aufsichtsbehörde",
        "Bestätigungscode",
        "<input type=\"hidden\" name=\"lang\" value=\"de\">",
    ] {
        assert!(page.contains(needle), "{needle} missing in {page}");
    }
    let en = app.text("/sites/callkom/rights?lang=en").await;
    assert!(en.contains("lang=\"de\">Deutsche Fassung</a>"), "{en}");
    // A refusal in German names the field in German.
    let dora = |name: &'static str| {
        let app = &app;
        async move {
            let form = [
                ("type", "erasure"),
                ("email", "d@example.org"),
                ("name", name),
                ("lang", "de"),
            ];
            app.post_form("/sites/callkom/rights", &form).await
        }
    };
    let r = dora("Dora\r\nBcc: x@example.org").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(">Fehler: Vor- und Nachname: "), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    // The form in German: the answer page, the email and the confirmation are German.
    let r = dora("Dora Müller").await;
    assert_eq!(r.status(), 202);
    assert!(r.text().await.unwrap().contains("Antrag eingegangen"));
    let mail = sink.next().await;
    let body = mail.body();
    for needle in [
        "Guten Tag,",
        "(Löschung meiner Daten)",
        "Bestätigungscode",
        "rights/verify?lang=de",
    ] {
        assert!(body.contains(needle), "{needle} missing in {body}");
    }
    let (s, page) = follow_link(&app, &mail).await;
    assert_eq!(s, 200);
    assert!(page.contains("Antrag bestätigt"), "{page}");
    assert_eq!(only_request(&app).await["type"], "erasure");
}

/// Issue 19: the JSON API answers in the request's language, like the form.
async fn api_answers_in_the_requested_language(b: Backend) {
    let (app, _sink) = spawn(b).await;
    for (lang, words) in [
        ("fr", "Votre demande a été reçue"),
        ("de", "Ihr Antrag ist eingegangen"),
        ("en", "Your request has been received"),
    ] {
        let mut body = request_body(&format!("{lang}@example.org"), "access");
        body["language"] = json!(lang);
        let (s, v) = json(app.post_json("/v1/requests", &body).await).await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(v["language"], lang);
        assert!(v["message"].as_str().unwrap().starts_with(words), "{v}");
    }
    // A refused field is explained in the request's language too (it named the field in
    // English only).
    let mut body = request_body("not-an-address", "access");
    body["language"] = json!("fr");
    let (s, v) = json(app.post_json("/v1/requests", &body).await).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("email")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Adresse e-mail"),
        "{v}"
    );
}

both_backends!(
    api_answers_in_the_requested_language,
    full_flow,
    no_enumeration,
    hostile_input,
    illegal_transitions,
    withdrawal_records_consent,
    reminders_overdue_and_retention,
    without_smtp,
    pages_and_admin_login,
    parallel_code_guesses,
    verification_mails_per_address,
    german,
);
