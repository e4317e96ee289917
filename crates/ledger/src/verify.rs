//! Verification of a whole ledger, streamed in storage order.

use crate::{
    Entry, GENESIS, Hash, MerkleAccumulator, REDACTION_KIND, RedactionRecord, SignedCheckpoint,
    payload_hash,
};
use ed25519_dalek::VerifyingKey;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many recent `(seq, hash)` pairs per chain are kept to tell an exact duplicate
/// from a conflicting entry (a power of two).
const RING: usize = 1024;

/// How many entries of one chain may arrive ahead of a missing seq before that seq
/// is declared deleted. Within this window a moved entry is reported as
/// [`ProblemKind::Reordered`]; farther away it shows as deleted and inserted.
pub const REORDER_WINDOW: usize = 65_536;

/// Something wrong with the ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The chain concerned.
    pub chain: u32,
    /// The seq concerned: the entry's seq, the first missing seq for
    /// [`ProblemKind::Deleted`], the head's size for checkpoint problems.
    pub position: u64,
    /// 0-based order in which the entry was given to [`Verifier::push`] (its row in
    /// storage order), or for checkpoint problems the order in which the checkpoint
    /// was given to [`Verifier::check_checkpoint`].
    pub index: u64,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kinds of [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The payload does not hash to the entry's `payload_hash`.
    PayloadEdited,
    /// The header does not hash to the entry's `hash`.
    HeaderEdited,
    /// `prev_hash` is not the hash of the entry before: that entry was replaced (its
    /// hash recomputed), or this entry's link was edited.
    LinkBroken,
    /// `count` seqs from `position` on are missing from the chain.
    Deleted {
        /// How many consecutive seqs are missing.
        count: u64,
    },
    /// An entry claims a seq that another entry of the chain has, and the chain does
    /// not run through it (a forged or stray entry; for a seq more than 1024 back
    /// this may also be a stale copy).
    Inserted,
    /// The entry is stored out of seq order.
    Reordered,
    /// An exact copy of an entry already seen.
    Duplicated,
    /// A checkpoint's signature, key id or shape is invalid; its heads are not used.
    CheckpointInvalid {
        /// Why.
        reason: String,
    },
    /// The entries do not reproduce a validly signed checkpoint's root or head hash.
    CheckpointRootMismatch,
    /// A validly signed checkpoint covers more entries than the chain has: entries
    /// were removed from its end.
    CheckpointBeyondChain {
        /// The number of entries the chain has.
        chain_size: u64,
    },
    /// A payload is missing but no `ledger.redaction` entry records its removal.
    RedactedWithoutRecord,
    /// A `ledger.redaction` entry whose payload cannot be read.
    MalformedRedaction {
        /// Why.
        reason: String,
    },
    /// `count` entries from `position` on are older than the checkpoint interval but no
    /// signed checkpoint covers them: either the checkpoints were deleted (and the history
    /// possibly rewritten with them), or the server has not signed for too long.
    Uncheckpointed {
        /// How many entries.
        count: u64,
    },
    /// The entries do not reproduce a pinned checkpoint (one kept outside the database:
    /// `--trusted-checkpoint`, a witness): the ledger forked from what was published.
    ForkedFromPinned,
    /// A pinned checkpoint covers more entries than the chain has: the ledger was cut
    /// back (rolled back) after it was published.
    ShorterThanPinned {
        /// The number of entries the chain has.
        chain_size: u64,
    },
    /// The stored payload cannot be read as bytes (e.g. a column re-typed by hand); the
    /// entry is checked as if its payload were absent.
    PayloadUnreadable {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProblemKind::PayloadEdited => f.write_str("payload edited (payload hash mismatch)"),
            ProblemKind::HeaderEdited => f.write_str("header edited (entry hash mismatch)"),
            ProblemKind::LinkBroken => {
                f.write_str("chain broken (prev_hash does not match the previous entry)")
            }
            ProblemKind::Deleted { count } => write!(
                f,
                "{count} entr{} deleted",
                if *count == 1 { "y" } else { "ies" }
            ),
            ProblemKind::Inserted => {
                f.write_str("inserted entry (conflicts with another entry of that seq)")
            }
            ProblemKind::Reordered => f.write_str("entry stored out of order"),
            ProblemKind::Duplicated => f.write_str("duplicated entry"),
            ProblemKind::CheckpointInvalid { reason } => write!(f, "invalid checkpoint: {reason}"),
            ProblemKind::CheckpointRootMismatch => {
                f.write_str("entries do not match the signed checkpoint root")
            }
            ProblemKind::CheckpointBeyondChain { chain_size } => {
                write!(
                    f,
                    "signed checkpoint covers more entries than the chain has ({chain_size})"
                )
            }
            ProblemKind::RedactedWithoutRecord => {
                f.write_str("payload missing without a redaction record")
            }
            ProblemKind::MalformedRedaction { reason } => {
                write!(f, "malformed redaction record: {reason}")
            }
            ProblemKind::Uncheckpointed { count } => write!(
                f,
                "{count} entr{} older than the checkpoint interval but covered by no signed checkpoint (checkpoints deleted?)",
                if *count == 1 { "y is" } else { "ies are" }
            ),
            ProblemKind::ForkedFromPinned => {
                f.write_str("entries do not match a pinned checkpoint (the ledger forked from what was published)")
            }
            ProblemKind::ShorterThanPinned { chain_size } => write!(
                f,
                "a pinned checkpoint covers more entries than the chain has ({chain_size}): the ledger was cut back"
            ),
            ProblemKind::PayloadUnreadable { reason } => {
                write!(f, "payload unreadable: {reason}")
            }
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chain {} seq {} (#{}): {}",
            self.chain, self.position, self.index, self.kind
        )
    }
}

