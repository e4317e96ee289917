//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong in `assent-ledger`.
///
/// Verification of a whole ledger does not use this type for tampering: the
/// [`crate::Verifier`] collects [`crate::Problem`]s instead, so that one bad
/// entry does not hide the next one. Receipt verification, which checks one
/// record, returns the first failure as an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Canonical JSON admits integers only (no floats, not even `1.0`).
    #[error("canonical JSON: non-integer number {0}")]
    NonIntegerNumber(String),
    /// Canonical JSON admits integers in the I-JSON safe range only
    /// (`-(2^53-1) ..= 2^53-1`), so that every JSON implementation reads them exactly.
    #[error("canonical JSON: integer {0} is outside the safe range +/-(2^53-1)")]
    IntegerOutOfRange(String),
    /// The value nests deeper than [`crate::MAX_JSON_DEPTH`].
    #[error("canonical JSON: nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A JSON document could not be parsed or has the wrong shape.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A hex or base64 text form could not be decoded.
    #[error("invalid encoding of {what}: {reason}")]
    Encoding {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A key file exists but does not hold exactly 32 bytes. It is never
    /// regenerated silently: a lost signing key must be noticed.
    #[error("key file {path} is corrupt: expected 32 bytes, found {len}")]
    CorruptKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// A public key document names an algorithm other than Ed25519.
    #[error("unsupported key algorithm {0:?} (expected \"Ed25519\")")]
    UnsupportedAlgorithm(String),
    /// Bytes that are not a valid Ed25519 public key.
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
    /// A key id does not match the public key it is used with.
    #[error("key id mismatch: expected {expected}, found {found}")]
    KeyIdMismatch {
        /// The id of the key used for verification.
        expected: String,
        /// The id named by the document.
        found: String,
    },
    /// A checkpoint is not well formed (duplicate or unsorted chains).
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// An Ed25519 signature does not verify.
    #[error("invalid checkpoint signature")]
    BadSignature,
    /// The hash of the canonical record differs from the entry's payload_hash.
    #[error("payload hash mismatch: the record is not the one the entry commits to")]
    PayloadHashMismatch,
    /// The receipt's context names another policy version than its record.
    #[error(
        "context mismatch: the receipt's context is not of the policy version the record commits to"
    )]
    ContextMismatch,
    /// The entry's header does not hash to its `hash`.
    #[error("entry hash mismatch: the entry header was altered")]
    EntryHashMismatch,
    /// The checkpoint of a receipt does not cover the entry's chain.
    #[error("checkpoint has no head for chain {0}")]
    ChainNotInCheckpoint(u32),
    /// The checkpoint of a receipt was made before the entry existed.
    #[error("entry seq {seq} is not covered by checkpoint size {size}")]
    NotCovered {
        /// The entry's seq.
        seq: u64,
        /// The checkpoint's size for that chain.
        size: u64,
    },
    /// The inclusion proof does not link the entry to the checkpoint root.
    #[error("inclusion proof does not lead to the checkpoint root")]
    InclusionProofInvalid,
    /// A Merkle tree operation got inconsistent arguments.
    #[error("merkle: {0}")]
    Merkle(String),
    /// A signed note (checkpoint in C2SP text form) cannot be read.
    #[error("malformed checkpoint note: {0}")]
    MalformedNote(String),
    /// A receipt's context says something its signed record contradicts, or holds a
    /// member that nothing binds: the field is named.
    #[error("context field {field} is not what the signed record says: {reason}")]
    ContextTampered {
        /// The context member at fault (a JSON path such as `services[1].purposes[0].granted`).
        field: String,
        /// Why.
        reason: String,
    },
    /// A receipt of a record that points to its policy version by hash lacks the context
    /// that Assent always issues with it.
    #[error("the receipt's context is missing (a receipt of this record format always has one)")]
    ContextMissing,
    /// Two signed tree heads of one chain that cannot both be true: same size and different
    /// roots, or a consistency proof that fails. The operator signed two histories.
    #[error(
        "fork on chain {chain}: the tree of {old_size} entries seen before is not a prefix of the tree of {new_size} entries ({reason})"
    )]
    Fork {
        /// The chain.
        chain: u32,
        /// Size of the head seen before.
        old_size: u64,
        /// Size of the head served now.
        new_size: u64,
        /// What did not match.
        reason: String,
    },
    /// A chain served smaller than it was seen before: entries were cut off.
    #[error("rollback on chain {chain}: {seen} entries were seen before, now {served}")]
    Rollback {
        /// The chain.
        chain: u32,
        /// The largest size seen before.
        seen: u64,
        /// The size served now.
        served: u64,
    },
    /// A receipt or record uses a format this version does not know.
    #[error("unsupported format {0:?}")]
    UnsupportedFormat(String),
}

impl LedgerError {
    pub(crate) fn encoding(what: &'static str, reason: impl ToString) -> Self {
        LedgerError::Encoding {
            what,
            reason: reason.to_string(),
        }
    }
}

impl From<serde_json::Error> for LedgerError {
    fn from(e: serde_json::Error) -> Self {
        LedgerError::Json(e.to_string())
    }
}
