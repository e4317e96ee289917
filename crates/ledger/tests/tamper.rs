//! Every kind of tampering is detected, and a clean ledger reports nothing.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns unwrap too

use assent_ledger::*;
use serde_json::json;

const TS0: i64 = 1_700_000_000_000;

#[derive(Clone)]
struct Ledger {
    rows: Vec<(Entry, Option<Vec<u8>>)>,
    checkpoints: Vec<SignedCheckpoint>,
    key: LedgerKey,
}

fn record(chain: u32, i: u64) -> Vec<u8> {
    canonical_json(&json!({
        "consentReceiptID": format!("r-{chain}-{i}"),
        "piiPrincipalId": format!("subject-{}", i % 17),
        "services": [{"service": "analytics", "purposes": [{"purpose": "measure", "consented": i & 1 == 0}]}],
        "consentTimestamp": TS0 + i as i64,
    }))
    .unwrap()
}

/// `chains` chains of `per_chain` entries, stored round-robin, with a checkpoint of
/// all heads every `every` rounds and one at the end.
fn build(chains: u32, per_chain: u64, every: u64) -> Ledger {
    let key = LedgerKey::from_bytes(&[7; 32]);
    let mut writers: Vec<ChainWriter> = (0..chains).map(ChainWriter::new).collect();
    let mut rows = Vec::new();
    let mut checkpoints = Vec::new();
    for i in 0..per_chain {
        for w in &mut writers {
            let payload = record(w.head().chain, i);
            let e = w.append(TS0 + i as i64, "consent", &payload);
            rows.push((e, Some(payload)));
        }
        if (i + 1).rem_euclid(every) == 0 || i + 1 == per_chain {
            let heads = writers.iter().map(ChainWriter::checkpoint_head).collect();
            checkpoints.push(key.sign_checkpoint(TS0 + i as i64, heads).unwrap());
        }
    }
    Ledger {
        rows,
        checkpoints,
        key,
    }
}

fn verify(l: &Ledger) -> Report {
    let mut v = Verifier::new();
    for cp in &l.checkpoints {
        v.check_checkpoint(cp, &l.key.public_key());
    }
    for (e, p) in &l.rows {
        v.push(e, p.as_deref());
    }
    v.finish()
}

fn row_of(l: &Ledger, chain: u32, seq: u64) -> usize {
    l.rows
        .iter()
        .position(|(e, _)| e.chain == chain && e.seq == seq)
        .unwrap()
}

fn kinds(r: &Report) -> Vec<(u32, u64, ProblemKind)> {
    r.problems
        .iter()
        .map(|p| (p.chain, p.position, p.kind.clone()))
        .collect()
}

fn ledger() -> Ledger {
    build(3, 200, 50)
}

/// The problems verification finds in `l`: (chain, position, kind).
fn found(l: &Ledger) -> Vec<(u32, u64, ProblemKind)> {
    kinds(&verify(l))
}

/// What verification finds in a fresh ledger once `edit` changed the row of (chain, seq).
fn found_after_edit(
    chain: u32,
    seq: u64,
    edit: impl FnOnce(&mut Entry, &mut Option<Vec<u8>>),
) -> Vec<(u32, u64, ProblemKind)> {
    let mut l = ledger();
    let i = row_of(&l, chain, seq);
    let (e, p) = &mut l.rows[i];
    edit(e, p);
    found(&l)
}

/// What verification finds in a fresh ledger once the row of (chain, seq) moved by `by`
/// places.
fn found_after_move(chain: u32, seq: u64, by: isize) -> Vec<(u32, u64, ProblemKind)> {
    let mut l = ledger();
    let a = row_of(&l, chain, seq);
    let row = l.rows.remove(a);
    l.rows.insert(a.checked_add_signed(by).unwrap(), row);
    found(&l)
}

