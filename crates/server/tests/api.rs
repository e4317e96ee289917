#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The HTTP API over real loopback, on SQLite and PostgreSQL: health, metrics, error bodies,
//! admin authentication, the consent API and receipts.

mod common;

use common::{
    Backend, Options, TestApp, assert_error, content_type, hotjar_service, json, subject,
};
use serde_json::{Value, json};

const CONSENTS: &str = "/v1/sites/callkom/consents";

/// Applies a registry through the admin API.
async fn apply_registry(app: &TestApp, src: impl Into<reqwest::Body>) -> (u16, Value) {
    json(
        app.admin_post("/admin/v1/registry", src, "application/toml")
            .await,
    )
    .await
}

async fn health_and_metrics(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, v) = json(app.get("/healthz").await).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let (s, v) = json(app.get("/readyz").await).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["backend"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    // Business counters: not without a token (issue 20, finding 8), with one that may read.
    assert_eq!(app.get("/metrics").await.status(), 401);
    let m = app.admin_get("/metrics").await;
    assert_eq!(m.status(), 200);
    assert!(content_type(&m).starts_with("text/plain"));
    let body = m.text().await.unwrap();
    assert!(
        body.contains("assent_http_requests_total{class=\"2xx\"}"),
        "{body}"
    );
    assert!(body.contains("assent_sites 1"), "{body}");
    // Group-commit counters: the registry was applied through the writer at start.
    let counter = |name: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing: {body}"))
    };
    let transactions = counter("assent_store_write_transactions_total");
    assert!(transactions >= 1, "{body}");
    assert!(
        counter("assent_store_write_requests_total") >= transactions,
        "{body}"
    );
    assert!(counter("assent_store_flushes_total") >= 1, "{body}");
    // Every flush is in the duration histogram, whose buckets are cumulative.
    assert_eq!(
        counter("assent_store_flush_duration_seconds_count"),
        counter("assent_store_flushes_total"),
        "{body}"
    );
    assert_eq!(
        counter("assent_store_flush_duration_seconds_bucket{le=\"+Inf\"}"),
        counter("assent_store_flushes_total"),
        "{body}"
    );
    assert!(
        counter("assent_store_flush_duration_seconds_bucket{le=\"0.00025\"}")
            <= counter("assent_store_flush_duration_seconds_bucket{le=\"0.1\"}"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE assent_store_flush_duration_seconds histogram"),
        "{body}"
    );
    let (s, v) = json(app.get("/.well-known/gpc.json").await).await;
    assert_eq!((s, v["gpc"].as_bool()), (200, Some(true)));
    let (s, v) = json(app.get("/.well-known/assent-ledger-key").await).await;
    assert_eq!((s, v["alg"].as_str()), (200, Some("Ed25519")));
}

async fn errors_are_json(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, v) = json(app.get("/nope").await).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    let (s, v) = json(r).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

async fn admin_requires_a_token(b: Backend) {
    let app = TestApp::spawn(b).await;
    for path in [
        "/admin/v1/whoami",
        "/admin/v1/sites",
        "/admin/v1/consents?receipt=x",
    ] {
        assert_error(
            &json(app.get(path).await).await,
            401,
            "code",
            "unauthorized",
        );
        assert_eq!(
            app.get_as(path, "assent_bad_token").await.status(),
            401,
            "{path}"
        );
        let basic = [("authorization", "Basic Zm9vOmJhcg==")];
        assert_eq!(app.get_with(path, &basic).await.status(), 401, "{path}");
    }
    let (s, v) = json(app.admin_get("/admin/v1/whoami").await).await;
    assert_eq!((s, v["role"].as_str()), (200, Some("admin")));
    let (s, v) = json(app.admin_get("/admin/v1/sites").await).await;
    assert_eq!(s, 200);
    assert_eq!(v["items"][0]["id"], "callkom");
    assert_eq!(v["items"][0]["version"], 1);
    // A revoked token stops working at once.
    let (tok, id) = app.new_token("auditor").await;
    assert_eq!(app.get_as("/admin/v1/whoami", &tok).await.status(), 200);
    // An auditor may not write.
    let r = app.post_as("/admin/v1/ledger/checkpoints", &tok).await;
    assert_eq!(r.status(), 403);
    app.state.store.revoke_token(&id, 1).await.unwrap();
    assert_eq!(app.get_as("/admin/v1/whoami", &tok).await.status(), 401);
}

