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
//!   their creation time; an id of any other form is also listed in `consent_receipt_ids`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_ledger::{ChainHead, Entry};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::migrate;
use crate::writer::{
    self, MAX_BATCH, Op, POLICY_VERSION_KIND, QUEUE_DEPTH, Reply, ReplyTx, Req, WriteStats,
    chain_from_i64, hash32, next_policy_row, seq_from_i64, seq_to_i64, snapshot,
};
use crate::{
    AppendItem, ConsentKey, ConsentRow, PolicyVersionRow, StoreError, TokenRow, receipt_time,
};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
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
        let (answers, mut answers_rx) = tokio::sync::mpsc::unbounded_channel::<Synced>();
        tokio::spawn(async move {
            while let Some(group) = answers_rx.recv().await {
                for (tx, r) in group {
                    let _ = tx.send(r);
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
        let readers = Arc::new(Readers {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(READERS)),
        });
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                tx,
                stats,
                readers,
            }),
        })
    }

    pub(crate) fn write_stats(&self) -> &WriteStats {
        &self.inner.stats
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) async fn call(&self, op: Op) -> Result<Reply, StoreError> {
        writer::call(&self.inner.tx, op).await
    }

    pub(crate) async fn close(self) {
        writer::shutdown(&self.inner.tx).await;
    }

    /// Runs `f` on a read-only connection on a blocking thread.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let mut guard = self.inner.readers.checkout().await?;
        blocking(move || -> Result<T, StoreError> { f(guard.conn()?) }).await?
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        if self.inner.tx.is_closed() {
            return Err(StoreError::Closed);
        }
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await?;
        Ok(())
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub(crate) async fn latest_policy_version(
        &self,
        site: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let site = site.to_owned();
        self.read(move |c| {
            let sql = format!(
                "SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 \
                 ORDER BY version DESC LIMIT 1"
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query([&site])?;
            rows.next()?.map(policy_at).transpose()
        })
        .await
    }

    pub(crate) async fn policy_version(
        &self,
        site: &str,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let site = site.to_owned();
        self.read(move |c| {
            let sql = format!(
                "SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 AND version = ?2"
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query(params![site, version])?;
            rows.next()?.map(policy_at).transpose()
        })
        .await
    }

    pub(crate) async fn list_policy_versions(
        &self,
        site: &str,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        let site = site.to_owned();
        self.read(move |c| {
            let sql = format!(
                "SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 ORDER BY version"
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query([&site])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(policy_at(r)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn list_sites(&self) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT DISTINCT site FROM policy_versions ORDER BY site")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(r.get(0)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let hash = *hash;
        self.read(move |c| {
            let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE hash = ?1");
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query([&hash[..]])?;
            rows.next()?.map(token_at).transpose()
        })
        .await
    }

    pub(crate) async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.read(move |c| {
            let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at_ms, id");
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(token_at(r)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn entries(
        &self,
        chain: u32,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<(Entry, Option<Vec<u8>>)>, StoreError> {
        let from = seq_to_i64(from_seq)?;
        self.read(move |c| {
            let sql = format!(
                "SELECT {ENTRY_COLS}, payload FROM ledger_entries \
                 WHERE chain = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3"
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query(params![chain, from, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let payload = r
                    .get_ref(7)?
                    .as_blob_or_null()
                    .map_err(rusqlite::Error::from)?;
                out.push((entry_at(r, 0)?, payload.map(<[u8]>::to_vec)));
            }
            Ok(out)
        })
        .await
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
        let mut n = 0u64;
        while let Some(batch) = brx.recv().await {
            for (e, p) in batch? {
                f(&e, p.as_deref());
                n += 1;
            }
        }
        producer
            .await
            .map_err(|e| StoreError::Internal(format!("scan thread failed: {e}")))?;
        Ok(n)
    }

    pub(crate) async fn chain_heads(&self) -> Result<Vec<Entry>, StoreError> {
        self.read(move |c| {
            // One chain (0) on SQLite: its head is the entry with the largest rowid.
            let sql = format!("SELECT {ENTRY_COLS} FROM ledger_entries ORDER BY seq DESC LIMIT 1");
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(entry_at(r, 0)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn entry_hashes(
        &self,
        chain: u32,
        from_seq: u64,
        to_seq_excl: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let from = seq_to_i64(from_seq)?;
        let to = seq_to_i64(to_seq_excl)?;
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT hash FROM ledger_entries WHERE chain = ?1 AND seq >= ?2 AND seq < ?3 \
                 ORDER BY seq",
            )?;
            let mut rows = st.query(params![chain, from, to])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(hash32(
                    r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?,
                    "hash",
                )?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, body_json FROM ledger_checkpoints ORDER BY id DESC LIMIT 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
        })
        .await
    }

    pub(crate) async fn list_checkpoints(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT id, body_json FROM ledger_checkpoints ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(crate) async fn consent_by_receipt(
        &self,
        id: &str,
    ) -> Result<Option<(ConsentRow, Entry)>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| {
            // Assent's receipt ids start with their creation time: the time index narrows
            // the search to that millisecond. Any other id is in `consent_receipt_ids`.
            if let Some(t) = receipt_time(&id) {
                let mut st = c.prepare_cached(&consent_sql(ConsentQuery::ByTime))?;
                let mut rows = st.query(params![t, id])?;
                if let Some(r) = rows.next()? {
                    return consent_at(r).map(Some);
                }
            }
            let mut st = c.prepare_cached(&consent_sql(ConsentQuery::ByOtherId))?;
            let mut rows = st.query([&id])?;
            rows.next()?.map(consent_at).transpose()
        })
        .await
    }

    pub(crate) async fn consents_by_subject(
        &self,
        site: &str,
        subject: &str,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        let (site, subject) = (site.to_owned(), subject.to_owned());
        self.read(move |c| {
            let mut st = c.prepare_cached(&consent_sql(ConsentQuery::BySubject))?;
            let mut rows = st.query([&site, &subject])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(consent_at(r)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn consents_between(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
        after_receipt: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        let site = site.to_owned();
        let after = after_receipt.map(str::to_owned);
        let cursor = match after {
            None => None,
            Some(id) => Some(
                self.consent_by_receipt(&id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("paging cursor receipt {id}")))?,
            ),
        };
        self.read(move |c| {
            // The cursor is resolved to its (created_at_ms, seq) position; chain is always 0.
            let (cur_ms, cur_seq) = match &cursor {
                Some((row, e)) => (row.created_at_ms, seq_to_i64(e.seq)?),
                None => (i64::MIN, -1),
            };
            let mut st = c.prepare_cached(&consent_sql(ConsentQuery::Between))?;
            let mut rows = st.query(params![site, from_ms, to_ms, cur_ms, cur_seq, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(consent_at(r)?);
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([&key], |r| r.get(0))
                .optional()?)
        })
        .await
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
            let c = Connection::open_with_flags(
                &src,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(BUSY_TIMEOUT)?;
            c.execute("VACUUM INTO ?1", [&target_str])?;
            drop(c);
            // VACUUM INTO does not fsync its output: make the backup durable ourselves.
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io(&target, e))?;
            sync_parent_dir(&target)
        })
        .await?
    }
}

type ScanBatch = Vec<(Entry, Option<Vec<u8>>)>;

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
        // A payload re-typed by hand must not abort the whole verification: TEXT is read as
        // its bytes (the payload hash then says whether they are the committed ones), any
        // other type as a missing payload (reported unless a redaction record explains it).
        let payload = match r.get_ref(7)? {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => Some(b),
            _ => None,
        };
        batch.push((entry_at(r, 0)?, payload.map(<[u8]>::to_vec)));
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
// Opening and migrations

fn open_writer(
    path: &Path,
    data_dir: Option<&Path>,
    create: bool,
) -> Result<(Connection, ChainHead), StoreError> {
    if create {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        }
    } else {
        if let Some(dir) = data_dir.filter(|d| !d.is_dir()) {
            return Err(StoreError::Missing(format!(
                "data directory {} does not exist: check the path (a new database is only \
                 created when creation is requested)",
                dir.display()
            )));
        }
        if !path.is_file() {
            return Err(StoreError::Missing(format!(
                "no Assent database at {}: check the path (a new database is only created \
                 when creation is requested)",
                path.display()
            )));
        }
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let existed = path.exists();
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unsupported(format!(
            "{} cannot use WAL mode (journal_mode stayed `{mode}`)",
            path.display()
        )));
    }
    // synchronous=NORMAL: COMMIT does not wait for the disk; the syncer thread fsyncs the
    // WAL before any caller is answered (see the module docs).
    // cache_size is deliberately modest (8 MB): when a B-tree rebalance reorders sibling
    // pages, SQLite moves a page through the lock-byte page number (1 GB / page size) as a
    // temporary key; the COMMIT that follows then truncates the page cache above the
    // database size and, with the key that far away, walks the whole cache hash table. That
    // walk is O(cache size) per transaction: with 64 MB it cost ~1 ms per commit (10% of
    // the server's CPU under load). Random-key index inserts rebalance on most commits.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;
         PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    migrate_sqlite(&mut conn)?;
    if !existed {
        // Migrations are committed (with synchronous=NORMAL, not yet flushed): make the new
        // file and its directory entry durable before anyone relies on them.
        conn.execute_batch("PRAGMA wal_checkpoint(FULL)")?;
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::io(path, e))?;
        sync_parent_dir(path)?;
    }
    let head = load_head(&conn, 0)?;
    Ok((conn, head))
}

fn migrate_sqlite(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY NOT NULL,
             name    TEXT NOT NULL
         )",
    )?;
    let applied: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT version, name FROM schema_migrations ORDER BY version")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for m in migrate::pending(migrate::SQLITE, &applied)? {
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::MigrationFailed {
                name: m.name.to_owned(),
                message: e.to_string(),
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            params![m.version, m.name],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Another process (an `assent` command beside the server) may have appended to the chain
/// since this writer's last batch: inside the write lock, take the stored head as the truth.
fn resync_head(conn: &Connection, head: &mut ChainHead) -> Result<(), StoreError> {
    let stored = load_head(conn, head.chain)?;
    if stored.next_seq != head.next_seq || stored.last_hash != head.last_hash {
        *head = stored;
    }
    Ok(())
}

fn load_head(conn: &Connection, chain: u32) -> Result<ChainHead, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLS} FROM ledger_entries WHERE chain = ?1 ORDER BY seq DESC LIMIT 1"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query([chain])?;
    match rows.next()? {
        Some(r) => Ok(ChainHead::after(&entry_at(r, 0)?)),
        None => Ok(ChainHead::new(chain)),
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(BUSY_TIMEOUT)?;
    c.set_prepared_statement_cache_capacity(32);
    Ok(c)
}

// ---------------------------------------------------------------------------------------
// Read pool

struct Readers {
    path: PathBuf,
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
            self.conn = Some(open_reader(&self.readers.path)?);
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

// ---------------------------------------------------------------------------------------
// Writer thread

struct Writer {
    /// `None` only after shutdown.
    conn: Option<Connection>,
    head: ChainHead,
    /// Committed batches go to the syncer, which answers them once the WAL is on disk.
    sync: Option<std::sync::mpsc::Sender<Synced>>,
    syncer: Option<std::thread::JoinHandle<()>>,
    /// Batches the syncer has answered.
    flushed: Arc<Flushed>,
    /// Batches handed to the syncer.
    sent: u64,
    stats: Arc<WriteStats>,
    /// Set by the syncer when a flush failed: no more writes.
    failed: Arc<Mutex<Option<StoreError>>>,
    /// WAL size as last seen by the checkpointer.
    ckpt: Arc<CkptShared>,
    /// Dropping the sender stops the checkpointer thread.
    checkpointer: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// Checkpointing is moved off the writer: the writer connection runs with
/// `wal_autocheckpoint=0` and a separate connection on its own thread copies WAL frames into
/// the database (`PASSIVE`, concurrently with the writer, including the fsyncs). The WAL can
/// only start over from its beginning when it is completely checkpointed at the moment the
/// writer begins a transaction, which rarely happens by chance under continuous load, so the
/// writer itself runs a (by then small) checkpoint when the WAL is large and the checkpointer
/// has nearly caught up, and a full one if the WAL ever reaches [`WAL_HARD_FRAMES`].
#[derive(Default)]
struct CkptShared {
    /// Frames in the WAL.
    log: std::sync::atomic::AtomicI64,
    /// Frames not yet copied into the database.
    pending: std::sync::atomic::AtomicI64,
}

/// WAL size (frames of a page each) from which the writer tries to let the WAL start over.
const WAL_RESTART_FRAMES: i64 = 4096;
/// ... provided that at most this many frames still need copying.
const WAL_CATCH_UP_FRAMES: i64 = 1024;
/// WAL size at which the writer checkpoints whatever the cost.
const WAL_HARD_FRAMES: i64 = 65_536;
/// Pause between checkpointer passes when there is little to do.
const CKPT_IDLE: Duration = Duration::from_millis(50);

struct Checkpointer {
    conn: Connection,
    shared: Arc<CkptShared>,
}

impl Checkpointer {
    fn run(self, stop: std::sync::mpsc::Receiver<()>) {
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
fn passive_checkpoint(c: &Connection) -> Result<(i64, i64), StoreError> {
    Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })?)
}

/// Answers waiting for the WAL flush.
type Synced = Vec<(ReplyTx, Result<Reply, StoreError>)>;

/// Count of batches flushed and answered by the syncer, with a condition the writer waits
/// on (see [`Writer::await_flush`]).
#[derive(Default)]
struct Flushed {
    count: Mutex<u64>,
    cond: std::sync::Condvar,
}

/// While a flush is under way and fewer requests than this are queued, the writer waits for
/// the flush before its next transaction (at most [`FLUSH_WAIT`]).
const GATHER: usize = 256;
const FLUSH_WAIT: Duration = Duration::from_millis(4);

/// Flushes the WAL and answers the callers of every batch committed before the flush.
struct Syncer {
    /// To the task that answers the callers from inside the runtime.
    answers: tokio::sync::mpsc::UnboundedSender<Synced>,
    wal_path: PathBuf,
    wal: Option<std::fs::File>,
    failed: Arc<Mutex<Option<StoreError>>>,
    flushed: Arc<Flushed>,
    stats: Arc<WriteStats>,
}

impl Syncer {
    fn run(mut self, rx: std::sync::mpsc::Receiver<Synced>) {
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
            let mut answers: Synced = groups.into_iter().flatten().collect();
            if let Err(e) = &flushed {
                for (_, r) in &mut answers {
                    if r.is_ok() {
                        *r = Err(e.clone());
                    }
                }
            }
            // Waking each caller from this thread preempted it on every answer (the woken
            // runtime thread runs at once on a busy core, serves one response and sleeps
            // again, ~10 switches per flush): one message wakes the runtime once, and the
            // answers are then delivered inside it. Should the runtime be gone, answer here.
            if let Err(unsent) = self.answers.send(answers) {
                for (tx, r) in unsent.0 {
                    let _ = tx.send(r);
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

fn sync_parent_dir(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::File::open(&parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(&parent, e))
}

/// Why the optimistic one-transaction attempt at a batch failed.
enum Fail {
    /// A request failed on its own (constraint, missing row, ...): replay the batch.
    Request(StoreError),
    /// BEGIN or COMMIT failed: the whole batch failed.
    Batch(StoreError),
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            self.await_flush(&rx);
            if rx.blocking_recv_many(&mut buf, MAX_BATCH) == 0 {
                break; // every handle was dropped
            }
            let (ops, shutdown) = writer::split_batch(&mut buf);
            if !ops.is_empty() {
                self.process(ops);
            }
            if let Some(ack) = shutdown {
                writer::refuse_rest(&mut rx);
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

    fn process(&mut self, batch: Vec<(Op, ReplyTx)>) {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(e) = failed {
            for (_, tx) in batch {
                let _ = tx.send(Err(e.clone()));
            }
            return;
        }
        let (ops, txs): (Vec<Op>, Vec<ReplyTx>) = batch.into_iter().unzip();
        let start = snapshot(&self.head);
        let results: Vec<Result<Reply, StoreError>> = match self.fast(&ops) {
            Ok(replies) => replies.into_iter().map(Ok).collect(),
            Err(Fail::Batch(e)) => {
                self.head = start;
                tracing::error!(error = %e, requests = ops.len(), "SQLite batch commit failed");
                ops.iter().map(|_| Err(e.clone())).collect()
            }
            Err(Fail::Request(e)) if ops.len() == 1 => {
                self.head = start;
                vec![Err(e)]
            }
            Err(Fail::Request(_)) => {
                self.head = snapshot(&start);
                self.slow(&ops, start)
            }
        };
        self.stats.transaction(txs.len());
        let answers: Synced = txs.into_iter().zip(results).collect();
        let unsent = match &self.sync {
            Some(sync) => sync.send(answers).err().map(|e| e.0),
            None => Some(answers),
        };
        if unsent.is_none() {
            self.sent += 1;
        }
        for (tx, _) in unsent.into_iter().flatten() {
            let _ = tx.send(Err(StoreError::Internal(
                "the WAL syncer stopped".to_owned(),
            )));
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
    fn fast(&mut self, ops: &[Op]) -> Result<Vec<Reply>, Fail> {
        let Writer { conn, head, .. } = self;
        let conn = conn.as_mut().ok_or(Fail::Batch(StoreError::Closed))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Fail::Batch(e.into()))?;
        resync_head(&tx, head).map_err(Fail::Batch)?;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(apply(&tx, head, op).map_err(Fail::Request)?);
        }
        tx.commit().map_err(|e| Fail::Batch(e.into()))?;
        Ok(out)
    }

    /// Replays a batch with one savepoint per request so that only failing requests fail.
    fn slow(&mut self, ops: &[Op], start: ChainHead) -> Vec<Result<Reply, StoreError>> {
        let Writer { conn, head, .. } = self;
        let Some(conn) = conn.as_mut() else {
            return ops.iter().map(|_| Err(StoreError::Closed)).collect();
        };
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                *head = start;
                let e = StoreError::from(e);
                return ops.iter().map(|_| Err(e.clone())).collect();
            }
        };
        if let Err(e) = resync_head(&tx, head) {
            *head = start;
            return ops.iter().map(|_| Err(e.clone())).collect();
        }
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let before = snapshot(head);
            let r = match tx.savepoint() {
                Err(e) => Err(e.into()),
                Ok(sp) => match apply(&sp, head, op) {
                    Ok(reply) => sp.commit().map(|()| reply).map_err(StoreError::from),
                    // Dropping the savepoint rolls it back.
                    Err(e) => Err(e),
                },
            };
            if r.is_err() {
                *head = before;
            }
            out.push(r);
        }
        if let Err(e) = tx.commit() {
            *head = start;
            let e = StoreError::from(e);
            tracing::error!(error = %e, requests = ops.len(), "SQLite batch commit failed");
            return out.into_iter().map(|r| r.and(Err(e.clone()))).collect();
        }
        out
    }
}

/// Applies one request inside the writer's open transaction.
fn apply(c: &Connection, head: &mut ChainHead, op: &Op) -> Result<Reply, StoreError> {
    match op {
        Op::Append(items) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(append_one(c, head, it)?);
            }
            Ok(Reply::Entries(out))
        }
        Op::Rights(r) => match crate::rights::sqlite_run(c, &r.stmts, r.guarded)? {
            None => Ok(Reply::Rights(None)),
            Some(counts) => Ok(Reply::Rights(Some((
                counts,
                append_one(c, head, &r.ledger)?,
            )))),
        },
        Op::Redact { chain, seq, item } => {
            let s = seq_to_i64(*seq)?;
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
            // Only chain 0 exists here (the entry was found above).
            c.prepare_cached("DELETE FROM consents WHERE seq = ?1")?
                .execute([s])?;
            c.prepare_cached("DELETE FROM consent_receipt_ids WHERE seq = ?1")?
                .execute([s])?;
            Ok(Reply::Entry(append_one(c, head, item)?))
        }
        Op::InsertPolicy { v, payload, ts_ms } => {
            let prev: Option<(i64, i64)> = c
                .prepare_cached(
                    "SELECT version, consent_floor FROM policy_versions WHERE site = ?1 \
                     ORDER BY version DESC LIMIT 1",
                )?
                .query_row([&v.site], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let row = next_policy_row(v, prev, *ts_ms);
            let entry = head.append(*ts_ms, POLICY_VERSION_KIND, payload);
            insert_entry(c, &entry, payload)?;
            c.prepare_cached(
                "INSERT INTO policy_versions (site, version, content_hash, requires_fresh_consent, \
                 consent_floor, changes_json, registry_json, source_toml, created_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
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
            Ok(Reply::Policy(row, entry))
        }
        Op::InsertToken(t) => {
            c.prepare_cached(
                "INSERT INTO api_tokens (id, hash, role, label, created_at_ms, revoked_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                t.id,
                &t.hash[..],
                t.role,
                t.label,
                t.created_at_ms,
                t.revoked_at_ms
            ])?;
            Ok(Reply::Unit)
        }
        Op::RevokeToken { id, ts_ms } => {
            let n = c
                .prepare_cached(
                    "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL",
                )?
                .execute(params![id, ts_ms])?;
            Ok(Reply::Bool(n == 1))
        }
        Op::InsertCheckpoint { ts_ms, body_json } => {
            c.prepare_cached("INSERT INTO ledger_checkpoints (ts_ms, body_json) VALUES (?1, ?2)")?
                .execute(params![ts_ms, body_json])?;
            Ok(Reply::Id(c.last_insert_rowid()))
        }
        Op::MetaSet { key, value } => {
            c.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
            Ok(Reply::Unit)
        }
    }
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

// ---------------------------------------------------------------------------------------
// Row mapping

const ENTRY_COLS: &str = "chain, seq, ts_ms, kind, payload_hash, prev_hash, hash";
const ENTRY_COLS_E: &str = "e.chain, e.seq, e.ts_ms, e.kind, e.payload_hash, e.prev_hash, e.hash";
const POLICY_COLS: &str = "site, version, content_hash, requires_fresh_consent, changes_json, \
                           registry_json, source_toml, created_at_ms, consent_floor";
const TOKEN_COLS: &str = "id, hash, role, label, created_at_ms, revoked_at_ms";
const CONSENT_COLS: &str = "c.receipt_id, c.site, c.subject, c.created_at_ms, e.payload";
const CONSENT_FROM: &str = "FROM consents c JOIN ledger_entries e ON e.seq = c.seq";

/// The consent queries, one place for their SQL (their query plans are tested).
#[derive(Clone, Copy, Debug)]
enum ConsentQuery {
    /// `?1` creation time, `?2` receipt id: Assent's receipt ids begin with their time.
    ByTime,
    /// `?1` receipt id, for ids of any other form.
    ByOtherId,
    /// `?1` site, `?2` subject; newest first.
    BySubject,
    /// `?1` site, `?2..?3` creation time range, after `(?4, ?5)` = (time, seq), `?6` limit.
    Between,
}

fn consent_sql(q: ConsentQuery) -> String {
    let filter = match q {
        ConsentQuery::ByTime => "WHERE c.created_at_ms = ?1 AND c.receipt_id = ?2",
        ConsentQuery::ByOtherId => {
            "WHERE c.seq = (SELECT seq FROM consent_receipt_ids WHERE receipt_id = ?1)"
        }
        ConsentQuery::BySubject => {
            "WHERE c.site = ?1 AND c.subject = ?2 ORDER BY c.created_at_ms DESC, c.seq DESC"
        }
        // The time index gives (created_at_ms, seq) order and other sites are skipped; `+`
        // keeps the planner off the (site, subject) index, which would read every consent
        // of the site and sort them.
        ConsentQuery::Between => {
            "WHERE c.created_at_ms >= ?2 AND c.created_at_ms < ?3 \
             AND (c.created_at_ms, c.seq) > (?4, ?5) AND +c.site = ?1 \
             ORDER BY c.created_at_ms, c.seq LIMIT ?6"
        }
    };
    format!("SELECT {CONSENT_COLS}, {ENTRY_COLS_E} {CONSENT_FROM} {filter}")
}

fn blob_at<'a>(r: &'a rusqlite::Row<'_>, i: usize) -> Result<&'a [u8], StoreError> {
    Ok(r.get_ref(i)?.as_blob().map_err(rusqlite::Error::from)?)
}

fn entry_at(r: &rusqlite::Row<'_>, i: usize) -> Result<Entry, StoreError> {
    Ok(Entry {
        chain: chain_from_i64(r.get(i)?)?,
        seq: seq_from_i64(r.get(i + 1)?)?,
        ts_ms: r.get(i + 2)?,
        kind: r.get(i + 3)?,
        payload_hash: hash32(blob_at(r, i + 4)?, "payload_hash")?,
        prev_hash: hash32(blob_at(r, i + 5)?, "prev_hash")?,
        hash: hash32(blob_at(r, i + 6)?, "hash")?,
    })
}

fn policy_at(r: &rusqlite::Row<'_>) -> Result<PolicyVersionRow, StoreError> {
    Ok(PolicyVersionRow {
        site: r.get(0)?,
        version: r.get(1)?,
        content_hash: r.get(2)?,
        requires_fresh_consent: r.get(3)?,
        changes_json: r.get(4)?,
        registry_json: r.get(5)?,
        source_toml: r.get(6)?,
        created_at_ms: r.get(7)?,
        consent_floor: r.get(8)?,
    })
}

fn token_at(r: &rusqlite::Row<'_>) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.get(0)?,
        hash: hash32(blob_at(r, 1)?, "token hash")?,
        role: r.get(2)?,
        label: r.get(3)?,
        created_at_ms: r.get(4)?,
        revoked_at_ms: r.get(5)?,
    })
}

fn consent_at(r: &rusqlite::Row<'_>) -> Result<(ConsentRow, Entry), StoreError> {
    let entry = entry_at(r, 5)?;
    let key = ConsentKey {
        receipt_id: r.get(0)?,
        site: r.get(1)?,
        subject: r.get(2)?,
        created_at_ms: r.get(3)?,
    };
    let payload = r
        .get_ref(4)?
        .as_blob_or_null()
        .map_err(rusqlite::Error::from)?;
    ConsentRow::with_entry(key, payload, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every consent query is answered through an index, never a scan, and the export
    /// without a sort: on a large ledger anything else reads every consent. (One subject's
    /// few consents are sorted by time.)
    #[test]
    fn consent_queries_use_their_indexes() {
        let dir = std::env::temp_dir().join(format!("assent-plan-{}", std::process::id()));
        let path = dir.join("plan.db");
        let (conn, _) = open_writer(&path, None, true).unwrap();
        let expect = [
            (ConsentQuery::ByTime, "consents_created (created_at_ms=?)"),
            (
                ConsentQuery::ByOtherId,
                "sqlite_autoindex_consent_receipt_ids_1",
            ),
            (
                ConsentQuery::BySubject,
                "consents_site_subject (site=? AND subject=?)",
            ),
            (
                ConsentQuery::Between,
                "consents_created (created_at_ms>? AND created_at_ms<?)",
            ),
        ];
        for (q, index) in expect {
            let mut st = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", consent_sql(q)))
                .unwrap();
            let unbound = vec![rusqlite::types::Null; st.parameter_count()];
            let plan: Vec<String> = st
                .query_map(rusqlite::params_from_iter(unbound), |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("\n");
            assert!(plan.contains(index), "{q:?}: {plan}");
            assert!(!plan.contains("SCAN"), "{q:?}: {plan}");
            let may_sort = matches!(q, ConsentQuery::BySubject);
            assert!(may_sort || !plan.contains("TEMP B-TREE"), "{q:?}: {plan}");
        }
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
