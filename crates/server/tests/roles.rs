#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 20, finding 7: a `dpo` token applied a registry, erased a consent record outside any
//! request and signed a checkpoint. Every admin route is now called with every role: a role
//! without the route's permission (`assent_app::access::RIGHTS`) gets 403 before the handler
//! runs, a role with it never does, and no route answers without a token.

mod common;

use assent_app::access::Role;
use assent_server::router::ROUTES;
use common::{Backend, TestApp};

async fn token(app: &TestApp, role: Role) -> String {
    app.new_token(role.as_str()).await.0
}

async fn call(app: &TestApp, method: &str, path: &str, bearer: Option<&str>) -> u16 {
    let url = app.url(
        &path
            .replace("{site}", "callkom")
            .replace('{', "x")
            .replace('}', ""),
    );
    // No redirect followed: the console's answer to a caller without a token is seen.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = match method {
        "get" => client.get(url),
        "post" => client
            .post(url)
            .header("content-type", "application/json")
            .body("{}"),
        "delete" => app.client.delete(url),
        other => panic!("no test for method {other}"),
    };
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn every_admin_route_with_every_role(b: Backend) {
    let app = TestApp::spawn(b).await;
    // The API, and the console's pages that need a permission (scripts may call them with
    // a bearer token; people's sessions are tested in console.rs).
    let admin_routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.group == "admin_api" || (r.group == "console" && r.needs.is_some()))
        .collect();
    assert!(admin_routes.len() >= 15);
    let mut tokens = vec![];
    for role in Role::ALL {
        tokens.push((role, token(&app, role).await));
    }
    let mut wrong = vec![];
    for r in &admin_routes {
        if r.path != "/admin/v1/whoami" {
            assert!(
                r.needs.is_some(),
                "{} {} names no permission",
                r.method,
                r.path
            );
        }
        let anonymous = call(&app, r.method, r.path, None).await;
        // Without a token the console's pages lead to the login form.
        let expected = if r.group == "console" { 303 } else { 401 };
        if anonymous != expected {
            wrong.push(format!(
                "{} {} without a token: {anonymous}",
                r.method, r.path
            ));
        }
        for (role, tok) in &tokens {
            let status = call(&app, r.method, r.path, Some(tok)).await;
            let allowed = r.needs.is_none_or(|p| role.may(p));
            // My account is a person's: a token that may read is told it has none (403).
            let own_account = r.path.starts_with("/admin/account") && allowed;
            let ok = if own_account {
                status == 403
            } else if allowed {
                status != 403 && status != 401
            } else {
                status == 403
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {role}: {status} (allowed: {allowed})",
                    r.method, r.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The findings' own cases, spelled out: a dpo may act on requests but not apply a
/// registry, erase a consent outside a request or sign a checkpoint.
async fn dpo_is_not_admin(b: Backend) {
    let app = TestApp::spawn(b).await;
    let dpo = token(&app, Role::Dpo).await;
    let registry = std::fs::read_to_string(common::examples_dir().join("callkom.toml")).unwrap();
    let r = app
        .client
        .post(app.url("/admin/v1/registry"))
        .bearer_auth(&dpo)
        .header("content-type", "application/toml")
        // Refused before its body is read, after which hyper closes the connection.
        .header("connection", "close")
        .body(registry)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        call(&app, "post", "/admin/v1/ledger/checkpoints", Some(&dpo)).await,
        403
    );
    assert_eq!(
        call(
            &app,
            "post",
            "/admin/v1/consents/{receipt}/erase",
            Some(&dpo)
        )
        .await,
        403
    );
    let v: serde_json::Value = app
        .get_as("/admin/v1/whoami", &dpo)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["role"], "dpo");
    assert!(
        v["permissions"]
            .as_array()
            .unwrap()
            .contains(&"requests".into())
    );
    assert!(
        !v["permissions"]
            .as_array()
            .unwrap()
            .contains(&"apply_registry".into())
    );
}

/// Issue 20, finding 8: a client that keeps presenting bad tokens is slowed down (429)
/// instead of costing a lookup and a log line per try; `/metrics` needs a reader's token.
async fn failed_authentication_is_limited(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut statuses = vec![];
    for i in 0..40 {
        let bad = format!("assent_{i:016x}_notarealtoken");
        statuses.push(call(&app, "get", "/admin/v1/whoami", Some(&bad)).await);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    // The limit is per client network, on every route that takes a token.
    assert_eq!(
        call(&app, "get", "/metrics", Some("assent_0_bad")).await,
        429,
        "still limited"
    );
}

async fn metrics_need_a_reader(b: Backend) {
    let app = TestApp::spawn(b).await;
    assert_eq!(call(&app, "get", "/metrics", None).await, 401);
    let marketing = token(&app, Role::Marketing).await;
    assert_eq!(call(&app, "get", "/metrics", Some(&marketing)).await, 403);
    let auditor = token(&app, Role::Auditor).await;
    assert_eq!(call(&app, "get", "/metrics", Some(&auditor)).await, 200);
}

both_backends!(
    every_admin_route_with_every_role,
    dpo_is_not_admin,
    failed_authentication_is_limited,
    metrics_need_a_reader,
);
