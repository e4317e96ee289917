//! The attacks of issue 20 (findings 3 and 4, "Witnesses"), reproduced against the library:
//! a receipt invented from scratch, a receipt whose context was edited or deleted, a ledger
//! rewritten with its checkpoints deleted, a ledger shorter than or forked from a pinned
//! checkpoint, and a witness served a fork or a rollback. Each must be caught.
#![allow(clippy::unwrap_used)]

use assent_ledger::*;
use serde_json::{Value, json};

const T0: i64 = 1_700_000_000_000;

fn key() -> LedgerKey {
    LedgerKey::from_bytes(&[5; 32])
}

/// A record of format `assent-consent/2` and the context the server issues with it.
fn record_and_context() -> (Value, Value) {
    let record = json!({
        "version": "assent-consent/2",
        "jurisdiction": "FR",
        "consentTimestamp": T0,
        "collectionMethod": "banner",
        "consentReceiptID": "0123456789abcdef0123456789abcdef",
        "language": "fr",
        "piiPrincipalId": "5f0c1e2d-0000-4000-8000-000000000001",
        "site": "callkom",
        "policyVersion": 3,
        "policyHash": "sha256:ab12",
        "textFingerprint": "f00d",
        "action": "custom",
        "method": "explicit",
        "purposes": {"necessary": true, "functional": false, "performance": true},
        "expiresAt": 1_748_082_000_123_i64,
    });
    let context = json!({
        "policyHash": "sha256:ab12",
        "piiControllers": [{"piiController": "CALLKOM", "contact": "dpo@c.example"}],
        "policyUrl": "https://c.example/sites/callkom/cookie-policy?version=3",
        "services": [
            {"service": "HubSpot", "provider": "HubSpot Inc.", "purposes": [
                {"purpose": "functional", "consentType": "EXPLICIT", "granted": false},
                {"purpose": "performance", "consentType": "EXPLICIT", "granted": true}
            ]},
            {"service": "Session", "provider": "Callkom", "purposes": [
                {"purpose": "necessary", "consentType": "NOT_REQUIRED", "granted": true}
            ]}
        ],
        "termination": "Expires at 2025-05-24T10:20:00.123Z, or earlier when withdrawn through the \"Manage my cookies\" link",
    });
    (record, context)
}

/// An anchored receipt as the server issues it.
fn issued() -> (Receipt, PublicKeyInfo) {
    let k = key();
    let (record, context) = record_and_context();
    let mut w = ChainWriter::new(0);
    let entry = w.append(T0, "consent", &canonical_json(&record).unwrap());
    let cp = k
        .sign_checkpoint(T0 + 1000, vec![w.checkpoint_head()])
        .unwrap();
    let mut r = Receipt::new(record, entry).with_anchor(cp, vec![]);
    r.context = Some(context);
    (r, k.public_key_info())
}

#[test]
fn the_issued_receipt_verifies() {
    let (r, info) = issued();
    assert!(matches!(
        verify_receipt(&r, &info).unwrap(),
        ReceiptStatus::Anchored { .. }
    ));
}

/// Finding 3: a receipt made up from nothing (consistent record and entry, no anchor) is
/// only "pending": nothing signed vouches for it, and front ends must not call it valid.
#[test]
fn a_receipt_invented_from_scratch_is_not_anchored() {
    let (record, _) = record_and_context();
    let mut w = ChainWriter::new(0);
    let entry = w.append(
        T0,
        "consent",
        &canonical_json(&json!({"version": "x"})).unwrap(),
    );
    // Entry made for another payload: refused outright.
    assert!(
        verify_receipt(
            &Receipt::new(record.clone(), entry),
            &key().public_key_info()
        )
        .is_err()
    );
    let mut w = ChainWriter::new(0);
    let record = json!({"version": "KI-CR-v1.1.0", "consentReceiptID": "forged"});
    let entry = w.append(T0, "consent", &canonical_json(&record).unwrap());
    assert_eq!(
        verify_receipt(&Receipt::new(record, entry), &key().public_key_info()).unwrap(),
        ReceiptStatus::PendingCheckpoint
    );
}

