//! Receipts: building, JSON round trip, offline verification, tampering.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns unwrap too

use assent_ledger::*;
use serde_json::{Value, json};
use std::collections::HashMap;

fn consent_record(i: u64) -> Value {
    json!({
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "FR",
        "consentTimestamp": 1_700_000_000_000_i64 + i as i64,
        "collectionMethod": "banner",
        "consentReceiptID": format!("0f6d9c1e-{i:04}"),
        "language": "fr",
        "piiPrincipalId": "a1b2c3d4e5f6",
        "piiControllers": [{"piiController": "Callkom SAS", "contact": "dpo@callkom.example", "address": "1 rue X, Paris", "email": "dpo@callkom.example", "phone": "+33 1 00 00 00 00"}],
        "policyUrl": "https://callkom.example/privacy?v=7",
        "services": [
            {"service": "Google Analytics", "purposes": [{"purpose": "audience", "consentType": "EXPLICIT", "purposeCategory": ["measurement"], "consented": i & 1 == 0, "termination": "P6M"}]},
            {"service": "Matomo", "purposes": [{"purpose": "audience-exempt", "consentType": "NOT_REQUIRED", "consented": true}]}
        ],
        "policyVersion": 7,
        "action": "custom",
        "textsFingerprint": "9f86d081884c7d65",
    })
}

struct Server {
    key: LedgerKey,
    writer: ChainWriter,
    /// Perfect-subtree roots, as a store would keep them.
    nodes: HashMap<(u32, u64), Hash>,
    receipts: Vec<Receipt>,
}

impl Server {
    fn new() -> Self {
        Server {
            key: LedgerKey::from_bytes(&[3; 32]),
            writer: ChainWriter::new(4),
            nodes: HashMap::new(),
            receipts: Vec::new(),
        }
    }

    fn record(&mut self, i: u64) -> Receipt {
        let record = consent_record(i);
        let payload = canonical_json(&record).unwrap();
        let nodes = &mut self.nodes;
        let entry = self.writer.append_with(
            1_700_000_000_000 + i as i64,
            "consent",
            payload_hash(&payload),
            |l, x, h| {
                nodes.insert((l, x), *h);
            },
        );
        let r = Receipt::new(record, entry);
        self.receipts.push(r.clone());
        r
    }

    fn checkpoint(&self) -> SignedCheckpoint {
        self.key
            .sign_checkpoint(1_700_000_100_000, vec![self.writer.checkpoint_head()])
            .unwrap()
    }

    fn anchor(&self, r: &Receipt, cp: &SignedCheckpoint) -> Receipt {
        let size = cp.checkpoint.head(r.entry.chain).unwrap().size;
        let proof = subtree_inclusion_proof(r.entry.seq, size, |l, x| {
            self.nodes.get(&(l, x)).copied().ok_or(())
        })
        .unwrap()
        .unwrap();
        r.clone().with_anchor(cp.clone(), proof)
    }
}

#[test]
fn pending_then_anchored() {
    let mut s = Server::new();
    for i in 0..10 {
        s.record(i);
    }
    let info = PublicKeyInfo::parse(&s.key.public_key_info().to_json()).unwrap();
    let r = s.receipts[3].clone();
    assert_eq!(
        verify_receipt(&r, &info).unwrap(),
        ReceiptStatus::PendingCheckpoint
    );

    let cp = s.checkpoint();
    for i in 10..13 {
        s.record(i);
    }
    for r in &s.receipts[..10] {
        let anchored = s.anchor(r, &cp);
        // Through JSON, as the visitor keeps it.
        let text = anchored.to_json().unwrap();
        let back = Receipt::from_json(&text).unwrap();
        assert_eq!(back, anchored);
        assert_eq!(
            verify_receipt(&back, &info).unwrap(),
            ReceiptStatus::Anchored {
                checkpoint_ts_ms: 1_700_000_100_000,
                tree_size: 10,
                key_id: s.key.key_id().to_owned()
            }
        );
    }
    // The proof from stored subtrees equals the one from all leaves.
    let hashes: Vec<Hash> = s.receipts[..10].iter().map(|r| r.entry.hash).collect();
    assert_eq!(
        s.anchor(&s.receipts[6], &cp)
            .anchor
            .unwrap()
            .inclusion_proof,
        inclusion_proof(&hashes, 6)
    );
    // An entry after the checkpoint cannot be anchored in it.
    let late = s.receipts[11].clone().with_anchor(cp.clone(), vec![]);
    assert!(matches!(
        verify_receipt(&late, &info),
        Err(LedgerError::NotCovered { seq: 11, size: 10 })
    ));
}