/// The state of one chain at the end of verification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainSummary {
    /// The chain.
    pub chain: u32,
    /// Next seq after the last one seen (the chain's length if nothing is missing).
    pub size: u64,
    /// Entries of this chain given to the verifier.
    pub entries: u64,
    /// Hash of the last entry (in seq order).
    #[serde(with = "crate::hex32")]
    pub head_hash: Hash,
    /// Merkle root over the entries in seq order.
    #[serde(with = "crate::hex32")]
    pub root: Hash,
}

/// Outcome of a verification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Entries given to the verifier.
    pub entries: u64,
    /// Distinct chains among them.
    pub chains: u64,
    /// Checkpoints given to the verifier.
    pub checkpoints: u64,
    /// Entries whose payload was absent (redacted).
    pub redacted: u64,
    /// Checkpoint heads that could not be compared because the chain had already
    /// passed their size when the checkpoint was given (give checkpoints first).
    pub unchecked_checkpoint_heads: u64,
    /// Every chain seen, in chain order.
    pub chain_summaries: Vec<ChainSummary>,
    /// Everything found wrong, in the order found.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

struct Parked {
    hash: Hash,
    prev_hash: Hash,
    index: u64,
}

struct Expect {
    root: Hash,
    /// Unknown for pins taken from a note (which signs size and root only).
    head_hash: Option<Hash>,
    cp_index: u64,
    /// From [`Verifier::pin`] rather than the ledger's own checkpoints.
    pinned: bool,
}

struct ChainState {
    chain: u32,
    /// Seq expected next.
    next_seq: u64,
    /// Hash of the last accepted entry.
    last_hash: Hash,
    /// `prev_hash` of the last accepted entry.
    prev_of_last: Hash,
    /// Storage index of the last accepted entry.
    last_index: u64,
    /// Another entry with the last accepted seq and the same predecessor: which of
    /// the two is the chain's is known from the next entry's `prev_hash`.
    alt: Option<(Hash, u64)>,
    tree: MerkleAccumulator,
    /// Hash of the last leaf pushed into `tree`.
    tree_head: Hash,
    /// The last accepted entry, not yet in `tree` (until `alt` is settled).
    held: Option<Hash>,
    ring: Vec<(u64, Hash)>,
    parked: BTreeMap<u64, Parked>,
    due: BTreeMap<u64, Vec<Expect>>,
    next_due: u64,
    pushed: u64,
    /// Largest size a validly signed or pinned checkpoint covers.
    covered: u64,
    /// One past the largest seq of an entry older than the freshness cutoff.
    old_upto: u64,
}

