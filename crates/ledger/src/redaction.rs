//! Redaction: erasing a payload while keeping the proof that the entry existed.
//!
//! To redact entry `(chain, seq)`, the store deletes its payload bytes (keeping the
//! header, hence `payload_hash`) and appends an entry of kind [`REDACTION_KIND`] whose
//! payload is [`redaction_payload`]. The chain still verifies; the verifier flags any
//! payload that is missing without such a record.

use crate::hexser::hex32;
use crate::{Hash, LedgerError, canonical_json, parse_json_strict};

/// `kind` of the entry that records a redaction.
pub const REDACTION_KIND: &str = "ledger.redaction";

/// The payload of a [`REDACTION_KIND`] entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedactionRecord {
    /// Chain of the redacted entry.
    pub chain: u32,
    /// Seq of the redacted entry.
    pub seq: u64,
    /// Its `payload_hash`, so the record names exactly one payload.
    #[serde(with = "hex32")]
    pub payload_hash: Hash,
    /// Why (e.g. `"erasure request 2025-0042"`, `"retention: consent logs, 5 years"`).
    /// It is kept forever: never put personal data here.
    pub reason: String,
}

impl RedactionRecord {
    /// Canonical JSON payload: `{"chain":..,"payload_hash":"<hex>","reason":"..","seq":..}`.
    pub fn to_payload(&self) -> Result<Vec<u8>, LedgerError> {
        canonical_json(&serde_json::to_value(self)?)
    }

    /// Parses a redaction payload (duplicate member names rejected).
    pub fn parse(payload: &[u8]) -> Result<Self, LedgerError> {
        let text = std::str::from_utf8(payload).map_err(|e| LedgerError::Json(e.to_string()))?;
        Ok(serde_json::from_value(parse_json_strict(text)?)?)
    }
}

/// The payload for the entry recording the redaction of `(chain, seq)`. Fails only
/// for a seq above 2^53-1, which canonical JSON cannot carry.
pub fn redaction_payload(
    chain: u32,
    seq: u64,
    payload_hash: &Hash,
    reason: &str,
) -> Result<Vec<u8>, LedgerError> {
    RedactionRecord {
        chain,
        seq,
        payload_hash: *payload_hash,
        reason: reason.to_owned(),
    }
    .to_payload()
}
