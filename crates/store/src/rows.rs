//! Column lists and row mappers of the ledger, policy-version, token and consent tables,
//! written once for both backends (see `sql.rs`). A column list and its mapper stand next
//! to each other: the mapper reads the columns by position, in the list's order.

use assent_ledger::Entry;

use crate::error::StoreError;
use crate::sql::{Cols, chain_from_i64, seq_from_i64};
use crate::types::{ConsentKey, ConsentRow, PolicyVersionRow, TokenRow};

/// The columns of a ledger entry, read by [`entry_at`].
pub(crate) const ENTRY_COLS: &str = "chain, seq, ts_ms, kind, payload_hash, prev_hash, hash";
/// [`ENTRY_COLS`] of the table aliased `e`.
pub(crate) const ENTRY_COLS_E: &str =
    "e.chain, e.seq, e.ts_ms, e.kind, e.payload_hash, e.prev_hash, e.hash";

/// The ledger entry in columns `i..i + 7` ([`ENTRY_COLS`]).
pub(crate) fn entry_at(r: &dyn Cols, i: usize) -> Result<Entry, StoreError> {
    Ok(Entry {
        chain: chain_from_i64(r.i64_(i)?)?,
        seq: seq_from_i64(r.i64_(i + 1)?)?,
        ts_ms: r.i64_(i + 2)?,
        kind: r.str_(i + 3)?,
        payload_hash: r.hash(i + 4, "payload_hash")?,
        prev_hash: r.hash(i + 5, "prev_hash")?,
        hash: r.hash(i + 6, "hash")?,
    })
}

/// An entry ([`ENTRY_COLS`]) followed by its payload (`None` once redacted).
pub(crate) fn entry_with_payload(r: &dyn Cols) -> Result<(Entry, Option<Vec<u8>>), StoreError> {
    Ok((entry_at(r, 0)?, r.payload(7)?))
}

/// The columns of a policy version, read by [`policy_at`].
pub(crate) const POLICY_COLS: &str = "site, version, content_hash, requires_fresh_consent, \
     changes_json, registry_json, source_toml, created_at_ms, consent_floor";

pub(crate) fn policy_at(r: &dyn Cols) -> Result<PolicyVersionRow, StoreError> {
    Ok(PolicyVersionRow {
        site: r.str_(0)?,
        version: r.i64_(1)?,
        content_hash: r.str_(2)?,
        requires_fresh_consent: r.bool_(3)?,
        changes_json: r.str_(4)?,
        registry_json: r.str_(5)?,
        source_toml: r.str_(6)?,
        created_at_ms: r.i64_(7)?,
        consent_floor: r.i64_(8)?,
    })
}

/// The columns of an admin token, read by [`token_at`].
pub(crate) const TOKEN_COLS: &str = "id, hash, role, label, created_at_ms, revoked_at_ms";

pub(crate) fn token_at(r: &dyn Cols) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.str_(0)?,
        hash: r.hash(1, "token hash")?,
        role: r.str_(2)?,
        label: r.str_(3)?,
        created_at_ms: r.i64_(4)?,
        revoked_at_ms: r.oi64(5)?,
    })
}

/// The columns of a consent query: the key (table `c`), the payload, then the entry (table
/// `e`), read by [`consent_at`].
pub(crate) const CONSENT_COLS: &str = "c.receipt_id, c.site, c.subject, c.created_at_ms, \
     e.payload, e.chain, e.seq, e.ts_ms, e.kind, e.payload_hash, e.prev_hash, e.hash";

pub(crate) fn consent_at(r: &dyn Cols) -> Result<(ConsentRow, Entry), StoreError> {
    let entry = entry_at(r, 5)?;
    let key = ConsentKey {
        receipt_id: r.str_(0)?,
        site: r.str_(1)?,
        subject: r.str_(2)?,
        created_at_ms: r.i64_(3)?,
        tally: None,
    };
    ConsentRow::with_entry(key, r.obytes(4)?.as_deref(), entry)
}

/// A `(id, text)` row (checkpoints).
pub(crate) fn id_text_at(r: &dyn Cols) -> Result<(i64, String), StoreError> {
    Ok((r.i64_(0)?, r.str_(1)?))
}

/// A single integer column.
pub(crate) fn i64_at(r: &dyn Cols) -> Result<i64, StoreError> {
    r.i64_(0)
}

/// A single text column.
pub(crate) fn str_at(r: &dyn Cols) -> Result<String, StoreError> {
    r.str_(0)
}

/// A single hash column.
pub(crate) fn hash_at(r: &dyn Cols) -> Result<[u8; 32], StoreError> {
    r.hash(0, "hash")
}

/// Entries with their payloads, as a scan hands them over.
pub(crate) type ScanBatch = Vec<(Entry, Option<Vec<u8>>)>;

/// The consumer side of `for_each_entry` on both backends: calls `f` for every entry of
/// the batches a scanning thread or task sends, and returns how many there were.
pub(crate) async fn drain_scan<F>(
    brx: &mut tokio::sync::mpsc::Receiver<Result<ScanBatch, StoreError>>,
    f: &mut F,
) -> Result<u64, StoreError>
where
    F: FnMut(&Entry, Option<&[u8]>) + Send,
{
    let mut n = 0u64;
    while let Some(batch) = brx.recv().await {
        for (e, p) in batch? {
            f(&e, p.as_deref());
            n += 1;
        }
    }
    Ok(n)
}
