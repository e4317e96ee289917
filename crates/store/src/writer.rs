//! Requests to the group-commit writers (SQLite thread, PostgreSQL task).
//!
//! Callers send an [`Op`] and await its oneshot. A writer takes everything queued (up to
//! [`MAX_BATCH`] requests), applies it in ONE transaction, commits, then answers every waiter.
//! If one request fails (e.g. a duplicate receipt id), the batch is rolled back and replayed
//! so that only that request fails; if the commit fails, every waiter gets the error. The
//! in-memory chain head is restored to its pre-batch state in both cases.
//!
//! Each operation carries its own [`Answer`], typed by what the caller gets back: the
//! compiler pairs every operation with its result, so no answer can be of the wrong kind.
//! A writer records the result in the answer when it applies the operation and sends it
//! once the batch is committed (and, on SQLite, flushed); an error of the whole batch
//! replaces a recorded success.

use assent_ledger::Entry;
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;
use crate::sql::Stmt;
use crate::types::{AppendItem, NewPolicyVersion, PolicyVersionRow};

/// Requests taken per batch (a request usually carries one append).
pub(crate) const MAX_BATCH: usize = 1024;
/// Queue depth in requests; senders wait when it is full (back-pressure).
pub(crate) const QUEUE_DEPTH: usize = 8192;

/// The caller's side of one request: its oneshot and, once the writer applied the
/// request, the result to send when the batch is durable.
#[derive(Debug)]
pub(crate) struct Answer<T> {
    tx: oneshot::Sender<Result<T, StoreError>>,
    out: Option<Result<T, StoreError>>,
}

impl<T> Answer<T> {
    /// Records the request's own result (sent later by [`Answer::send`]).
    pub(crate) fn set(&mut self, r: Result<T, StoreError>) {
        self.out = Some(r);
    }

    /// Records the failure of the whole batch (BEGIN, COMMIT): it replaces a recorded
    /// success; a request's own error is kept.
    fn set_batch_err(&mut self, e: &StoreError) {
        if !matches!(self.out, Some(Err(_))) {
            self.out = Some(Err(e.clone()));
        }
    }

    /// Sends the result. `batch`, the error of the whole batch (failed BEGIN, COMMIT or
    /// flush), replaces a success; a request's own error is kept.
    fn send(self, batch: Option<&StoreError>) {
        let r = match (self.out, batch) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(e.clone()),
            (Some(Ok(v)), None) => Ok(v),
            // Every path through a writer either records a result or fails the batch.
            (None, None) => Err(StoreError::Internal(
                "the writer answered a request it did not apply".to_owned(),
            )),
        };
        let _ = self.tx.send(r);
    }
}

/// A write operation with its typed answer.
#[derive(Debug)]
pub(crate) enum Op {
    Append(Vec<AppendItem>, Answer<Vec<Entry>>),
    /// Boxed (request and answer) for the same reason as `InsertPolicy`.
    Redact(Box<Redact>, Answer<Box<Entry>>),
    /// Boxed (request and answer): the largest variant would otherwise set the size of
    /// every `Op`, and the queue holds thousands of them (see the size check below).
    InsertPolicy(Box<InsertPolicy>, Answer<Box<(PolicyVersionRow, Entry)>>),
    /// Statements (and optionally the ledger entry that records them) in one transaction;
    /// answered with the rows each statement changed, `None` when the guard failed.
    Stmts(Box<StmtsOp>, Answer<Option<Vec<u64>>>),
    /// A signed checkpoint; answered with its id.
    Checkpoint(Box<(i64, String)>, Answer<i64>),
}

/// See [`Op::Redact`].
#[derive(Debug)]
pub(crate) struct Redact {
    pub chain: u32,
    pub seq: u64,
    pub item: AppendItem,
}

/// See [`Op::InsertPolicy`].
#[derive(Debug)]
pub(crate) struct InsertPolicy {
    pub v: NewPolicyVersion,
    pub payload: Vec<u8>,
    pub ts_ms: i64,
}

/// See [`Op::Stmts`]: with `guarded`, the first statement must change exactly one row;
/// when it changes none, nothing is written (the other statements and the ledger entry are
/// skipped) and the answer is `None`.
#[derive(Debug)]
pub(crate) struct StmtsOp {
    pub stmts: Vec<Stmt>,
    pub guarded: bool,
    pub ledger: Option<AppendItem>,
}

impl Op {
    /// Records `e` as this request's own error.
    pub(crate) fn fail(&mut self, e: StoreError) {
        match self {
            Op::Append(_, a) => a.set(Err(e)),
            Op::Redact(_, a) => a.set(Err(e)),
            Op::InsertPolicy(_, a) => a.set(Err(e)),
            Op::Stmts(_, a) => a.set(Err(e)),
            Op::Checkpoint(_, a) => a.set(Err(e)),
        }
    }

