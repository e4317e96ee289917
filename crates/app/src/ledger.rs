//! The server's side of the ledger: the signing key (created in the data directory on first
//! start), audit events, periodic signed checkpoints of every chain head, the same heads as
//! C2SP signed notes with consistency proofs for witnesses, and verification of a whole store
//! (against its own checkpoints, checkpoints pinned elsewhere and a freshness rule).

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

/// The latest signed checkpoint as C2SP signed notes, one per chain (`GET /ledger/checkpoint`),
/// each signed now with the ledger key (Ed25519 is deterministic: the same note every time).
/// `None` before the first checkpoint.
pub async fn checkpoint_notes(
    store: &Store,
    key: &LedgerKey,
    public_base: &str,
) -> Result<Option<String>, CheckpointError> {
    let Some(cp) = latest_signed(store).await? else {
        return Ok(None);
    };
    let mut out = String::new();
    for h in &cp.checkpoint.heads {
        let note = assent_ledger::NoteCheckpoint {
            origin: assent_ledger::note_origin(public_base, h.chain),
            chain: h.chain,
            size: h.size,
            root: h.root,
        };
        out.push_str(&note.sign(key));
    }
    Ok(Some(out))
}

async fn latest_signed(
    store: &Store,
) -> Result<Option<assent_ledger::SignedCheckpoint>, CheckpointError> {
    let Some((_, body)) = store.latest_checkpoint().await? else {
        return Ok(None);
    };
    let cp = serde_json::from_str(&body).map_err(|e| CheckpointError::Encode(e.to_string()))?;
    Ok(Some(cp))
}

/// Why a consistency proof is not served.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("from ({from}) is larger than to ({to})")]
    Order { from: u64, to: u64 },
    #[error("chain {chain} has no signed tree of {size} entries yet (latest signed: {signed})")]
    NotSigned { chain: u32, size: u64, signed: u64 },
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
}

