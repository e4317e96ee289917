//! The SQLite writer thread: group commit of every write of the store, on the only
//! read-write connection (see the module docs of `sqlite`).

use std::sync::{Arc, Mutex};

use assent_ledger::{ChainHead, Entry};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::sql::{seq_to_i64, sqlite_run};
use crate::stats::WriteStats;
use crate::tally::Counts;
use crate::types::{AppendItem, receipt_time};
use crate::writer::{
    self as requests, INSERT_CHECKPOINT, INSERT_POLICY, LATEST_POLICY_FLOOR, MAX_BATCH, Op,
    POLICY_VERSION_KIND, Req, next_policy_row,
};

use super::flush::{
    CkptShared, FLUSH_WAIT, Flushed, GATHER, Synced, WAL_CATCH_UP_FRAMES, WAL_HARD_FRAMES,
    WAL_RESTART_FRAMES, passive_checkpoint,
};
use super::open::resync_head;

pub(crate) struct Writer {
    /// `None` only after shutdown.
    pub(crate) conn: Option<Connection>,
    pub(crate) head: ChainHead,
    /// Committed batches go to the syncer, which answers them once the WAL is on disk.
    pub(crate) sync: Option<std::sync::mpsc::Sender<Synced>>,
    pub(crate) syncer: Option<std::thread::JoinHandle<()>>,
    /// Batches the syncer has answered.
    pub(crate) flushed: Arc<Flushed>,
    /// Batches handed to the syncer.
    pub(crate) sent: u64,
    pub(crate) stats: Arc<WriteStats>,
    /// Set by the syncer when a flush failed: no more writes.
    pub(crate) failed: Arc<Mutex<Option<StoreError>>>,
    /// WAL size as last seen by the checkpointer.
    pub(crate) ckpt: Arc<CkptShared>,
    /// Dropping the sender stops the checkpointer thread.
    pub(crate) checkpointer: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// Why the optimistic one-transaction attempt at a batch failed.
enum Fail {
    /// A request failed on its own (constraint, missing row, ...): replay the batch.
    Request(StoreError),
    /// BEGIN or COMMIT failed: the whole batch failed.
    Batch(StoreError),
}

impl Writer {
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            self.await_flush(&rx);
            if rx.blocking_recv_many(&mut buf, MAX_BATCH) == 0 {
                break; // every handle was dropped
            }
            let (ops, shutdown) = requests::split_batch(&mut buf);
            if !ops.is_empty() {
                self.process(ops);
            }
            if let Some(ack) = shutdown {
                requests::refuse_rest(&mut rx);
                self.close_conn();
                let _ = ack.send(());
                return;
            }
        }
        self.close_conn();
    }

    /// Group commit aligned on the flushes: while the syncer is flushing earlier batches and
    /// few requests are queued, wait for that flush before starting the next transaction, so
    /// that the requests arriving meanwhile share one transaction. Each transaction rewrites
    /// the partly filled last page of every table and index it touches, and answers wait for
    /// the flush anyway: a transaction per flush instead of one per wake-up writes fewer
    /// pages for the same durability and about the same latency.
    fn await_flush(&self, rx: &mpsc::Receiver<Req>) {
        if rx.len() >= GATHER {
            return;
        }
        let count = self.flushed.count.lock().unwrap_or_else(|p| p.into_inner());
        if *count >= self.sent {
            return;
        }
        let waited = self
            .flushed
            .cond
            .wait_timeout_while(count, FLUSH_WAIT, |c| *c < self.sent);
        drop(waited);
        // The flush woke this thread as soon as it ended; on a busy core the request handlers
        // may still hold parsed requests to queue: let them run first.
        std::thread::yield_now();
    }

    /// Stops the checkpointer, waits for the syncer to answer everything, then closes the
    /// connection (which checkpoints what is left).
    fn close_conn(&mut self) {
        if let Some((stop, h)) = self.checkpointer.take() {
            drop(stop);
            let _ = h.join();
        }
        drop(self.sync.take());
        if let Some(h) = self.syncer.take() {
            let _ = h.join();
        }
        if let Some(Err((_, e))) = self.conn.take().map(Connection::close) {
            tracing::error!(error = %e, "closing the SQLite write connection failed");
        }
    }

    fn process(&mut self, mut ops: Vec<Op>) {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(e) = failed {
            for op in ops {
                op.answer(Some(&e));
            }
            return;
        }
        let start = self.head.clone();
        match self.fast(&mut ops) {
            Ok(()) => {}
            Err(Fail::Batch(e)) => {
                self.head = start;
                tracing::error!(error = %e, requests = ops.len(), "SQLite batch commit failed");
                for op in &mut ops {
                    op.fail_batch(&e);
                }
            }
            Err(Fail::Request(e)) if ops.len() == 1 => {
                self.head = start;
                for op in &mut ops {
                    op.fail(e.clone());
                }
            }
            Err(Fail::Request(_)) => {
                self.head = start.clone();
                self.slow(&mut ops, start);
            }
        }
        self.stats.transaction(ops.len());
        let unsent = match &self.sync {
            Some(sync) => sync.send(ops).err().map(|e| e.0),
            None => Some(ops),
        };
        if unsent.is_none() {
            self.sent += 1;
        }
        let stopped = StoreError::Internal("the WAL syncer stopped".to_owned());
        for op in unsent.into_iter().flatten() {
            op.answer(Some(&stopped));
        }
        self.maybe_checkpoint();
    }

    /// Lets the WAL start over (see [`CkptShared`]).
    fn maybe_checkpoint(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        let log = self.ckpt.log.load(Relaxed);
        let pending = self.ckpt.pending.load(Relaxed);
        let due =
            (log >= WAL_RESTART_FRAMES && pending <= WAL_CATCH_UP_FRAMES) || log >= WAL_HARD_FRAMES;
        if !due {
            return;
        }
        if let Some(conn) = &self.conn {
            match passive_checkpoint(conn) {
                Ok((log, done)) => {
                    // The next write transaction restarts the WAL if nothing is pending.
                    let left = log - done;
                    self.ckpt
                        .log
                        .store(if left == 0 { 0 } else { log }, Relaxed);
                    self.ckpt.pending.store(left, Relaxed);
                }
                Err(e) => tracing::error!(error = %e, "SQLite checkpoint failed"),
            }
        }
    }

    /// Whole batch in one transaction, no savepoints (the common case).
    fn fast(&mut self, ops: &mut [Op]) -> Result<(), Fail> {
        let Writer { conn, head, .. } = self;
        let conn = conn.as_mut().ok_or(Fail::Batch(StoreError::Closed))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Fail::Batch(e.into()))?;
        resync_head(&tx, head).map_err(Fail::Batch)?;
        for op in ops.iter_mut() {
            apply(&tx, head, op).map_err(Fail::Request)?;
        }
        let mut counts = Counts::default();
        ops.iter()
            .for_each(|op| crate::writer::count_op(&mut counts, op));
        counts.write_sqlite(&tx, head.chain).map_err(Fail::Batch)?;
        tx.commit().map_err(|e| Fail::Batch(e.into()))?;
        Ok(())
    }

    /// Replays a batch with one savepoint per request so that only failing requests fail.
    fn slow(&mut self, ops: &mut [Op], start: ChainHead) {
        let Writer { conn, head, .. } = self;
        let fail_all =
            |ops: &mut [Op], e: &StoreError| ops.iter_mut().for_each(|op| op.fail_batch(e));
        let Some(conn) = conn.as_mut() else {
            return fail_all(ops, &StoreError::Closed);
        };
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                *head = start;
                return fail_all(ops, &StoreError::from(e));
            }
        };
        if let Err(e) = resync_head(&tx, head) {
            *head = start;
            return fail_all(ops, &e);
        }
        let mut ok = vec![false; ops.len()];
        for (k, op) in ops.iter_mut().enumerate() {
            let before = head.clone();
            let r = match tx.savepoint() {
                Err(e) => Err(e.into()),
                Ok(sp) => match apply(&sp, head, op) {
                    Ok(()) => sp.commit().map_err(StoreError::from),
                    // Dropping the savepoint rolls it back.
                    Err(e) => Err(e),
                },
            };
            match r {
                Ok(()) => ok[k] = true,
                Err(e) => {
                    *head = before;
                    op.fail(e);
                }
            }
        }
        // The counters of the requests that succeeded only.
        let mut counts = Counts::default();
        ops.iter()
            .zip(&ok)
            .filter(|(_, ok)| **ok)
            .for_each(|(op, _)| crate::writer::count_op(&mut counts, op));
        let counted = counts.write_sqlite(&tx, head.chain);
        drop(counts);
        if let Err(e) = counted.and_then(|()| tx.commit().map_err(StoreError::from)) {
            *head = start;
            tracing::error!(error = %e, requests = ops.len(), "SQLite batch commit failed");
            fail_all(ops, &e);
        }
    }
}