fn edited(f: impl FnOnce(&mut Value)) -> Result<ReceiptStatus, LedgerError> {
    let (mut r, info) = issued();
    f(r.context.as_mut().unwrap());
    verify_receipt(&r, &info)
}

/// Finding 3: every member of the context the record determines is checked against it.
#[test]
fn an_edited_context_is_refused() {
    let flip = edited(|c| c["services"][0]["purposes"][0]["granted"] = json!(true));
    assert!(
        matches!(&flip, Err(LedgerError::ContextTampered { field, .. }) if field == "services[0].purposes[0].granted"),
        "{flip:?}"
    );
    let gone = edited(|c| c["services"][1]["purposes"][0]["granted"] = json!(null));
    assert!(gone.is_err());
    let term = edited(|c| {
        c["termination"] = json!(
            "Expires at 2030-01-01T00:00:00Z, or earlier when withdrawn through the \"Manage my cookies\" link"
        )
    });
    assert!(
        matches!(&term, Err(LedgerError::ContextTampered { field, .. }) if field == "termination")
    );
    let words = edited(|c| c["termination"] = json!("Never expires"));
    assert!(words.is_err());
    let url =
        edited(|c| c["policyUrl"] = json!("https://c.example/sites/other/cookie-policy?version=3"));
    assert!(
        matches!(&url, Err(LedgerError::ContextTampered { field, .. }) if field == "policyUrl")
    );
    let extra = edited(|c| c["note"] = json!("the visitor agreed to everything"));
    assert!(matches!(&extra, Err(LedgerError::ContextTampered { field, .. }) if field == "note"));
    let extra_purpose = edited(|c| c["services"][0]["purposes"][0]["legalBasis"] = json!("x"));
    assert!(extra_purpose.is_err());
    let hash = edited(|c| c["policyHash"] = json!("sha256:ff"));
    assert!(matches!(hash, Err(LedgerError::ContextMismatch)));
}

/// What the record cannot determine (the controller, the services' names) is bound only by
/// `policyHash`: verification lets it through, and `UNBOUND_CONTEXT` names it so that a
/// front end never presents it as proven.
#[test]
fn what_only_the_policy_version_binds_is_named() {
    let renamed = edited(|c| c["piiControllers"][0]["piiController"] = json!("Someone Else"));
    assert!(renamed.is_ok());
    assert!(UNBOUND_CONTEXT.contains(&"piiControllers"));
    assert!(
        UNBOUND_CONTEXT
            .iter()
            .any(|f| f.starts_with("services[].service"))
    );
}

/// Finding 3: a receipt of a record that points to its policy by hash always carries its
/// context; one without is refused, and a context on a self-contained record too.
#[test]
fn a_deleted_context_is_refused() {
    let (mut r, info) = issued();
    r.context = None;
    assert!(matches!(
        verify_receipt(&r, &info),
        Err(LedgerError::ContextMissing)
    ));
    assert!(check_context(&json!({"version": "KI-CR-v1.1.0"}), None).is_ok());
    let inline = json!({"version": "x", "policyHash": "h", "services": []});
    assert!(check_context(&inline, Some(&json!({"policyHash": "h"}))).is_err());
}

// ---- finding 4: the whole ledger ----

/// `n` entries one minute apart from `T0`, on chain 0.
fn ledger(n: u64) -> (ChainWriter, Vec<(Entry, Vec<u8>)>) {
    let mut w = ChainWriter::new(0);
    let entries = (0..n)
        .map(|i| {
            let p = format!("{{\"i\":{i}}}").into_bytes();
            (w.append(T0 + 60_000 * i as i64, "consent", &p), p)
        })
        .collect();
    (w, entries)
}

/// The attacker of finding 4: changes payload `at` and recomputes every later hash.
fn rewrite(entries: &[(Entry, Vec<u8>)], at: usize) -> Vec<(Entry, Vec<u8>)> {
    let mut w = ChainWriter::new(0);
    entries
        .iter()
        .enumerate()
        .map(|(i, (e, p))| {
            let p = if i == at {
                b"{\"i\":\"forged\"}".to_vec()
            } else {
                p.clone()
            };
            (w.append(e.ts_ms, &e.kind, &p), p)
        })
        .collect()
}