async fn bad_bodies(b: Backend) {
    let app = TestApp::spawn(b).await;
    let url = app.url("/v1/sites/callkom/consents");
    let send = |body: Vec<u8>, ct: &'static str| {
        let c = app.client.clone();
        let url = url.clone();
        async move {
            json(
                c.post(url)
                    .header("content-type", ct)
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (s, v) = send(b"{}".to_vec(), "application/xml").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, v) = send(b"{\"subject\": ".to_vec(), "application/json").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("bad_request")));
    let (s, _) = send(vec![b'"', 0xff, 0xfe, b'"'], "application/json").await;
    assert_eq!(s, 400);
    let big = format!("{{\"subject\": \"{}\"}}", "a".repeat(64 * 1024));
    let (s, body) = common::raw_post(
        app.addr,
        "/v1/sites/callkom/consents",
        "application/json",
        big.as_bytes(),
    )
    .await;
    assert_eq!(s, 413, "{body}");
    assert!(body.contains("payload_too_large"), "{body}");
    let (s, v) = send(br#"{"subject": 5}"#.to_vec(), "application/json").await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("subject")));
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en", "colour": 1});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(s, 422);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{v}"
    );
    let body =
        json!({"subject": subject(), "policy_version": 1, "action": "maybe", "language": "en"});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("action")));
    let body = json!({"subject": subject(), "policy_version": 1, "language": "en"});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("action")),
        "{v}"
    );
    // Nothing of the above was stored.
    let heads = app.state.store.chain_heads().await.unwrap();
    let consents: u64 = heads.iter().map(|h| h.seq + 1).sum();
    assert_eq!(
        consents, 1,
        "only the policy version entry is in the ledger"
    );
}

async fn consent_rules(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sub = subject();
    let ok = json!({"subject": sub, "policy_version": 1, "action": "accept_all", "language": "fr"});
    let (s, v) = json(app.consent(ok.clone()).await).await;
    assert_eq!(s, 201, "{v}");
    let r = &v["receipt"];
    assert_eq!(
        r["choices"],
        json!({"necessary": true, "functional": true, "performance": true})
    );
    assert_eq!(r["hash"].as_str().unwrap().len(), 64);
    assert_eq!(r["policy_version"], 1);
    let cases = [
        (
            json!({"subject": sub, "policy_version": 1, "action": "custom", "choices": {"functional": true}, "language": "fr"}),
            "choices.performance",
            422,
        ),
        (
            json!({"subject": sub, "policy_version": 1, "action": "custom", "choices": {"functional": true, "performance": false, "ads": true}, "language": "fr"}),
            "choices.ads",
            422,
        ),
        (
            json!({"subject": sub, "policy_version": 1, "action": "reject_all", "choices": {"necessary": false}, "language": "fr"}),
            "choices.necessary",
            422,
        ),
        (
            json!({"subject": sub, "policy_version": 7, "action": "accept_all", "language": "fr"}),
            "policy_version",
            422,
        ),
        (
            json!({"subject": sub, "policy_version": 0, "action": "accept_all", "language": "fr"}),
            "policy_version",
            422,
        ),
        (
            json!({"subject": "not-a-uuid", "policy_version": 1, "action": "accept_all", "language": "fr"}),
            "subject",
            422,
        ),
        (
            json!({"subject": sub, "policy_version": 1, "action": "accept_all", "language": "it"}),
            "language",
            422,
        ),
    ];
    for (body, field, status) in cases {
        let (s, v) = json(app.consent(body.clone()).await).await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (status, Some(field)),
            "{body} -> {v}"
        );
    }
    let (s, v) = json(app.post_json("/v1/sites/nosuch/consents", &ok).await).await;
    assert_eq!((s, v["error"]["field"].as_str()), (404, Some("site")));

    // A custom choice is recorded as given; strictly necessary stays on.
    let body = json!({"subject": sub, "policy_version": 1, "action": "custom", "choices": {"functional": true, "performance": false}, "language": "en", "channel": "preferences"});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(s, 201);
    assert_eq!(
        v["receipt"]["choices"],
        json!({"necessary": true, "functional": true, "performance": false})
    );

    // The admin query finds both records of the subject, newest first, with no IP address.
    let (s, v) = json(
        app.admin_get(&format!("/admin/v1/consents?site=callkom&subject={sub}"))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["channel"], "preferences");
    assert_eq!(items[1]["action"], "accept_all");
    assert!(!v.to_string().contains("127.0.0.1"), "no address is stored");
    let rid = items[1]["receipt_id"].as_str().unwrap();
    let (s, v) = json(
        app.admin_get(&format!("/admin/v1/consents?receipt={rid}"))
            .await,
    )
    .await;
    assert_eq!((s, v["items"].as_array().unwrap().len()), (200, 1));
}

