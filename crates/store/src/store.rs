//! [`Store`], the enum over the two backends, and the three ways every operation of the
//! crate reaches a database: a query ([`Store::rows`], SQL of `sql.rs` with a row mapper),
//! statements with or without a ledger entry ([`Store::exec`]), and the other writes of
//! the backend's group-commit writer ([`Store::call`]). The operations themselves are written once, per
//! resource, in `policy.rs`, `tokens.rs`, `ledger.rs`, `consents.rs` and `rights.rs`.

use std::path::Path;

use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::location::{Location, SQLITE_FILE_NAME};
use crate::postgres::PgStore;
use crate::rows::{i64_at, str_at};
use crate::sql::{Dialect, Mapper, Stmt, V, sqlite_rows, t};
use crate::sqlite::SqliteStore;
use crate::stats::WriteStats;
use crate::types::{AppendItem, OpenOptions};
use crate::writer::{self, Answer, Op, Req, StmtsOp};

/// The store: enum dispatch over the two backends. Cheap to clone (an `Arc` inside);
/// `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Store>();
};

impl Store {
    /// Counters of the write path (see [`WriteStats`]).
    pub fn write_stats(&self) -> &WriteStats {
        match self {
            Store::Sqlite(s) => s.write_stats(),
            Store::Postgres(s) => s.write_stats(),
        }
    }

    /// Opens the store, creating it if `opts.create`, and applies pending migrations.
    ///
    /// With `create: false` a missing SQLite file or data directory (or PostgreSQL schema
    /// named in the options/URL) is refused with [`StoreError::Missing`]. An unreachable
    /// PostgreSQL fails within about [`crate::postgres::CONNECT_TIMEOUT`] with
    /// [`StoreError::Connect`] naming `host:port`.
    pub async fn open(loc: &Location, opts: OpenOptions) -> Result<Store, StoreError> {
        match loc {
            Location::DataDir(dir) => Ok(Store::Sqlite(
                SqliteStore::open(dir.join(SQLITE_FILE_NAME), Some(dir.clone()), opts.create)
                    .await?,
            )),
            Location::SqliteFile(path) => Ok(Store::Sqlite(
                SqliteStore::open(path.clone(), None, opts.create).await?,
            )),
            Location::Postgres(url) => Ok(Store::Postgres(PgStore::open(url, &opts).await?)),
        }
    }

    /// Opens an existing store for reading only, without migrating it or starting a writer:
    /// what `ledger verify` needs to check a copy on read-only media. Writes fail with
    /// [`StoreError::Closed`]. PostgreSQL opens as with [`OpenOptions::existing`].
    pub async fn open_read_only(loc: &Location) -> Result<Store, StoreError> {
        match loc {
            Location::DataDir(dir) => Ok(Store::Sqlite(
                SqliteStore::open_read_only(dir.join(SQLITE_FILE_NAME), Some(dir.clone())).await?,
            )),
            Location::SqliteFile(path) => Ok(Store::Sqlite(
                SqliteStore::open_read_only(path.clone(), None).await?,
            )),
            Location::Postgres(url) => Ok(Store::Postgres(
                PgStore::open(url, &OpenOptions::existing()).await?,
            )),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The SQL dialect, for the few queries whose text differs by backend.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Store::Sqlite(_) => Dialect::Sqlite,
            Store::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The ledger chain this process appends to (always 0 on SQLite).
    pub fn writer_chain(&self) -> u32 {
        match self {
            Store::Sqlite(_) => 0,
            Store::Postgres(s) => s.writer_chain(),
        }
    }

    /// PostgreSQL: the TLS version of the connections (`None` when not encrypted, and
    /// always on SQLite).
    pub async fn tls_version(&self) -> Result<Option<String>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(s) => s.tls_version().await,
        }
    }

