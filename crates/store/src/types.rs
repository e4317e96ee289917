//! Row types shared by both backends. Timestamps are epoch milliseconds everywhere.

use serde::{Deserialize, Serialize};

/// What `apply` hands to `Store::insert_policy_version`; the store assigns the
/// version number and the consent floor atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPolicyVersion {
    pub site: String,
    /// Hex sha256 of the canonical registry.
    pub content_hash: String,
    /// A material change: consents given under earlier versions stop counting.
    pub requires_fresh_consent: bool,
    pub changes_json: String,
    pub registry_json: String,
    pub source_toml: String,
}

impl NewPolicyVersion {
    /// The row this version is stored as once the writer has numbered it, given its floor
    /// and time: the one place the fields are copied over.
    pub fn to_row(&self, version: i64, consent_floor: i64, created_at_ms: i64) -> PolicyVersionRow {
        PolicyVersionRow {
            site: self.site.clone(),
            version,
            content_hash: self.content_hash.clone(),
            requires_fresh_consent: self.requires_fresh_consent,
            changes_json: self.changes_json.clone(),
            registry_json: self.registry_json.clone(),
            source_toml: self.source_toml.clone(),
            created_at_ms,
            consent_floor,
        }
    }
}

/// A stored, immutable policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionRow {
    pub site: String,
    /// 1, 2, 3, ... per site.
    pub version: i64,
    pub content_hash: String,
    pub requires_fresh_consent: bool,
    pub changes_json: String,
    pub registry_json: String,
    pub source_toml: String,
    pub created_at_ms: i64,
    /// Lowest version whose consents remain valid: this version if it requires fresh
    /// consent, otherwise the previous version's floor (1 for the first version).
    pub consent_floor: i64,
}

/// An admin API token. Only the sha256 of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub hash: [u8; 32],
    pub role: String,
    pub label: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// What a consent is searched by: the only consent data stored outside its ledger entry
/// (schema 4). Everything else about the decision is read from the entry's payload, the
/// consent record, which is the one authoritative copy (see [`ConsentRow::from_record`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentKey {
    /// Receipts made by Assent start with their creation time (12 hex digits of epoch
    /// milliseconds, see [`receipt_time`]); the SQLite backend finds those through its time
    /// index and any other id through a small side table.
    pub receipt_id: String,
    pub site: String,
    pub subject: String,
    pub created_at_ms: i64,
    /// What the consent adds to the dashboard's counters, in the same transaction (not
    /// stored in the row; `None` when read back).
    #[serde(skip)]
    pub tally: Option<crate::tally::Tally>,
}

/// A consent decision as the store's queries return it: its [`ConsentKey`] fields plus the
/// decision read from the consent record in the ledger entry's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRow {
    pub receipt_id: String,
    pub site: String,
    pub subject: String,
    pub policy_version: i64,
    pub action: String,
    pub method: String,
    pub channel: String,
    pub language: String,
    /// The record's `purposes` as compact JSON with sorted keys.
    pub choices_json: String,
    pub fingerprint: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// The fields of a consent record (`assent-consent/1` and `/2`, docs/ledger.md) that a
/// [`ConsentRow`] carries besides its key.
#[derive(Deserialize)]
struct RecordFields {
    #[serde(rename = "policyVersion")]
    policy_version: i64,
    action: String,
    method: String,
    #[serde(rename = "collectionMethod")]
    channel: String,
    language: String,
    purposes: std::collections::BTreeMap<String, bool>,
    #[serde(rename = "textFingerprint")]
    fingerprint: String,
    #[serde(rename = "expiresAt")]
    expires_at_ms: i64,
}

impl ConsentRow {
    /// A query's answer from a consent row's key, its entry and the entry's payload (`None`
    /// when erased, which a consent row never is: its redaction deletes it).
    pub(crate) fn with_entry(
        key: ConsentKey,
        payload: Option<&[u8]>,
        entry: assent_ledger::Entry,
    ) -> Result<(Self, assent_ledger::Entry), crate::error::StoreError> {
        let at = format!("{}/{}", entry.chain, entry.seq);
        let payload = payload.ok_or_else(|| {
            crate::error::StoreError::Corrupt(format!(
                "ledger entry {at} is indexed as consent {} but its payload is erased",
                key.receipt_id
            ))
        })?;
        Ok((Self::from_record(key, payload, &at)?, entry))
    }