async fn gpc_refuses_advertising(b: Backend) {
    let src = std::fs::read_to_string(common::examples_dir().join("callkom.toml")).unwrap()
        + r#"
[[purposes]]
id = "advertising"
name = { en = "Advertising", fr = "Publicité", de = "Werbung" }
description = { en = "Ads.", fr = "Publicités.", de = "Werbung." }
legal_basis = "consent"
gpc = true
consent_mode = ["ad_storage", "ad_user_data", "ad_personalization"]
"#;
    let app = TestApp::spawn_with_registry(b, src).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    let r = app
        .post_json_with(CONSENTS, &[("Sec-GPC", "1")], &body)
        .await;
    let (s, v) = json(r).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["choices"]["advertising"], false);
    assert_eq!(v["receipt"]["choices"]["performance"], true);
    assert_eq!(v["receipt"]["method"], "gpc");
    // The body flag has the same effect, and a custom grant cannot beat it.
    let body = json!({"subject": subject(), "policy_version": 1, "action": "custom", "gpc": true, "language": "en",
                      "choices": {"functional": true, "performance": true, "advertising": true}});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(
        (s, &v["receipt"]["choices"]["advertising"]),
        (201, &json!(false))
    );
}

async fn cors_is_limited_to_site_domains(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "reject_all", "language": "en"});
    let r = app
        .post_json_with(CONSENTS, &[("origin", "https://www.callkom.io")], &body)
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://www.callkom.io"
    );
    let r = app
        .post_json_with(CONSENTS, &[("origin", "https://evil.example")], &body)
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/v1/sites/callkom/consents"),
        )
        .header("origin", "https://app.callkom.io")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.callkom.io"
    );
}

