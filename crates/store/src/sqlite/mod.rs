//! SQLite backend: the embedded default.
//!
//! * One OS thread owns the only write connection (WAL, foreign keys on). Every write of
//!   the store goes through it: ledger appends, redactions and policy versions (which need
//!   the in-memory chain head) and the small admin writes (tokens, checkpoints, meta), so
//!   SQLite never sees two writers and never returns `SQLITE_BUSY`. It commits in groups:
//!   everything queued is written in one transaction.
//! * Durability is pipelined. The connection runs with `synchronous=NORMAL`, so COMMIT
//!   writes the WAL frames without waiting for the disk; a second thread (the *syncer*) then
//!   `fdatasync`s the WAL file and only after that answers the batch's callers. While the
//!   disk flushes one batch, the writer already builds and commits the next, and one flush
//!   covers every batch committed before it started. An acknowledged write is therefore on
//!   disk exactly as with `synchronous=FULL` (which would fsync inside COMMIT, on the
//!   writer's critical path). SQLite itself still syncs the WAL before and the database file
//!   after each checkpoint. If a flush ever fails the store refuses further writes (after
//!   an fsync error the kernel may have dropped dirty pages): restart the process.
//! * Checkpoints (copying WAL frames into the database file, with their fsyncs) run on a
//!   third thread with its own connection, concurrently with the writer; see `CkptShared`
//!   for how the WAL is kept bounded (it starts over at a few tens of MB).
//! * Reads use a small pool of read-only connections on blocking threads; in WAL mode they
//!   never wait for the writer.
//! * SQLite uses ledger chain 0 only: `ledger_entries` and `consents` are rowid tables keyed
//!   by `seq` (schema 3), so an append goes straight to the last leaf of each.
//! * `consents` holds only a consent's keys (schema 4): receipt id, site, subject, creation
//!   time. A receipt is found through the time index, since Assent's receipt ids begin with
//!
//! Files: this one (the handle, its read pool, scans and backups), `open.rs` (opening,
//! migrations, chain head), `writer.rs` (the writer thread), `flush.rs` (the syncer and
//! checkpointer threads).

mod flush;
mod open;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assent_ledger::Entry;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::error::StoreError;
use crate::rows::{ENTRY_COLS, ScanBatch, drain_scan, entry_with_payload};
use crate::stats::WriteStats;
use crate::writer::{QUEUE_DEPTH, Req};

use self::flush::{Answers, Checkpointer, CkptShared, Flushed, Syncer};
use self::open::{BUSY_TIMEOUT, open_reader, open_writer, probe_read_only, sync_parent_dir};
use self::writer::Writer;

#[cfg(test)]
pub(crate) use self::open::open_writer as open_for_test;

const READERS: usize = 4;
/// Rows per batch handed from the scanning thread to `for_each_entry`'s callback.
const SCAN_BATCH: usize = 8192;