fn problem(chain: u32, position: u64, index: u64, kind: ProblemKind) -> Problem {
    Problem {
        chain,
        position,
        index,
        kind,
    }
}

impl ChainState {
    fn new(chain: u32) -> Self {
        ChainState {
            chain,
            next_seq: 0,
            last_hash: GENESIS,
            prev_of_last: GENESIS,
            last_index: 0,
            alt: None,
            tree: MerkleAccumulator::new(),
            tree_head: GENESIS,
            held: None,
            ring: vec![(u64::MAX, [0; 32]); RING],
            parked: BTreeMap::new(),
            due: BTreeMap::new(),
            next_due: u64::MAX,
            pushed: 0,
            covered: 0,
            old_upto: 0,
        }
    }

    fn place(&mut self, seq: u64, hash: Hash, prev: Hash, index: u64, out: &mut Vec<Problem>) {
        if seq == self.next_seq {
            let was_parked = self.parked.len();
            self.accept(seq, hash, prev, index, true, out);
            let first = if was_parked > 0 {
                self.drain(out)
            } else {
                None
            };
            if let Some((first_seq, first_index)) = first {
                // One entry waiting: it came too early. Several: this one came late.
                let (pos, idx) = if was_parked == 1 {
                    (first_seq, first_index)
                } else {
                    (seq, index)
                };
                out.push(problem(self.chain, pos, idx, ProblemKind::Reordered));
            }
        } else if seq > self.next_seq {
            match self.parked.entry(seq) {
                std::collections::btree_map::Entry::Occupied(o) => {
                    let kind = if o.get().hash == hash {
                        ProblemKind::Duplicated
                    } else {
                        ProblemKind::Inserted
                    };
                    out.push(problem(self.chain, seq, index, kind));
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(Parked {
                        hash,
                        prev_hash: prev,
                        index,
                    });
                }
            }
            if self.parked.len() > REORDER_WINDOW {
                self.give_up_gap(out);
            }
        } else {
            let (ring_seq, ring_hash) = self.ring[ring_slot(seq)];
            let kind = if ring_seq == seq && ring_hash == hash {
                ProblemKind::Duplicated
            } else if ring_seq == seq
                && seq + 1 == self.next_seq
                && prev == self.prev_of_last
                && self.alt.is_none()
            {
                self.alt = Some((hash, index));
                return;
            } else {
                ProblemKind::Inserted
            };
            out.push(problem(self.chain, seq, index, kind));
        }
    }

    fn accept(
        &mut self,
        seq: u64,
        hash: Hash,
        prev: Hash,
        index: u64,
        check_link: bool,
        out: &mut Vec<Problem>,
    ) {
        if let Some((alt_hash, alt_index)) = self.alt.take() {
            let alt_seq = seq.saturating_sub(1);
            if prev == alt_hash {
                // The chain runs through the second entry: the first was the stray one.
                out.push(problem(
                    self.chain,
                    alt_seq,
                    self.last_index,
                    ProblemKind::Inserted,
                ));
                self.last_hash = alt_hash;
                self.last_index = alt_index;
                self.held = Some(alt_hash);
                self.ring[ring_slot(alt_seq)] = (alt_seq, alt_hash);
            } else {
                out.push(problem(
                    self.chain,
                    alt_seq,
                    alt_index,
                    ProblemKind::Inserted,
                ));
            }
        }
        if check_link && prev != self.last_hash {
            out.push(problem(self.chain, seq, index, ProblemKind::LinkBroken));
        }
        self.flush_held(out);
        self.held = Some(hash);
        self.ring[ring_slot(seq)] = (seq, hash);
        self.prev_of_last = prev;
        self.last_hash = hash;
        self.last_index = index;
        self.next_seq = seq + 1;
    }

