//! Verifier throughput over 1,000,000 entries with realistic ~300-byte consent payloads.
//!
//! `cargo bench -p assent-ledger --bench verify` (release profile). Set
//! `ASSENT_BENCH_ENTRIES` to change the size.

use assent_ledger::{ChainWriter, Entry, LedgerKey, SignedCheckpoint, Verifier, canonical_json};
use std::error::Error;
use std::time::{Duration, Instant};

const CHAINS: u32 = 4;
const CHECKPOINT_EVERY: u64 = 10_000;

struct Ledger {
    entries: Vec<Entry>,
    payloads: Vec<u8>,
    offsets: Vec<usize>,
    checkpoints: Vec<SignedCheckpoint>,
    key: LedgerKey,
}

fn payload(chain: u32, i: u64) -> Result<Vec<u8>, Box<dyn Error>> {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(chain);
    let action = ["accept_all", "reject_all", "custom", "withdraw"][(x % 4) as usize];
    let record = serde_json::json!({
        "action": action,
        "choices": {"ads": x & 1 == 0, "analytics": x & 2 == 0, "functional": true},
        "collectionMethod": "banner",
        "consentReceiptID": format!("{:016x}-{:08x}", x, i),
        "consentTimestamp": 1_700_000_000_000_i64 + i as i64 * 37,
        "language": "fr",
        "piiPrincipalId": format!("{:032x}", u128::from(x) * 0x1_0000_0001),
        "policyVersion": 12,
        "site": "callkom",
        "textsFingerprint": format!("{:016x}", x.rotate_left(17)),
    });
    Ok(canonical_json(&record)?)
}

fn build(n: u64) -> Result<(Ledger, Duration), Box<dyn Error>> {
    let key = LedgerKey::from_bytes(&[42; 32]);
    let mut writers: Vec<ChainWriter> = (0..CHAINS).map(ChainWriter::new).collect();
    let mut ledger = Ledger {
        entries: Vec::with_capacity(n as usize),
        payloads: Vec::with_capacity(n as usize * 320),
        offsets: Vec::with_capacity(n as usize + 1),
        checkpoints: Vec::new(),
        key,
    };
    ledger.offsets.push(0);
    let mut append_time = Duration::ZERO;
    let per_chain = n / u64::from(CHAINS);
    for i in 0..per_chain {
        for w in &mut writers {
            let p = payload(w.head().chain, i)?;
            let t = Instant::now();
            let e = w.append(1_700_000_000_000 + i as i64 * 37, "consent", &p);
            append_time += t.elapsed();
            ledger.entries.push(e);
            ledger.payloads.extend_from_slice(&p);
            ledger.offsets.push(ledger.payloads.len());
        }
        if (i + 1).rem_euclid(CHECKPOINT_EVERY) == 0 || i + 1 == per_chain {
            let heads = writers.iter().map(ChainWriter::checkpoint_head).collect();
            let cp = ledger.key.sign_checkpoint(i as i64, heads)?;
            ledger.checkpoints.push(cp);
        }
    }
    Ok((ledger, append_time))
}

fn run(l: &Ledger) -> Result<Duration, Box<dyn Error>> {
    let t = Instant::now();
    let mut v = Verifier::new();
    let public = l.key.public_key();
    for cp in &l.checkpoints {
        v.check_checkpoint(cp, &public);
    }
    for (i, e) in l.entries.iter().enumerate() {
        let p = l.payloads.get(l.offsets[i]..l.offsets[i + 1]);
        v.push(e, p);
    }
    let report = v.finish();
    let elapsed = t.elapsed();
    if !report.is_ok() || report.entries != l.entries.len() as u64 {
        return Err(format!(
            "unexpected report: {:?}",
            &report.problems[..report.problems.len().min(5)]
        )
        .into());
    }
    Ok(elapsed)
}

/// The floor: SHA-256 of the payloads alone, no header, no Merkle tree.
fn payload_hashing_only(l: &Ledger) -> Duration {
    let t = Instant::now();
    let mut acc = 0u8;
    for i in 0..l.entries.len() {
        if let Some(p) = l.payloads.get(l.offsets[i]..l.offsets[i + 1]) {
            acc ^= assent_ledger::payload_hash(p)[0];
        }
    }
    std::hint::black_box(acc);
    t.elapsed()
}

fn main() -> Result<(), Box<dyn Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it once, small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = match std::env::var("ASSENT_BENCH_ENTRIES") {
        Ok(s) => s.parse()?,
        Err(_) if quick => 10_000,
        Err(_) => 1_000_000,
    };
    let (ledger, append_time) = build(n)?;
    let count = ledger.entries.len() as f64;
    let avg = ledger.payloads.len() as f64 / count;
    println!(
        "ledger: {} entries on {CHAINS} chains, {} checkpoints, payload {avg:.0} bytes on average",
        ledger.entries.len(),
        ledger.checkpoints.len()
    );
    println!(
        "append (ChainWriter, hash chain + Merkle): {:.0} entries/s",
        count / append_time.as_secs_f64()
    );
    let runs = if quick { 1 } else { 5 };
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(run(&ledger)?);
    }
    times.sort();
    let floor = (0..runs)
        .map(|_| payload_hashing_only(&ledger))
        .min()
        .unwrap_or_default();
    println!(
        "reference: payload SHA-256 alone {:.0} entries/s",
        count / floor.as_secs_f64()
    );
    let best = times[0];
    let median = times[times.len() / 2];
    println!(
        "verify: best {:.3} s = {:.0} entries/s; median {:.3} s = {:.0} entries/s ({runs} runs)",
        best.as_secs_f64(),
        count / best.as_secs_f64(),
        median.as_secs_f64(),
        count / median.as_secs_f64()
    );
    Ok(())
}
