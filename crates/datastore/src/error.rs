//! Why an operation on a datastore failed, in words a DPO can act on: the kind of failure
//! (unreachable, refused credentials, missing table or column, permission, lock timeout) and
//! the table concerned when there is one. Messages carry the engine's explanation, never a
//! URL or a password, and never a value read from the database.

use std::fmt;

/// What went wrong, by the action it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The URL's variable is unset or the URL malformed.
    Config,
    /// The server cannot be reached (or the SQLite file opened).
    Unreachable,
    /// The credentials were refused.
    Auth,
    /// A table or column the registry names does not exist.
    Missing,
    /// The account lacks a privilege (or the SQLite file is read-only).
    Permission,
    /// A lock was held longer than the lock timeout.
    LockTimeout,
    /// Anything else the engine reported.
    Engine,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Auth => "auth",
            ErrorKind::Missing => "missing",
            ErrorKind::Permission => "permission",
            ErrorKind::LockTimeout => "lock_timeout",
            ErrorKind::Engine => "engine",
        }
    }
}

/// A failure on one datastore; [`DsError::at`] adds the table being worked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsError {
    pub kind: ErrorKind,
    pub table: Option<String>,
    pub message: String,
}

impl DsError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            table: None,
            message: message.into(),
        }
    }
    /// The same error, naming `table` unless it names one already.
    pub fn at(mut self, table: &str) -> Self {
        if self.table.is_none() {
            self.table = Some(table.to_string());
        }
        self
    }
}

impl fmt::Display for DsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Config => "configuration",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Missing => "missing table or column",
            ErrorKind::Permission => "permission denied",
            ErrorKind::LockTimeout => "lock timeout",
            ErrorKind::Engine => "database error",
        };
        match &self.table {
            Some(t) => write!(f, "table `{t}`: {what}: {}", self.message),
            None => write!(f, "{what}: {}", self.message),
        }
    }
}

impl std::error::Error for DsError {}

pub type DsResult<T> = Result<T, DsError>;