    /// Accepts parked entries that are now next; returns the first one's seq and index.
    fn drain(&mut self, out: &mut Vec<Problem>) -> Option<(u64, u64)> {
        let mut first = None;
        while let Some(p) = self.parked.remove(&self.next_seq) {
            first.get_or_insert((self.next_seq, p.index));
            self.accept(self.next_seq, p.hash, p.prev_hash, p.index, true, out);
        }
        first
    }

    /// Declares the seqs before the first parked entry deleted and moves on.
    fn give_up_gap(&mut self, out: &mut Vec<Problem>) {
        let Some((seq, p)) = self.parked.pop_first() else {
            return;
        };
        out.push(problem(
            self.chain,
            self.next_seq,
            p.index,
            ProblemKind::Deleted {
                count: seq - self.next_seq,
            },
        ));
        self.accept(seq, p.hash, p.prev_hash, p.index, false, out);
        self.drain(out);
    }

    fn flush_held(&mut self, out: &mut Vec<Problem>) {
        let Some(h) = self.held.take() else {
            return;
        };
        self.tree.push(&h);
        self.tree_head = h;
        if self.tree.size() == self.next_due {
            if let Some(list) = self.due.remove(&self.next_due) {
                self.compare(&list, out);
            }
            self.next_due = self.due.keys().next().copied().unwrap_or(u64::MAX);
        }
    }

