//! What a witness remembers of one chain, and the rules by which it accepts a new signed
//! tree head: never smaller than one seen (rollback), never a different root for a size
//! seen (fork), and never larger without an RFC 9162 consistency proof from the largest
//! head seen (fork). The same memory then checks heads obtained elsewhere (a receipt's
//! checkpoint, a local copy of the ledger).
//!
//! Invariants: `heads` is sorted by size, strictly ascending, and every head in it was
//! accepted with a verified consistency proof from the one before; so every head is a
//! prefix of the last, and checking a head against the nearest seen one is enough.
//!
//! Text form (one file per chain, appended to by the witness): one line per accepted head,
//! `<size> <root as 64 hex digits>\n`.

use crate::{Hash, LedgerError, parse_hash, to_hex, verify_consistency};

/// The heads of one chain a witness accepted, smallest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitnessChain {
    /// The chain.
    pub chain: u32,
    heads: Vec<(u64, Hash)>,
}

/// What [`WitnessChain::check`] needs to judge a head the witness has not seen itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WitnessCheck {
    /// The witness saw this size with this root.
    Seen,
    /// Judge it with a consistency proof between these two sizes (from the smaller to the
    /// larger), then call [`WitnessChain::check_with_proof`].
    NeedsProof {
        /// The smaller tree size.
        old_size: u64,
        /// The larger tree size.
        new_size: u64,
    },
}

impl WitnessChain {
    /// A witness that has seen nothing of `chain`.
    pub fn new(chain: u32) -> Self {
        WitnessChain {
            chain,
            heads: Vec::new(),
        }
    }

    /// Reads the text form; a line out of order or malformed is an error (the file is the
    /// witness's own, so damage must be noticed, not skipped).
    pub fn parse(chain: u32, text: &str) -> Result<Self, LedgerError> {
        let mut w = WitnessChain::new(chain);
        for (n, line) in text.lines().enumerate() {
            let bad = || LedgerError::MalformedNote(format!("witness log line {}", n + 1));
            let (size, root) = line.split_once(' ').ok_or_else(bad)?;
            let size: u64 = size.parse().map_err(|_| bad())?;
            let root = parse_hash(root)?;
            if w.heads.last().is_some_and(|&(s, _)| s >= size) {
                return Err(bad());
            }
            w.heads.push((size, root));
        }
        Ok(w)
    }

    /// The line to append for a head just accepted.
    pub fn line(size: u64, root: &Hash) -> String {
        format!("{size} {}\n", to_hex(root))
    }

    /// Every head accepted, smallest first.
    pub fn heads(&self) -> &[(u64, Hash)] {
        &self.heads
    }

    /// The largest head accepted.
    pub fn latest(&self) -> Option<(u64, Hash)> {
        self.heads.last().copied()
    }

    /// Accepts the head `(size, root)` served now, with `proof` the consistency proof from
    /// [`Self::latest`] to it. Returns whether it is new (larger than any seen).
    pub fn advance(&mut self, size: u64, root: Hash, proof: &[Hash]) -> Result<bool, LedgerError> {
        let Some((seen, seen_root)) = self.latest() else {
            self.heads.push((size, root));
            return Ok(true);
        };
        if size < seen {
            return Err(LedgerError::Rollback {
                chain: self.chain,
                seen,
                served: size,
            });
        }
        if size == seen {
            return if root == seen_root {
                Ok(false)
            } else {
                Err(self.fork(seen, size, "same size, different root"))
            };
        }
        if !verify_consistency(seen, size, &seen_root, &root, proof) {
            return Err(self.fork(seen, size, "the consistency proof does not verify"));
        }
        self.heads.push((size, root));
        Ok(true)
    }

    fn fork(&self, old_size: u64, new_size: u64, reason: &str) -> LedgerError {
        LedgerError::Fork {
            chain: self.chain,
            old_size,
            new_size,
            reason: reason.to_owned(),
        }
    }

