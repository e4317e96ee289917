//! Opening the SQLite database: checks, pragmas, migrations, the chain head, read-only
//! connections, and the directory fsyncs that make new files durable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assent_ledger::ChainHead;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use crate::error::StoreError;
use crate::files::{create_private_dir, create_private_file};
use crate::migrate;
use crate::rows::{ENTRY_COLS, entry_at};

pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn open_writer(
    path: &Path,
    data_dir: Option<&Path>,
    create: bool,
) -> Result<(Connection, ChainHead), StoreError> {
    if create {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        // Created here, private, before SQLite opens it (an empty file is a new database);
        // the WAL and shared-memory files get its mode.
        match create_private_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
    } else {
        require_existing(path, data_dir)?;
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let existed = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // SQLite falls back to read-only, silently, on a file it may not write: every consent
    // would then fail. Refuse to start instead, saying why.
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::Unsupported(format!(
            "{} cannot be written by this account (read-only file, directory or medium): \
             Assent needs to write consents; fix the permissions (the file and its directory \
             must be writable), or verify a read-only copy with `assent ledger verify`",
            path.display()
        )));
    }
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
pub(crate) fn resync_head(conn: &Connection, head: &mut ChainHead) -> Result<(), StoreError> {
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

/// Refuses a missing data directory or database file, so that a mistyped path never yields
/// an empty database.
pub(crate) fn require_existing(path: &Path, data_dir: Option<&Path>) -> Result<(), StoreError> {
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
    Ok(())
}

/// A read-only connection. `immutable`: SQLite is told the file cannot change (URI
/// `immutable=1`), so it neither locks it nor looks for a `-shm` file: how a WAL-mode copy
/// is read on read-only media, where the `-shm` cannot be created.
pub(crate) fn open_reader(path: &Path, immutable: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = if immutable {
        Connection::open_with_flags(immutable_uri(path)?, flags | OpenFlags::SQLITE_OPEN_URI)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    c.busy_timeout(BUSY_TIMEOUT)?;
    c.set_prepared_statement_cache_capacity(32);
    Ok(c)
}

/// `file:<path, percent-encoded>?immutable=1` (RFC 8089 / SQLite URI filenames).
fn immutable_uri(path: &Path) -> Result<String, StoreError> {
    let text = path.to_str().ok_or_else(|| {
        StoreError::InvalidLocation(format!("{} is not valid UTF-8", path.display()))
    })?;
    let mut uri = String::from("file:");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    Ok(uri)
}

/// Opens an existing database for reading only: no migration, no pragma that writes. Tries
/// a plain read-only connection, then (for a WAL-mode file whose `-shm` cannot be created,
/// and only when no `-wal` file holds commits the main file lacks) an immutable one. Returns
/// whether readers must be immutable.
pub(crate) fn probe_read_only(path: &Path, data_dir: Option<&Path>) -> Result<bool, StoreError> {
    require_existing(path, data_dir)?;
    let probe = |immutable| -> Result<(), StoreError> {
        let c = open_reader(path, immutable)?;
        c.query_row("SELECT count(*) FROM schema_migrations", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(())
    };
    let plain = match probe(false) {
        Ok(()) => return Ok(false),
        Err(e) => e,
    };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_len = std::fs::metadata(std::path::PathBuf::from(wal)).map_or(0, |m| m.len());
    if wal_len > 0 {
        return Err(plain);
    }
    probe(true)?;
    Ok(true)
}

pub(crate) fn sync_parent_dir(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::File::open(&parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(&parent, e))
}