/// Applies one request inside the writer's open transaction and records its result in
/// the request's answer (sent once the batch is durable).
fn apply(c: &Connection, head: &mut ChainHead, op: &mut Op) -> Result<(), StoreError> {
    match op {
        Op::Append(items, answer) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items.iter() {
                out.push(append_one(c, head, it)?);
            }
            answer.set(Ok(out));
        }
        Op::Stmts(r, answer) => {
            let counts = sqlite_run(c, &r.stmts, r.guarded)?;
            if let (Some(_), Some(ledger)) = (&counts, &r.ledger) {
                append_one(c, head, ledger)?;
            }
            answer.set(Ok(counts));
        }
        Op::Redact(r, answer) => {
            let (chain, seq) = (r.chain, r.seq);
            let s = seq_to_i64(seq)?;
            let redacted: Option<bool> = c
                .prepare_cached(
                    "SELECT payload IS NULL FROM ledger_entries WHERE chain = ?1 AND seq = ?2",
                )?
                .query_row(params![chain, s], |r| r.get(0))
                .optional()?;
            match redacted {
                None => return Err(StoreError::NotFound(format!("ledger entry {chain}/{seq}"))),
                Some(true) => {
                    return Err(StoreError::Conflict(format!(
                        "ledger entry {chain}/{seq} is already redacted"
                    )));
                }
                Some(false) => {}
            }
            c.prepare_cached(
                "UPDATE ledger_entries SET payload = NULL WHERE chain = ?1 AND seq = ?2",
            )?
            .execute(params![chain, s])?;
            // Only chain 0 exists here (the entry was found above). The consent leaves a
            // tombstone (its receipt id only), so that its receipt answers 410, not 404.
            c.prepare_cached(
                "INSERT OR IGNORE INTO consent_tombstones (receipt_id, erased_at_ms) \
                 SELECT receipt_id, ?2 FROM consents WHERE seq = ?1",
            )?
            .execute(params![s, r.item.ts_ms])?;
            c.prepare_cached("DELETE FROM consents WHERE seq = ?1")?
                .execute([s])?;
            c.prepare_cached("DELETE FROM consent_receipt_ids WHERE seq = ?1")?
                .execute([s])?;
            answer.set(Ok(Box::new(append_one(c, head, &r.item)?)));
        }
        Op::InsertPolicy(p, answer) => {
            let prev: Option<(i64, i64)> = c
                .prepare_cached(LATEST_POLICY_FLOOR)?
                .query_row([&p.v.site], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let row = next_policy_row(&p.v, prev, p.ts_ms);
            let entry = head.append(p.ts_ms, POLICY_VERSION_KIND, &p.payload);
            insert_entry(c, &entry, &p.payload)?;
            c.prepare_cached(INSERT_POLICY)?.execute(params![
                row.site,
                row.version,
                row.content_hash,
                row.requires_fresh_consent,
                row.consent_floor,
                row.changes_json,
                row.registry_json,
                row.source_toml,
                row.created_at_ms
            ])?;
            answer.set(Ok(Box::new((row, entry))));
        }
        Op::Checkpoint(cp, answer) => {
            let id = c
                .prepare_cached(INSERT_CHECKPOINT)?
                .query_row(params![cp.0, cp.1], |r| r.get(0))?;
            answer.set(Ok(id));
        }
    }
    Ok(())
}

fn append_one(c: &Connection, head: &mut ChainHead, it: &AppendItem) -> Result<Entry, StoreError> {
    let entry = head.append(it.ts_ms, &it.kind, &it.payload);
    insert_entry(c, &entry, &it.payload)?;
    if let Some(k) = &it.consent {
        let seq = seq_to_i64(entry.seq)?;
        c.prepare_cached(
            "INSERT INTO consents (seq, receipt_id, site, subject, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            seq,
            k.receipt_id,
            k.site,
            k.subject,
            k.created_at_ms
        ])?;
        if receipt_time(&k.receipt_id) != Some(k.created_at_ms) {
            c.prepare_cached("INSERT INTO consent_receipt_ids (seq, receipt_id) VALUES (?1, ?2)")?
                .execute(params![seq, k.receipt_id])?;
        }
    }
    Ok(entry)
}

fn insert_entry(c: &Connection, e: &Entry, payload: &[u8]) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO ledger_entries (chain, seq, ts_ms, kind, payload_hash, prev_hash, hash, payload) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.chain,
        seq_to_i64(e.seq)?,
        e.ts_ms,
        e.kind,
        &e.payload_hash[..],
        &e.prev_hash[..],
        &e.hash[..],
        payload
    ])?;
    Ok(())
}