/// Adds to `l` a checkpoint, duly signed, of the heads of checkpoint `from` changed by `edit`.
fn add_checkpoint(l: &mut Ledger, from: usize, edit: impl FnOnce(&mut Vec<ChainCheckpoint>)) {
    let mut heads = l.checkpoints[from].checkpoint.heads.clone();
    edit(&mut heads);
    let cp = l.key.sign_checkpoint(TS0, heads).unwrap();
    l.checkpoints.push(cp);
}

#[test]
fn clean_ledger_has_no_problems() {
    let l = ledger();
    let r = verify(&l);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(
        (r.entries, r.chains, r.checkpoints, r.redacted),
        (600, 3, 4, 0)
    );
    assert_eq!(r.unchecked_checkpoint_heads, 0);
    let last = l.checkpoints.last().unwrap();
    for (s, h) in r.chain_summaries.iter().zip(&last.checkpoint.heads) {
        assert_eq!(
            (s.chain, s.size, s.root, s.head_hash),
            (h.chain, h.size, h.root, h.head_hash)
        );
        assert_eq!(s.entries, 200);
    }
    // Storage order across chains does not matter.
    let mut by_chain = l.clone();
    by_chain
        .rows
        .sort_by_key(|(e, _)| (std::cmp::Reverse(e.chain), e.seq));
    assert!(verify(&by_chain).is_ok());
}

#[test]
fn payload_edited() {
    let found = found_after_edit(1, 77, |_, p| {
        let p = p.as_mut().unwrap();
        let at = p.iter().position(|&b| b == b't').unwrap();
        p[at] = b'f'; // "consented":true -> "consented":frue
    });
    assert_eq!(found, vec![(1, 77, ProblemKind::PayloadEdited)]);
}

#[test]
fn payload_and_payload_hash_edited() {
    let found = found_after_edit(1, 77, |e, p| {
        let forged = record(1, 78);
        e.payload_hash = payload_hash(&forged);
        *p = Some(forged);
    });
    assert_eq!(found, vec![(1, 77, ProblemKind::HeaderEdited)]);
}

#[test]
fn header_edited() {
    let found = found_after_edit(2, 10, |e, _| e.ts_ms += 1);
    assert_eq!(found, vec![(2, 10, ProblemKind::HeaderEdited)]);
    let found = found_after_edit(2, 10, |e, _| e.kind = "withdraw".into());
    assert_eq!(found, vec![(2, 10, ProblemKind::HeaderEdited)]);
    // A changed seq is judged where the entry links to.
    let found = found_after_edit(2, 10, |e, _| e.seq = 1000);
    assert_eq!(found, vec![(2, 1000, ProblemKind::HeaderEdited)]);
}

#[test]
fn header_edited_and_rehashed_breaks_the_link() {
    let mut l = ledger();
    let i = row_of(&l, 0, 120);
    let e = &mut l.rows[i].0;
    e.ts_ms -= 3_600_000;
    e.hash = e.compute_hash();
    let k = found(&l);
    assert_eq!(k[0], (0, 121, ProblemKind::LinkBroken));
    assert!(
        k.contains(&(0, 150, ProblemKind::CheckpointRootMismatch)),
        "{k:?}"
    );
}

#[test]
fn consistent_rewrite_of_a_suffix_is_caught_by_checkpoints() {
    let mut l = ledger();
    // Rewrite chain 0 from seq 120 on, recomputing every hash: the chain is
    // internally consistent, only the signed checkpoints tell.
    let start = row_of(&l, 0, 119);
    let mut head = ChainHead::after(&l.rows[start].0);
    for (e, p) in l
        .rows
        .iter_mut()
        .filter(|(e, _)| e.chain == 0 && e.seq >= 120)
    {
        let payload = if e.seq == 120 {
            record(0, 9999)
        } else {
            p.clone().unwrap()
        };
        *e = head.append(e.ts_ms, &e.kind, &payload);
        *p = Some(payload);
    }
    let k = found(&l);
    assert_eq!(
        k,
        vec![
            (0, 150, ProblemKind::CheckpointRootMismatch),
            (0, 200, ProblemKind::CheckpointRootMismatch)
        ]
    );
}

