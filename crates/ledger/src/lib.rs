//! Assent's tamper-evident ledger: canonical encoding, hash chains, Merkle
//! checkpoints signed with Ed25519, inclusion and consistency proofs, receipts (with their
//! context bound to the signed record), verification (against the ledger's own
//! checkpoints, pinned ones and a freshness rule), redaction, and for witnesses the
//! checkpoints as C2SP signed notes and the rules by which a witness accepts a new head.
//! A pure library: it knows nothing of where the bytes are stored.
//!
//! # Format (version 1)
//!
//! All hashes are SHA-256; their text form is 64 lowercase hex digits. Integers are
//! big-endian and fixed-width (`u32be`, `u64be`, `i64be` two's complement); `||` is
//! concatenation. Every hash input starts with a NUL-terminated ASCII tag, so a hash of
//! one kind can never be mistaken for another.
//!
//! **Payload.** Every payload is JSON in canonical form ([`canonical_json`]: RFC 8785
//! JCS restricted to integers in ±(2^53−1): members sorted, no whitespace, minimal
//! string escapes) and
//! `payload_hash = SHA-256("assent.ledger.v1.payload\0" || payload)`.
//!
//! **Entry.** A header `(chain: u32, seq: u64, ts_ms: i64, kind: string, payload_hash,
//! prev_hash)` and its hash
//! `hash = SHA-256("assent.ledger.v1.entry\0" || u32be(chain) || u64be(seq) ||
//! i64be(ts_ms) || u64be(len(kind)) || kind || payload_hash || prev_hash)`.
//! The entry commits to the payload only through `payload_hash`, so a payload can be
//! erased (redacted) while the chain still verifies.
//!
//! **Chain.** Entries of one chain have seqs `0, 1, 2, ...` without gaps; `prev_hash` is
//! the hash of entry `seq - 1`, and for seq 0 it is [`GENESIS`] =
//! `SHA-256("assent.ledger.v1.genesis\0")` (the same for every chain, since the chain
//! number is hashed into each entry). Several writers use several chains.
//!
//! **Merkle tree.** Per chain, over the entry hashes in seq order, as in RFC 9162
//! section 2.1: `leaf = SHA-256(0x00 || entry.hash)`, `node = SHA-256(0x01 || left ||
//! right)`, a tree of n > 1 leaves splits at the largest power of two below n, the empty
//! tree's root is `SHA-256("")`. Inclusion and consistency proofs are RFC 9162's.
//!
//! **Checkpoint.** `(ts_ms, heads, key_id)`, where each head is `(chain, size, root,
//! head_hash)`: the Merkle root of seqs `0..size` and the hash of entry `size - 1`
//! (GENESIS for an empty chain), heads sorted by chain. It is signed with Ed25519
//! (RFC 8032, strict verification) over
//! `"assent.ledger.v1.checkpoint\0" || i64be(ts_ms) || u64be(len(key_id)) || key_id ||
//! u64be(number of heads) || for each head: u32be(chain) || u64be(size) || root ||
//! head_hash`. `key_id` is the first 16 hex digits of SHA-256 of the 32-byte public
//! key, which is published as `{"alg":"Ed25519","key_id":...,"public_key":<unpadded
//! base64url>}`; signatures are unpadded base64url in JSON.
//!
//! **Receipt.** `{"format":"assent-receipt/1","record":{...},"entry":{...},
//! "anchor":{"checkpoint":{...},"inclusion_proof":[...]}}`: the record whose canonical
//! form is the entry's payload, the entry header, and once a checkpoint covers the entry
//! that signed checkpoint with the proof from `entry.hash` to its root for the chain.
//!
//! **Redaction.** Erasing the payload of `(chain, seq)` appends an entry of kind
//! `ledger.redaction` with payload `{"chain":..,"payload_hash":..,"reason":..,"seq":..}`;
//! a verifier accepts a missing payload only when such a record exists.
//!
//! **Signed note.** The same heads, one chain at a time, in the C2SP `tlog-checkpoint`
//! text form (`<host>/ledger/chain/<n>`, size, base64 root, blank line, `— <key name>
//! <base64(key id || signature)>`), signed with the same key over the note text: see
//! [`NoteCheckpoint`]. A witness ([`WitnessChain`]) accepts a new head only with an RFC 9162
//! consistency proof from the last one it saw.

mod canonical;
mod checkpoint;
mod entry;
mod error;
mod hexser;
mod merkle;
mod note;
mod receipt;
mod redaction;
mod verify;
mod witness;
mod writer;

pub use canonical::{
    MAX_JSON_DEPTH, MAX_SAFE_INTEGER, canonical_json, canonical_json_into, canonicalize_str,
    parse_json_strict, write_string as write_canonical_string,
};
pub use checkpoint::{
    ChainCheckpoint, Checkpoint, KEY_ALG, LedgerKey, PublicKeyInfo, SignedCheckpoint,
    TAG_CHECKPOINT, key_id,
};
pub use entry::{
    ChainHead, Entry, GENESIS, TAG_ENTRY, TAG_GENESIS, TAG_PAYLOAD, entry_hash, payload_hash,
};
pub use error::LedgerError;
pub use hexser::{Hash, b64sig, b64url, hex32, hex32_vec, parse_b64url, parse_hash, to_hex};
pub use merkle::{
    EMPTY_ROOT, MerkleAccumulator, consistency_proof, inclusion_proof, leaf_hash, merkle_root,
    node_hash, subtree_consistency_proof, subtree_inclusion_proof, subtree_root,
    verify_consistency, verify_inclusion,
};
pub use note::{
    MAX_NOTE_LEN, NoteCheckpoint, note_key_id, note_origin, parse_proof_text, proof_text,
    split_notes, verify_note,
};
pub use receipt::{
    Anchor, RECEIPT_FORMAT, RECORD_FORMAT_BY_HASH, Receipt, ReceiptStatus, UNBOUND_CONTEXT,
    check_context, verify_receipt,
};
pub use redaction::{REDACTION_KIND, RedactionRecord, redaction_payload};
pub use verify::{ChainSummary, Problem, ProblemKind, REORDER_WINDOW, Report, Verifier};
pub use witness::{PinnedHead, WitnessChain, WitnessCheck, parse_pinned};
pub use writer::ChainWriter;

/// The Ed25519 types used in this API, re-exported so that users need no direct
/// dependency on `ed25519-dalek`.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
