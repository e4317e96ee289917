//! Merkle trees over the entry hashes of one chain, as in RFC 9162 (Certificate
//! Transparency v2), section 2.1: `leaf = SHA-256(0x00 || entry_hash)`,
//! `node = SHA-256(0x01 || left || right)`, a tree of `n > 1` leaves splits at the
//! largest power of two smaller than `n`, the empty tree's root is `SHA-256("")`.
//!
//! Leaves are addressed by seq: leaf `i` of chain `c` is the entry `(c, i)`.
//! A *perfect subtree* `(level, index)` is the complete subtree of `2^level` leaves
//! starting at leaf `index * 2^level`; level 0 is the leaf hash itself. Every Merkle
//! tree node of every tree size is either a perfect subtree or built from at most
//! `log2(n)` of them, which is what [`MerkleAccumulator::push_with`] and
//! [`subtree_inclusion_proof`] use so that a store never rereads a whole chain.

use crate::{Hash, LedgerError};
use sha2::{Digest as _, Sha256};

/// Root of the empty tree: `SHA-256("")`.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 || entry_hash)`.
pub fn leaf_hash(entry_hash: &Hash) -> Hash {
    let mut buf = [0u8; 33];
    buf[1..].copy_from_slice(entry_hash);
    Sha256::digest(buf).into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Merkle tree head (RFC 9162 `MTH`) over the given entry hashes, in seq order.
pub fn merkle_root(entry_hashes: &[Hash]) -> Hash {
    let mut acc = MerkleAccumulator::new();
    for h in entry_hashes {
        acc.push(h);
    }
    acc.root()
}

fn len64(s: &[Hash]) -> u64 {
    s.len() as u64
}

fn split(d: &[Hash], k: u64) -> (&[Hash], &[Hash]) {
    // k < d.len() <= usize::MAX, so the conversion cannot fail.
    d.split_at(usize::try_from(k).unwrap_or(d.len()))
}

/// Inclusion proof (RFC 9162 `PATH`) of leaf `index` in the tree over `entry_hashes`,
/// ordered from the leaf's sibling up to the root's child. Returns an empty proof
/// when `index` is out of range (which [`verify_inclusion`] never accepts, since it
/// checks `index < tree_size` first).
pub fn inclusion_proof(entry_hashes: &[Hash], index: u64) -> Vec<Hash> {
    let mut out = Vec::new();
    if index < len64(entry_hashes) {
        path(index, entry_hashes, &mut out);
    }
    out
}

fn path(m: u64, d: &[Hash], out: &mut Vec<Hash>) {
    let n = len64(d);
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    let (left, right) = split(d, k);
    if m < k {
        path(m, left, out);
        out.push(merkle_root(right));
    } else {
        path(m - k, right, out);
        out.push(merkle_root(left));
    }
}

/// Checks that `entry_hash` is leaf `index` of the tree of `tree_size` leaves whose
/// root is `root` (RFC 9162 section 2.1.3.2). `entry_hash` is the entry's own hash;
/// the leaf hashing is done here.
pub fn verify_inclusion(
    entry_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= tree_size {
        return false;
    }
    let mut f = index;
    let mut s = tree_size - 1;
    let mut r = leaf_hash(entry_hash);
    for p in proof {
        if s == 0 {
            return false;
        }
        if climb(&mut f, &mut s) {
            r = node_hash(p, &r);
        } else {
            r = node_hash(&r, p);
        }
    }
    s == 0 && &r == root
}

/// One level of the verification walks of RFC 9162 (sections 2.1.3.2 and 2.1.4.2), for the
/// node `f` of the last node `s` of its level: whether the proof's next hash goes on the left
/// (`f` is a right child, or the last node of its level); then `f` and `s` climb one level,
/// after the levels where a left `f` is the last node and has no sibling.
fn climb(f: &mut u64, s: &mut u64) -> bool {
    let left = *f & 1 == 1 || *f == *s;
    if left {
        while *f & 1 == 0 && *f != 0 {
            *f >>= 1;
            *s >>= 1;
        }
    }
    *f >>= 1;
    *s >>= 1;
    left
}

/// Consistency proof (RFC 9162 `PROOF`) that the tree of the first `old_size` entries
/// is a prefix of the tree over all `entry_hashes`. Empty when `old_size` is 0 or not
/// smaller than the tree.
pub fn consistency_proof(entry_hashes: &[Hash], old_size: u64) -> Vec<Hash> {
    let mut out = Vec::new();
    if old_size > 0 && old_size < len64(entry_hashes) {
        subproof(old_size, entry_hashes, true, &mut out);
    }
    out
}

fn subproof(m: u64, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = len64(d);
    if m == n {
        if !complete {
            out.push(merkle_root(d));
        }
        return;
    }
    let k = split_point(n);
    let (left, right) = split(d, k);
    if m <= k {
        subproof(m, left, complete, out);
        out.push(merkle_root(right));
    } else {
        subproof(m - k, right, false, out);
        out.push(merkle_root(left));
    }
}

/// Checks a consistency proof between two tree heads (RFC 9162 section 2.1.4.2):
/// the newer tree extends the older one without changing any of its leaves.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty() && old_root == &EMPTY_ROOT;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path = proof.iter();
    let first = if old_size.is_power_of_two() {
        *old_root
    } else {
        match path.next() {
            Some(h) => *h,
            None => return false,
        }
    };
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = first;
    let mut sr = first;
    for c in path {
        if s == 0 {
            return false;
        }
        if climb(&mut f, &mut s) {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
        } else {
            sr = node_hash(&sr, c);
        }
    }
    &fr == old_root && &sr == new_root && s == 0
}

