//! The witness endpoints over loopback, on both backends: `GET /ledger/checkpoint` serves
//! signed notes that verify with the published key and agree with the JSON checkpoint;
//! `GET /ledger/consistency` serves proofs that take a witness from one checkpoint to the
//! next; receipts issued before and after keep verifying, and their context is bound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assent_ledger::{Hash, PublicKeyInfo, WitnessChain, split_notes, verify_note};
use base64::Engine as _;
use common::{Backend, TestApp, json, subject};
use serde_json::json;

async fn text(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

/// The path of the consistency proof of `chain` from size `from` to `to`.
fn consistency(chain: u32, from: u64, to: u64) -> String {
    format!("/ledger/consistency?chain={chain}&from={from}&to={to}")
}

fn parse_proof(body: &str) -> Vec<Hash> {
    body.lines()
        .map(|l| {
            let b = base64::engine::general_purpose::STANDARD.decode(l).unwrap();
            Hash::try_from(b.as_slice()).unwrap()
        })
        .collect()
}

async fn consent(app: &TestApp) -> String {
    let body = json!({"subject": subject(), "policy_version": 1, "action": "accept_all", "language": "en"});
    let (s, v) = json(app.consent(body).await).await;
    assert_eq!(s, 201, "{v}");
    v["receipt"]["id"].as_str().unwrap().to_string()
}

async fn checkpoint(app: &TestApp) {
    let r = app
        .admin_post("/admin/v1/ledger/checkpoints", "", "application/json")
        .await;
    assert_eq!(r.status(), 200);
}

async fn notes_follow_the_ledger(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (_, key_text) = text(&app, "/.well-known/assent-ledger-key").await;
    let key = PublicKeyInfo::parse(&key_text).unwrap();
    assert_eq!(text(&app, "/ledger/checkpoint").await.0, 404);

    let first = consent(&app).await;
    checkpoint(&app).await;
    let (s, body) = text(&app, "/ledger/checkpoint").await;
    assert_eq!(s, 200);
    let notes = split_notes(&body);
    assert!(!notes.is_empty());
    let (_, json_cp) = json(app.get("/v1/ledger/checkpoint").await).await;
    let mut witness = std::collections::BTreeMap::new();
    for n in &notes {
        let cp = verify_note(n, key.key()).unwrap();
        assert!(cp.origin.ends_with(&format!("/ledger/chain/{}", cp.chain)));
        let head = json_cp["checkpoint"]["heads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["chain"] == cp.chain)
            .unwrap();
        assert_eq!(head["size"], cp.size);
        assert_eq!(head["root"], assent_ledger::to_hex(&cp.root));
        let mut w = WitnessChain::new(cp.chain);
        w.advance(cp.size, cp.root, &[]).unwrap();
        witness.insert(cp.chain, w);
    }

    // More entries, a new checkpoint: each chain's witness advances with the served proof.
    for _ in 0..5 {
        consent(&app).await;
    }
    checkpoint(&app).await;
    let (_, body) = text(&app, "/ledger/checkpoint").await;
    let mut grew = false;
    for n in split_notes(&body) {
        let cp = verify_note(n, key.key()).unwrap();
        let w = witness
            .entry(cp.chain)
            .or_insert_with(|| WitnessChain::new(cp.chain));
        let from = w.latest().map_or(0, |(s, _)| s);
        let (s, proof) = text(&app, &consistency(cp.chain, from, cp.size)).await;
        assert_eq!(s, 200, "{proof}");
        grew |= w.advance(cp.size, cp.root, &parse_proof(&proof)).unwrap();
        // A receipt's verifier can ask for the proof between any two signed sizes.
        let (s, _) = text(&app, &consistency(cp.chain, 0, cp.size)).await;
        assert_eq!(s, 200);
        // Not beyond what is signed, not backwards, not malformed.
        let beyond = consistency(cp.chain, 1, cp.size + 1);
        assert_eq!(text(&app, &beyond).await.0, 404);
        let back = consistency(cp.chain, 2, 1);
        assert_eq!(text(&app, &back).await.0, 400);
    }
    assert!(grew);
    assert_eq!(
        text(&app, "/ledger/consistency?chain=x&from=0&to=1")
            .await
            .0,
        400
    );
    assert_eq!(text(&app, "/ledger/consistency?chain=0").await.0, 400);

    // The first receipt, re-fetched: anchored, its context bound, and its checkpoint one the
    // witness can place in the history it follows.
    let (_, body) = text(&app, &format!("/v1/receipts/{first}")).await;
    let receipt = assent_ledger::Receipt::from_json(&body).unwrap();
    assert!(matches!(
        assent_ledger::verify_receipt(&receipt, &key).unwrap(),
        assent_ledger::ReceiptStatus::Anchored { .. }
    ));
    let anchor = receipt.anchor.as_ref().unwrap();
    let head = anchor
        .checkpoint
        .checkpoint
        .head(receipt.entry.chain)
        .unwrap();
    let w = &witness[&receipt.entry.chain];
    assert_eq!(
        w.check(head.size, &head.root).unwrap(),
        assent_ledger::WitnessCheck::Seen
    );
    let mut forged = receipt.clone();
    let services = forged.context.as_mut().unwrap()["services"]
        .as_array_mut()
        .unwrap();
    let flag = &mut services[0]["purposes"][0]["granted"];
    *flag = json!(!flag.as_bool().unwrap());
    assert!(matches!(
        assent_ledger::verify_receipt(&forged, &key),
        Err(assent_ledger::LedgerError::ContextTampered { .. })
    ));
    app.stop().await;
}

both_backends!(notes_follow_the_ledger);