async fn receipts_verify_offline(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    let (_, v) = json(app.consent(body).await).await;
    let id = v["receipt"]["id"].as_str().unwrap().to_string();
    let key_text = app.text("/.well-known/assent-ledger-key").await;
    let key = assent_ledger::PublicKeyInfo::parse(&key_text).unwrap();

    // Before a checkpoint: hash-valid, pending.
    let text = app.text(&format!("/v1/receipts/{id}")).await;
    let receipt = assent_ledger::Receipt::from_json(&text).unwrap();
    assert_eq!(receipt.record["consentReceiptID"], id.as_str());
    for field in [
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "language",
        "piiPrincipalId",
        "policyHash",
        "policyVersion",
        "textFingerprint",
        "expiresAt",
    ] {
        assert!(receipt.record.get(field).is_some(), "receipt lacks {field}");
    }
    assert_eq!(receipt.record["version"], "assent-consent/2");
    // What only depends on the policy version comes as the receipt's context, tied to the
    // record by the policy hash.
    let context = receipt.context.as_ref().expect("receipt has a context");
    for field in ["piiControllers", "policyUrl", "services", "termination"] {
        assert!(context.get(field).is_some(), "context lacks {field}");
    }
    assert_eq!(context["policyHash"], receipt.record["policyHash"]);
    let mut forged = receipt.clone();
    forged.context.as_mut().unwrap()["policyHash"] = serde_json::json!("sha256:00");
    assert!(assent_ledger::verify_receipt(&forged, &key).is_err());
    assert!(matches!(
        assent_ledger::verify_receipt(&receipt, &key).unwrap(),
        assent_ledger::ReceiptStatus::PendingCheckpoint
    ));

    // After one: anchored in a signed checkpoint with an inclusion proof.
    let r = app
        .admin_post("/admin/v1/ledger/checkpoints", "", "application/json")
        .await;
    assert_eq!(r.status(), 200);
    let text = app.text(&format!("/v1/receipts/{id}")).await;
    let receipt = assent_ledger::Receipt::from_json(&text).unwrap();
    let subject_of_receipt = receipt.record["piiPrincipalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(matches!(
        assent_ledger::verify_receipt(&receipt, &key).unwrap(),
        assent_ledger::ReceiptStatus::Anchored { .. }
    ));
    // A receipt whose record was altered fails.
    let mut forged = receipt.clone();
    forged.record["purposes"]["performance"] = json!(false);
    assert!(assent_ledger::verify_receipt(&forged, &key).is_err());
    let (s, _) = json(
        app.get("/v1/receipts/ffffffffffffffffffffffffffffffff")
            .await,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = json(app.get("/v1/receipts/..%2F..%2Fetc").await).await;
    assert_eq!(s, 404);
    // Receipts are found through their creation time: the right millisecond with another
    // random part, the same id in upper case, or an overlong one, find nothing.
    for other in [
        format!("{}{}", &id[..12], "0".repeat(20)),
        id.to_ascii_uppercase(),
        format!("{id}0"),
        "x".repeat(4096),
    ] {
        let (s, _) = json(app.get(&format!("/v1/receipts/{other}")).await).await;
        assert_eq!(s, 404, "{other}");
    }
    // Erasure: the record is gone (410), the chain still verifies, the erasure is recorded.
    let erase = |reason: &'static str| {
        let (app, path) = (&app, format!("/admin/v1/consents/{id}/erase"));
        async move {
            let body = json!({ "reason": reason }).to_string();
            json(app.admin_post(&path, body, "application/json").await).await
        }
    };
    let (s, v) = erase("erasure request").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        erase("again").await.0,
        409,
        "the tombstone says it was erased already"
    );
    assert_eq!(erase("").await.0, 422);
    // Issue 20, finding 8: the docs promise 410 for an erased consent's receipt (it was 404:
    // nothing was left to tell an erased receipt from one that never existed).
    let (s, v) = json(app.get(&format!("/v1/receipts/{id}")).await).await;
    assert_eq!(s, 410, "{v}");
    assert_eq!(v["error"]["code"], "redacted");
    assert!(!v.to_string().contains(&subject_of_receipt), "{v}");
    // The whole store verifies.
    let report =
        assent_app::ledger::verify_store(&app.state.store, &app.state.ledger.key().public_key())
            .await
            .unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// `GET /receipts/{id}`: the receipt as a human-readable page (issue 19), what "Proof of your
