#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 20: the fuzz targets run for a fixed time in every CI build (`ASSENT_FUZZ_SECS`,
//! 60 s each under `.ci/run`), on stable Rust (`assent_testkit::fuzz`): the HTTP request
//! decoders (the consent API's body, the rights request's, the DPO's answer with its base64
//! attachments), the registry parser and linter, and the receipt, signed-note and pinned-
//! checkpoint verifiers. Seeds are real inputs: the example registries, and a receipt, a
//! note and a checkpoint served by a running server. Every input must give a value or a
//! clean error, never a panic.

mod common;

use assent_app::consent::ConsentRequest;
use assent_app::rights::dpo::Completion;
use assent_model::registry::Purpose;
use assent_server::json::parse_json;
use assent_server::routes::rights::SubmitBody;
use assent_testkit::fuzz;
use common::{Backend, TestApp, json, purposes, subject};
use serde_json::json;

#[test]
fn http_request_decoders() {
    let seeds: Vec<Vec<u8>> = [
        json!({"subject": "0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a", "policy_version": 1, "action": "custom", "language": "en", "choices": {"functional": true, "ads": false}, "gpc": true, "channel": "banner"}),
        json!({"site": "callkom", "type": "access", "email": "a@example.org", "name": "Zoé", "details": "x", "receipt": "0123456789abcdef0123456789abcdef", "language": "fr"}),
        json!({"message": "Here is your data.", "attachments": [{"filename": "export.json", "content_type": "application/json", "content_base64": "e30="}]}),
    ]
    .iter()
    .map(|v| v.to_string().into_bytes())
    .collect();
    let dict: &[&[u8]] = &[
        b"\"subject\"",
        b"\"choices\"",
        b"\"action\"",
        b"\"accept_all\"",
        b"\"reject_all\"",
        b"\"withdraw\"",
        b"\"attachments\"",
        b"\"content_base64\"",
        b"\"type\"",
        b"\"erasure\"",
    ];
    let purposes = purposes();
    let refs: Vec<&Purpose> = purposes.iter().collect();
    fuzz::run("http_request_decoders", &seeds, dict, |data| {
        if let Ok(req) = parse_json::<ConsentRequest>(data) {
            let _ = assent_app::consent::valid_subject(&req.subject);
            let _ = assent_model::consent::decide(&refs, req.action, &req.choices, req.gpc);
        }
        let _ = parse_json::<SubmitBody>(data);
        let _ = parse_json::<Completion>(data);
    });
}

#[test]
fn registry_parser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let dict: &[&[u8]] = &[
        b"[[purposes]]",
        b"[[services]]",
        b"[[cookies]]",
        b"[[retention]]",
        b"[[activities]]",
        b"languages = [\"en\", \"fr\", \"de\"]",
        b".de = \"x\"",
        b"lifetime = \"13 months\"",
        b"id = \"a\"",
        b"trigger = ",
    ];
    fuzz::run("registry_parser", &seeds, dict, |data| {
        let src = String::from_utf8_lossy(data);
        if let Ok((reg, _)) = assent_model::check::parse(&src) {
            for site in &reg.sites {
                let _ = assent_model::version::SiteSnapshot::from_registry(&reg, &site.id);
            }
        }
    });
}

/// A receipt, a signed note and a checkpoint as a running server serves them.
async fn served() -> (Vec<u8>, Vec<u8>, Vec<u8>, String) {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    let (_, v) = json(app.consent(body).await).await;
    let id = v["receipt"]["id"].as_str().unwrap().to_string();
    let r = app
        .admin_post("/admin/v1/ledger/checkpoints", "", "application/json")
        .await;
    assert_eq!(r.status(), 200);
    let text = |path: String| {
        let app = &app;
        async move { app.get(&path).await.text().await.unwrap() }
    };
    let receipt = text(format!("/v1/receipts/{id}")).await;
    let note = text("/ledger/checkpoint".into()).await;
    let checkpoint = text("/v1/ledger/checkpoint".into()).await;
    let key = text("/.well-known/assent-ledger-key".into()).await;
    app.stop().await;
    (
        receipt.into_bytes(),
        note.into_bytes(),
        checkpoint.into_bytes(),
        key,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_and_checkpoint_verifiers() {
    let (receipt, note, checkpoint, key) = served().await;
    let info = assent_ledger::PublicKeyInfo::parse(&key).unwrap();
    let vk = *info.key();
    assert!(
        assent_ledger::verify_receipt(
            &assent_ledger::Receipt::from_json(std::str::from_utf8(&receipt).unwrap()).unwrap(),
            &info
        )
        .is_ok(),
        "the seed receipt verifies"
    );
    let seeds = vec![receipt, note, checkpoint];
    let dict: &[&[u8]] = &[
        b"\"granted\":true",
        b"\"policyHash\"",
        b"\"inclusionProof\"",
        b"\"treeSize\"",
        b"\xe2\x80\x94 ",
        b"\n\n",
        b"\"signature\"",
    ];
    tokio::task::spawn_blocking(move || {
        fuzz::run("receipt_and_checkpoint_verifiers", &seeds, dict, |data| {
            let text = String::from_utf8_lossy(data);
            if let Ok(r) = assent_ledger::Receipt::from_json(&text) {
                let _ = assent_ledger::verify_receipt(&r, &info);
                let _ = assent_ledger::check_context(&r.record, r.context.as_ref());
            }
            for note in assent_ledger::split_notes(&text) {
                let _ = assent_ledger::verify_note(note, &vk);
            }
            let _ = assent_ledger::parse_pinned(&text, &vk);
            let _ = assent_ledger::parse_proof_text(&text);
            let _ = serde_json::from_str::<assent_ledger::SignedCheckpoint>(&text);
        });
    })
    .await
    .unwrap();
}