    /// Builds a row from its key and the consent record its ledger entry holds. A payload
    /// that is not a consent record is reported as corruption of the entry `at`.
    pub fn from_record(
        key: ConsentKey,
        payload: &[u8],
        at: &str,
    ) -> Result<Self, crate::error::StoreError> {
        let r: RecordFields = serde_json::from_slice(payload).map_err(|e| {
            crate::error::StoreError::Corrupt(format!(
                "ledger entry {at} is indexed as consent {} but its payload is not a consent \
                 record: {e}",
                key.receipt_id
            ))
        })?;
        let choices_json = serde_json::to_string(&r.purposes)
            .map_err(|e| crate::error::StoreError::Internal(e.to_string()))?;
        Ok(ConsentRow {
            receipt_id: key.receipt_id,
            site: key.site,
            subject: key.subject,
            policy_version: r.policy_version,
            action: r.action,
            method: r.method,
            channel: r.channel,
            language: r.language,
            choices_json,
            fingerprint: r.fingerprint,
            created_at_ms: key.created_at_ms,
            expires_at_ms: r.expires_at_ms,
        })
    }
}

/// The creation time a receipt id starts with, for ids of Assent's form: 32 lowercase hex
/// digits, the first 12 the epoch milliseconds. `None` for any other id.
pub fn receipt_time(id: &str) -> Option<i64> {
    let b = id.as_bytes();
    if b.len() != 32 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(id.get(..12)?, 16)
        .ok()
        .and_then(|t| i64::try_from(t).ok())
}

/// One ledger append; with `consent`, the consent's key row is written in the same
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendItem {
    pub ts_ms: i64,
    pub kind: String,
    /// Canonical JSON bytes; the entry commits to their sha256. For a consent, its record.
    pub payload: Vec<u8>,
    pub consent: Option<ConsentKey>,
}

/// How to open a store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Create the SQLite file / data directory / PostgreSQL schema if missing. With `false`
    /// a missing one is an error, so a mistyped path never yields an empty database.
    pub create: bool,
    /// PostgreSQL only: the schema to use (`search_path`). Overrides a `?schema=` URL
    /// parameter. Ignored for SQLite.
    pub schema: Option<String>,
}

impl OpenOptions {
    /// Open or create.
    pub fn create() -> Self {
        OpenOptions {
            create: true,
            schema: None,
        }
    }

    /// Open an existing database only.
    pub fn existing() -> Self {
        OpenOptions {
            create: false,
            schema: None,
        }
    }

    /// Select a PostgreSQL schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_time_reads_assent_ids_only() {
        let t = 1_764_000_000_123_i64;
        assert_eq!(
            receipt_time(&format!("{t:012x}{}", "0a".repeat(10))),
            Some(t)
        );
        assert_eq!(receipt_time(&"f".repeat(32)), Some(0xffff_ffff_ffff));
        // Wrong length, upper case, non-hex: not Assent's form.
        assert_eq!(receipt_time(&"0".repeat(31)), None);
        assert_eq!(receipt_time(&"A".repeat(32)), None);
        assert_eq!(receipt_time("r-legacy"), None);
        assert_eq!(receipt_time(&format!("{}g", "0".repeat(31))), None);
        assert_eq!(receipt_time(&"é".repeat(16)), None);
    }

    #[test]
    fn rows_are_read_from_records_of_both_formats() {
        let key = ConsentKey {
            receipt_id: "r".into(),
            site: "s".into(),
            subject: "u".into(),
            created_at_ms: 5,
            tally: None,
        };
        // Format 1 carried more members (controllers, services): they are ignored.
        let v1 = br#"{"action":"custom","collectionMethod":"banner","expiresAt":9,"language":"fr","method":"explicit","piiControllers":[],"policyVersion":2,"purposes":{"b":false,"a":true},"textFingerprint":"f","version":"assent-consent/1"}"#;
        let row = ConsentRow::from_record(key.clone(), v1, "0/1").unwrap();
        assert_eq!(row.choices_json, r#"{"a":true,"b":false}"#);
        assert_eq!((row.policy_version, row.expires_at_ms), (2, 9));
        assert_eq!((row.channel.as_str(), row.created_at_ms), ("banner", 5));
        let err = ConsentRow::from_record(key, br#"{"n":1}"#, "0/7").unwrap_err();
        assert!(matches!(err, crate::error::StoreError::Corrupt(_)));
        assert!(err.to_string().contains("0/7"), "{err}");
    }
}
