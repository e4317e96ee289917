//! Row types shared by both backends. Timestamps are epoch milliseconds everywhere.

use serde::{Deserialize, Serialize};

/// What `apply` hands to [`crate::Store::insert_policy_version`]; the store assigns the
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

/// The queryable copy of a consent decision. The authoritative record is the ledger entry
/// it points to; `(chain, seq)` come from that entry.
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
    pub choices_json: String,
    pub fingerprint: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// One ledger append; with `consent`, the consent row is written in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendItem {
    pub ts_ms: i64,
    pub kind: String,
    /// Canonical JSON bytes; the entry commits to their sha256.
    pub payload: Vec<u8>,
    pub consent: Option<ConsentRow>,
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