#[test]
fn entry_deleted() {
    let mut l = ledger();
    let i = row_of(&l, 1, 42);
    l.rows.remove(i);
    let k = found(&l);
    assert_eq!(k[0], (1, 42, ProblemKind::Deleted { count: 1 }));
    assert!(
        k[1..]
            .iter()
            .all(|p| p.2 == ProblemKind::CheckpointRootMismatch),
        "{k:?}"
    );
    // Several in a row.
    let mut l = ledger();
    l.rows
        .retain(|(e, _)| !(e.chain == 2 && (10..15).contains(&e.seq)));
    assert_eq!(found(&l)[0], (2, 10, ProblemKind::Deleted { count: 5 }));
}

#[test]
fn tail_deleted() {
    let mut l = ledger();
    l.rows.retain(|(e, _)| !(e.chain == 1 && e.seq >= 197));
    assert_eq!(
        found(&l),
        vec![(
            1,
            200,
            ProblemKind::CheckpointBeyondChain { chain_size: 197 }
        )]
    );
}

#[test]
fn tail_after_the_last_checkpoint_is_only_hash_chained() {
    // A documented limit: without a checkpoint covering them, the last entries can
    // be cut off unnoticed. Servers checkpoint often to keep this window short.
    let mut l = build(1, 60, 50);
    l.checkpoints.pop();
    l.rows.truncate(55);
    assert!(verify(&l).is_ok());
}

fn forged_entry(l: &Ledger, chain: u32, seq: u64) -> (Entry, Option<Vec<u8>>) {
    let prev = &l.rows[row_of(l, chain, seq - 1)].0;
    let mut head = ChainHead::after(prev);
    let payload = record(chain, 5000);
    (head.append(prev.ts_ms, "consent", &payload), Some(payload))
}

/// Verifies a fresh ledger where an entry forged for (chain, seq) is stored `offset` rows
/// after the genuine one: the report, and the forged row's index.
fn verify_with_forged(chain: u32, seq: u64, offset: usize) -> (Report, usize) {
    let mut l = ledger();
    let forged = forged_entry(&l, chain, seq);
    let i = row_of(&l, chain, seq) + offset;
    l.rows.insert(i, forged);
    (verify(&l), i)
}

#[test]
fn inserted_before_the_genuine_entry() {
    let (r, i) = verify_with_forged(2, 60, 0);
    assert_eq!(kinds(&r), vec![(2, 60, ProblemKind::Inserted)]);
    assert_eq!(r.problems[0].index, i as u64, "the forged row is blamed");
}

#[test]
fn inserted_after_the_genuine_entry() {
    let (r, i) = verify_with_forged(2, 60, 2);
    assert_eq!(kinds(&r), vec![(2, 60, ProblemKind::Inserted)]);
    assert_eq!(r.problems[0].index, i as u64);
}

#[test]
fn inserted_far_from_its_seq() {
    let mut l = ledger();
    let forged = forged_entry(&l, 0, 30);
    l.rows.push(forged);
    assert_eq!(found(&l), vec![(0, 30, ProblemKind::Inserted)]);
}

#[test]
fn inserted_at_the_end_of_a_checkpointed_chain() {
    let mut l = ledger();
    let forged = forged_entry(&l, 0, 200);
    l.rows.push(forged);
    // It links properly and lies past the last signed head, so nothing contradicts
    // it yet: the next checkpoint will sign it (and a receipt for it stays pending).
    assert!(verify(&l).is_ok());
}

#[test]
fn reordered_adjacent() {
    let mut l = ledger();
    let a = row_of(&l, 1, 99);
    let b = row_of(&l, 1, 100);
    l.rows.swap(a, b);
    assert_eq!(found(&l), vec![(1, 100, ProblemKind::Reordered)]);
}

#[test]
fn reordered_moved_later() {
    let found = found_after_move(1, 20, 300);
    assert_eq!(found, vec![(1, 20, ProblemKind::Reordered)]);
}

