//! The ledger: appends and redactions (through the writer), entries, chain heads, hashes
//! and signed checkpoints, one SQL text each for both backends except the chain heads
//! (SQLite has one chain; PostgreSQL finds its chains by a skip-scan).

use assent_ledger::Entry;

use crate::error::StoreError;
use crate::rows::{
    ENTRY_COLS, ENTRY_COLS_E, entry_at, entry_with_payload, hash_at, i64_at, id_text_at,
};
use crate::sql::{Dialect, V, chain_i32, i, seq_to_i64, t};
use crate::store::Store;
use crate::types::AppendItem;
use crate::writer::{INSERT_CHECKPOINT, Op, Redact};

/// PostgreSQL: distinct chains by skip-scan over the primary key (few chains, many
/// entries), then each chain's last entry.
const PG_CHAIN_HEADS: &str = "WITH RECURSIVE chains(chain) AS ( \
        SELECT MIN(chain) FROM ledger_entries \
        UNION ALL \
        SELECT (SELECT MIN(l.chain) FROM ledger_entries l WHERE l.chain > chains.chain) \
        FROM chains WHERE chains.chain IS NOT NULL) \
    SELECT {COLS} FROM chains JOIN ledger_entries e ON e.chain = chains.chain \
        AND e.seq = (SELECT MAX(m.seq) FROM ledger_entries m WHERE m.chain = chains.chain) \
        ORDER BY e.chain";

impl Store {
    /// Appends entries (and their consent rows) to this process's chain, in order, through
    /// the group-commit writer. Durable when it returns `Ok`. A duplicate receipt id fails
    /// this call only ([`StoreError::Conflict`]) and consumes no sequence number.
    pub async fn append(&self, items: Vec<AppendItem>) -> Result<Vec<Entry>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        self.call(|a| Op::Append(items, a)).await
    }

    /// Erases the payload of entry `(chain, seq)`, deletes its consent row and appends
    /// `redaction`, in one transaction. The erased entry still verifies (it commits to the
    /// payload's hash). [`StoreError::NotFound`] if there is no such entry,
    /// [`StoreError::Conflict`] if it is already redacted.
    pub async fn redact(
        &self,
        chain: u32,
        seq: u64,
        redaction: AppendItem,
    ) -> Result<Entry, StoreError> {
        let r = Redact {
            chain,
            seq,
            item: redaction,
        };
        Ok(*self.call(|a| Op::Redact(Box::new(r), a)).await?)
    }

    /// Entries of one chain from `from_seq`, at most `limit`, with their payloads (`None`
    /// once redacted).
    pub async fn entries(
        &self,
        chain: u32,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<(Entry, Option<Vec<u8>>)>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLS}, payload FROM ledger_entries \
             WHERE chain = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3"
        );
        let vals = vec![
            V::I4(chain_i32(chain)?),
            i(seq_to_i64(from_seq)?),
            i(i64::from(limit)),
        ];
        self.rows(sql, vals, entry_with_payload).await
    }

    /// Calls `f` for every entry in (chain, seq) order, from one consistent snapshot, and
    /// returns how many there were. Built for the verifier: rows are fetched in large
    /// batches on another thread/task while `f` runs.
    pub async fn for_each_entry<F>(&self, f: F) -> Result<u64, StoreError>
    where
        F: FnMut(&Entry, Option<&[u8]>) + Send,
    {
        match self {
            Store::Sqlite(s) => s.for_each_entry(f).await,
            Store::Postgres(s) => s.for_each_entry(f).await,
        }
    }

    /// The last entry of each chain, by chain.
    pub async fn chain_heads(&self) -> Result<Vec<Entry>, StoreError> {
        let sql = match self.dialect() {
            // One chain (0) on SQLite: its head is the entry with the largest rowid.
            Dialect::Sqlite => {
                format!("SELECT {ENTRY_COLS} FROM ledger_entries ORDER BY seq DESC LIMIT 1")
            }
            Dialect::Postgres => PG_CHAIN_HEADS.replace("{COLS}", ENTRY_COLS_E),
        };
        self.rows(sql, vec![], |r| entry_at(r, 0)).await
    }

    /// Entry hashes of `chain` for `from_seq..to_seq_excl`, in order (for Merkle trees).
    pub async fn entry_hashes(
        &self,
        chain: u32,
        from_seq: u64,
        to_seq_excl: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let sql = "SELECT hash FROM ledger_entries WHERE chain = ?1 AND seq >= ?2 AND seq < ?3 \
                   ORDER BY seq";
        let vals = vec![
            V::I4(chain_i32(chain)?),
            i(seq_to_i64(from_seq)?),
            i(seq_to_i64(to_seq_excl)?),
        ];
        self.rows(sql.to_owned(), vals, hash_at).await
    }

    /// Stores a signed checkpoint body verbatim; returns its id (ascending).
    pub async fn insert_checkpoint(
        &self,
        ts_ms: i64,
        body_json: String,
    ) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(_) => {
                self.call(|a| Op::Checkpoint(Box::new((ts_ms, body_json)), a))
                    .await
            }
            Store::Postgres(s) => {
                let vals = [i(ts_ms), t(&body_json)];
                s.rows(INSERT_CHECKPOINT, &vals, i64_at)
                    .await?
                    .pop()
                    .ok_or_else(|| {
                        StoreError::Internal("INSERT ... RETURNING returned no row".to_owned())
                    })
            }
        }
    }

    /// The newest checkpoint `(id, body_json)`.
    pub async fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, StoreError> {
        let sql = "SELECT id, body_json FROM ledger_checkpoints ORDER BY id DESC LIMIT 1";
        self.row(sql.to_owned(), vec![], id_text_at).await
    }

    /// All checkpoints, oldest first.
    pub async fn list_checkpoints(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let sql = "SELECT id, body_json FROM ledger_checkpoints ORDER BY id";
        self.rows(sql.to_owned(), vec![], id_text_at).await
    }
}