#[test]
fn receipt_json_shape() {
    let mut s = Server::new();
    let r = s.record(0);
    let cp = s.checkpoint();
    let v: Value = serde_json::from_str(&s.anchor(&r, &cp).to_json().unwrap()).unwrap();
    assert_eq!(v["format"], "assent-receipt/1");
    assert_eq!(v["record"]["consentReceiptID"], "0f6d9c1e-0000");
    assert_eq!(v["entry"]["chain"], 4);
    assert_eq!(v["entry"]["hash"], to_hex(&r.entry.hash));
    assert_eq!(
        v["anchor"]["checkpoint"]["checkpoint"]["heads"][0]["size"],
        1
    );
    assert_eq!(v["anchor"]["inclusion_proof"], json!([]));
    assert_eq!(
        v["anchor"]["checkpoint"]["signature"]
            .as_str()
            .unwrap()
            .len(),
        86
    );
    let pending: Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert!(pending.get("anchor").is_none());
}

fn anchored() -> (Receipt, PublicKeyInfo) {
    let mut s = Server::new();
    for i in 0..21 {
        s.record(i);
    }
    let cp = s.checkpoint();
    (
        s.anchor(&s.receipts[12].clone(), &cp),
        s.key.public_key_info(),
    )
}

#[test]
fn tampered_receipts_fail() {
    let (good, key) = anchored();
    assert!(matches!(
        verify_receipt(&good, &key),
        Ok(ReceiptStatus::Anchored { .. })
    ));

    // The choice changed.
    let mut r = good.clone();
    r.record["services"][0]["purposes"][0]["consented"] = json!(false);
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::PayloadHashMismatch)
    ));
    // A field added.
    let mut r = good.clone();
    r.record["extra"] = json!(1);
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::PayloadHashMismatch)
    ));
    // Payload hash edited to match the new record: the entry hash breaks.
    let mut r = good.clone();
    r.record["action"] = json!("accept_all");
    r.entry.payload_hash = payload_hash(&canonical_json(&r.record).unwrap());
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::EntryHashMismatch)
    ));
    // ... and the entry hash too: the inclusion proof breaks.
    r.entry.hash = r.entry.compute_hash();
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::InclusionProofInvalid)
    ));
    // Time moved.
    let mut r = good.clone();
    r.entry.ts_ms -= 86_400_000;
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::EntryHashMismatch)
    ));
    // Proof edited, reordered or cut.
    let mut r = good.clone();
    r.anchor.as_mut().unwrap().inclusion_proof[1][3] ^= 1;
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::InclusionProofInvalid)
    ));
    let mut r = good.clone();
    r.anchor.as_mut().unwrap().inclusion_proof.swap(0, 1);
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::InclusionProofInvalid)
    ));
    let mut r = good.clone();
    r.anchor.as_mut().unwrap().inclusion_proof.pop();
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::InclusionProofInvalid)
    ));
    // The checkpoint edited: the signature breaks.
    let mut r = good.clone();
    r.anchor.as_mut().unwrap().checkpoint.checkpoint.heads[0].size += 1;
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::BadSignature)
    ));
    let mut r = good.clone();
    r.anchor.as_mut().unwrap().checkpoint.signature[0] ^= 1;
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::BadSignature)
    ));
    // Another key.
    let other = LedgerKey::from_bytes(&[4; 32]).public_key_info();
    assert!(matches!(
        verify_receipt(&good, &other),
        Err(LedgerError::KeyIdMismatch { .. })
    ));
    // Chain number changed: header and checkpoint no longer agree.
    let mut r = good.clone();
    r.entry.chain = 5;
    r.entry.hash = r.entry.compute_hash();
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::ChainNotInCheckpoint(5))
    ));
    // Unknown format.
    let mut r = good.clone();
    r.format = "assent-receipt/9".into();
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::UnsupportedFormat(_))
    ));
    // A float slipped into the record cannot be canonical.
    let mut r = good.clone();
    r.record["policyVersion"] = json!(7.0);
    assert!(matches!(
        verify_receipt(&r, &key),
        Err(LedgerError::NonIntegerNumber(_))
    ));
}