    /// Records the failure of the whole batch; see [`Answer::set_batch_err`].
    pub(crate) fn fail_batch(&mut self, e: &StoreError) {
        match self {
            Op::Append(_, a) => a.set_batch_err(e),
            Op::Redact(_, a) => a.set_batch_err(e),
            Op::InsertPolicy(_, a) => a.set_batch_err(e),
            Op::Stmts(_, a) => a.set_batch_err(e),
            Op::Checkpoint(_, a) => a.set_batch_err(e),
        }
    }

    /// Sends the recorded result; see [`Answer::send`].
    pub(crate) fn answer(self, batch: Option<&StoreError>) {
        match self {
            Op::Append(_, a) => a.send(batch),
            Op::Redact(_, a) => a.send(batch),
            Op::InsertPolicy(_, a) => a.send(batch),
            Op::Stmts(_, a) => a.send(batch),
            Op::Checkpoint(_, a) => a.send(batch),
        }
    }
}

/// A consent's request is moved through the queue and the batch vectors: keep it small.
const _: () = assert!(std::mem::size_of::<Req>() <= 88);

pub(crate) enum Req {
    Op(Op),
    /// Finish everything queued before this, then stop; the sender is answered when done.
    Shutdown(oneshot::Sender<()>),
}

/// Sends the operation built by `op` (around its answer) to a writer and waits for the
/// answer.
pub(crate) async fn call<T>(
    tx: &mpsc::Sender<Req>,
    op: impl FnOnce(Answer<T>) -> Op,
) -> Result<T, StoreError> {
    // Reserve a slot, then send without awaiting: the future never holds a second copy of the
    // request inside a `send` future.
    let permit = tx.reserve().await.map_err(|_| StoreError::Closed)?;
    let (rtx, rrx) = oneshot::channel();
    permit.send(Req::Op(op(Answer { tx: rtx, out: None })));
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
pub(crate) fn split_batch(reqs: &mut Vec<Req>) -> (Vec<Op>, Option<oneshot::Sender<()>>) {
    let mut ops = Vec::with_capacity(reqs.len());
    let mut shutdown = None;
    for r in reqs.drain(..) {
        match r {
            Req::Op(op) if shutdown.is_none() => ops.push(op),
            // Requests after a shutdown in the same batch are refused.
            Req::Op(op) => op.answer(Some(&StoreError::Closed)),
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
            Req::Op(op) => op.answer(Some(&StoreError::Closed)),
            Req::Shutdown(s) => {
                let _ = s.send(());
            }
        }
    }
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
    v.to_row(version, consent_floor, ts_ms)
}

/// Ledger entry kind recorded with each policy version.
pub(crate) const POLICY_VERSION_KIND: &str = "policy.version";

/// The SQL both writers run for [`Op::Checkpoint`] (`?1` time, `?2` body).
pub(crate) const INSERT_CHECKPOINT: &str =
    "INSERT INTO ledger_checkpoints (ts_ms, body_json) VALUES (?1, ?2) RETURNING id";

/// The SQL both writers run to find a site's latest `(version, consent_floor)`.
pub(crate) const LATEST_POLICY_FLOOR: &str = "SELECT version, consent_floor FROM policy_versions \
     WHERE site = ?1 ORDER BY version DESC LIMIT 1";

/// The SQL both writers run to store a policy version (`?1..?9` in this column order).
pub(crate) const INSERT_POLICY: &str = "INSERT INTO policy_versions (site, version, \
     content_hash, requires_fresh_consent, consent_floor, changes_json, registry_json, \
     source_toml, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Adds the tallies of an operation's consents (appends, and statements with a ledger entry)
/// to the batch's counters.
pub(crate) fn count_op<'a>(counts: &mut crate::tally::Counts<'a>, op: &'a Op) {
    let items = match op {
        Op::Append(items, _) => items.as_slice(),
        Op::Stmts(r, _) => r.ledger.as_slice(),
        _ => &[],
    };
    for it in items {
        if let Some(k) = &it.consent
            && let Some(t) = &k.tally
        {
            counts.add(&k.site, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered<T: std::fmt::Debug>(
        out: Option<Result<T, StoreError>>,
        batch: Option<&StoreError>,
    ) -> Result<T, StoreError> {
        let (tx, mut rx) = oneshot::channel();
        Answer { tx, out }.send(batch);
        rx.try_recv().unwrap()
    }

    /// A failed batch replaces a recorded success but not a request's own error; a request
    /// that was never applied is an error, never a silent success.
    #[test]
    fn answers_keep_their_own_errors() {
        let own = StoreError::Conflict("dup".into());
        assert_eq!(answered(Some(Ok(7)), None).unwrap(), 7);
        assert!(matches!(
            answered(Some(Ok(7)), Some(&StoreError::Closed)),
            Err(StoreError::Closed)
        ));
        assert!(matches!(
            answered::<i64>(Some(Err(own)), Some(&StoreError::Closed)),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            answered::<i64>(None, None),
            Err(StoreError::Internal(_))
        ));
        let (tx, _rx) = oneshot::channel::<Result<i64, StoreError>>();
        let mut a = Answer {
            tx,
            out: Some(Ok(1)),
        };
        a.set_batch_err(&StoreError::Closed);
        assert!(matches!(a.out, Some(Err(StoreError::Closed))));
    }
}
