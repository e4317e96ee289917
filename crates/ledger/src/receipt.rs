//! Consent receipts: a record, the entry that commits to it, and (once a checkpoint
//! covers the entry) the signed checkpoint with an inclusion proof.

use crate::hexser::hex32_vec;
use crate::{
    Entry, Hash, LedgerError, PublicKeyInfo, SignedCheckpoint, canonical_json, entry_hash,
    parse_json_strict, payload_hash, verify_inclusion,
};
use serde_json::Value;

/// Value of [`Receipt::format`] for this version.
pub const RECEIPT_FORMAT: &str = "assent-receipt/1";

/// What a visitor or auditor keeps as proof of one ledger record.
///
/// `record` is the consent record itself, a JSON object whose fields follow
/// ISO/IEC TS 27560 and Kantara Consent Receipt v1.1 (`version`, `jurisdiction`,
/// `consentTimestamp`, `collectionMethod`, `consentReceiptID`, `language`,
/// `piiPrincipalId`, `piiControllers`, `policyUrl`, `services` with `purposes`,
/// `termination`, ...). The ledger payload of the entry is exactly
/// `canonical_json(record)`.
///
/// `context`, when present, holds what the record points to rather than contains (the
/// controller, the services, the policy URL of the policy version the record commits to by
/// `policyHash`). It is not covered by the entry hash; [`verify_receipt`] only checks that
/// its `policyHash` is the record's.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// [`RECEIPT_FORMAT`].
    pub format: String,
    /// The record, as filled by the server.
    pub record: Value,
    /// The ledger entry whose payload is `canonical_json(record)`.
    pub entry: Entry,
    /// Present once a signed checkpoint covers the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    /// Details of the policy version the record points to (see above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// A signed checkpoint and the proof that the entry is in it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    /// A checkpoint whose head for the entry's chain has `size > entry.seq`.
    pub checkpoint: SignedCheckpoint,
    /// Inclusion proof of leaf `entry.seq` in that head's Merkle tree.
    #[serde(with = "hex32_vec")]
    pub inclusion_proof: Vec<Hash>,
}

/// Outcome of a successful [`verify_receipt`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ReceiptStatus {
    /// The record is in a checkpoint signed by the ledger key: the operator cannot
    /// later alter or remove it without that showing.
    Anchored {
        /// When the checkpoint was signed.
        checkpoint_ts_ms: i64,
        /// The chain's size in that checkpoint.
        tree_size: u64,
        /// The signing key.
        key_id: String,
    },
    /// Record and entry are consistent, but no signed checkpoint covers the entry
    /// yet: fetch the receipt again later to get one.
    PendingCheckpoint,
}

impl Receipt {
    /// A receipt without anchor.
    pub fn new(record: Value, entry: Entry) -> Self {
        Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            record,
            entry,
            anchor: None,
            context: None,
        }
    }

    /// Adds the checkpoint and inclusion proof.
    pub fn with_anchor(mut self, checkpoint: SignedCheckpoint, inclusion_proof: Vec<Hash>) -> Self {
        self.anchor = Some(Anchor {
            checkpoint,
            inclusion_proof,
        });
        self
    }

    /// Parses a receipt, rejecting duplicate member names anywhere in it.
    pub fn from_json(text: &str) -> Result<Self, LedgerError> {
        Ok(serde_json::from_value(parse_json_strict(text)?)?)
    }

    /// The JSON form (compact).
    pub fn to_json(&self) -> Result<String, LedgerError> {
        Ok(serde_json::to_string(self)?)
    }

    /// `canonical_json(record)`: the ledger payload of the entry.
    pub fn payload(&self) -> Result<Vec<u8>, LedgerError> {
        canonical_json(&self.record)
    }
}

/// Checks a receipt offline against the published key:
/// 1. `payload_hash(canonical_json(record)) == entry.payload_hash`;
/// 2. `entry_hash(header) == entry.hash`;
/// 3. if anchored: the checkpoint's key id and signature, its head for `entry.chain`
///    covering `entry.seq`, and the inclusion proof from `entry.hash` to that head's
///    root (and, when the entry is the head, `head_hash == entry.hash`).
pub fn verify_receipt(
    receipt: &Receipt,
    key: &PublicKeyInfo,
) -> Result<ReceiptStatus, LedgerError> {
    if receipt.format != RECEIPT_FORMAT {
        return Err(LedgerError::UnsupportedFormat(receipt.format.clone()));
    }
    let e = &receipt.entry;
    if payload_hash(&receipt.payload()?) != e.payload_hash {
        return Err(LedgerError::PayloadHashMismatch);
    }
    if let Some(ctx) = &receipt.context
        && ctx.get("policyHash") != receipt.record.get("policyHash")
    {
        return Err(LedgerError::ContextMismatch);
    }
    if entry_hash(
        e.chain,
        e.seq,
        e.ts_ms,
        &e.kind,
        &e.payload_hash,
        &e.prev_hash,
    ) != e.hash
    {
        return Err(LedgerError::EntryHashMismatch);
    }
    let Some(anchor) = &receipt.anchor else {
        return Ok(ReceiptStatus::PendingCheckpoint);
    };
    anchor.checkpoint.verify(key.key())?;
    let cp = &anchor.checkpoint.checkpoint;
    let head = cp
        .head(e.chain)
        .ok_or(LedgerError::ChainNotInCheckpoint(e.chain))?;
    if e.seq >= head.size {
        return Err(LedgerError::NotCovered {
            seq: e.seq,
            size: head.size,
        });
    }
    if !verify_inclusion(
        &e.hash,
        e.seq,
        head.size,
        &anchor.inclusion_proof,
        &head.root,
    ) {
        return Err(LedgerError::InclusionProofInvalid);
    }
    if e.seq + 1 == head.size && head.head_hash != e.hash {
        return Err(LedgerError::InclusionProofInvalid);
    }
    Ok(ReceiptStatus::Anchored {
        checkpoint_ts_ms: cp.ts_ms,
        tree_size: head.size,
        key_id: cp.key_id.clone(),
    })
}
