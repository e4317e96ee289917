#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The banner's revalidation of a stored choice, over HTTP on SQLite and PostgreSQL:
//! `GET /v1/receipts/{id}/state` (200 while the choice stands; 410 once a later record
//! withdraws it, it is erased, or it is unknown) and the site's revalidation epoch `C.e` in
//! `/assent.js`, which moves on when the server records a withdrawal (a rights request) or an
//! erasure (an admin), and only then. The browser side is in tests/banner.rs
//! (`withdrawal_recorded_on_the_server_reaches_the_browser`).

mod common;

use common::{Backend, json, subject};
use serde_json::{Value, json};

/// The `C.e` of the callkom banner as served now.
async fn epoch(app: &common::TestApp) -> i64 {
    let body = app.text("/assent.js?site=callkom").await;
    let start = body.find(",{\"").unwrap() + 1;
    let end = body.find(",function(C,S){").unwrap();
    let c: Value = serde_json::from_str(&body[start..end]).unwrap();
    c["e"].as_i64().unwrap()
}

/// Posts an `action` for `subj` and returns its receipt id.
async fn choose(app: &common::TestApp, subj: &str, action: &str) -> String {
    let (s, v) = json(
        app.consent(
            json!({"subject": subj, "policy_version": 1, "action": action, "language": "en"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["receipt"]["id"].as_str().unwrap().to_owned()
}

/// The status and `state` of a receipt's revalidation; checks the headers every answer has.
async fn state(app: &common::TestApp, receipt: &str) -> (u16, String) {
    let r = app.get(&format!("/v1/receipts/{receipt}/state?0")).await;
    let h = r.headers().clone();
    let (s, v) = json(r).await;
    if s == 200 || s == 410 {
        assert_eq!(h["cache-control"], "private, max-age=86400");
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h.get("set-cookie").is_none());
    }
    let word = v["state"].as_str().map(str::to_owned);
    (s, word.unwrap_or_else(|| v["error"]["field"].to_string()))
}

async fn revalidation(b: Backend) {
    let app = common::TestApp::spawn(b).await;
    assert_eq!(epoch(&app).await, 0);

    // A choice stands; a later choice of another kind by the same browser does not withdraw
    // it (the browser holds the newer one anyway).
    let subj = subject();
    let first = choose(&app, &subj, "accept_all").await;
    assert_eq!(state(&app, &first).await, (200, "valid".into()));
    app.clock.advance_ms(1_000);
    let second = choose(&app, &subj, "reject_all").await;
    assert_eq!(state(&app, &first).await, (200, "valid".into()));
    // A withdrawal posted through the API: the older receipts are withdrawn, not the
    // withdrawal itself; the epoch does not move (anyone may post a choice: browsers learn
    // it within a day).
    app.clock.advance_ms(1_000);
    let withdrawal = choose(&app, &subj, "withdraw").await;
    assert_eq!(state(&app, &first).await, (410, "withdrawn".into()));
    assert_eq!(state(&app, &second).await, (410, "withdrawn".into()));
    assert_eq!(state(&app, &withdrawal).await, (200, "valid".into()));
    assert_eq!(epoch(&app).await, 0);
    // Another subject is untouched.
    let other = choose(&app, &subject(), "accept_all").await;
    assert_eq!(state(&app, &other).await, (200, "valid".into()));

    // Bad and unknown ids: a malformed id is a 404 naming it; a well-formed unknown one must
    // be dropped (410 unknown).
    for bad in ["xyz", "0123456789abcdef0123456789abcdeg", &"a".repeat(33)] {
        assert_eq!(state(&app, bad).await, (404, "\"id\"".into()), "{bad}");
    }
    assert_eq!(
        state(&app, "0123456789abcdef0123456789abcdef").await,
        (410, "unknown".into())
    );

    // An admin erases a record: 410 erased, and the epoch moves on (every browser holding a
    // choice asks again).
    let r = app
        .admin_post(
            &format!("/admin/v1/consents/{other}/erase"),
            json!({"reason": "test"}).to_string(),
            "application/json",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(state(&app, &other).await, (410, "erased".into()));
    assert_eq!(epoch(&app).await, 1);

    // A withdrawal received as a rights request, verified by the DPO: the subject's receipt
    // is withdrawn and the epoch moves on again.
    let subj = subject();
    let held = choose(&app, &subj, "accept_all").await;
    app.clock.advance_ms(1_000);
    let (s, v) = json(
        app.post_json(
            "/v1/requests",
            &json!({"site": "callkom", "type": "withdraw_consent", "email": "w@example.org",
                    "name": "Wanda", "details": "Withdraw my consent.", "receipt": held,
                    "language": "en"}),
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
            json!({"note": "identity checked by phone"}).to_string(),
            "application/json",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(state(&app, &held).await, (410, "withdrawn".into()));
    assert_eq!(epoch(&app).await, 2);

    // The epoch is stored: a server restarted on the same database serves it.
    let e = app
        .state
        .store
        .meta_get("banner_epoch:callkom")
        .await
        .unwrap();
    assert_eq!(e.as_deref(), Some("2"));
    app.stop().await;
}

both_backends!(revalidation);