#[test]
fn receipt_json_with_duplicate_members_is_refused() {
    let (good, _) = anchored();
    let text = good.to_json().unwrap();
    let twice = text.replacen(
        "\"action\":\"custom\"",
        "\"action\":\"custom\",\"action\":\"reject_all\"",
        1,
    );
    assert_ne!(text, twice);
    assert!(Receipt::from_json(&twice).is_err());
}

#[test]
fn public_key_document() {
    let key = LedgerKey::from_bytes(&[3; 32]);
    let doc = key.public_key_info().to_json();
    let info = PublicKeyInfo::parse(&doc).unwrap();
    assert_eq!(info.key(), &key.public_key());
    assert_eq!(info.key_id(), key.key_id());
    assert_eq!(serde_json::to_string(&info).unwrap(), doc);
    let v: Value = serde_json::from_str(&doc).unwrap();
    let with = |field: &str, value: Value| {
        let mut d = v.clone();
        d[field] = value;
        PublicKeyInfo::parse(&d.to_string())
    };
    assert!(matches!(
        with("alg", json!("RS256")),
        Err(LedgerError::UnsupportedAlgorithm(a)) if a == "RS256"
    ));
    assert!(matches!(
        with("key_id", json!("0000000000000000")),
        Err(LedgerError::KeyIdMismatch { .. })
    ));
    // The serde path checks the same.
    assert!(serde_json::from_str::<PublicKeyInfo>(&doc.replace("Ed25519", "Ed448")).is_err());
    assert!(with("public_key", json!("AAAA")).is_err());
    // Extra fields (e.g. a validity period) are tolerated.
    assert!(with("not_before_ms", json!(0)).is_ok());
    // The small-order point is not a key.
    let weak = b64url(&[0u8; 32]);
    assert!(with("public_key", json!(weak)).is_err());
}

/// A receipt made by an independent Python implementation of `docs/ledger.md`
/// (hashlib + `cryptography`), with the key whose secret is 32 bytes of 0x01.
#[test]
fn receipt_from_an_independent_implementation() {
    let text = r#"{"format": "assent-receipt/1", "record": {"consentReceiptID": "x", "services": [{"purposes": [{"consented": true, "purpose": "ads"}], "service": "s"}], "consentTimestamp": 1700000000000, "language": "fr"}, "entry": {"chain": 0, "seq": 0, "ts_ms": 1700000000000, "kind": "consent", "payload_hash": "eaf4e5f088550f5f5b141a12a6a07b338b5937a6cbc5254878dc4d2d76b3c292", "prev_hash": "7bff88eedb01c585911a614f832468e76b75bb4ac3f9b1d498581209480c5470", "hash": "2f5681dc5525d30bc5c0edca9d2d385e85696c9ecf5f2248117e5140ada65cf7"}, "anchor": {"checkpoint": {"checkpoint": {"ts_ms": 5, "heads": [{"chain": 0, "size": 1, "root": "539c2571e8d02a4936041d68e4c2bfbddf88d380ce9cd03b0259106e019c3d7f", "head_hash": "2f5681dc5525d30bc5c0edca9d2d385e85696c9ecf5f2248117e5140ada65cf7"}], "key_id": "34750f98bd59fcfc"}, "signature": "GQ5i7-SCctT2r6Y5ijRgIumX6QR830OqAHonutotAfqF4xFsbLaimdixWHBpdhWTASE0SZznlo2JZjfdU8dxAw"}, "inclusion_proof": []}}"#;
    let receipt = Receipt::from_json(text).unwrap();
    let key = LedgerKey::from_bytes(&[1; 32]).public_key_info();
    assert_eq!(key.key_id(), "34750f98bd59fcfc");
    assert_eq!(
        verify_receipt(&receipt, &key).unwrap(),
        ReceiptStatus::Anchored {
            checkpoint_ts_ms: 5,
            tree_size: 1,
            key_id: "34750f98bd59fcfc".into()
        }
    );
}