fn verify(
    entries: &[(Entry, Vec<u8>)],
    checkpoints: &[SignedCheckpoint],
    pins: &[(u64, Hash)],
    cutoff: Option<i64>,
) -> Report {
    let k = key();
    let mut v = Verifier::new();
    if let Some(c) = cutoff {
        v.require_checkpoints_before(c);
    }
    for cp in checkpoints {
        v.check_checkpoint(cp, &k.public_key());
    }
    for (size, root) in pins {
        v.pin(0, *size, *root, None);
    }
    for (e, p) in entries {
        v.push(e, Some(p));
    }
    v.finish()
}

#[test]
fn a_rewritten_ledger_with_its_checkpoints_deleted_fails() {
    let (_, entries) = ledger(10);
    let forged = rewrite(&entries, 3);
    // What `ledger verify` did before: no checkpoints, no rule, "ledger OK".
    assert!(verify(&forged, &[], &[], None).is_ok());
    // Now: verified an hour after the last entry, with a one-minute interval.
    let now = T0 + 60_000 * 9 + 3_600_000;
    let report = verify(&forged, &[], &[], Some(now - 60_000));
    assert_eq!(
        report.problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
        vec![&ProblemKind::Uncheckpointed { count: 10 }]
    );
    // Entries younger than the interval need no checkpoint yet.
    let fresh = verify(&forged, &[], &[], Some(T0 + 60_000 * 4));
    assert_eq!(
        fresh.problems[0].kind,
        ProblemKind::Uncheckpointed { count: 5 }
    );
    assert!(verify(&forged, &[], &[], Some(T0 - 1)).is_ok());
}

#[test]
fn an_honest_checkpointed_ledger_passes_the_freshness_rule() {
    let (w, entries) = ledger(10);
    let cp = key()
        .sign_checkpoint(T0 + 600_000, vec![w.checkpoint_head()])
        .unwrap();
    let report = verify(&entries, &[cp], &[], Some(T0 + 3_600_000));
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn a_ledger_shorter_than_a_pinned_checkpoint_fails() {
    let (w, entries) = ledger(10);
    let pinned = w.checkpoint_head();
    let cut = &entries[..7];
    let report = verify(cut, &[], &[(pinned.size, pinned.root)], None);
    assert_eq!(
        report.problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
        vec![&ProblemKind::ShorterThanPinned { chain_size: 7 }]
    );
}

#[test]
fn a_ledger_forked_from_a_pinned_checkpoint_fails() {
    let (w, entries) = ledger(10);
    let pinned = w.checkpoint_head();
    let forged = rewrite(&entries, 3);
    let report = verify(&forged, &[], &[(pinned.size, pinned.root)], None);
    assert_eq!(
        report.problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
        vec![&ProblemKind::ForkedFromPinned]
    );
    // A pin of an earlier size, before the rewritten entry, still holds; a later one not.
    let head3 = {
        let mut w = ChainWriter::new(0);
        for (e, p) in &entries[..3] {
            w.append(e.ts_ms, &e.kind, p);
        }
        w.checkpoint_head()
    };
    assert!(verify(&forged, &[], &[(3, head3.root)], None).is_ok());
    assert!(verify(&entries, &[], &[(3, head3.root), (10, pinned.root)], None).is_ok());
}

#[test]
fn an_unreadable_payload_is_reported_and_verification_goes_on() {
    let (_, entries) = ledger(3);
    let mut v = Verifier::new();
    v.push(&entries[0].0, Some(&entries[0].1));
    v.push_unreadable(&entries[1].0, "column holds TEXT");
    v.push(&entries[2].0, Some(b"{}"));
    let r = v.finish();
    let kinds: Vec<_> = r.problems.iter().map(|p| p.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            ProblemKind::PayloadUnreadable {
                reason: "column holds TEXT".into()
            },
            ProblemKind::PayloadEdited
        ]
    );
    assert_eq!(r.entries, 3);
}

// ---- witnesses ----

