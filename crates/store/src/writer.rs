//! Requests to the group-commit writers (SQLite thread, PostgreSQL task).
//!
//! Callers send a [`Req`] and await the oneshot. A writer takes everything queued (up to
//! [`MAX_BATCH`] requests), applies it in ONE transaction, commits, then answers every waiter.
//! If one request fails (e.g. a duplicate receipt id), the batch is rolled back and replayed
//! so that only that request fails; if the commit fails, every waiter gets the error. The
//! in-memory chain head is restored to its pre-batch state in both cases.

use assent_ledger::{ChainHead, Entry};
use tokio::sync::{mpsc, oneshot};

use crate::{AppendItem, NewPolicyVersion, PolicyVersionRow, StoreError, TokenRow};

/// Counters of a store's write path, for `/metrics`: requests per transaction and per
/// flush show how well group commit works under the current load.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Write transactions committed (SQLite: by the writer thread; PostgreSQL: by the writer
    /// task).
    pub transactions: std::sync::atomic::AtomicU64,
    /// Write requests answered (each usually one ledger append).
    pub requests: std::sync::atomic::AtomicU64,
    /// Durable flushes (SQLite: WAL `fdatasync`; PostgreSQL: one per commit).
    pub flushes: std::sync::atomic::AtomicU64,
    /// Flushes by duration: one count per bound of [`FLUSH_BOUNDS_US`], then the rest.
    flush_hist: [std::sync::atomic::AtomicU64; FLUSH_BOUNDS_US.len() + 1],
    /// Time spent in flushes, in microseconds.
    flush_us: std::sync::atomic::AtomicU64,
}

/// Upper bounds (microseconds) of the flush-duration histogram. Every acknowledged write
/// waits for its group's flush, so these are the disk's share of the write latency.
pub const FLUSH_BOUNDS_US: [u64; 9] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
];

/// A reading of [`WriteStats`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSnapshot {
    pub transactions: u64,
    pub requests: u64,
    pub flushes: u64,
    /// Flushes per bucket of [`FLUSH_BOUNDS_US`] (not cumulative), the last one unbounded.
    pub flush_hist: [u64; FLUSH_BOUNDS_US.len() + 1],
    pub flush_us: u64,
}

impl WriteStats {
    /// One committed transaction answering `requests` requests.
    pub(crate) fn transaction(&self, requests: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.transactions.fetch_add(1, Relaxed);
        self.requests.fetch_add(requests as u64, Relaxed);
    }