/// Root of the tree over leaves `[start, start + n)` (`n >= 1`, `start` aligned as in
/// any RFC 9162 subtree) from perfect-subtree roots.
fn range_root<E>(
    start: u64,
    n: u64,
    subtree: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        return subtree(level, start >> level);
    }
    let k = split_point(n);
    let left = range_root(start, k, subtree)?;
    let right = range_root(start + k, n - k, subtree)?;
    Ok(node_hash(&left, &right))
}

/// Inclusion proof of leaf `index` in the tree of `tree_size` leaves, built from
/// perfect-subtree roots supplied by `subtree(level, index)` (see the module doc):
/// O(log n) look-ups, for a store that keeps the roots [`MerkleAccumulator::push_with`]
/// reports. `Ok(None)` when `index >= tree_size`.
pub fn subtree_inclusion_proof<E>(
    index: u64,
    tree_size: u64,
    mut subtree: impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Option<Vec<Hash>>, E> {
    if index >= tree_size {
        return Ok(None);
    }
    let (mut start, mut n, mut m) = (0u64, tree_size, index);
    let mut siblings = Vec::new();
    while n > 1 {
        let k = split_point(n);
        if m < k {
            siblings.push(range_root(start + k, n - k, &mut subtree)?);
            n = k;
        } else {
            siblings.push(range_root(start, k, &mut subtree)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    siblings.reverse();
    Ok(Some(siblings))
}

/// Consistency proof (RFC 9162 `PROOF`) between the trees of `old_size` and `new_size`
/// leaves, built from perfect-subtree roots supplied by `subtree(level, index)`, as
/// [`subtree_inclusion_proof`] is: O(log n) look-ups. `Ok(None)` when `old_size >
/// new_size`; empty when `old_size` is 0 or equal to `new_size` (as [`consistency_proof`]).
pub fn subtree_consistency_proof<E>(
    old_size: u64,
    new_size: u64,
    mut subtree: impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Option<Vec<Hash>>, E> {
    if old_size > new_size {
        return Ok(None);
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < new_size {
        range_subproof(old_size, 0, new_size, true, &mut subtree, &mut out)?;
    }
    Ok(Some(out))
}

fn range_subproof<E>(
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    subtree: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
    out: &mut Vec<Hash>,
) -> Result<(), E> {
    if m == n {
        if !complete {
            out.push(range_root(start, n, subtree)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        range_subproof(m, start, k, complete, subtree, out)?;
        out.push(range_root(start + k, n - k, subtree)?);
    } else {
        range_subproof(m - k, start + k, n - k, false, subtree, out)?;
        out.push(range_root(start, k, subtree)?);
    }
    Ok(())
}

/// Root of the tree of `tree_size` leaves from perfect-subtree roots.
pub fn subtree_root<E>(
    tree_size: u64,
    mut subtree: impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    if tree_size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_root(0, tree_size, &mut subtree)
}

/// Incremental Merkle tree: keeps only the right frontier (one perfect-subtree root
/// per set bit of the size), so appending costs O(log n) amortised O(1) hashes and
/// the root is available at any time without rereading the chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleAccumulator {
    size: u64,
    /// Perfect-subtree roots, largest (leftmost) first.
    frontier: Vec<Hash>,
}

impl MerkleAccumulator {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores an accumulator from a saved [`Self::frontier`].
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Result<Self, LedgerError> {
        if frontier.len() != size.count_ones() as usize {
            return Err(LedgerError::Merkle(format!(
                "a tree of {size} leaves has a frontier of {} hashes, not {}",
                size.count_ones(),
                frontier.len()
            )));
        }
        Ok(MerkleAccumulator { size, frontier })
    }

    /// Restores an accumulator from stored perfect-subtree roots (O(log n) look-ups).
    pub fn from_subtrees<E>(
        size: u64,
        mut subtree: impl FnMut(u32, u64) -> Result<Hash, E>,
    ) -> Result<Self, E> {
        let mut frontier = Vec::with_capacity(size.count_ones() as usize);
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size >> level & 1 == 1 {
                frontier.push(subtree(level, start >> level)?);
                start += 1 << level;
            }
        }
        Ok(MerkleAccumulator { size, frontier })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots of the right frontier, largest first: save them with
    /// the chain head to resume with [`Self::from_frontier`].
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Appends the leaf for `entry_hash`.
    pub fn push(&mut self, entry_hash: &Hash) {
        self.push_with(entry_hash, |_, _, _| {});
    }

    /// Appends the leaf for `entry_hash` and reports every perfect subtree completed by
    /// it as `(level, index, root)`: the leaf itself at level 0, then each parent.
    pub fn push_with(&mut self, entry_hash: &Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let mut h = leaf_hash(entry_hash);
        let mut level = 0u32;
        let mut index = self.size;
        completed(level, index, &h);
        while self.size >> level & 1 == 1 {
            let Some(left) = self.frontier.pop() else {
                break;
            };
            h = node_hash(&left, &h);
            level += 1;
            index >>= 1;
            completed(level, index, &h);
        }
        self.frontier.push(h);
        self.size += 1;
    }

    /// The current root (RFC 9162 `MTH`).
    pub fn root(&self) -> Hash {
        let mut it = self.frontier.iter().rev();
        let Some(last) = it.next() else {
            return EMPTY_ROOT;
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}
