#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Marketing consent (issue 17) over real HTTP on SQLite and PostgreSQL, with the Kalido
//! example: choices recorded with proof (the ledger holds a keyed hash, never the address),
//! the soft opt-in rules, double opt-in through a real SMTP sink (and SMTP down), the check
//! before a campaign with its RFC 8058 headers, the one-click POST exactly as a mailbox
//! provider sends it, the preference page, SMS STOP, the suppression list, the import, and
//! objections received as rights requests.

mod common;

use assent_model::clock::Clock;
use assent_model::marketing::sha256_hex;
use common::smtp_sink::SmtpSink;
use common::{Backend, Options, TestApp, assert_error, content_type, json};
use serde_json::{Value, json};

const SECRET: &str = "aggregator-secret-1234";

fn kalido() -> String {
    std::fs::read_to_string(common::examples_dir().join("kalido.toml")).unwrap()
}

async fn spawn(b: Backend, smtp: Option<String>) -> TestApp {
    TestApp::spawn_with(
        b,
        Options {
            registry_src: kalido(),
            smtp,
            sms_inbound_secret: Some(SECRET.into()),
            ..Options::default()
        },
    )
    .await
}

/// A marketing token's POST of `body` to `path`.
async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    json(
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn opt_in(email: &str, purpose: &str) -> Value {
    json!({"email": email, "channel": "email", "purpose": purpose, "action": "opt_in",
           "basis": "consent",
           "provenance": {"source_url": "https://kalido-pro.com/newsletter", "notice": "newsletter-form v3"}})
}

async fn record(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    post(app, token, "/v1/sites/kalido/marketing/consents", body).await
}

async fn check(app: &TestApp, token: &str, channel: &str, purpose: &str, who: &[&str]) -> Value {
    let (s, v) = post(
        app,
        token,
        "/v1/marketing/check",
        &json!({"site": "kalido", "channel": channel, "purpose": purpose, "recipients": who}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// Whether each recipient may be contacted.
async fn allowed(
    app: &TestApp,
    token: &str,
    channel: &str,
    purpose: &str,
    who: &[&str],
) -> Vec<bool> {
    let v = check(app, token, channel, purpose, who).await;
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["allowed"].as_bool().unwrap())
        .collect()
}

/// Every ledger payload, as text.
async fn ledger_text(app: &TestApp) -> String {
    let s = &app.state.store;
    s.entries(s.writer_chain(), 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, p)| p.map(|p| String::from_utf8_lossy(&p).into_owned()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn marketing_entries(app: &TestApp) -> usize {
    ledger_text(app).await.matches("assent-marketing/1").count()
}

/// The one-click URL of a check result.
fn one_click_url(result: &Value) -> String {
    let h = result["list_unsubscribe"].as_str().unwrap();
    h.trim_start_matches('<').trim_end_matches('>').to_owned()
}

async fn record_and_check(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    let (s, v) = record(
        &app,
        &tok,
        &opt_in("  Zoe.Martin@Example.FR ", "newsletter"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert!(v["receipt"]["id"].as_str().unwrap().len() >= 16, "{v}");
    assert_eq!(v["receipt"]["status"], "confirmed");
    // The ledger holds the keyed hash, never the address.
    let ledger = ledger_text(&app).await;
    assert!(ledger.contains("\"address\":\"hmac:"), "{ledger}");
    assert!(!ledger.to_lowercase().contains("zoe.martin"), "{ledger}");
    let v = check(
        &app,
        &tok,
        "email",
        "newsletter",
        &[
            "zoe.martin@example.fr",
            "other@example.fr",
            "not an address",
        ],
    )
    .await;
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["recipient"], "zoe.martin@example.fr");
    assert_eq!(r[0]["allowed"], true);
    let lu = r[0]["list_unsubscribe"].as_str().unwrap();
    assert!(
        lu.starts_with(&format!("<{}/u/", app.base)) && lu.ends_with('>'),
        "{lu}"
    );
    assert_eq!(r[0]["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert_eq!(r[1]["allowed"], false);
    assert!(r[1]["list_unsubscribe"].is_null());
    assert_eq!(r[2]["allowed"], false);
    assert!(
        r[2]["error"]
            .as_str()
            .unwrap()
            .contains("not an email address")
    );
    // The newsletter consent does not allow offers.
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe.martin@example.fr"]).await,
        [false]
    );
    // A French mobile in national form is the same person as its E.164 form.
    let sms = json!({"phone": "06 12 34 56 78", "channel": "sms", "purpose": "offers",
                     "action": "opt_in", "basis": "consent", "provenance": {"notice": "checkout-sms v1"}});
    let (s, v) = record(&app, &tok, &sms).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        allowed(
            &app,
            &tok,
            "sms",
            "offers",
            &["+33612345678", "+33 6 12 34 56 79"]
        )
        .await,
        [true, false]
    );
    // An SMS check carries no email headers.
    let v = check(&app, &tok, "sms", "offers", &["0612345678"]).await;
    assert!(v["results"][0]["list_unsubscribe"].is_null(), "{v}");
    // An opt-out through the API.
    app.clock.advance_ms(1_000);
    let mut out = opt_in("zoe.martin@example.fr", "newsletter");
    out["action"] = json!("opt_out");
    let (s, v) = record(&app, &tok, &out).await;
    assert_eq!(
        (s, &v["receipt"]["status"]),
        (201, &json!("opted_out")),
        "{v}"
    );
    assert_eq!(
        allowed(
            &app,
            &tok,
            "email",
            "newsletter",
            &["zoe.martin@example.fr"]
        )
        .await,
        [false]
    );
}

async fn bad_input_and_soft_opt_in_rules(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    let (aud, _) = app.new_token("auditor").await;
    let ok = opt_in("a@example.fr", "newsletter");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(&|v| v["email"] = json!("a@")), "field", "email"),
        (
            with(&|v| v["purpose"] = json!("partners")),
            "field",
            "purpose",
        ),
        (
            with(&|v| {
                v["channel"] = json!("sms");
                v["phone"] = json!("0612345678");
                v.as_object_mut().unwrap().remove("email");
            }),
            "field",
            "channel",
        ),
        (
            with(&|v| v["provenance"] = json!({})),
            "field",
            "provenance.notice",
        ),
        (
            with(&|v| v["phone"] = json!("0612345678")),
            "field",
            "email",
        ),
        (with(&|v| v["basis"] = json!(null)), "field", "basis"),
        // Soft opt-in: each rule, by name.
        (
            json!({"phone": "0612345678", "channel": "sms", "purpose": "offers", "action": "opt_in",
                "basis": "soft_opt_in", "provenance": {"order_ref": "C-1", "objection_offered": true}}),
            "code",
            "soft_opt_in_channel",
        ),
        (
            with(&|v| {
                v["basis"] = json!("soft_opt_in");
                v["provenance"] = json!({"order_ref": "C-1", "objection_offered": true});
            }),
            "code",
            "soft_opt_in_purpose",
        ),
        (
            with(&|v| {
                v["purpose"] = json!("offers");
                v["basis"] = json!("soft_opt_in");
                v["provenance"] = json!({"objection_offered": true});
            }),
            "code",
            "soft_opt_in_order",
        ),
        (
            with(&|v| {
                v["purpose"] = json!("offers");
                v["basis"] = json!("soft_opt_in");
                v["provenance"] = json!({"order_ref": "C-1", "objection_offered": false});
            }),
            "code",
            "soft_opt_in_objection",
        ),
    ];
    for (body, key, want) in cases {
        let got = record(&app, &tok, &body).await;
        assert_error(&got, 422, key, want);
    }
    // A customer's address from an order, objection offered: soft opt-in for offers.
    let soft = with(&|v| {
        v["purpose"] = json!("offers");
        v["basis"] = json!("soft_opt_in");
        v["provenance"] = json!({"order_ref": "C-2026-0042", "objection_offered": true});
    });
    let (s, v) = record(&app, &tok, &soft).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["basis"], "soft_opt_in");
    // Unknown site, unknown field, no token, a role without the permission.
    assert_eq!(
        post(&app, &tok, "/v1/sites/nope/marketing/consents", &ok)
            .await
            .0,
        404
    );
    assert_eq!(
        record(&app, &tok, &with(&|v| v["extra"] = json!(1)))
            .await
            .0,
        422
    );
    let anon = app
        .client
        .post(app.url("/v1/marketing/check"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    assert_eq!(record(&app, &aud, &ok).await.0, 403);
    // Admin tokens may record too.
    assert_eq!(record(&app, &app.token, &ok).await.0, 201);
    // A batch over 10,000 recipients: 413 naming the field.
    let many: Vec<String> = (0..10_001).map(|k| format!("p{k}@example.fr")).collect();
    let got = post(
        &app,
        &tok,
        "/v1/marketing/check",
        &json!({"site": "kalido", "channel": "email", "purpose": "newsletter", "recipients": many}),
    )
    .await;
    assert_error(&got, 413, "field", "recipients");
    // Exactly 10,000 is accepted.
    let many: Vec<String> = (0..10_000).map(|k| format!("p{k}@example.fr")).collect();
    let v = check(
        &app,
        &tok,
        "email",
        "newsletter",
        &many.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 10_000);
}

async fn one_click_as_a_mailbox_provider_sends_it(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    record(&app, &tok, &opt_in("zoe@example.fr", "newsletter")).await;
    record(&app, &tok, &opt_in("zoe@example.fr", "offers")).await;
    let v = check(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await;
    let url = one_click_url(&v["results"][0]);
    let before = marketing_entries(&app).await;
    // What Gmail sends: a form-encoded POST, no cookie, no authorization, no redirect.
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..2 {
        let r = provider
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("set-cookie").is_none());
    }
    // Recorded before the answer, once (idempotent), for that purpose only.
    assert_eq!(marketing_entries(&app).await, before + 1);
    assert_eq!(
        allowed(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await,
        [false]
    );
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe@example.fr"]).await,
        [true]
    );
    // multipart/form-data, which RFC 8058 allows too.
    let v = check(&app, &tok, "email", "offers", &["zoe@example.fr"]).await;
    let url2 = one_click_url(&v["results"][0]);
    let body = "--b1\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b1--\r\n";
    let r = provider
        .post(&url2)
        .header("content-type", "multipart/form-data; boundary=b1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe@example.fr"]).await,
        [false]
    );
    // A forged or altered token is refused and writes nothing.
    let n = marketing_entries(&app).await;
    let (head, last) = url.split_at(url.len() - 3);
    let altered = format!("{head}{}", if last == "AAA" { "BBB" } else { "AAA" });
    for bad in [altered, format!("{}/u/forged", app.base)] {
        let r = provider
            .post(&bad)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(marketing_entries(&app).await, n);
    // Another body is not a one-click.
    let r = provider
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("hello=world")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

async fn preference_page(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    record(&app, &tok, &opt_in("zoe@example.fr", "newsletter")).await;
    record(&app, &tok, &opt_in("zoe@example.fr", "offers")).await;
    let v = check(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await;
    let url = one_click_url(&v["results"][0]);
    let path = url.trim_start_matches(&app.base).to_owned();
    for (lang, words) in [
        ("fr", "Offres de produits et services analogues"),
        ("en", "Newsletter"),
    ] {
        let r = app.get(&format!("{path}?lang={lang}")).await;
        assert_eq!(r.status(), 200);
        assert!(content_type(&r).starts_with("text/html"));
        let page = r.text().await.unwrap();
        assert!(page.contains(&format!("lang=\"{lang}\"")), "{page}");
        assert!(page.contains(words), "{page}");
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("<label for=\"p-offers\""), "{page}");
    }
    let fr = app.text(&format!("{path}?lang=fr")).await;
    for english in ["Unsubscribe", "Save my choices", "Messages preferences"] {
        assert!(!fr.contains(english), "{english} in {fr}");
    }
    // Untick the newsletter, keep offers.
    let r = app
        .post_form(
            &format!("{path}?lang=en"),
            &[("keep", "offers"), ("action", "save")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Your choices are saved."));
    assert_eq!(
        allowed(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await,
        [false]
    );
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe@example.fr"]).await,
        [true]
    );
    // Leave everything.
    let r = app
        .post_form(&format!("{path}?lang=en"), &[("action", "leave_all")])
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe@example.fr"]).await,
        [false]
    );
    // The privacy policy states the marketing purposes (the banner never shows them).
    let policy = app.text("/sites/kalido/privacy-policy?lang=fr").await;
    assert!(policy.contains("Prospection par e-mail et SMS"), "{policy}");
    assert!(policy.contains("Offres de produits et services analogues"));
    let details = app.text("/assent-details.json?site=kalido&lang=fr").await;
    assert!(!details.contains("newsletter"), "{details}");
    // A forged link: an HTML page saying so.
    let r = app.get("/u/forged-token?lang=fr").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Lien non valide"));
}

async fn double_opt_in(b: Backend) {
    let mut sink = SmtpSink::start().await;
    let app = spawn(b, Some(sink.url.clone())).await;
    let (tok, _) = app.new_token("marketing").await;
    let mut body = opt_in("zoe@example.fr", "newsletter");
    body["double_opt_in"] = json!(true);
    body["language"] = json!("fr");
    let (s, v) = record(&app, &tok, &body).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["receipt"]["status"], "unconfirmed");
    assert_eq!(v["receipt"]["confirmation_email"]["status"], "sent", "{v}");
    let mail = sink.next().await;
    assert_eq!(mail.rcpt, vec!["zoe@example.fr".to_string()]);
    let text = mail.body();
    assert!(text.contains("Lettre d'information"), "{text}");
    let link = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}/m/confirm/", app.base)))
        .unwrap()
        .to_owned();
    // Not effective until confirmed.
    assert_eq!(
        allowed(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await,
        [false]
    );
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Inscription confirmée"));
    assert_eq!(
        allowed(&app, &tok, "email", "newsletter", &["zoe@example.fr"]).await,
        [true]
    );
    let ledger = ledger_text(&app).await;
    assert!(ledger.contains("\"source\":\"double_opt_in\""), "{ledger}");
    assert!(ledger.contains("confirmed_at"), "{ledger}");
    // A link serves once.
    assert_eq!(app.client.get(&link).send().await.unwrap().status(), 404);
    // Double opt-in is for email opt-ins only.
    let mut bad = body.clone();
    bad["action"] = json!("opt_out");
    assert_error(
        &record(&app, &tok, &bad).await,
        422,
        "field",
        "double_opt_in",
    );
    // Unconfirmed requests expire.
    let mut other = opt_in("late@example.fr", "newsletter");
    other["double_opt_in"] = json!(true);
    assert_eq!(record(&app, &tok, &other).await.0, 202);
    let late = sink.next().await;
    let late_link = late
        .body()
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/m/confirm/"))
        .unwrap()
        .to_owned();
    app.clock.advance_ms(8 * 86_400_000);
    let rep = assent_app::marketing::record::run_jobs(&app.state, app.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(rep.expired, 1);
    assert_eq!(
        app.client.get(&late_link).send().await.unwrap().status(),
        404
    );
}

async fn smtp_down_is_retried_and_visible(b: Backend) {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn(b, Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (tok, _) = app.new_token("marketing").await;
    let mut body = opt_in("zoe@example.fr", "newsletter");
    body["double_opt_in"] = json!(true);
    let (s, v) = record(&app, &tok, &body).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        v["receipt"]["confirmation_email"]["status"], "failed",
        "{v}"
    );
    let (s, v) = json(app.admin_get("/admin/v1/marketing/pending-mails").await).await;
    assert_eq!(s, 200);
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{v}");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("sending failed")
    );
    assert!(
        !v.to_string().contains("zoe@"),
        "no address for the operator: {v}"
    );
    // The job retries (still down): the attempt is counted, nothing is lost.
    let rep = assent_app::marketing::record::run_jobs(&app.state, app.clock.now_ms())
        .await
        .unwrap();
    assert_eq!((rep.sent, rep.failed), (0, 1));
    let (_, v) = json(app.admin_get("/admin/v1/marketing/pending-mails").await).await;
    // The minute loop may have run too: at least the request's try and the job's.
    assert!(v["failed"][0]["attempts"].as_i64().unwrap() >= 2, "{v}");
}

async fn sms_stop(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    let sms = json!({"phone": "+33612345678", "channel": "sms", "purpose": "offers",
                     "action": "opt_in", "basis": "consent", "provenance": {"notice": "checkout-sms v1"}});
    assert_eq!(record(&app, &tok, &sms).await.0, 201);
    let path = "/v1/sites/kalido/sms/inbound";
    let msg = json!({"from": "06 12 34 56 78", "to": "38123", "text": "Bonjour"});
    // No secret, a wrong one: 401.
    assert_eq!(app.post_json(path, &msg).await.status(), 401);
    assert_eq!(
        app.post_json(&format!("{path}?secret=wrong"), &msg)
            .await
            .status(),
        401
    );
    // Another message is ignored.
    let (s, v) = json(
        app.post_json(&format!("{path}?secret={SECRET}"), &msg)
            .await,
    )
    .await;
    assert_eq!((s, &v["result"]), (200, &json!("ignored")), "{v}");
    assert_eq!(
        allowed(&app, &tok, "sms", "offers", &["+33612345678"]).await,
        [true]
    );
    app.clock.advance_ms(1_000);
    // ARRÊT as form fields, the secret in a header.
    let r = app
        .client
        .post(app.url(path))
        .header("x-assent-secret", SECRET)
        .form(&[
            ("from", "+33612345678"),
            ("to", "38123"),
            ("text", "arrêt svp"),
        ])
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!((s, &v["result"]), (200, &json!("opted_out")), "{v}");
    assert_eq!(
        allowed(&app, &tok, "sms", "offers", &["+33612345678"]).await,
        [false]
    );
    // STOP SMS in JSON, an invalid sender: 422 naming it.
    let bad = json!({"from": "hello", "text": "STOP SMS"});
    let got = json(
        app.post_json(&format!("{path}?secret={SECRET}"), &bad)
            .await,
    )
    .await;
    assert_error(&got, 422, "field", "from");
}

async fn suppressions_export(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    for who in ["a@example.fr", "=cmd@example.fr"] {
        record(&app, &tok, &opt_in(who, "newsletter")).await;
        let mut out = opt_in(who, "newsletter");
        out["action"] = json!("opt_out");
        app.clock.advance_ms(1_000);
        assert_eq!(record(&app, &tok, &out).await.0, 201);
    }
    let (s, v) = json(
        app.admin_get("/admin/v1/marketing/suppressions?channel=email")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let list = v["suppressions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{v}");
    assert_eq!(list[0]["address"], "a@example.fr");
    let (_, v) = json(
        app.admin_get("/admin/v1/marketing/suppressions?channel=email&hashed=true")
            .await,
    )
    .await;
    assert_eq!(v["suppressions"][0]["sha256"], sha256_hex("a@example.fr"));
    assert!(v["suppressions"][0].get("address").is_none(), "{v}");
    let r = app
        .admin_get("/admin/v1/marketing/suppressions?channel=email&format=csv")
        .await;
    assert!(content_type(&r).starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("site,channel,purpose,address,source,updated_at"),
        "{csv}"
    );
    assert!(csv.contains("'=cmd@example.fr"), "formula escaped: {csv}");
    let (_, v) = json(
        app.admin_get("/admin/v1/marketing/suppressions?channel=email&since=2100-01-01T00:00:00Z")
            .await,
    )
    .await;
    assert_eq!(v["suppressions"].as_array().unwrap().len(), 0);
    let got = json(
        app.admin_get("/admin/v1/marketing/suppressions?channel=fax")
            .await,
    )
    .await;
    assert_error(&got, 422, "field", "channel");
}

async fn import_and_objection(b: Backend) {
    let app = spawn(b, None).await;
    let (tok, _) = app.new_token("marketing").await;
    let csv = "email,phone,purpose,basis,notice,order_ref,objection_offered,collected_at\n\
               zoe@example.fr,,newsletter,consent,old-form v1,,,2025-03-01\n\
               zoe@example.fr,,offers,soft_opt_in,,C-77,true,2025-03-01\n\
               ,06 12 34 56 78,offers,consent,shop-sms v2,,,2025-04-01\n";
    let r = app
        .admin_post("/admin/v1/marketing/import?site=kalido", csv, "text/csv")
        .await;
    let (s, v) = json(r).await;
    assert_eq!((s, &v["imported"]), (200, &json!(3)), "{v}");
    assert!(ledger_text(&app).await.contains("\"imported\":true"));
    assert_eq!(
        allowed(&app, &tok, "email", "offers", &["zoe@example.fr"]).await,
        [true]
    );
    // A bad line names its line; nothing of the file is written.
    let bad = "email,purpose,notice\nnew@example.fr,newsletter,f1\nnew2@example.fr,partners,f1\n";
    let r = app
        .admin_post("/admin/v1/marketing/import?site=kalido", bad, "text/csv")
        .await;
    let (s, v) = json(r).await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("line 3"),
        "{v}"
    );
    assert_eq!(
        allowed(&app, &tok, "email", "newsletter", &["new@example.fr"]).await,
        [false]
    );
    // An objection (Art. 21(3)) received as a rights request, verified: every purpose stops.
    app.clock.advance_ms(1_000);
    let (s, v) = json(
        app.post_json(
            "/v1/requests",
            &json!({"site": "kalido", "type": "objection", "email": "Zoe@Example.fr",
                    "name": "Zoé", "details": "No more marketing.", "language": "fr"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let (_, list) = json(app.admin_get("/admin/v1/requests?status=all").await).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .client
        .post(app.url(&format!("/admin/v1/requests/{id}/verify")))
        .bearer_auth(&app.token)
        .json(&json!({"note": "identity checked by phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for purpose in ["newsletter", "offers"] {
        assert_eq!(
            allowed(&app, &tok, "email", purpose, &["zoe@example.fr"]).await,
            [false],
            "{purpose}"
        );
    }
    // SMS is another address: untouched.
    assert_eq!(
        allowed(&app, &tok, "sms", "offers", &["+33612345678"]).await,
        [true]
    );
}

both_backends!(
    record_and_check,
    bad_input_and_soft_opt_in_rules,
    one_click_as_a_mailbox_provider_sends_it,
    preference_page,
    double_opt_in,
    smtp_down_is_retried_and_visible,
    sms_stop,
    suppressions_export,
    import_and_objection,
);
