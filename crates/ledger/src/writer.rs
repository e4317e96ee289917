//! A chain's writer state: the hash chain head plus its Merkle accumulator.

use crate::{
    ChainCheckpoint, ChainHead, Entry, Hash, LedgerError, MerkleAccumulator, payload_hash,
};

/// [`ChainHead`] and [`MerkleAccumulator`] of one chain, kept in step, so that a
/// checkpoint head is available at any time in O(log n). Clone it before a
/// transaction and put the clone back if the transaction fails.
#[derive(Clone, Debug)]
pub struct ChainWriter {
    head: ChainHead,
    tree: MerkleAccumulator,
}

impl ChainWriter {
    /// An empty chain.
    pub fn new(chain: u32) -> Self {
        ChainWriter {
            head: ChainHead::new(chain),
            tree: MerkleAccumulator::new(),
        }
    }

    /// Resumes from a saved head and accumulator, which must be of the same size.
    pub fn resume(head: ChainHead, tree: MerkleAccumulator) -> Result<Self, LedgerError> {
        if tree.size() != head.next_seq {
            return Err(LedgerError::Merkle(format!(
                "chain {} has {} entries but its tree has {} leaves",
                head.chain,
                head.next_seq,
                tree.size()
            )));
        }
        Ok(ChainWriter { head, tree })
    }

    /// Appends a payload (its final canonical bytes).
    pub fn append(&mut self, ts_ms: i64, kind: &str, payload: &[u8]) -> Entry {
        self.append_with(ts_ms, kind, payload_hash(payload), |_, _, _| {})
    }

    /// Appends by payload hash, reporting the perfect subtrees completed, as
    /// [`MerkleAccumulator::push_with`] does, for a store that keeps them.
    pub fn append_with(
        &mut self,
        ts_ms: i64,
        kind: &str,
        payload_hash: Hash,
        completed: impl FnMut(u32, u64, &Hash),
    ) -> Entry {
        let entry = self.head.append_hashed(ts_ms, kind, payload_hash);
        self.tree.push_with(&entry.hash, completed);
        entry
    }

    /// The hash-chain head.
    pub fn head(&self) -> &ChainHead {
        &self.head
    }

    /// The Merkle accumulator.
    pub fn tree(&self) -> &MerkleAccumulator {
        &self.tree
    }

    /// This chain's part of a checkpoint, as of now.
    pub fn checkpoint_head(&self) -> ChainCheckpoint {
        ChainCheckpoint {
            chain: self.head.chain,
            size: self.head.next_seq,
            root: self.tree.root(),
            head_hash: self.head.last_hash,
        }
    }
}
