//! The SQLite store's two helper threads: the *syncer*, which makes committed batches
//! durable (WAL `fdatasync`) before their callers are answered, and the *checkpointer*,
//! which copies WAL frames into the database file off the writer's path. See the module
//! docs of `sqlite` for the durability argument.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::stats::WriteStats;
use crate::writer::Op;

use super::open::sync_parent_dir;

/// Checkpointing is moved off the writer: the writer connection runs with
/// `wal_autocheckpoint=0` and a separate connection on its own thread copies WAL frames into
/// the database (`PASSIVE`, concurrently with the writer, including the fsyncs). The WAL can
/// only start over from its beginning when it is completely checkpointed at the moment the
/// writer begins a transaction, which rarely happens by chance under continuous load, so the
/// writer itself runs a (by then small) checkpoint when the WAL is large and the checkpointer
/// has nearly caught up, and a full one if the WAL ever reaches [`WAL_HARD_FRAMES`].
#[derive(Default)]
pub(crate) struct CkptShared {
    /// Frames in the WAL.
    pub(crate) log: std::sync::atomic::AtomicI64,
    /// Frames not yet copied into the database.
    pub(crate) pending: std::sync::atomic::AtomicI64,
}

/// WAL size (frames of a page each) from which the writer tries to let the WAL start over.
pub(crate) const WAL_RESTART_FRAMES: i64 = 4096;
/// ... provided that at most this many frames still need copying.
pub(crate) const WAL_CATCH_UP_FRAMES: i64 = 1024;
/// WAL size at which the writer checkpoints whatever the cost.
pub(crate) const WAL_HARD_FRAMES: i64 = 65_536;
/// Pause between checkpointer passes when there is little to do.
pub(crate) const CKPT_IDLE: Duration = Duration::from_millis(50);

pub(crate) struct Checkpointer {
    pub(crate) conn: Connection,
    pub(crate) shared: Arc<CkptShared>,
}

impl Checkpointer {
    pub(crate) fn run(self, stop: std::sync::mpsc::Receiver<()>) {
        use std::sync::atomic::Ordering::Relaxed;
        let mut pause = CKPT_IDLE;
        // Runs until the writer drops the sender.
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(pause) {
            match passive_checkpoint(&self.conn) {
                Ok((log, done)) => {
                    self.shared.log.store(log, Relaxed);
                    self.shared.pending.store(log - done, Relaxed);
                    // Busy WAL: go again soon.
                    pause = if log - done > WAL_CATCH_UP_FRAMES || log > WAL_RESTART_FRAMES {
                        Duration::from_millis(5)
                    } else {
                        CKPT_IDLE
                    };
                }
                Err(e) => {
                    tracing::error!(error = %e, "SQLite checkpoint failed");
                    pause = Duration::from_secs(1);
                }
            }
        }
        if let Err((_, e)) = self.conn.close() {
            tracing::error!(error = %e, "closing the SQLite checkpoint connection failed");
        }
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: returns (frames in the WAL, frames checkpointed).
pub(crate) fn passive_checkpoint(c: &Connection) -> Result<(i64, i64), StoreError> {
    Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })?)
}

/// A committed batch whose answers wait for the WAL flush.
pub(crate) type Synced = Vec<Op>;

/// Flushed batches to answer, with the flush's error if it failed.
pub(crate) type Answers = (Vec<Op>, Option<StoreError>);

/// Count of batches flushed and answered by the syncer, with a condition the writer waits
/// on (see [`Writer::await_flush`]).
#[derive(Default)]
pub(crate) struct Flushed {
    pub(crate) count: Mutex<u64>,
    pub(crate) cond: std::sync::Condvar,
}

/// While a flush is under way and fewer requests than this are queued, the writer waits for
/// the flush before its next transaction (at most [`FLUSH_WAIT`]).
pub(crate) const GATHER: usize = 256;
pub(crate) const FLUSH_WAIT: Duration = Duration::from_millis(4);

/// Flushes the WAL and answers the callers of every batch committed before the flush.
pub(crate) struct Syncer {
    /// To the task that answers the callers from inside the runtime.
    pub(crate) answers: tokio::sync::mpsc::UnboundedSender<Answers>,
    pub(crate) wal_path: PathBuf,
    pub(crate) wal: Option<std::fs::File>,
    pub(crate) failed: Arc<Mutex<Option<StoreError>>>,
    pub(crate) flushed: Arc<Flushed>,
    pub(crate) stats: Arc<WriteStats>,
}

impl Syncer {
    pub(crate) fn run(mut self, rx: std::sync::mpsc::Receiver<Synced>) {
        // Ends when the writer drops its sender (after the last batch).
        while let Ok(first) = rx.recv() {
            let mut groups = vec![first];
            groups.extend(rx.try_iter());
            let started = std::time::Instant::now();
            let flushed = self.flush();
            self.stats.flush(started.elapsed());
            if let Err(e) = &flushed {
                tracing::error!(error = %e, "flushing the SQLite WAL failed; refusing writes");
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            }
            let n = groups.len() as u64;
            let answers: Answers = (groups.into_iter().flatten().collect(), flushed.err());
            // Waking each caller from this thread preempted it on every answer (the woken
            // runtime thread runs at once on a busy core, serves one response and sleeps
            // again, ~10 switches per flush): one message wakes the runtime once, and the
            // answers are then delivered inside it. Should the runtime be gone, answer here.
            if let Err(unsent) = self.answers.send(answers) {
                let (ops, failed) = unsent.0;
                for op in ops {
                    op.answer(failed.as_ref());
                }
            }
            *self.flushed.count.lock().unwrap_or_else(|p| p.into_inner()) += n;
            self.flushed.cond.notify_all();
        }
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.wal.is_none() {
            match std::fs::File::open(&self.wal_path) {
                Ok(f) => {
                    // A new file is durable only once its directory entry is.
                    sync_parent_dir(&self.wal_path)?;
                    self.wal = Some(f);
                }
                // Nothing was ever written.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(StoreError::io(&self.wal_path, e)),
            }
        }
        match &self.wal {
            Some(f) => f.sync_data().map_err(|e| StoreError::io(&self.wal_path, e)),
            None => Ok(()),
        }
    }
}