/// Handle to a SQLite store. Cheap to clone; all clones share the writer thread.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    tx: mpsc::Sender<Req>,
    stats: Arc<WriteStats>,
    readers: Arc<Readers>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (or with `create`, creates) the database file, migrates it and starts the
    /// writer thread. `data_dir` is the directory that must exist when `create` is false
    /// (for a clearer message than "file not found").
    pub(crate) async fn open(
        path: PathBuf,
        data_dir: Option<PathBuf>,
        create: bool,
    ) -> Result<SqliteStore, StoreError> {
        let p = path.clone();
        let (conn, head, ckpt_conn) = blocking(move || -> Result<_, StoreError> {
            let (conn, head) = open_writer(&p, data_dir.as_deref(), create)?;
            let ckpt = Connection::open_with_flags(
                &p,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            ckpt.busy_timeout(BUSY_TIMEOUT)?;
            ckpt.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
            Ok((conn, head, ckpt))
        })
        .await??;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (sync_tx, sync_rx) = std::sync::mpsc::channel();
        let failed = Arc::new(Mutex::new(None));
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let flushed = Arc::new(Flushed::default());
        let stats = Arc::new(WriteStats::default());
        // The syncer answers each flush's callers through one message to this task, which
        // wakes them from inside the runtime (see `Syncer::run`).
        let (answers, mut answers_rx) = tokio::sync::mpsc::unbounded_channel::<Answers>();
        tokio::spawn(async move {
            while let Some((ops, failed)) = answers_rx.recv().await {
                for op in ops {
                    op.answer(failed.as_ref());
                }
            }
        });
        let syncer = Syncer {
            answers,
            stats: stats.clone(),
            wal_path: PathBuf::from(wal),
            wal: None,
            failed: failed.clone(),
            flushed: flushed.clone(),
        };
        let syncer = std::thread::Builder::new()
            .name("assent-sqlite-syncer".to_owned())
            .spawn(move || syncer.run(sync_rx))
            .map_err(|e| StoreError::io(&path, e))?;
        let ckpt_shared = Arc::new(CkptShared::default());
        let (ckpt_stop, ckpt_rx) = std::sync::mpsc::channel::<()>();
        let checkpointer = Checkpointer {
            conn: ckpt_conn,
            shared: ckpt_shared.clone(),
        };
        let checkpointer = std::thread::Builder::new()
            .name("assent-sqlite-checkpointer".to_owned())
            .spawn(move || checkpointer.run(ckpt_rx))
            .map_err(|e| StoreError::io(&path, e))?;
        let writer = Writer {
            conn: Some(conn),
            head,
            sync: Some(sync_tx),
            syncer: Some(syncer),
            flushed,
            sent: 0,
            stats: stats.clone(),
            failed,
            ckpt: ckpt_shared,
            checkpointer: Some((ckpt_stop, checkpointer)),
        };
        std::thread::Builder::new()
            .name("assent-sqlite-writer".to_owned())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(Self::with_readers(path, tx, stats, false))
    }

    /// The store around a writer's channel, with a pool of lazily opened read connections.
    fn with_readers(
        path: PathBuf,
        tx: mpsc::Sender<Req>,
        stats: Arc<WriteStats>,
        immutable: bool,
    ) -> SqliteStore {
        let readers = Arc::new(Readers {
            path: path.clone(),
            immutable,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(READERS)),
        });
        SqliteStore {
            inner: Arc::new(Inner {
                path,
                tx,
                stats,
                readers,
            }),
        }
    }

    /// Opens an existing database for reading only (a copy on read-only media): no writer
    /// thread, no migration; every write fails with [`StoreError::Closed`].
    pub(crate) async fn open_read_only(
        path: PathBuf,
        data_dir: Option<PathBuf>,
    ) -> Result<SqliteStore, StoreError> {
        let p = path.clone();
        let immutable = blocking(move || probe_read_only(&p, data_dir.as_deref())).await??;
        // No writer: the receiving end is dropped at once, so writes are refused.
        let (tx, _) = mpsc::channel(1);
        let stats = Arc::new(WriteStats::default());
        Ok(Self::with_readers(path, tx, stats, immutable))
    }

    pub(crate) fn write_stats(&self) -> &WriteStats {
        &self.inner.stats
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The channel to the backend's group-commit writer (see `writer.rs`).
    pub(crate) fn writer(&self) -> &mpsc::Sender<Req> {
        &self.inner.tx
    }

    /// Runs `f` on a pooled read-only connection on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let mut guard = self.inner.readers.checkout().await?;
        blocking(move || -> Result<T, StoreError> { f(guard.conn()?) }).await?
    }

    pub(crate) async fn for_each_entry<F>(&self, mut f: F) -> Result<u64, StoreError>
    where
        F: FnMut(&Entry, Option<&[u8]>) + Send,
    {
        let (btx, mut brx) = mpsc::channel::<Result<ScanBatch, StoreError>>(2);
        let mut guard = self.inner.readers.checkout().await?;
        // The scan runs on its own blocking thread while the callback runs here, so decoding
        // and (the verifier's) hashing overlap. One statement = one consistent snapshot.
        let producer = tokio::task::spawn_blocking(move || {
            if let Err(e) = scan_entries(&mut guard, &btx) {
                let _ = btx.blocking_send(Err(e));
            }
        });
        let n = drain_scan(&mut brx, &mut f).await?;
        producer
            .await
            .map_err(|e| StoreError::Internal(format!("scan thread failed: {e}")))?;
        Ok(n)
    }

    /// `VACUUM INTO`: a consistent, compacted copy taken while the store keeps running.
    pub(crate) async fn backup_to(&self, target: &Path) -> Result<(), StoreError> {
        if target.exists() {
            return Err(StoreError::BackupTargetExists(target.to_path_buf()));
        }
        let Some(target_str) = target.to_str().map(str::to_owned) else {
            return Err(StoreError::InvalidLocation(format!(
                "backup path {} is not valid UTF-8",
                target.display()
            )));
        };
        let src = self.inner.path.clone();
        let target = target.to_path_buf();
        blocking(move || {
            // A backup holds every record: private from its first byte (VACUUM INTO writes
            // into an empty file).
            crate::files::create_private_file(&target).map_err(|e| StoreError::io(&target, e))?;
            let vacuum = || -> Result<(), StoreError> {
                let c = Connection::open_with_flags(
                    &src,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(BUSY_TIMEOUT)?;
                c.execute("VACUUM INTO ?1", [&target_str])?;
                Ok(())
            };
            if let Err(e) = vacuum() {
                // No half-written backup left behind to block the next attempt.
                let _ = std::fs::remove_file(&target);
                return Err(e);
            }
            // VACUUM INTO does not fsync its output: make the backup durable ourselves.
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io(&target, e))?;
            sync_parent_dir(&target)
        })
        .await?
    }
}

