//! Merkle trees: roots, inclusion and consistency proofs, the accumulator, and
//! proofs from stored perfect subtrees, exhaustively for small trees.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns unwrap too

use assent_ledger::*;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| Sha256::digest(i.to_be_bytes()).into())
        .collect()
}

/// RFC 9162's recursive definition, written independently of the crate.
fn reference_root(entries: &[Hash]) -> Hash {
    match entries.len() {
        0 => EMPTY_ROOT,
        1 => leaf_hash(&entries[0]),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(
                &reference_root(&entries[..k]),
                &reference_root(&entries[k..]),
            )
        }
    }
}

#[test]
fn accumulator_matches_reference_and_restores() {
    let all = leaves(300);
    let mut acc = MerkleAccumulator::new();
    assert_eq!(acc.root(), EMPTY_ROOT);
    let mut nodes: HashMap<(u32, u64), Hash> = HashMap::new();
    for (i, e) in all.iter().enumerate() {
        acc.push_with(e, |level, index, h| {
            assert!(nodes.insert((level, index), *h).is_none());
        });
        let n = i + 1;
        let want = reference_root(&all[..n]);
        assert_eq!(acc.root(), want, "size {n}");
        assert_eq!(merkle_root(&all[..n]), want);
        assert_eq!(acc.size(), n as u64);
        let restored =
            MerkleAccumulator::from_frontier(acc.size(), acc.frontier().to_vec()).unwrap();
        assert_eq!(restored, acc);
        let rebuilt = MerkleAccumulator::from_subtrees(acc.size(), |l, i| {
            nodes.get(&(l, i)).copied().ok_or(())
        })
        .unwrap();
        assert_eq!(rebuilt, acc);
        let root = subtree_root(n as u64, |l, i| nodes.get(&(l, i)).copied().ok_or(())).unwrap();
        assert_eq!(root, want);
    }
    // Every perfect subtree reported is the root of its leaves.
    for (&(level, index), h) in &nodes {
        let start = (index << level) as usize;
        let end = start + (1usize << level);
        assert_eq!(*h, reference_root(&all[start..end]));
    }
    assert!(MerkleAccumulator::from_frontier(3, vec![[0; 32]]).is_err());
    // Further pushes after a restore continue the same tree.
    let mut a = MerkleAccumulator::from_frontier(acc.size(), acc.frontier().to_vec()).unwrap();
    let extra: Hash = [9; 32];
    a.push(&extra);
    let mut longer = all.clone();
    longer.push(extra);
    assert_eq!(a.root(), reference_root(&longer));
}

#[test]
fn inclusion_proofs_all_small_trees() {
    let all = leaves(70);
    let mut nodes: HashMap<(u32, u64), Hash> = HashMap::new();
    let mut acc = MerkleAccumulator::new();
    for e in &all {
        acc.push_with(e, |l, i, h| {
            nodes.insert((l, i), *h);
        });
    }
    for n in 1..=all.len() {
        let tree = &all[..n];
        let root = merkle_root(tree);
        let size = n as u64;
        for i in 0..size {
            let proof = inclusion_proof(tree, i);
            assert!(
                verify_inclusion(&tree[i as usize], i, size, &proof, &root),
                "n={n} i={i}"
            );
            let stored =
                subtree_inclusion_proof(i, size, |l, x| nodes.get(&(l, x)).copied().ok_or(()))
                    .unwrap()
                    .unwrap();
            assert_eq!(stored, proof, "n={n} i={i}");
            // Wrong leaf, index, size, root or proof: rejected.
            assert!(!verify_inclusion(&[0xAA; 32], i, size, &proof, &root));
            if size > 1 {
                let j = (i + 1) % size;
                assert!(!verify_inclusion(&tree[i as usize], j, size, &proof, &root));
                let mut bad = proof.clone();
                bad[0][0] ^= 1;
                assert!(!verify_inclusion(&tree[i as usize], i, size, &bad, &root));
                let mut short = proof.clone();
                short.pop();
                assert!(!verify_inclusion(&tree[i as usize], i, size, &short, &root));
            }
            let mut long = proof.clone();
            long.push([0; 32]);
            assert!(!verify_inclusion(&tree[i as usize], i, size, &long, &root));
            let mut other_root = root;
            other_root[31] ^= 1;
            assert!(!verify_inclusion(
                &tree[i as usize],
                i,
                size,
                &proof,
                &other_root
            ));
        }
        assert!(inclusion_proof(tree, size).is_empty());
        assert!(!verify_inclusion(&tree[0], size, size, &[], &root));
        assert_eq!(
            subtree_inclusion_proof(size, size, |_, _| Err::<Hash, ()>(())).unwrap(),
            None
        );
    }
}

#[test]
fn consistency_proofs_all_small_trees() {
    let all = leaves(40);
    for n in 1..=all.len() {
        let new_root = merkle_root(&all[..n]);
        for m in 0..=n {
            let old_root = merkle_root(&all[..m]);
            let proof = consistency_proof(&all[..n], m as u64);
            assert!(
                verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof),
                "m={m} n={n}"
            );
            if m > 0 && m < n {
                let mut bad_old = old_root;
                bad_old[0] ^= 1;
                assert!(!verify_consistency(
                    m as u64, n as u64, &bad_old, &new_root, &proof
                ));
                let mut bad_new = new_root;
                bad_new[0] ^= 1;
                assert!(!verify_consistency(
                    m as u64, n as u64, &old_root, &bad_new, &proof
                ));
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k][5] ^= 0x40;
                    assert!(!verify_consistency(
                        m as u64, n as u64, &old_root, &new_root, &bad
                    ));
                }
                assert!(!verify_consistency(
                    m as u64,
                    n as u64,
                    &old_root,
                    &new_root,
                    &[]
                ));
                // A tree whose old part was changed is not consistent.
                let mut forged = all[..n].to_vec();
                forged[m - 1][0] ^= 1;
                let forged_root = merkle_root(&forged);
                let forged_proof = consistency_proof(&forged, m as u64);
                assert!(!verify_consistency(
                    m as u64,
                    n as u64,
                    &old_root,
                    &forged_root,
                    &forged_proof
                ));
            }
        }
        assert!(!verify_consistency(
            n as u64 + 1,
            n as u64,
            &new_root,
            &new_root,
            &[]
        ));
    }
}

/// Consistency proofs built from stored perfect-subtree roots are RFC 9162's, for every
/// pair of sizes up to 70 (what `GET /ledger/consistency` serves).
#[test]
fn consistency_proofs_from_stored_subtrees_match() {
    let all = leaves(70);
    let mut acc = MerkleAccumulator::new();
    let mut nodes: HashMap<(u32, u64), Hash> = HashMap::new();
    for e in &all {
        acc.push_with(e, |l, i, h| {
            nodes.insert((l, i), *h);
        });
    }
    for n in 0..=all.len() {
        for m in 0..=n {
            let full = consistency_proof(&all[..n], m as u64);
            let stored = subtree_consistency_proof(m as u64, n as u64, |l, x| {
                nodes.get(&(l, x)).copied().ok_or(())
            })
            .unwrap()
            .unwrap();
            assert_eq!(stored, full, "m={m} n={n}");
        }
    }
    assert_eq!(
        subtree_consistency_proof(3, 2, |_, _| Err::<Hash, ()>(())).unwrap(),
        None
    );
}