/// choice" in the banner opens.
async fn receipt_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    let (_, v) = json(app.consent(body).await).await;
    let id = v["receipt"]["id"].as_str().unwrap().to_string();
    let page = |path: String| {
        let app = &app;
        async move {
            let r = app.get(&path).await;
            let status = r.status().as_u16();
            assert_eq!(content_type(&r), "text/html; charset=utf-8", "{path}");
            assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(csp.starts_with("default-src 'none'"), "{csp}");
            assert!(!csp.contains("script-src"), "no script: {csp}");
            (status, r.text().await.unwrap())
        }
    };
    // Before a checkpoint: not yet anchored.
    let (s, html) = page(format!("/receipts/{id}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Not yet anchored"), "{html}");
    assert!(
        html.contains(&format!("<code id=\"receipt-id\">{id}</code>")),
        "{html}"
    );

    let r = app
        .admin_post("/admin/v1/ledger/checkpoints", "", "application/json")
        .await;
    assert_eq!(r.status(), 200);
    // English (the record's language): date, site, purposes, action, policy, id, anchored,
    // how to verify offline.
    let (s, html) = page(format!("/receipts/{id}")).await;
    assert_eq!(s, 200, "{html}");
    for want in [
        "<html lang=\"en\">",
        "Proof of your choice",
        "Callkom",
        "Strictly necessary",
        "Functional",
        "Performance",
        "granted",
        "Accept all",
        "/sites/callkom/cookie-policy?version=1",
        "Anchored",
        &format!("/v1/receipts/{id}"),
        "/.well-known/assent-ledger-key",
        "assent receipt verify receipt.json --key key.json",
        &id,
    ] {
        assert!(html.contains(want), "lacks {want}: {html}");
    }
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("Not yet anchored"), "{html}");
    // Human words, not the record's codes and timestamps.
    assert!(
        !html.contains("accept_all") && !html.contains("Z</"),
        "{html}"
    );
    // Purposes in the policy's order, not the record's (alphabetical) one.
    let at = |s: &str| html.find(s).unwrap();
    assert!(at("Strictly necessary") < at("Functional") && at("Functional") < at("Performance"));
    // French, chosen by ?lang=.
    let (s, html) = page(format!("/receipts/{id}?lang=fr")).await;
    assert_eq!(s, 200);
    for want in [
        "<html lang=\"fr\">",
        "Preuve de votre choix",
        "Fonctionnels",
        "accepté",
        "Tout accepter",
        "Ancré",
        &id,
    ] {
        assert!(html.contains(want), "lacks {want}: {html}");
    }
    // An unknown id, a malformed one and a hostile one: 404 pages that echo nothing.
    let (s, html) = page("/receipts/ffffffffffffffffffffffffffffffff".into()).await;
    assert_eq!(s, 404);
    assert!(html.contains("No such receipt"), "{html}");
    assert!(!html.contains("ffffffffffffffffffffffffffffffff"));
    let hostile = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let (s, html) = page(format!("/receipts/{hostile}?lang=%3Cb%3E")).await;
    assert_eq!(s, 404);
    assert!(
        !html.contains("alert(1)") && !html.contains("<b>"),
        "{html}"
    );
    // Erased: 410 page.
    let (s, v) = json(
        app.admin_post(
            &format!("/admin/v1/consents/{id}/erase"),
            json!({"reason": "erasure request"}).to_string(),
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, html) = page(format!("/receipts/{id}?lang=de")).await;
    assert_eq!(s, 410);
    assert!(html.contains("Beleg gelöscht"), "{html}");
}

async fn material_change_requires_fresh_consent(b: Backend) {
    let app = TestApp::spawn(b).await;
    let src = std::fs::read_to_string(&app.registry).unwrap();
    // Wording only: version 2, consents on version 1 remain valid.
    let wording = src.replace(
        "Measure the site's audience",
        "Measure the audience of the site",
    );
    assert_ne!(wording, src, "the fixture must contain the phrase");
    let (s, v) = apply_registry(&app, wording.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["version"], 2);
    assert_eq!(v["applied"][0]["requires_fresh_consent"], false);
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    assert_eq!(app.consent(body.clone()).await.status(), 201);
    // A new service: version 3 requires fresh consent; version 1 and 2 consents are stale.
    let material = wording.clone() + &hotjar_service("MT");
    let (s, v) = apply_registry(&app, material).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["version"], 3);
    assert_eq!(v["applied"][0]["requires_fresh_consent"], true);
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("stale_policy_version"))
    );
    let body = json!({"subject": subject(), "policy_version": 3, "action": "accept_all", "language": "en"});
    assert_eq!(app.consent(body).await.status(), 201);
    // A registry with errors is refused and changes nothing.
    let (s, v) = apply_registry(&app, "[controller]\nname = 1\n").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_registry"))
    );
    let (_, v) = json(
        app.admin_get("/admin/v1/sites/callkom/policy-versions")
            .await,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
}

async fn flood_is_rate_limited(b: Backend) {
    let opts = Options {
        rate_limit: assent_server::config::RateLimit {
            per_second: 1,
            burst: 5,
        },
        ..Options::default()
    };
    let app = TestApp::spawn_with(b, opts).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "reject_all", "language": "en"});
    let mut statuses = vec![];
    for _ in 0..10 {
        let r = app.consent(body.clone()).await;
        if r.status() == 429 {
            assert!(r.headers().get("retry-after").is_some());
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
    // Health stays reachable for probes.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

both_backends!(
    health_and_metrics,
    errors_are_json,
    admin_requires_a_token,
    bad_bodies,
    consent_rules,
    gpc_refuses_advertising,
    cors_is_limited_to_site_domains,
    receipts_verify_offline,
    receipt_page,
    material_change_requires_fresh_consent,
    flood_is_rate_limited,
);
