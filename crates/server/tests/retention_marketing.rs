#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retention of marketing records (issue 16, the Kalido example's `prospects` rule: 3 years
//! after the last contact from the prospect), on SQLite and PostgreSQL with the injected
//! clock: a prospect's opt-in past the period is deleted, one renewed later is not, one of a
//! person under a DPO hold is kept and counted, and an opt-out stays (its suppression is
//! never lost), with one `retention.run` entry naming no address.

mod common;

use assent_app::retention::{RuleSet, RunOptions, plan, run, set_hold};
use common::{BASE_TIME_MS, Backend, Options, TestApp, json};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

async fn record(app: &TestApp, token: &str, email: &str, action: &str) {
    let body = json!({"email": email, "channel": "email", "purpose": "newsletter",
        "action": action, "basis": "consent",
        "provenance": {"source_url": "https://kalido-pro.com/newsletter", "notice": "form v3"}});
    let (s, v) = json(
        app.client
            .post(app.url("/v1/sites/kalido/marketing/consents"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
}

async fn allowed(app: &TestApp, token: &str, who: &[&str]) -> Vec<bool> {
    let (s, v) = json(
        app.client
            .post(app.url("/v1/marketing/check"))
            .bearer_auth(token)
            .json(
                &json!({"site": "kalido", "channel": "email", "purpose": "newsletter",
                          "recipients": who}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["allowed"].as_bool().unwrap())
        .collect()
}

async fn prospects_purged_opt_outs_kept(b: Backend) {
    let src = std::fs::read_to_string(common::examples_dir().join("kalido.toml")).unwrap();
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_src: src.clone(),
            ..Options::default()
        },
    )
    .await;
    let st = &app.state;
    let (tok, _) = app.new_token("marketing").await;
    record(&app, &tok, "ann@example.fr", "opt_in").await;
    record(&app, &tok, "held@example.fr", "opt_in").await;
    record(&app, &tok, "gone@example.fr", "opt_in").await;
    app.clock.advance_ms(1_000);
    record(&app, &tok, "gone@example.fr", "opt_out").await;
    // A prospect who came back two years later: a new contact from them.
    app.clock.set(BASE_TIME_MS + 730 * DAY);
    record(&app, &tok, "back@example.fr", "opt_in").await;

    let at = BASE_TIME_MS + 3 * 366 * DAY;
    set_hold(
        &st.store,
        at - 1,
        "dpo",
        "held@example.fr",
        "litigation",
        None,
    )
    .await
    .unwrap();
    let (reg, _) = assent_model::check::parse(&src).unwrap();
    let set = RuleSet::from_registry(&reg).unwrap();
    let p = plan(&st.store, &set, at).await.unwrap();
    let r = p.rules.iter().find(|r| r.id == "prospects").unwrap();
    assert_eq!(
        (r.enforced_by, r.due, r.held),
        ("assent", Some(1), Some(1)),
        "{r:?}"
    );
    // The returning prospect falls due 3 years after their last contact.
    let next = assent_model::clock::parse_time(r.next_due_at.as_deref().unwrap()).unwrap();
    assert!(next >= BASE_TIME_MS + 730 * DAY + 3 * 365 * DAY, "{r:?}");

    let rep = run(&st.store, &set, &RunOptions::at(at, at)).await.unwrap();
    let r = rep.rules.iter().find(|r| r.id == "prospects").unwrap();
    assert_eq!(
        (r.status.as_str(), r.deleted, r.held),
        ("done", 1, 1),
        "{r:?}"
    );
    assert_eq!(
        allowed(
            &app,
            &tok,
            &[
                "ann@example.fr",
                "held@example.fr",
                "gone@example.fr",
                "back@example.fr"
            ]
        )
        .await,
        [false, true, false, true]
    );
    // The opt-out is still a suppression.
    let sup = st
        .store
        .marketing_suppressions(assent_model::marketing::MarketingChannel::Email, 0)
        .await
        .unwrap();
    assert_eq!(sup.len(), 1, "{sup:?}");
    // A second run finds nothing.
    let rep = run(&st.store, &set, &RunOptions::at(at, at)).await.unwrap();
    let r = rep.rules.iter().find(|r| r.id == "prospects").unwrap();
    assert_eq!((r.deleted, r.held), (0, 1), "{r:?}");
    // The purge log names no address.
    let chain = st.store.writer_chain();
    let entries: Vec<Value> = st
        .store
        .entries(chain, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|(e, _)| e.kind == "retention.run")
        .map(|(_, p)| serde_json::from_slice(&p.unwrap()).unwrap())
        .filter(|v: &Value| v["rule"] == "prospects")
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["deleted"], 1);
    assert!(
        !serde_json::to_string(&entries)
            .unwrap()
            .contains("example.fr")
    );
    app.stop().await;
}

both_backends!(prospects_purged_opt_outs_kept);
