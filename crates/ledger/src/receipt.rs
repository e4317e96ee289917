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
/// `policyHash`). It is not covered by the entry hash: [`check_context`] binds what the
/// record determines and refuses anything else; [`UNBOUND_CONTEXT`] names what only the
/// policy version (by its hash) vouches for.
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
/// 1. `payload_hash(canonical_json(record)) == entry.payload_hash`, and the context bound
///    to the record as far as it can be (see [`check_context`]);
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
    check_context(&receipt.record, receipt.context.as_ref())?;
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

/// Record format whose receipts always carry a context (the record points to its policy
/// version by hash instead of holding the services inline).
pub const RECORD_FORMAT_BY_HASH: &str = "assent-consent/2";

/// What a receipt's context shows that the signed record does not determine: it is the
/// policy version's (whose SHA-256 is the record's `policyHash`), and a verifier of the
/// receipt alone cannot vouch for it. Present it as such, never as part of the proof.
pub const UNBOUND_CONTEXT: &[&str] = &[
    "piiControllers",
    "services[].service",
    "services[].provider",
    "services[].purposes[].purpose (which purposes each service has)",
    "services[].purposes[].consentType",
    "the host of policyUrl",
];

const TERMINATION_PREFIX: &str = "Expires at ";
const TERMINATION_SUFFIX: &str =
    ", or earlier when withdrawn through the \"Manage my cookies\" link";

fn tampered(field: impl Into<String>, reason: impl Into<String>) -> LedgerError {
    LedgerError::ContextTampered {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Binds a receipt's `context` to its signed `record`: every member the record determines
/// must agree with it (`policyHash`; each purpose's `granted` flag with the record's
/// `purposes`; `termination` with `expiresAt`; the path of `policyUrl` with `site` and
/// `policyVersion`), and no member may appear that nothing binds or names (an invented
/// member is refused rather than shown). A record of format [`RECORD_FORMAT_BY_HASH`]
/// must have its context; a record that holds its services inline must not have one.
pub fn check_context(record: &Value, context: Option<&Value>) -> Result<(), LedgerError> {
    let by_hash = record.get("version").and_then(Value::as_str) == Some(RECORD_FORMAT_BY_HASH);
    let Some(ctx) = context else {
        return if by_hash {
            Err(LedgerError::ContextMissing)
        } else {
            Ok(())
        };
    };
    if ctx.get("policyHash") != record.get("policyHash") || record.get("policyHash").is_none() {
        return Err(LedgerError::ContextMismatch);
    }
    if record.get("services").is_some() {
        return Err(tampered("context", "the record holds its services itself"));
    }
    let obj = ctx
        .as_object()
        .ok_or_else(|| tampered("context", "not an object"))?;
    for (k, v) in obj {
        match k.as_str() {
            "policyHash" | "piiControllers" => {}
            "services" => check_services(record, v)?,
            "termination" => check_termination(record, v)?,
            "policyUrl" => check_policy_url(record, v)?,
            other => return Err(tampered(other, "not a member of a receipt's context")),
        }
    }
    Ok(())
}

fn check_services(record: &Value, services: &Value) -> Result<(), LedgerError> {
    let granted = record.get("purposes").and_then(Value::as_object);
    let list = services
        .as_array()
        .ok_or_else(|| tampered("services", "not an array"))?;
    for (i, s) in list.iter().enumerate() {
        let here = format!("services[{i}]");
        let s = s
            .as_object()
            .ok_or_else(|| tampered(here.clone(), "not an object"))?;
        for (k, v) in s {
            match k.as_str() {
                "service" | "provider" => {}
                "purposes" => {
                    let ps = v
                        .as_array()
                        .ok_or_else(|| tampered(format!("{here}.purposes"), "not an array"))?;
                    for (j, p) in ps.iter().enumerate() {
                        let at = format!("{here}.purposes[{j}]");
                        let p = p
                            .as_object()
                            .ok_or_else(|| tampered(at.clone(), "not an object"))?;
                        let id = p.get("purpose").and_then(Value::as_str);
                        for (pk, pv) in p {
                            match pk.as_str() {
                                "purpose" | "consentType" => {}
                                "granted" => {
                                    let want = id
                                        .and_then(|id| granted.and_then(|g| g.get(id)))
                                        .and_then(Value::as_bool)
                                        .unwrap_or(false);
                                    if pv.as_bool() != Some(want) {
                                        return Err(tampered(
                                            format!("{at}.granted"),
                                            format!("the signed record says {want}"),
                                        ));
                                    }
                                }
                                other => {
                                    return Err(tampered(
                                        format!("{at}.{other}"),
                                        "not a member of a receipt's context",
                                    ));
                                }
                            }
                        }
                    }
                }
                other => {
                    return Err(tampered(
                        format!("{here}.{other}"),
                        "not a member of a receipt's context",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_termination(record: &Value, v: &Value) -> Result<(), LedgerError> {
    let expires = record.get("expiresAt").and_then(Value::as_i64);
    let at = v
        .as_str()
        .and_then(|t| t.strip_prefix(TERMINATION_PREFIX))
        .and_then(|t| t.strip_suffix(TERMINATION_SUFFIX))
        .and_then(parse_rfc3339_ms);
    match (at, expires) {
        (Some(a), Some(e)) if a == e => Ok(()),
        _ => Err(tampered(
            "termination",
            "does not state the record's expiresAt in Assent's wording",
        )),
    }
}

fn check_policy_url(record: &Value, v: &Value) -> Result<(), LedgerError> {
    let site = record.get("site").and_then(Value::as_str);
    let version = record.get("policyVersion").and_then(Value::as_i64);
    let url = v.as_str();
    let ok = match (site, version, url) {
        (Some(site), Some(version), Some(url)) => {
            let path = format!("/sites/{site}/cookie-policy?version={version}");
            url.strip_suffix(&path).is_some_and(|base| {
                (base.starts_with("https://") || base.starts_with("http://"))
                    && !base.contains(['?', '#'])
            })
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(tampered(
            "policyUrl",
            "is not the cookie policy of the record's site and policy version",
        ))
    }
}

/// Epoch milliseconds of `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (the form Assent writes), or
/// `None` for anything else.
fn parse_rfc3339_ms(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = t.get(19..)?.strip_suffix('Z')?;
    let ms = match rest.strip_prefix('.') {
        None if rest.is_empty() => 0,
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()) => {
            let padded = format!("{f:0<9}");
            if padded.get(3..)?.bytes().any(|c| c != b'0') {
                return None; // finer than a millisecond: not a time Assent wrote
            }
            padded.get(..3)?.parse().ok()?
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339_ms;

    #[test]
    fn rfc3339_as_assent_writes_it() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2025-05-24T10:20:00.123Z"),
            Some(1_748_082_000_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2025-05-24T10:20:00.12Z"),
            Some(1_748_082_000_120)
        );
        assert_eq!(parse_rfc3339_ms("2025-05-24T10:20:00.1234Z"), None);
        assert_eq!(parse_rfc3339_ms("2025-05-24 10:20:00Z"), None);
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00Z"),
            Some(951_782_400_000)
        );
    }
}