    /// Judges a head obtained elsewhere: seen (same root), a fork (same size, another root),
    /// or which consistency proof would settle it. A witness that has seen nothing of the
    /// chain cannot vouch for anything: [`LedgerError::Rollback`] with `seen` 0 is not
    /// returned then, but a fork error saying so.
    pub fn check(&self, size: u64, root: &Hash) -> Result<WitnessCheck, LedgerError> {
        if let Some((_, r)) = self.heads.iter().find(|(s, _)| *s == size) {
            return if r == root {
                Ok(WitnessCheck::Seen)
            } else {
                Err(self.fork(size, size, "same size, different root"))
            };
        }
        // The nearest larger head, else the largest.
        let other = self
            .heads
            .iter()
            .find(|(s, _)| *s > size)
            .or(self.heads.last())
            .map(|&(s, _)| s)
            .ok_or_else(|| self.fork(size, 0, "the witness has seen nothing of this chain"))?;
        Ok(WitnessCheck::NeedsProof {
            old_size: size.min(other),
            new_size: size.max(other),
        })
    }

    /// Completes [`Self::check`]: `proof` is the consistency proof between the sizes it
    /// named, for the head `(size, root)` being judged.
    pub fn check_with_proof(
        &self,
        size: u64,
        root: &Hash,
        proof: &[Hash],
    ) -> Result<(), LedgerError> {
        let WitnessCheck::NeedsProof { old_size, new_size } = self.check(size, root)? else {
            return Ok(());
        };
        let other = if old_size == size { new_size } else { old_size };
        let other_root = self
            .heads
            .iter()
            .find(|(s, _)| *s == other)
            .map(|(_, r)| *r)
            .ok_or_else(|| self.fork(old_size, new_size, "no such head"))?;
        let (old_root, new_root) = if old_size == size {
            (*root, other_root)
        } else {
            (other_root, *root)
        };
        if verify_consistency(old_size, new_size, &old_root, &new_root, proof) {
            Ok(())
        } else {
            Err(self.fork(old_size, new_size, "the consistency proof does not verify"))
        }
    }
}

/// One chain head kept outside the ledger's database, verified: what
/// [`crate::Verifier::pin`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedHead {
    /// The chain.
    pub chain: u32,
    /// Entries covered.
    pub size: u64,
    /// Their Merkle root.
    pub root: Hash,
    /// Hash of entry `size - 1`, when the source signs it (JSON checkpoints do, notes not).
    pub head_hash: Option<Hash>,
}

/// Reads a checkpoint kept elsewhere: the JSON of `GET /v1/ledger/checkpoint` or the notes
/// of `GET /ledger/checkpoint`, and checks its signatures with `key`. Every head of it, one
/// per chain (empty chains left out).
pub fn parse_pinned(
    text: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<Vec<PinnedHead>, LedgerError> {
    if text.trim_start().starts_with('{') {
        let cp: crate::SignedCheckpoint = serde_json::from_value(crate::parse_json_strict(text)?)?;
        cp.verify(key)?;
        return Ok(cp
            .checkpoint
            .heads
            .iter()
            .filter(|h| h.size > 0)
            .map(|h| PinnedHead {
                chain: h.chain,
                size: h.size,
                root: h.root,
                head_hash: Some(h.head_hash),
            })
            .collect());
    }
    let notes = crate::split_notes(text);
    if notes.is_empty() {
        return Err(LedgerError::MalformedNote(
            "no checkpoint in the file".into(),
        ));
    }
    notes
        .into_iter()
        .map(|n| {
            let cp = crate::verify_note(n, key)?;
            Ok(PinnedHead {
                chain: cp.chain,
                size: cp.size,
                root: cp.root,
                head_hash: None,
            })
        })
        .filter(|p: &Result<PinnedHead, LedgerError>| p.as_ref().map_or(true, |p| p.size > 0))
        .collect()
}