#[test]
fn reordered_moved_earlier() {
    let found = found_after_move(1, 120, -200);
    assert_eq!(found, vec![(1, 120, ProblemKind::Reordered)]);
}

#[test]
fn duplicated() {
    let mut l = ledger();
    let a = row_of(&l, 0, 5);
    let row = l.rows[a].clone();
    l.rows.insert(a + 1, row.clone());
    assert_eq!(found(&l), vec![(0, 5, ProblemKind::Duplicated)]);
    l.rows.push(row);
    assert_eq!(
        found(&l),
        vec![
            (0, 5, ProblemKind::Duplicated),
            (0, 5, ProblemKind::Duplicated)
        ]
    );
    // A copy far beyond the recent window cannot be told from a conflicting entry.
    let mut l = build(1, 1200, 600);
    let row = l.rows[3].clone();
    l.rows.push(row);
    assert_eq!(found(&l), vec![(0, 3, ProblemKind::Inserted)]);
}

#[test]
fn forged_checkpoint_signature() {
    let mut l = ledger();
    l.checkpoints[1].checkpoint.heads[0].root[0] ^= 1;
    let r = verify(&l);
    assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
    assert!(r.problems.iter().all(|p| matches!(
        &p.kind,
        ProblemKind::CheckpointInvalid { reason } if reason.contains("signature")
    )));
    assert_eq!(
        (
            r.problems[0].chain,
            r.problems[0].position,
            r.problems[0].index
        ),
        (0, 100, 1)
    );

    // Signed by another key.
    let mut l = ledger();
    let other = LedgerKey::from_bytes(&[8; 32]);
    let heads = l.checkpoints[0].checkpoint.heads.clone();
    l.checkpoints[0] = other.sign_checkpoint(TS0, heads).unwrap();
    let r = verify(&l);
    assert!(r.problems.iter().all(|p| matches!(
        &p.kind,
        ProblemKind::CheckpointInvalid { reason } if reason.contains("key id")
    )));
    // ... even when it claims the right key id.
    l.checkpoints[0].checkpoint.key_id = l.key.key_id().to_owned();
    let r = verify(&l);
    assert_eq!(r.problems.len(), 3);
    assert!(r.problems.iter().all(|p| matches!(
        &p.kind,
        ProblemKind::CheckpointInvalid { reason } if reason.contains("signature")
    )));
}

#[test]
fn checkpoint_root_not_matching() {
    let mut l = ledger();
    add_checkpoint(&mut l, 2, |heads| heads[1].root = [0x55; 32]);
    assert_eq!(
        found(&l),
        vec![(1, 150, ProblemKind::CheckpointRootMismatch)]
    );
    let mut l = ledger();
    add_checkpoint(&mut l, 2, |heads| heads[2].head_hash = [0x55; 32]);
    assert_eq!(
        found(&l),
        vec![(2, 150, ProblemKind::CheckpointRootMismatch)]
    );
}

#[test]
fn checkpoint_beyond_chain() {
    let mut l = ledger();
    add_checkpoint(&mut l, 3, |heads| {
        heads[0].size = 205;
        heads.push(ChainCheckpoint {
            chain: 9,
            size: 1,
            root: [1; 32],
            head_hash: [2; 32],
        });
    });
    assert_eq!(
        found(&l),
        vec![
            (
                0,
                205,
                ProblemKind::CheckpointBeyondChain { chain_size: 200 }
            ),
            (9, 1, ProblemKind::CheckpointBeyondChain { chain_size: 0 })
        ]
    );
}

#[test]
fn checkpoints_given_late_are_counted_not_failed() {
    let l = ledger();
    let mut v = Verifier::new();
    for (e, p) in &l.rows[..300] {
        v.push(e, p.as_deref());
    }
    for cp in &l.checkpoints {
        v.check_checkpoint(cp, &l.key.public_key());
    }
    for (e, p) in &l.rows[300..] {
        v.push(e, p.as_deref());
    }
    let r = v.finish();
    assert!(r.is_ok(), "{:?}", r.problems);
    // The heads at size 50 had been passed; those at 100 were not yet reached.
    assert_eq!(r.unchecked_checkpoint_heads, 3);
}