    /// One durable flush, which took `took`.
    pub(crate) fn flush(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = FLUSH_BOUNDS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(FLUSH_BOUNDS_US.len());
        if let Some(b) = self.flush_hist.get(bucket) {
            b.fetch_add(1, Relaxed);
        }
        self.flush_us.fetch_add(us, Relaxed);
        self.flushes.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> WriteSnapshot {
        use std::sync::atomic::Ordering::Relaxed;
        WriteSnapshot {
            transactions: self.transactions.load(Relaxed),
            requests: self.requests.load(Relaxed),
            flushes: self.flushes.load(Relaxed),
            flush_hist: std::array::from_fn(|i| self.flush_hist[i].load(Relaxed)),
            flush_us: self.flush_us.load(Relaxed),
        }
    }
}

/// Requests taken per batch (a request usually carries one append).
pub(crate) const MAX_BATCH: usize = 1024;
/// Queue depth in requests; senders wait when it is full (back-pressure).
pub(crate) const QUEUE_DEPTH: usize = 8192;

/// A write operation.
#[derive(Debug)]
pub(crate) enum Op {
    Append(Vec<AppendItem>),
    Redact {
        chain: u32,
        seq: u64,
        /// Boxed for the same reason as `InsertPolicy::v`.
        item: Box<AppendItem>,
    },
    InsertPolicy {
        /// Boxed: the largest variant would otherwise set the size of every `Op`, and every
        /// consent's future holds a few of them.
        v: Box<NewPolicyVersion>,
        payload: Vec<u8>,
        ts_ms: i64,
    },
    /// Rights-request statements and the ledger entry that records them, in one
    /// transaction (boxed like `InsertPolicy::v`).
    Rights(Box<RightsOp>),
    // The rest only go through the writer on SQLite (single-writer database).
    InsertToken(TokenRow),
    RevokeToken {
        id: String,
        ts_ms: i64,
    },
    InsertCheckpoint {
        ts_ms: i64,
        body_json: String,
    },
    MetaSet {
        key: String,
        value: String,
    },
}

/// See [`Op::Rights`]: with `guarded`, the first statement must change exactly one row;
/// when it changes none, nothing is written (the other statements and the ledger entry are
/// skipped) and the answer is `Reply::Rights(None)`.
#[derive(Debug)]
pub(crate) struct RightsOp {
    pub stmts: Vec<(String, Vec<crate::rights::V>)>,
    pub guarded: bool,
    pub ledger: AppendItem,
}

/// The answer to an [`Op`].
#[derive(Debug)]
pub(crate) enum Reply {
    Entries(Vec<Entry>),
    Entry(Entry),
    Policy(PolicyVersionRow, Entry),
    Unit,
    Bool(bool),
    /// Rows changed per statement and the ledger entry; `None` when the guard failed.
    Rights(Option<(Vec<u64>, Entry)>),
    Id(i64),
}

pub(crate) type ReplyTx = oneshot::Sender<Result<Reply, StoreError>>;

pub(crate) enum Req {
    Op(Op, ReplyTx),
    /// Finish everything queued before this, then stop; the sender is answered when done.
    Shutdown(oneshot::Sender<()>),
}

/// Sends `op` to a writer and waits for its answer.
pub(crate) async fn call(tx: &mpsc::Sender<Req>, op: Op) -> Result<Reply, StoreError> {
    // Reserve a slot, then send without awaiting: the future never holds a second copy of the
    // request inside a `send` future.
    let permit = tx.reserve().await.map_err(|_| StoreError::Closed)?;
    let (rtx, rrx) = oneshot::channel();
    permit.send(Req::Op(op, rtx));
    rrx.await.map_err(|_| StoreError::Closed)?
}

/// Asks a writer to flush and stop; returns when it has.
pub(crate) async fn shutdown(tx: &mpsc::Sender<Req>) {
    let (stx, srx) = oneshot::channel();
    if tx.send(Req::Shutdown(stx)).await.is_ok() {
        let _ = srx.await;
    }
}

/// Splits a received batch at the first shutdown request.
pub(crate) fn split_batch(
    reqs: &mut Vec<Req>,
) -> (Vec<(Op, ReplyTx)>, Option<oneshot::Sender<()>>) {
    let mut ops = Vec::with_capacity(reqs.len());
    let mut shutdown = None;
    for r in reqs.drain(..) {
        match r {
            Req::Op(op, tx) if shutdown.is_none() => ops.push((op, tx)),
            // Requests after a shutdown in the same batch are refused.
            Req::Op(_, tx) => {
                let _ = tx.send(Err(StoreError::Closed));
            }
            Req::Shutdown(s) => {
                if shutdown.is_none() {
                    shutdown = Some(s);
                } else {
                    let _ = s.send(());
                }
            }
        }
    }
    (ops, shutdown)
}

/// After a shutdown: refuse whatever is still queued.
pub(crate) fn refuse_rest(rx: &mut mpsc::Receiver<Req>) {
    rx.close();
    while let Ok(r) = rx.try_recv() {
        match r {
            Req::Op(_, tx) => {
                let _ = tx.send(Err(StoreError::Closed));
            }
            Req::Shutdown(s) => {
                let _ = s.send(());
            }
        }
    }
}

/// Copy of a chain head (to restore it when a batch fails).
pub(crate) fn snapshot(h: &ChainHead) -> ChainHead {
    h.clone()
}

/// Builds the row for a new policy version given the latest `(version, floor)` of the site.
pub(crate) fn next_policy_row(
    v: &NewPolicyVersion,
    prev: Option<(i64, i64)>,
    ts_ms: i64,
) -> PolicyVersionRow {
    let version = prev.map_or(1, |(n, _)| n + 1);
    let consent_floor = match prev {
        None => 1,
        Some(_) if v.requires_fresh_consent => version,
        Some((_, floor)) => floor,
    };
    PolicyVersionRow {
        site: v.site.clone(),
        version,
        content_hash: v.content_hash.clone(),
        requires_fresh_consent: v.requires_fresh_consent,
        changes_json: v.changes_json.clone(),
        registry_json: v.registry_json.clone(),
        source_toml: v.source_toml.clone(),
        created_at_ms: ts_ms,
        consent_floor,
    }
}

/// Ledger entry kind recorded with each policy version.
pub(crate) const POLICY_VERSION_KIND: &str = "policy.version";

/// `u64` sequence number to SQL `BIGINT`.
pub(crate) fn seq_to_i64(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::NotFound(format!("sequence number {seq}")))
}

/// SQL `BIGINT` to `u64` sequence number.
pub(crate) fn seq_from_i64(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("negative sequence number {seq}")))
}

/// SQL `INTEGER` chain to `u32`.
pub(crate) fn chain_from_i64(chain: i64) -> Result<u32, StoreError> {
    u32::try_from(chain).map_err(|_| StoreError::Corrupt(format!("chain number {chain}")))
}

/// 32-byte hash column.
pub(crate) fn hash32(b: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(b)
        .map_err(|_| StoreError::Corrupt(format!("{what} has {} bytes, expected 32", b.len())))
}

/// Wrong reply variant: a bug.
pub(crate) fn unexpected(r: Reply) -> StoreError {
    StoreError::Internal(format!("unexpected writer reply {r:?}"))
}
