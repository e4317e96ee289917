//! The server's side of the ledger: the signing key (created in the data directory on first
//! start), audit events, and periodic signed checkpoints of every chain head.

use std::path::Path;

use assent_ledger::{LedgerError, LedgerKey, PublicKeyInfo};
use assent_store::{AppendItem, Store, StoreError};
use serde_json::Value;

pub struct LedgerService {
    key: LedgerKey,
}

impl LedgerService {
    /// Loads `DATA_DIR/ledger.key`, creating it (mode 0600) when absent.
    pub fn open(data_dir: &Path) -> Result<Self, LedgerError> {
        let key = LedgerKey::load_or_create(&data_dir.join("ledger.key"))?;
        Ok(Self { key })
    }

    pub fn key(&self) -> &LedgerKey {
        &self.key
    }

    pub fn public_key_info(&self) -> PublicKeyInfo {
        self.key.public_key_info()
    }
}

/// Appends one audit event (admin action, registry change, rights-request step...).
pub async fn audit(
    store: &Store,
    ts_ms: i64,
    kind: &str,
    payload: Value,
) -> Result<(), StoreError> {
    let bytes = match assent_ledger::canonical_json(&payload) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, kind, "audit payload is not canonicalisable");
            return Ok(());
        }
    };
    store
        .append(vec![AppendItem {
            ts_ms,
            kind: kind.to_string(),
            payload: bytes,
            consent: None,
        }])
        .await
        .map(|_| ())
}

/// Keeps one Merkle accumulator per chain, fed incrementally from the store, and signs the
/// heads of every chain into one checkpoint.
#[derive(Default)]
pub struct Checkpointer {
    trees: std::collections::BTreeMap<u32, assent_ledger::MerkleAccumulator>,
    last_signed: Vec<(u32, u64)>,
}

impl Checkpointer {
    /// Signs a checkpoint when any chain grew since the last one; returns whether it did.
    pub async fn run_once(
        &mut self,
        store: &Store,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<bool, CheckpointError> {
        let heads = store.chain_heads().await?;
        let mut out = vec![];
        let mut sizes = vec![];
        for head in &heads {
            let size = head.seq + 1;
            let tree = self.trees.entry(head.chain).or_default();
            // Feed in slices so memory stays bounded on a large ledger.
            while tree.size() < size {
                let to = (tree.size() + 65_536).min(size);
                let hashes = store.entry_hashes(head.chain, tree.size(), to).await?;
                if hashes.is_empty() {
                    break;
                }
                for h in &hashes {
                    tree.push(h);
                }
            }
            if tree.size() != size {
                return Err(CheckpointError::Inconsistent(head.chain));
            }
            out.push(assent_ledger::ChainCheckpoint {
                chain: head.chain,
                size,
                root: tree.root(),
                head_hash: head.hash,
            });
            sizes.push((head.chain, size));
        }
        if out.is_empty() || sizes == self.last_signed {
            return Ok(false);
        }
        let signed = key.sign_checkpoint(now_ms, out)?;
        let body =
            serde_json::to_string(&signed).map_err(|e| CheckpointError::Encode(e.to_string()))?;
        store.insert_checkpoint(now_ms, body).await?;
        self.last_signed = sizes;
        Ok(true)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("chain {0}: stored entries do not match the chain head")]
    Inconsistent(u32),
    #[error("cannot encode checkpoint: {0}")]
    Encode(String),
}

/// Verifies a whole store: every entry in order, then every checkpoint against `key`.
pub async fn verify_store(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<assent_ledger::Report, StoreError> {
    let mut v = assent_ledger::Verifier::new();
    store.for_each_entry(|e, p| v.push(e, p)).await?;
    let mut malformed = vec![];
    for (id, body) in store.list_checkpoints().await? {
        match serde_json::from_str::<assent_ledger::SignedCheckpoint>(&body) {
            Ok(cp) => v.check_checkpoint(&cp, key),
            Err(e) => malformed.push((id, e.to_string())),
        }
    }
    let mut report = v.finish();
    for (id, reason) in malformed {
        report.problems.push(assent_ledger::Problem {
            chain: 0,
            position: u64::try_from(id).unwrap_or(0),
            index: 0,
            kind: assent_ledger::ProblemKind::CheckpointInvalid {
                reason: format!("checkpoint {id} does not parse: {reason}"),
            },
        });
    }
    Ok(report)
}
