//! Entries, their hashes and the writer-side head of a chain.

use crate::hexser::{Hash, hex32};
use sha2::{Digest as _, Sha256};

/// Domain-separation prefix of [`payload_hash`].
pub const TAG_PAYLOAD: &[u8] = b"assent.ledger.v1.payload\0";
/// Domain-separation prefix of [`entry_hash`].
pub const TAG_ENTRY: &[u8] = b"assent.ledger.v1.entry\0";
/// The bytes whose SHA-256 is [`GENESIS`].
pub const TAG_GENESIS: &[u8] = b"assent.ledger.v1.genesis\0";

/// `prev_hash` of seq 0 of every chain: `SHA-256("assent.ledger.v1.genesis\0")`, i.e.
/// `7bff88eedb01c585911a614f832468e76b75bb4ac3f9b1d498581209480c5470`. It is the same for
/// every chain because the chain number is itself part of each entry hash.
pub const GENESIS: Hash = [
    0x7b, 0xff, 0x88, 0xee, 0xdb, 0x01, 0xc5, 0x85, 0x91, 0x1a, 0x61, 0x4f, 0x83, 0x24, 0x68, 0xe7,
    0x6b, 0x75, 0xbb, 0x4a, 0xc3, 0xf9, 0xb1, 0xd4, 0x98, 0x58, 0x12, 0x09, 0x48, 0x0c, 0x54, 0x70,
];

/// One ledger entry's header. The entry commits to its payload only through
/// payload_hash, so a payload can be redacted (deleted) while the chain still verifies.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The chain (shard/writer) the entry belongs to.
    pub chain: u32,
    /// Position in the chain, from 0, without gaps.
    pub seq: u64,
    /// Server time of the append, epoch milliseconds (UTC).
    pub ts_ms: i64,
    /// What the payload is, e.g. `consent`, `dsr.opened`, `ledger.redaction`.
    pub kind: String,
    /// [`payload_hash`] of the payload bytes.
    #[serde(with = "hex32")]
    pub payload_hash: Hash,
    /// `hash` of the entry `seq - 1` of the same chain, or [`GENESIS`] for seq 0.
    #[serde(with = "hex32")]
    pub prev_hash: Hash,
    /// [`entry_hash`] of the fields above.
    #[serde(with = "hex32")]
    pub hash: Hash,
}

impl Entry {
    /// Recomputes the hash from the header fields (ignores the stored `hash`).
    pub fn compute_hash(&self) -> Hash {
        entry_hash(
            self.chain,
            self.seq,
            self.ts_ms,
            &self.kind,
            &self.payload_hash,
            &self.prev_hash,
        )
    }

    /// True if the stored `hash` matches the header.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }
}

/// `SHA-256("assent.ledger.v1.payload\0" || payload)`.
pub fn payload_hash(payload: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(TAG_PAYLOAD);
    h.update(payload);
    h.finalize().into()
}

/// `SHA-256("assent.ledger.v1.entry\0" || u32be(chain) || u64be(seq) || i64be(ts_ms)
/// || u64be(len(kind)) || kind || payload_hash || prev_hash)`: fixed-width big-endian
/// integers, the only variable-length field length-prefixed, so that no two headers
/// share an encoding.
pub fn entry_hash(
    chain: u32,
    seq: u64,
    ts_ms: i64,
    kind: &str,
    payload_hash: &Hash,
    prev_hash: &Hash,
) -> Hash {
    // Fixed part assembled on the stack: one `update` call for it keeps this fast.
    let mut fixed = [0u8; 23 + 4 + 8 + 8 + 8];
    let (tag, rest) = fixed.split_at_mut(TAG_ENTRY.len());
    tag.copy_from_slice(TAG_ENTRY);
    rest[0..4].copy_from_slice(&chain.to_be_bytes());
    rest[4..12].copy_from_slice(&seq.to_be_bytes());
    rest[12..20].copy_from_slice(&ts_ms.to_be_bytes());
    rest[20..28].copy_from_slice(&(kind.len() as u64).to_be_bytes());
    let mut h = Sha256::new();
    h.update(fixed);
    h.update(kind.as_bytes());
    h.update(payload_hash);
    h.update(prev_hash);
    h.finalize().into()
}

/// The writer-side state of one chain: appends compute seq and hashes.
///
/// One chain has one writer at a time; several writers use several chains, and a
/// checkpoint signs all their heads together.
#[derive(Clone, Debug)]
pub struct ChainHead {
    /// The chain number.
    pub chain: u32,
    /// The seq the next append gets (= number of entries so far).
    pub next_seq: u64,
    /// `hash` of the last entry, or [`GENESIS`] for an empty chain.
    pub last_hash: Hash,
}

impl ChainHead {
    /// An empty chain.
    pub fn new(chain: u32) -> Self {
        ChainHead {
            chain,
            next_seq: 0,
            last_hash: GENESIS,
        }
    }

    /// The head after `last`, the chain's last stored entry (e.g. after a restart).
    pub fn after(last: &Entry) -> Self {
        ChainHead {
            chain: last.chain,
            next_seq: last.seq + 1,
            last_hash: last.hash,
        }
    }

    /// Appends `payload` (already in its final, canonical bytes) and returns the entry.
    pub fn append(&mut self, ts_ms: i64, kind: &str, payload: &[u8]) -> Entry {
        self.append_hashed(ts_ms, kind, payload_hash(payload))
    }

    /// Appends a payload known only by its [`payload_hash`].
    pub fn append_hashed(&mut self, ts_ms: i64, kind: &str, payload_hash: Hash) -> Entry {
        let seq = self.next_seq;
        let hash = entry_hash(self.chain, seq, ts_ms, kind, &payload_hash, &self.last_hash);
        let entry = Entry {
            chain: self.chain,
            seq,
            ts_ms,
            kind: kind.to_owned(),
            payload_hash,
            prev_hash: self.last_hash,
            hash,
        };
        self.next_seq = seq + 1;
        self.last_hash = hash;
        entry
    }
}