#[test]
fn redaction() {
    let mut l = build(2, 50, 25);
    let i = row_of(&l, 1, 7);
    let target = l.rows[i].0.clone();
    l.rows[i].1 = None;
    let r = verify(&l);
    assert_eq!(kinds(&r), vec![(1, 7, ProblemKind::RedactedWithoutRecord)]);
    assert_eq!(r.redacted, 1);

    // With its record (on any chain, later), the ledger is clean.
    let mut with_record = l.clone();
    let last = with_record.rows.last().unwrap().0.clone();
    let mut head = ChainHead::after(&last);
    let payload = redaction_payload(1, 7, &target.payload_hash, "erasure request 42").unwrap();
    assert_eq!(
        RedactionRecord::parse(&payload).unwrap(),
        RedactionRecord {
            chain: 1,
            seq: 7,
            payload_hash: target.payload_hash,
            reason: "erasure request 42".into()
        }
    );
    let e = head.append(TS0 + 999, REDACTION_KIND, &payload);
    with_record.rows.push((e, Some(payload)));
    assert!(verify(&with_record).is_ok());

    // A record naming another payload does not count.
    let mut wrong = l.clone();
    let mut head = ChainHead::after(&last);
    let payload = redaction_payload(1, 7, &[0; 32], "erasure").unwrap();
    let e = head.append(TS0 + 999, REDACTION_KIND, &payload);
    wrong.rows.push((e, Some(payload)));
    assert_eq!(
        kinds(&verify(&wrong))[0],
        (1, 7, ProblemKind::RedactedWithoutRecord)
    );

    // An unreadable record is a problem of its own.
    let mut bad = build(1, 3, 3);
    let mut head = ChainHead::after(&bad.rows.last().unwrap().0);
    let e = head.append(TS0, REDACTION_KIND, b"{\"chain\":1}");
    bad.rows.push((e, Some(b"{\"chain\":1}".to_vec())));
    assert!(matches!(
        verify(&bad).problems[..],
        [Problem {
            kind: ProblemKind::MalformedRedaction { .. },
            ..
        }]
    ));
}

/// A small deterministic generator, so the randomised test is reproducible.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn random_tampering_is_always_detected() {
    let base = build(3, 120, 40);
    let mut rng = Lcg(42);
    for round in 0..600 {
        let mut l = base.clone();
        let n = l.rows.len();
        let i = rng.next(n);
        let what = rng.next(8);
        match what {
            0 => {
                let p = l.rows[i].1.as_mut().unwrap();
                let at = rng.next(p.len());
                p[at] ^= 1 << rng.next(8);
            }
            1 => l.rows[i].0.ts_ms += 1 + rng.next(1000) as i64,
            2 => {
                l.rows.remove(i);
            }
            3 => {
                let row = l.rows[i].clone();
                let at = rng.next(n + 1);
                l.rows.insert(at, row);
            }
            4 => {
                // Swap with another entry of the same chain.
                let chain = l.rows[i].0.chain;
                let j = loop {
                    let j = rng.next(n);
                    if j != i && l.rows[j].0.chain == chain {
                        break j;
                    }
                };
                l.rows.swap(i, j);
            }
            5 => {
                let e = &mut l.rows[i].0;
                e.prev_hash[rng.next(32)] ^= 1;
            }
            6 => {
                // Rewrite one entry consistently (new payload, recomputed hashes).
                let (e, p) = &mut l.rows[i];
                let payload = record(e.chain, 10_000 + rng.next(1000) as u64);
                e.payload_hash = payload_hash(&payload);
                e.hash = e.compute_hash();
                *p = Some(payload);
            }
            _ => {
                l.rows[i].1 = None;
            }
        }
        let r = verify(&l);
        assert!(
            !r.is_ok(),
            "round {round}: tampering {what} at row {i} not detected"
        );
    }
}