/// Reads every entry in seq order (one chain on SQLite) with one statement (one snapshot)
/// and hands them over in batches; stops quietly when the receiver is gone.
fn scan_entries(
    guard: &mut ReaderGuard,
    btx: &mpsc::Sender<Result<ScanBatch, StoreError>>,
) -> Result<(), StoreError> {
    let c = guard.conn()?;
    // Memory-mapped reads for the scan: pages come straight from the OS page cache instead
    // of one `pread` per page (every ~2 KB payload spills to an overflow page). Restored
    // afterwards so that the pooled connection goes back to plain reads.
    c.execute_batch(SCAN_MMAP)?;
    let r = scan_rows(c, btx);
    let reset = c.execute_batch("PRAGMA mmap_size = 0");
    r?;
    reset?;
    Ok(())
}

/// `PRAGMA mmap_size` of a full scan (SQLite caps it at its compile-time maximum).
const SCAN_MMAP: &str = "PRAGMA mmap_size = 4294967296";

fn scan_rows(
    c: &Connection,
    btx: &mpsc::Sender<Result<ScanBatch, StoreError>>,
) -> Result<(), StoreError> {
    // `seq` is the table's key (rowid) and SQLite has one chain: the scan needs no sort.
    let sql = format!("SELECT {ENTRY_COLS}, payload FROM ledger_entries ORDER BY seq");
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    let mut batch = Vec::with_capacity(SCAN_BATCH);
    while let Some(r) = rows.next()? {
        batch.push(entry_with_payload(r)?);
        if batch.len() == SCAN_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(SCAN_BATCH));
            if btx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = btx.blocking_send(Ok(batch));
    }
    Ok(())
}

/// Runs blocking work off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Internal(format!("blocking task failed: {e}")))
}

// ---------------------------------------------------------------------------------------
// Read pool

struct Readers {
    path: PathBuf,
    /// Open connections as immutable (see `open::open_reader`).
    immutable: bool,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

/// A checked-out read connection (opened lazily, on the blocking thread); returned to the
/// pool on drop.
struct ReaderGuard {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    async fn checkout(self: &Arc<Self>) -> Result<ReaderGuard, StoreError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        Ok(ReaderGuard {
            conn,
            readers: self.clone(),
            _permit: permit,
        })
    }
}

impl ReaderGuard {
    fn conn(&mut self) -> Result<&Connection, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(open_reader(&self.readers.path, self.readers.immutable)?);
        }
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Internal("reader vanished".to_owned()))
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(c);
        }
    }
}