/// The consistency proof of `chain` between tree sizes `from` and `to` (RFC 9162), for a
/// witness or a receipt's verifier; `to` may not exceed the latest signed size, so that only
/// trees the operator committed to are proven.
pub async fn consistency(
    store: &Store,
    checkpointer: &tokio::sync::Mutex<Checkpointer>,
    chain: u32,
    from: u64,
    to: u64,
) -> Result<Vec<assent_ledger::Hash>, ProofError> {
    if from > to {
        return Err(ProofError::Order { from, to });
    }
    let signed = latest_signed(store)
        .await?
        .and_then(|cp| cp.checkpoint.head(chain).map(|h| h.size))
        .unwrap_or(0);
    if to > signed {
        return Err(ProofError::NotSigned {
            chain,
            size: to,
            signed,
        });
    }
    Ok(checkpointer
        .lock()
        .await
        .consistency_proof(store, chain, from, to)
        .await?)
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

/// Perfect subtrees of at least `2^NODE_LEVEL` leaves have their roots kept in memory (about
/// 64 bytes per 1,024 entries), so that a receipt's inclusion proof reads at most two blocks of
/// `2^NODE_LEVEL` entry hashes instead of the whole chain.
pub const NODE_LEVEL: u32 = 10;

/// Leaves fed to a Merkle accumulator between two yields to the runtime (about half a
/// millisecond of hashing).
const YIELD_EVERY: usize = 1024;

/// Keeps one Merkle accumulator per chain, fed incrementally from the store, with the roots
/// of its large perfect subtrees, and signs the heads of every chain into one checkpoint.
#[derive(Default)]
pub struct Checkpointer {
    trees: std::collections::BTreeMap<u32, assent_ledger::MerkleAccumulator>,
    /// Per chain, per level from [`NODE_LEVEL`] up: the roots of its perfect subtrees, by
    /// index.
    nodes: std::collections::BTreeMap<u32, Vec<Vec<assent_ledger::Hash>>>,
    last_signed: Vec<(u32, u64)>,
}

impl Checkpointer {
    /// Feeds the tree of `chain` from the store until it has `size` leaves.
    pub async fn advance(
        &mut self,
        store: &Store,
        chain: u32,
        size: u64,
    ) -> Result<(), CheckpointError> {
        let tree = self.trees.entry(chain).or_default();
        let nodes = self.nodes.entry(chain).or_default();
        // Feed in slices so memory stays bounded on a large ledger.
        while tree.size() < size {
            let to = (tree.size() + 65_536).min(size);
            let hashes = store.entry_hashes(chain, tree.size(), to).await?;
            if hashes.is_empty() {
                break;
            }
            for (i, h) in hashes.iter().enumerate() {
                // Hashing 65,536 leaves takes tens of milliseconds: let the requests this
                // runtime thread also serves go between blocks of them.
                if i % YIELD_EVERY == YIELD_EVERY - 1 {
                    tokio::task::yield_now().await;
                }
                tree.push_with(h, |level, index, root| {
                    let Some(l) = level.checked_sub(NODE_LEVEL) else {
                        return;
                    };
                    let l = l as usize;
                    if nodes.len() <= l {
                        nodes.resize_with(l + 1, Vec::new);
                    }
                    if nodes[l].len() as u64 == index {
                        nodes[l].push(*root);
                    }
                });
            }
        }
        if tree.size() < size {
            return Err(CheckpointError::Inconsistent(chain));
        }
        Ok(())
    }

    /// The RFC 9162 consistency proof between the first `old` and the first `new` entries of
    /// `chain`, from the kept subtree roots and at most three blocks of entry hashes: around
    /// the old size (two blocks when it falls on a block boundary) and the last of the tree.
    pub async fn consistency_proof(
        &mut self,
        store: &Store,
        chain: u32,
        old: u64,
        new: u64,
    ) -> Result<Vec<assent_ledger::Hash>, CheckpointError> {
        if old > new {
            return Err(CheckpointError::Inconsistent(chain));
        }
        self.advance(store, chain, new).await?;
        let block = 1u64 << NODE_LEVEL;
        let mut starts: Vec<u64> = [old.saturating_sub(1), old, new.saturating_sub(1)]
            .into_iter()
            .filter(|&i| i < new)
            .map(|i| i / block * block)
            .collect();
        starts.dedup();
        let mut leaves = Vec::with_capacity(starts.len());
        for from in starts {
            let hashes = store
                .entry_hashes(chain, from, (from + block).min(new))
                .await?;
            leaves.push((from, hashes));
        }
        let nodes = self.nodes.get(&chain);
        let proof = assent_ledger::subtree_consistency_proof(old, new, |level, index| {
            kept_subtree(nodes, &leaves, chain, level, index)
        })?;
        proof.ok_or(CheckpointError::Inconsistent(chain))
    }

    /// The inclusion proof of entry `seq` in the first `size` entries of `chain` (RFC 9162),
    /// from the kept subtree roots and at most two blocks of entry hashes read from the
    /// store: the entry's own block, and the last (partial) block of the tree.
    pub async fn inclusion_proof(
        &mut self,
        store: &Store,
        chain: u32,
        seq: u64,
        size: u64,
    ) -> Result<Vec<assent_ledger::Hash>, CheckpointError> {
        if seq >= size {
            return Err(CheckpointError::Inconsistent(chain));
        }
        self.advance(store, chain, size).await?;
        let block = 1u64 << NODE_LEVEL;
        let own = seq / block * block;
        let last = (size - 1) / block * block;
        let mut leaves = vec![(
            own,
            store
                .entry_hashes(chain, own, (own + block).min(size))
                .await?,
        )];
        if last != own {
            leaves.push((last, store.entry_hashes(chain, last, size).await?));
        }
        let nodes = self.nodes.get(&chain);
        let proof = assent_ledger::subtree_inclusion_proof(seq, size, |level, index| {
            kept_subtree(nodes, &leaves, chain, level, index)
        })?;
        proof.ok_or(CheckpointError::Inconsistent(chain))
    }

    /// Feeds every chain's tree up to the chain's current head.
    pub async fn catch_up(&mut self, store: &Store) -> Result<(), CheckpointError> {
        for head in store.chain_heads().await? {
            self.advance(store, head.chain, head.seq + 1).await?;
        }
        Ok(())
    }

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
            self.advance(store, head.chain, size).await?;
            let tree = self.trees.entry(head.chain).or_default();
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

/// The root of perfect subtree `(level, index)` of `chain`: kept in memory from
/// [`NODE_LEVEL`] up, else computed from the one block of entry hashes in `leaves` it lies in.
fn kept_subtree(
    nodes: Option<&Vec<Vec<assent_ledger::Hash>>>,
    leaves: &[(u64, Vec<assent_ledger::Hash>)],
    chain: u32,
    level: u32,
    index: u64,
) -> Result<assent_ledger::Hash, CheckpointError> {
    if level >= NODE_LEVEL {
        return nodes
            .and_then(|n| n.get((level - NODE_LEVEL) as usize))
            .and_then(|v| v.get(index as usize))
            .copied()
            .ok_or(CheckpointError::Inconsistent(chain));
    }
    // A perfect subtree below the kept levels lies inside one block.
    let start = index << level;
    let end = start + (1u64 << level);
    leaves
        .iter()
        .find(|(from, hs)| *from <= start && end <= *from + hs.len() as u64)
        .map(|(from, hs)| {
            assent_ledger::merkle_root(&hs[(start - from) as usize..(end - from) as usize])
        })
        .ok_or(CheckpointError::Inconsistent(chain))
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

/// Verifies a whole store: every checkpoint against `key`, then every entry in order.
pub async fn verify_store(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<assent_ledger::Report, StoreError> {
    verify_store_with(store, key, &VerifyOptions::default()).await
}

/// What a verification checks beyond the store's own entries and checkpoints.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Heads kept outside the database (`--trusted-checkpoint`, a witness's memory): the
    /// ledger must extend each of them.
    pub pins: Vec<assent_ledger::PinnedHead>,
    /// Entries at or before this time (now minus one checkpoint interval) must be covered
    /// by a signed checkpoint: a ledger whose checkpoints were deleted fails.
    pub checkpoints_required_before_ms: Option<i64>,
}

/// [`verify_store`] with pinned heads and the freshness rule of `opts`. Checkpoints and pins
/// are given to the verifier before the entries, so that every one of them is compared.
pub async fn verify_store_with(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
    opts: &VerifyOptions,
) -> Result<assent_ledger::Report, StoreError> {
    let mut v = assent_ledger::Verifier::new();
    if let Some(cutoff) = opts.checkpoints_required_before_ms {
        v.require_checkpoints_before(cutoff);
    }
    let mut malformed = vec![];
    for (id, body) in store.list_checkpoints().await? {
        match serde_json::from_str::<assent_ledger::SignedCheckpoint>(&body) {
            Ok(cp) => v.check_checkpoint(&cp, key),
            Err(e) => malformed.push((id, e.to_string())),
        }
    }
    for p in &opts.pins {
        v.pin(p.chain, p.size, p.root, p.head_hash);
    }
    store.for_each_entry(|e, p| v.push(e, p)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use assent_store::{Location, OpenOptions};

    /// A fresh SQLite store in a temporary directory (removed by the caller).
    async fn temp_store(name: &str) -> (Store, std::path::PathBuf) {
        let mut tag = [0u8; 6];
        getrandom::fill(&mut tag).unwrap();
        let dir = std::env::temp_dir().join(format!("assent-{name}-{}", hex::encode(tag)));
        let store = Store::open(&Location::DataDir(dir.clone()), OpenOptions::create())
            .await
            .unwrap();
        (store, dir)
    }

    /// Small test entries numbered `range`.
    fn items(range: std::ops::Range<u64>) -> Vec<AppendItem> {
        range
            .map(|i| AppendItem {
                ts_ms: 1_700_000_000_000 + i as i64,
                kind: "test".into(),
                payload: format!("{{\"i\":{i}}}").into_bytes(),
                consent: None,
            })
            .collect()
    }

    /// Proofs built from the kept subtree roots and two blocks of hashes are exactly the
    /// proofs built from every hash of the chain, around and across block boundaries.
    #[tokio::test]
    async fn inclusion_proofs_from_the_subtree_index_match_full_proofs() {
        let (store, dir) = temp_store("proofs").await;
        let n = 3 * (1u64 << NODE_LEVEL) + 77;
        for chunk in items(0..n).chunks(1000) {
            store.append(chunk.to_vec()).await.unwrap();
        }
        let chain = store.chain_heads().await.unwrap()[0].chain;
        let all = store.entry_hashes(chain, 0, n).await.unwrap();
        assert_eq!(all.len() as u64, n);
        let block = 1u64 << NODE_LEVEL;
        let mut cp = Checkpointer::default();
        let sizes = [1, 2, 3, block - 1, block, block + 1, 2 * block + 5, n];
        let mut checked = 0;
        for &size in &sizes {
            for seq in [0, 1, size / 2, block - 1, block, block + 3, size - 1] {
                if seq >= size {
                    continue;
                }
                let fast = cp.inclusion_proof(&store, chain, seq, size).await.unwrap();
                let full = assent_ledger::inclusion_proof(&all[..size as usize], seq);
                assert_eq!(fast, full, "seq {seq} of {size}");
                checked += 1;
            }
        }
        assert!(checked >= 30, "{checked}");
        assert!(cp.inclusion_proof(&store, chain, n, n).await.is_err());
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Consistency proofs built from the kept subtree roots and at most three blocks are the
    /// proofs built from every hash of the chain, around and across block boundaries.
    #[tokio::test]
    async fn consistency_proofs_from_the_subtree_index_match_full_proofs() {
        let (store, dir) = temp_store("consistency").await;
        let block = 1u64 << NODE_LEVEL;
        let n = 3 * block + 77;
        for chunk in items(0..n).chunks(1000) {
            store.append(chunk.to_vec()).await.unwrap();
        }
        let chain = store.chain_heads().await.unwrap()[0].chain;
        let all = store.entry_hashes(chain, 0, n).await.unwrap();
        let mut cp = Checkpointer::default();
        let sizes = [
            0,
            1,
            2,
            5,
            block - 1,
            block,
            block + 1,
            2 * block,
            2 * block + 5,
            n,
        ];
        for &new in &sizes {
            for &old in &sizes {
                if old > new {
                    assert!(cp.consistency_proof(&store, chain, old, new).await.is_err());
                    continue;
                }
                let fast = cp.consistency_proof(&store, chain, old, new).await.unwrap();
                let full = assent_ledger::consistency_proof(&all[..new as usize], old);
                assert_eq!(fast, full, "{old} -> {new}");
            }
        }
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Trees fed a little at a time (as the checkpoint loop does between signatures) reach
    /// the root of the whole chain, and the next checkpoint signs exactly that.
    #[tokio::test]
    async fn trees_fed_in_steps_sign_the_root_of_the_whole_chain() {
        let (store, dir) = temp_store("feed").await;
        let key = LedgerKey::generate().unwrap();
        let mut cp = Checkpointer::default();
        cp.catch_up(&store).await.unwrap(); // nothing written yet
        let mut written = 0u64;
        for step in [1u64, 1, 1500, 3, 2100] {
            store.append(items(written..written + step)).await.unwrap();
            written += step;
            cp.catch_up(&store).await.unwrap();
        }
        let head = store.chain_heads().await.unwrap()[0].clone();
        let all = store
            .entry_hashes(head.chain, 0, head.seq + 1)
            .await
            .unwrap();
        assert!(cp.run_once(&store, &key, 1_700_000_100_000).await.unwrap());
        let (_, body) = store.latest_checkpoint().await.unwrap().unwrap();
        let signed: assent_ledger::SignedCheckpoint = serde_json::from_str(&body).unwrap();
        let signed_head = signed.checkpoint.head(head.chain).unwrap();
        assert_eq!(signed.checkpoint.heads.len(), 1);
        assert_eq!(signed_head.size, head.seq + 1);
        assert_eq!(signed_head.root, assent_ledger::merkle_root(&all));
        assert_eq!(signed_head.head_hash, head.hash);
        // Nothing new: no second checkpoint.
        assert!(!cp.run_once(&store, &key, 1_700_000_200_000).await.unwrap());
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