    fn compare(&self, list: &[Expect], out: &mut Vec<Problem>) {
        let root = self.tree.root();
        for e in list {
            if e.root != root || e.head_hash.is_some_and(|h| h != self.tree_head) {
                let kind = if e.pinned {
                    ProblemKind::ForkedFromPinned
                } else {
                    ProblemKind::CheckpointRootMismatch
                };
                out.push(problem(self.chain, self.tree.size(), e.cp_index, kind));
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Problem>) {
        while !self.parked.is_empty() {
            self.give_up_gap(out);
        }
        if let Some((_, alt_index)) = self.alt.take() {
            out.push(problem(
                self.chain,
                self.next_seq.saturating_sub(1),
                alt_index,
                ProblemKind::Inserted,
            ));
        }
        self.flush_held(out);
        for (size, list) in std::mem::take(&mut self.due) {
            for e in list {
                let kind = match (size <= self.next_seq, e.pinned) {
                    (true, false) => ProblemKind::CheckpointRootMismatch,
                    (true, true) => ProblemKind::ForkedFromPinned,
                    (false, false) => ProblemKind::CheckpointBeyondChain {
                        chain_size: self.next_seq,
                    },
                    (false, true) => ProblemKind::ShorterThanPinned {
                        chain_size: self.next_seq,
                    },
                };
                out.push(problem(self.chain, size, e.cp_index, kind));
            }
        }
        self.next_due = u64::MAX;
        if self.old_upto > self.covered {
            out.push(problem(
                self.chain,
                self.covered,
                self.last_index,
                ProblemKind::Uncheckpointed {
                    count: self.old_upto - self.covered,
                },
            ));
        }
    }
}

fn ring_slot(seq: u64) -> usize {
    (seq as usize) & (RING - 1)
}

/// Streams a ledger: entries in storage order and the signed checkpoints, and
/// collects every [`Problem`]. Memory is O(chains + redactions), not O(entries).
///
/// Give it the checkpoints first (they are few), then the entries: a checkpoint head
/// is compared when its chain reaches the head's size, and one given after its chain
/// has passed that size is only counted in [`Report::unchecked_checkpoint_heads`].
///
/// Entries after the last checkpoint are protected by the hash chain only: whoever
/// can write to the store can cut or extend that tail unnoticed. Checkpoint often.
pub struct Verifier {
    chains: Vec<ChainState>,
    by_chain: HashMap<u32, usize>,
    last: Option<(u32, usize)>,
    entries: u64,
    checkpoints: u64,
    unchecked: u64,
    redacted: Vec<(u32, u64, Hash, u64)>,
    redaction_records: HashSet<(u32, u64, Hash)>,
    problems: Vec<Problem>,
    pins: u64,
    cutoff_ms: Option<i64>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier that has seen nothing.
    pub fn new() -> Self {
        Verifier {
            chains: Vec::new(),
            by_chain: HashMap::new(),
            last: None,
            entries: 0,
            checkpoints: 0,
            unchecked: 0,
            redacted: Vec::new(),
            redaction_records: HashSet::new(),
            problems: Vec::new(),
            pins: 0,
            cutoff_ms: None,
        }
    }

    fn slot(&mut self, chain: u32) -> usize {
        if let Some((_, i)) = self.last.filter(|&(c, _)| c == chain) {
            return i;
        }
        let i = match self.by_chain.get(&chain) {
            Some(&i) => i,
            None => {
                self.chains.push(ChainState::new(chain));
                let i = self.chains.len() - 1;
                self.by_chain.insert(chain, i);
                i
            }
        };
        self.last = Some((chain, i));
        i
    }

    /// The next entry in storage order, with its payload, or `None` if the payload was
    /// redacted.
    pub fn push(&mut self, entry: &Entry, payload: Option<&[u8]>) {
        let index = self.entries;
        self.entries += 1;
        match payload {
            Some(p) => {
                if payload_hash(p) != entry.payload_hash {
                    self.problems.push(problem(
                        entry.chain,
                        entry.seq,
                        index,
                        ProblemKind::PayloadEdited,
                    ));
                } else if entry.kind == REDACTION_KIND {
                    match RedactionRecord::parse(p) {
                        Ok(r) => {
                            self.redaction_records
                                .insert((r.chain, r.seq, r.payload_hash));
                        }
                        Err(e) => self.problems.push(problem(
                            entry.chain,
                            entry.seq,
                            index,
                            ProblemKind::MalformedRedaction {
                                reason: e.to_string(),
                            },
                        )),
                    }
                }
            }
            None => self
                .redacted
                .push((entry.chain, entry.seq, entry.payload_hash, index)),
        }
        let self_ok = entry.hash_is_valid();
        if !self_ok {
            self.problems.push(problem(
                entry.chain,
                entry.seq,
                index,
                ProblemKind::HeaderEdited,
            ));
        }
        let i = self.slot(entry.chain);
        let Some(st) = self.chains.get_mut(i) else {
            return;
        };
        st.pushed += 1;
        if self.cutoff_ms.is_some_and(|c| entry.ts_ms <= c) {
            st.old_upto = st.old_upto.max(entry.seq.saturating_add(1));
        }
        // An entry that fails its own hash but links to the last one most likely had
        // its seq edited: judge it at the position it links to.
        let seq = if !self_ok && entry.seq != st.next_seq && entry.prev_hash == st.last_hash {
            st.next_seq
        } else {
            entry.seq
        };
        st.place(seq, entry.hash, entry.prev_hash, index, &mut self.problems);
    }

    /// The next entry in storage order, whose stored payload could not be read as bytes
    /// (`reason` says why): reported as [`ProblemKind::PayloadUnreadable`], and the entry
    /// is otherwise checked like one whose payload is absent, so verification goes on.
    pub fn push_unreadable(&mut self, entry: &Entry, reason: &str) {
        self.problems.push(problem(
            entry.chain,
            entry.seq,
            self.entries,
            ProblemKind::PayloadUnreadable {
                reason: reason.to_owned(),
            },
        ));
        self.push(entry, None);
        // Not a redaction: the problem above already says what is wrong.
        self.redacted.pop();
    }

    /// A signed checkpoint, checked against `key` (select the key by
    /// `checkpoint.key_id` when keys have been rotated).
    pub fn check_checkpoint(&mut self, checkpoint: &SignedCheckpoint, key: &VerifyingKey) {
        let cp_index = self.checkpoints;
        self.checkpoints += 1;
        let heads = &checkpoint.checkpoint.heads;
        if let Err(e) = checkpoint.verify(key) {
            let reason = e.to_string();
            let kind = ProblemKind::CheckpointInvalid { reason };
            if heads.is_empty() {
                self.problems.push(problem(0, 0, cp_index, kind.clone()));
            }
            for h in heads {
                self.problems
                    .push(problem(h.chain, h.size, cp_index, kind.clone()));
            }
            return;
        }
        for h in heads {
            self.expect(
                h.chain,
                h.size,
                Expect {
                    root: h.root,
                    head_hash: Some(h.head_hash),
                    cp_index,
                    pinned: false,
                },
            );
        }
    }

    /// A checkpoint kept outside the database (a copy of what the server published, or
    /// what a witness saw), already verified by the caller: the chain must be at least
    /// `size` long and its first `size` entries must have the Merkle root `root` (and,
    /// when given, entry `size - 1` the hash `head_hash`). Give pins before the entries.
    pub fn pin(&mut self, chain: u32, size: u64, root: Hash, head_hash: Option<Hash>) {
        let cp_index = self.pins;
        self.pins += 1;
        self.expect(
            chain,
            size,
            Expect {
                root,
                head_hash,
                cp_index,
                pinned: true,
            },
        );
    }

    /// Entries whose time is at or before `cutoff_ms` (now minus one checkpoint interval)
    /// must be covered by a validly signed or pinned checkpoint, or verification reports
    /// [`ProblemKind::Uncheckpointed`]: the server signs every interval, so old entries
    /// without a checkpoint mean the checkpoints were removed. Call before the entries.
    pub fn require_checkpoints_before(&mut self, cutoff_ms: i64) {
        self.cutoff_ms = Some(cutoff_ms);
    }

    fn expect(&mut self, chain: u32, size: u64, expect: Expect) {
        if size == 0 {
            return;
        }
        let i = self.slot(chain);
        let Some(st) = self.chains.get_mut(i) else {
            return;
        };
        st.covered = st.covered.max(size);
        let have = st.tree.size();
        if size > have {
            st.due.entry(size).or_default().push(expect);
            st.next_due = st.next_due.min(size);
        } else if size == have {
            st.compare(&[expect], &mut self.problems);
        } else {
            self.unchecked += 1;
        }
    }

    /// Settles what can only be judged at the end (gaps, the last entries, redaction
    /// records, checkpoints beyond the chains) and returns the report.
    pub fn finish(mut self) -> Report {
        let mut problems = std::mem::take(&mut self.problems);
        for st in &mut self.chains {
            st.finish(&mut problems);
        }
        for (chain, seq, hash, index) in &self.redacted {
            if !self.redaction_records.contains(&(*chain, *seq, *hash)) {
                problems.push(problem(
                    *chain,
                    *seq,
                    *index,
                    ProblemKind::RedactedWithoutRecord,
                ));
            }
        }
        let mut chain_summaries: Vec<ChainSummary> = self
            .chains
            .iter()
            .filter(|st| st.pushed > 0)
            .map(|st| ChainSummary {
                chain: st.chain,
                size: st.next_seq,
                entries: st.pushed,
                head_hash: st.last_hash,
                root: st.tree.root(),
            })
            .collect();
        chain_summaries.sort_by_key(|s| s.chain);
        Report {
            entries: self.entries,
            chains: chain_summaries.len() as u64,
            checkpoints: self.checkpoints,
            redacted: self.redacted.len() as u64,
            unchecked_checkpoint_heads: self.unchecked,
            chain_summaries,
            problems,
        }
    }
}