    /// Checks that the database answers and the writer is running (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        if self.writer().is_closed() {
            return Err(StoreError::Closed);
        }
        self.rows("SELECT 1".to_owned(), vec![], i64_at).await?;
        Ok(())
    }

    /// Flushes and stops the writer; see the crate docs on shutdown.
    pub async fn close(self) {
        writer::shutdown(self.writer()).await;
        if let Store::Postgres(p) = &self {
            p.close_pool();
        }
    }

    /// Highest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations".to_owned();
        Ok(self.rows(sql, vec![], i64_at).await?.pop().unwrap_or(0))
    }

    /// SQLite: an online, consistent, fsynced copy via `VACUUM INTO` (never overwrites an
    /// existing file). PostgreSQL: [`StoreError::Unsupported`] (use `pg_dump`).
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.backup_to(path).await,
            Store::Postgres(_) => Err(StoreError::Unsupported(
                "assent does not back up PostgreSQL itself: use the database's own tools, \
                 e.g. `pg_dump --format=custom --file=assent.dump DBNAME` (plus WAL archiving \
                 for point-in-time recovery)"
                    .to_owned(),
            )),
        }
    }

    /// Reads an instance setting.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT value FROM meta WHERE key = ?1";
        self.row(sql.to_owned(), vec![t(key)], str_at).await
    }

    /// Writes (inserts or replaces) an instance setting.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let sql = "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.exec(vec![(sql.to_owned(), vec![t(key), t(value)])], false, None)
            .await?;
        Ok(())
    }

    /// Adds one to an integer instance setting (absent: becomes 1), in one statement, so that
    /// two servers bumping it at once both count.
    pub async fn meta_increment(&self, key: &str) -> Result<(), StoreError> {
        let sql = "INSERT INTO meta (key, value) VALUES (?1, '1') \
                   ON CONFLICT (key) DO UPDATE SET \
                   value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)";
        self.exec(vec![(sql.to_owned(), vec![t(key)])], false, None)
            .await?;
        Ok(())
    }

    // --- the three ways to the database ------------------------------------------------

    /// Runs one query (SQL of `sql.rs`: SQLite's dialect, `?N` placeholders) on a read
    /// connection and maps its rows with `f`.
    pub(crate) async fn rows<T: Send + 'static>(
        &self,
        sql: String,
        vals: Vec<V>,
        f: Mapper<T>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read(move |c| sqlite_rows(c, &sql, &vals, f)).await,
            Store::Postgres(p) => p.rows(&sql, &vals, f).await,
        }
    }

    /// [`Store::rows`] for a query of at most one row.
    pub(crate) async fn row<T: Send + 'static>(
        &self,
        sql: String,
        vals: Vec<V>,
        f: Mapper<T>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.rows(sql, vals, f).await?.into_iter().next())
    }

    /// Runs statements in one transaction; returns the rows changed by each. With
    /// `guarded`, the first statement must change exactly one row, otherwise nothing is
    /// written and the answer is `None`. With `ledger`, the entry is appended in the same
    /// transaction (only if the guard held), through the writer that owns the chain.
    /// Without, SQLite still writes through the writer thread (the database's only
    /// writer) and PostgreSQL uses a pooled connection.
    pub(crate) async fn exec(
        &self,
        stmts: Vec<Stmt>,
        guarded: bool,
        ledger: Option<AppendItem>,
    ) -> Result<Option<Vec<u64>>, StoreError> {
        if let (Store::Postgres(p), None) = (self, &ledger) {
            return p.exec(&stmts, guarded).await;
        }
        let op = StmtsOp {
            stmts,
            guarded,
            ledger,
        };
        self.call(|a| Op::Stmts(Box::new(op), a)).await
    }

    /// Sends a write to the backend's group-commit writer; returns when it is durable.
    pub(crate) async fn call<T>(&self, op: impl FnOnce(Answer<T>) -> Op) -> Result<T, StoreError> {
        writer::call(self.writer(), op).await
    }

    /// The channel to the backend's writer.
    fn writer(&self) -> &mpsc::Sender<Req> {
        match self {
            Store::Sqlite(s) => s.writer(),
            Store::Postgres(s) => s.writer(),
        }
    }
}
