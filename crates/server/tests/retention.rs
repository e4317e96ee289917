#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retention enforced (issue 16), on SQLite and PostgreSQL with the injected clock: the plan,
//! a run in chunks cut short by its budget and resumed, holds (set and lifted through the
//! admin API), purged consents answering 410 and leaving the export, the chain still
//! verifying, one `retention.run` entry per rule, an idempotent re-run, a run interrupted by
//! a crash, the lock, and bad input.

mod common;

use assent_app::retention::{RuleSet, RunOptions, plan, run};
use assent_model::clock::parse_time;
use common::{BASE_TIME_MS, Backend, TestApp, json, subject};
use serde_json::{Value, json};

async fn consent(app: &TestApp, subject: &str) -> String {
    let body =
        json!({"subject": subject, "policy_version": 1, "action": "accept_all", "language": "en"});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(s, 201, "{v}");
    v["receipt"]["id"].as_str().unwrap().to_owned()
}

fn rule<'a>(
    v: &'a [assent_app::retention::RulePlan],
    id: &str,
) -> &'a assent_app::retention::RulePlan {
    v.iter().find(|r| r.id == id).unwrap()
}

async fn ledger_kinds(app: &TestApp) -> Vec<(String, String)> {
    let chain = app.state.store.writer_chain();
    app.state
        .store
        .entries(chain, 0, 100_000)
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

async fn plan_run_hold_resume(b: Backend) {
    let app = TestApp::spawn(b).await;
    let st = &app.state;
    let held_subject = subject();
    let mut receipts = vec![];
    for _ in 0..5 {
        receipts.push(consent(&app, &subject()).await);
    }
    let held_receipt = consent(&app, &held_subject).await;
    // Newer consents, not due at the first cutoff.
    app.clock.set(BASE_TIME_MS + 30 * 86_400_000);
    let young = consent(&app, &subject()).await;

    let set = RuleSet::for_app(st).unwrap();
    let p = plan(&st.store, &set, BASE_TIME_MS).await.unwrap();
    let c = rule(&p.rules, "default:consents");
    assert_eq!((c.due, c.held, c.enforced_by), (Some(0), Some(0), "assent"));
    // Due: the choice's lifetime, then 5 years.
    let due_at = parse_time(c.next_due_at.as_deref().unwrap()).unwrap();
    let lifetime = i64::from(set.lifetimes["callkom"]) * 86_400_000;
    assert!(
        due_at >= BASE_TIME_MS + lifetime + 5 * 365 * 86_400_000,
        "{c:?}"
    );
    assert_eq!(
        plan(&st.store, &set, due_at - 1).await.unwrap().rules[..]
            .iter()
            .find(|r| r.id == "default:consents")
            .unwrap()
            .due,
        Some(0)
    );

    // A DPO hold on one subject, through the admin API.
    let (s, v) = json(
        app.admin_post(
            "/admin/v1/retention/holds",
            json!({"person": held_subject, "reason": "litigation 2026-17"}).to_string(),
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let hold_id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = json(
        app.admin_post(
            "/admin/v1/retention/holds",
            json!({"person": "", "reason": "x"}).to_string(),
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("person")),
        "{v}"
    );

    let p = plan(&st.store, &set, due_at).await.unwrap();
    let c = rule(&p.rules, "default:consents");
    assert_eq!((c.due, c.held), (Some(5), Some(1)), "{c:?}");
    // The plan changed nothing.
    assert_eq!(
        json(app.get(&format!("/v1/receipts/{}", receipts[0])).await)
            .await
            .0,
        200
    );

    // A run in chunks of 2, stopped after 3 records: partial, and the next run resumes.
    app.clock.set(due_at);
    let opts = RunOptions {
        at_ms: due_at,
        now_ms: due_at,
        chunk: 2,
        max_rows: Some(3),
    };
    let rep = run(&st.store, &set, &opts).await.unwrap();
    let r = rep
        .rules
        .iter()
        .find(|r| r.id == "default:consents")
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.deleted, r.held),
        ("partial", 3, 1),
        "{r:?}"
    );
    let rep = run(&st.store, &set, &RunOptions::at(due_at, due_at))
        .await
        .unwrap();
    let r = rep
        .rules
        .iter()
        .find(|r| r.id == "default:consents")
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.deleted, r.held),
        ("done", 2, 1),
        "{r:?}"
    );
    // Idempotent: nothing more to purge.
    let rep = run(&st.store, &set, &RunOptions::at(due_at, due_at))
        .await
        .unwrap();
    let r = rep
        .rules
        .iter()
        .find(|r| r.id == "default:consents")
        .unwrap();
    assert_eq!((r.status.as_str(), r.deleted), ("done", 0));
    // Rules bound to nothing are the controller's, never run.
    let r = rep.rules.iter().find(|r| r.id == "consent-choice").unwrap();
    assert_eq!(
        (r.status.as_str(), r.enforced_by),
        ("skipped", "controller")
    );

    // Purged receipts answer 410 and leave the export; the held and the young ones remain.
    for id in &receipts {
        let (s, v) = json(app.get(&format!("/v1/receipts/{id}")).await).await;
        assert_eq!(s, 410, "{v}");
    }
    for id in [&held_receipt, &young] {
        assert_eq!(
            json(app.get(&format!("/v1/receipts/{id}")).await).await.0,
            200
        );
    }
    let exported = |id: String| {
        let app = &app;
        async move {
            let (_, v) = json(
                app.admin_get(&format!("/admin/v1/consents?receipt={id}"))
                    .await,
            )
            .await;
            v.to_string().contains(&format!("\"{id}\""))
        }
    };
    for id in &receipts {
        assert!(!exported(id.clone()).await, "{id} left the export");
    }
    assert!(exported(held_receipt.clone()).await);

    // The chain verifies; one retention.run entry per enforced rule and run, without personal
    // data; each purged payload is explained by a redaction.
    let report = assent_app::ledger::verify_store(&st.store, &st.ledger.key().public_key())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    let kinds = ledger_kinds(&app).await;
    let runs: Vec<&String> = kinds
        .iter()
        .filter(|(k, _)| k == "retention.run")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        runs.len(),
        12,
        "3 runs x (consents, rights requests, scan reports, marketing)"
    );
    assert!(
        runs.iter()
            .all(|p| !p.contains(&held_subject) && p.contains("keys_digest"))
    );
    let first = runs
        .iter()
        .find(|p| p.contains("\"applies_to\":\"consents\""))
        .unwrap();
    assert!(first.contains("\"status\":\"partial\""), "{first}");
    assert_eq!(
        kinds
            .iter()
            .filter(|(k, _)| k == "ledger.redaction")
            .count(),
        5
    );

    // The admin listing shows the last run; lifting the hold lets the next run purge it.
    let (s, v) = json(app.admin_get("/admin/v1/retention").await).await;
    assert_eq!(s, 200, "{v}");
    let listed: &Value = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "default:consents")
        .unwrap();
    assert_eq!(
        (
            listed["held"].as_i64(),
            listed["last_run"]["status"].as_str()
        ),
        (Some(1), Some("done")),
        "{listed}"
    );
    assert_eq!(v["schedule_secs"], 86_400);
    let (s, _) = json(
        app.admin_post(
            &format!("/admin/v1/retention/holds/{hold_id}/lift"),
            "",
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = json(
        app.admin_post(
            &format!("/admin/v1/retention/holds/{hold_id}/lift"),
            "",
            "application/json",
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let rep = run(&st.store, &set, &RunOptions::at(due_at, due_at))
        .await
        .unwrap();
    let r = rep
        .rules
        .iter()
        .find(|r| r.id == "default:consents")
        .unwrap();
    assert_eq!((r.deleted, r.held), (1, 0));
    assert_eq!(
        json(app.get(&format!("/v1/receipts/{held_receipt}")).await)
            .await
            .0,
        410
    );
    let metrics_before = st.metrics.retention.render();
    assert!(
        metrics_before.is_empty(),
        "only the server's scheduled runs are counted"
    );
}

/// A run left `running` by a crash is marked interrupted by the next, which resumes it; a
/// second process waits its turn (PostgreSQL's advisory lock); bad rules are refused.
async fn interrupted_locked_and_bad_rules(b: Backend) {
    let app = TestApp::spawn(b).await;
    let st = &app.state;
    let id = consent(&app, &subject()).await;
    let set = RuleSet::for_app(st).unwrap();
    let at = parse_time("2040-01-01T00:00:00Z").unwrap();
    st.store
        .retention_run_start(&assent_store::RetentionRunRow {
            id: "crashed".into(),
            rule_id: "default:consents".into(),
            applies_to: "consents".into(),
            started_at_ms: BASE_TIME_MS,
            at_ms: BASE_TIME_MS,
            cutoff_ms: 0,
            finished_at_ms: None,
            status: "running".into(),
            deleted: 0,
            anonymised: 0,
            held: 0,
            digest: None,
            error: None,
        })
        .await
        .unwrap();
    if b == Backend::Postgres {
        let lock = st.store.retention_lock().await.unwrap().expect("free");
        let e = run(&st.store, &set, &RunOptions::at(at, at))
            .await
            .unwrap_err();
        assert_eq!(e.code, "retention_running");
        lock.release().await;
    }
    let rep = run(&st.store, &set, &RunOptions::at(at, at)).await.unwrap();
    assert_eq!(rep.interrupted, vec!["default:consents".to_string()]);
    assert_eq!(
        rep.rules
            .iter()
            .find(|r| r.id == "default:consents")
            .unwrap()
            .deleted,
        1
    );
    assert_eq!(
        json(app.get(&format!("/v1/receipts/{id}")).await).await.0,
        410
    );
    let runs = st.store.retention_last_runs().await.unwrap();
    assert!(runs.iter().all(|r| r.status != "running"), "{runs:?}");

    // A registry whose controller zone is unknown: a clear error naming the field.
    let mut reg: assent_model::Registry =
        toml::from_str(&std::fs::read_to_string(&app.registry).unwrap()).unwrap();
    reg.controller.timezone = "Mars/Olympus".into();
    let e = RuleSet::from_registry(&reg).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("controller.timezone"));
}

both_backends!(plan_run_hold_resume, interrupted_locked_and_bad_rules);