fn hashes(n: u64) -> Vec<Hash> {
    ledger(n).1.into_iter().map(|(e, _)| e.hash).collect()
}

#[test]
fn a_witness_follows_an_honest_log() {
    let all = hashes(20);
    let mut w = WitnessChain::new(0);
    assert!(w.advance(5, merkle_root(&all[..5]), &[]).unwrap());
    let proof = consistency_proof(&all[..12], 5);
    assert!(w.advance(12, merkle_root(&all[..12]), &proof).unwrap());
    assert!(!w.advance(12, merkle_root(&all[..12]), &[]).unwrap());
    let text: String = w
        .heads()
        .iter()
        .map(|(s, r)| WitnessChain::line(*s, r))
        .collect();
    assert_eq!(WitnessChain::parse(0, &text).unwrap(), w);
    // A receipt's checkpoint at size 8: needs the proof 8 -> 12.
    let root8 = merkle_root(&all[..8]);
    assert_eq!(
        w.check(8, &root8).unwrap(),
        WitnessCheck::NeedsProof {
            old_size: 8,
            new_size: 12
        }
    );
    w.check_with_proof(8, &root8, &consistency_proof(&all[..12], 8))
        .unwrap();
    // Size 16, newer than the witness: the proof 12 -> 16.
    let root16 = merkle_root(&all[..16]);
    w.check_with_proof(16, &root16, &consistency_proof(&all[..16], 12))
        .unwrap();
    assert_eq!(
        w.check(5, &merkle_root(&all[..5])).unwrap(),
        WitnessCheck::Seen
    );
}

#[test]
fn a_witness_sees_a_fork() {
    let all = hashes(20);
    let (_, entries) = ledger(20);
    let forked: Vec<Hash> = rewrite(&entries, 3)
        .into_iter()
        .map(|(e, _)| e.hash)
        .collect();
    let mut w = WitnessChain::new(0);
    w.advance(10, merkle_root(&all[..10]), &[]).unwrap();
    // The operator now serves a history where entry 3 differs, with the only proof it has.
    let fork = w.advance(
        15,
        merkle_root(&forked[..15]),
        &consistency_proof(&forked[..15], 10),
    );
    assert!(
        matches!(
            fork,
            Err(LedgerError::Fork {
                chain: 0,
                old_size: 10,
                new_size: 15,
                ..
            })
        ),
        "{fork:?}"
    );
    // Same size, another root.
    assert!(matches!(
        w.advance(10, merkle_root(&forked[..10]), &[]),
        Err(LedgerError::Fork { .. })
    ));
    // A receipt anchored in the forked history.
    assert!(matches!(
        w.check(10, &merkle_root(&forked[..10])),
        Err(LedgerError::Fork { .. })
    ));
    assert!(
        w.check_with_proof(
            12,
            &merkle_root(&forked[..12]),
            &consistency_proof(&forked[..12], 10)
        )
        .is_err()
    );
    // The witness kept only what it accepted.
    assert_eq!(w.heads().len(), 1);
}

#[test]
fn a_witness_sees_a_rollback() {
    let all = hashes(20);
    let mut w = WitnessChain::new(0);
    w.advance(10, merkle_root(&all[..10]), &[]).unwrap();
    let back = w.advance(8, merkle_root(&all[..8]), &[]);
    assert!(
        matches!(
            back,
            Err(LedgerError::Rollback {
                chain: 0,
                seen: 10,
                served: 8
            })
        ),
        "{back:?}"
    );
}

#[test]
fn checkpoints_as_signed_notes() {
    let (w, _) = ledger(10);
    let head = w.checkpoint_head();
    let k = key();
    let note = NoteCheckpoint {
        origin: note_origin("https://consent.example", 0),
        chain: 0,
        size: head.size,
        root: head.root,
    };
    let text = note.sign(&k);
    let back = verify_note(&text, &k.public_key()).unwrap();
    assert_eq!(back, note);
    assert!(verify_note(&text.replacen("\n10\n", "\n11\n", 1), &k.public_key()).is_err());
    assert!(verify_note(&text, &LedgerKey::from_bytes(&[6; 32]).public_key()).is_err());
}
