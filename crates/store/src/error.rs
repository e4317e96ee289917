//! One error type for both backends.
//!
//! `StoreError` is `Clone` because the group-commit writers answer every waiter of a failed
//! batch with the same error; database errors are therefore kept behind an `Arc`.

use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong in `assent-store`.
///
/// Callers that map errors to HTTP statuses usually care about [`StoreError::Conflict`]
/// (409), [`StoreError::NotFound`] (404) and treat the rest as internal errors.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL has a scheme we do not speak (the scheme is named, without `://`).
    #[error(
        "unknown database URL scheme `{0}`: expected postgres://, postgresql:// or sqlite://PATH"
    )]
    UnknownScheme(String),
    /// The database location is malformed (not a URL, empty path, invalid schema name, ...).
    #[error("invalid database location: {0}")]
    InvalidLocation(String),
    /// `OpenOptions { create: false, .. }` and the database (file, data directory or
    /// PostgreSQL schema) does not exist: most likely a mistyped path.
    #[error("{0}")]
    Missing(String),
    /// PostgreSQL could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {addr}: {reason}")]
    Connect {
        /// `host:port` list of the URL (never the password).
        addr: String,
        /// What the driver said.
        reason: String,
    },
    /// The database was migrated by a newer `assent` than this one.
    #[error(
        "the database schema is at version {found}, newer than this build of assent knows \
         ({known}): upgrade assent before using this database"
    )]
    SchemaTooNew {
        /// Highest migration recorded in the database.
        found: i64,
        /// Highest migration embedded in this binary.
        known: i64,
    },
    /// The recorded migrations do not match the embedded ones (renamed or missing migration).
    #[error("database migrations do not match this build of assent: {0}")]
    MigrationMismatch(String),
    /// Applying an embedded migration failed (the whole upgrade was rolled back).
    #[error("migration {name} failed: {message}")]
    MigrationFailed {
        /// Migration name, e.g. `0001_init`.
        name: String,
        /// What the database said.
        message: String,
    },
    /// The referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule was violated (duplicate receipt id, token id, ...) or the operation
    /// is not possible in the row's current state (entry already redacted).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The operation does not exist for this backend.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// `close()` was called (by this handle or a clone); writes are refused.
    #[error("the store is closed")]
    Closed,
    /// A row could not be decoded (wrong hash length, negative sequence number, ...).
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// An enum-like column (a request's status or type) holds a value this build does not
    /// know: it is reported, never replaced by a default.
    #[error(
        "corrupt data in the database: {table}.{column} holds `{value}`, which is not a known value"
    )]
    CorruptValue {
        /// The table read.
        table: &'static str,
        /// The column read.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// A backup target already exists; backups never overwrite.
    #[error("backup target {} already exists; refusing to overwrite it", .0.display())]
    BackupTargetExists(PathBuf),
    /// SQLite said no.
    #[error("SQLite: {0}")]
    Sqlite(#[source] Arc<rusqlite::Error>),
    /// PostgreSQL said no. `message` includes the server's message, detail and SQLSTATE.
    #[error("PostgreSQL: {message}")]
    Postgres {
        /// Human-readable description including the database error's message.
        message: String,
        /// The driver error.
        #[source]
        source: Arc<tokio_postgres::Error>,
    },
    /// File-system error.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A bug or a crashed background task (e.g. a panic in a blocking read).
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e {
            // SQLITE_CONSTRAINT_PRIMARYKEY = 1555, SQLITE_CONSTRAINT_UNIQUE = 2067
            if f.extended_code == 1555 || f.extended_code == 2067 {
                return StoreError::Conflict(
                    msg.clone()
                        .unwrap_or_else(|| "unique constraint violated".to_owned()),
                );
            }
        }
        StoreError::Sqlite(Arc::new(e))
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let unique = tokio_postgres::error::SqlState::UNIQUE_VIOLATION;
        if let Some(db) = e.as_db_error().filter(|db| *db.code() == unique) {
            let mut m = db.message().to_owned();
            if let Some(d) = db.detail() {
                m.push_str(": ");
                m.push_str(d);
            }
            return StoreError::Conflict(m);
        }
        StoreError::Postgres {
            message: describe_pg(&e),
            source: Arc::new(e),
        }
    }
}

/// tokio-postgres prints "db error" for every server error; spell out what the server said.
pub(crate) fn describe_pg(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut m = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(d) = db.detail() {
            m.push_str("; ");
            m.push_str(d);
        }
        if let Some(h) = db.hint() {
            m.push_str("; hint: ");
            m.push_str(h);
        }
        return m;
    }
    let mut m = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        m.push_str(": ");
        m.push_str(&s.to_string());
        cur = s.source();
    }
    m
}
