//! Canonical JSON and receipt verification on arbitrary input: never panic;
//! canonicalization is idempotent and preserves the value; a receipt that
//! verifies still verifies after a round trip through its JSON form. The witness's
//! inputs too (checkpoint notes, pinned checkpoints, consistency proofs, witness logs):
//! never panic, and what a note that verifies says survives re-signing.
#![no_main]

use assent_ledger::{
    LedgerKey, Receipt, WitnessChain, canonical_json, canonicalize_str, parse_json_strict,
    parse_pinned, parse_proof_text, split_notes, verify_note, verify_receipt,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(canon) = canonicalize_str(text) {
        let canon_text = std::str::from_utf8(&canon).expect("canonical JSON is UTF-8");
        // Same value, and a fixed point.
        let original = parse_json_strict(text).expect("parsed once already");
        let reparsed = parse_json_strict(canon_text).expect("canonical JSON parses");
        assert_eq!(original, reparsed);
        assert_eq!(canonical_json(&reparsed).expect("still canonical"), canon);
        // No insignificant whitespace outside strings.
        let mut in_string = false;
        let mut escaped = false;
        for &b in &canon {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else {
                assert!(!b" \t\n\r".contains(&b));
                in_string = b == b'"';
            }
        }
    }

    if let Ok(receipt) = Receipt::from_json(text) {
        let key = LedgerKey::from_bytes(&[1; 32]).public_key_info();
        if let Ok(status) = verify_receipt(&receipt, &key) {
            let again = Receipt::from_json(&receipt.to_json().expect("serializable"))
                .expect("round trip");
            assert_eq!(verify_receipt(&again, &key).ok(), Some(status));
        }
    }

    let signer = LedgerKey::from_bytes(&[1; 32]);
    let key = signer.public_key();
    for note in split_notes(text) {
        if let Ok(cp) = verify_note(note, &key) {
            assert_eq!(verify_note(&cp.sign(&signer), &key).ok(), Some(cp));
        }
    }
    let _ = parse_pinned(text, &key);
    let _ = parse_proof_text(text);
    let _ = WitnessChain::parse(0, text);
});
