//! One connection to a datastore, whatever its engine: the [`Conn`] trait each engine
//! implements (catalog, select, execute, transaction control), the connection options, and
//! [`Query`], SQL text with its parameters written for one dialect.
//!
//! Invariants: parameters are always bound, never spliced into the SQL; identifiers (from the
//! registry) are quoted by [`Dialect::ident`]; every parameter is text, cast by the SQL to the
//! column's type where the engine needs it (PostgreSQL).

use assent_model::datastore::{Datastore, DatastoreKind};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::error::DsResult;

/// How long a statement waits for a lock before failing, unless set otherwise (the
/// registry's `lock_timeout_ms`).
pub use assent_model::datastore::DEFAULT_LOCK_TIMEOUT_MS;

/// Options of [`crate::connect`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// Lock wait limit, so that an erasure fails with a clear message instead of hanging.
    pub lock_timeout_ms: u64,
    /// Connection timeout.
    pub connect_timeout_ms: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            lock_timeout_ms: DEFAULT_LOCK_TIMEOUT_MS,
            connect_timeout_ms: 5_000,
        }
    }
}

/// The alias of the changed table in MariaDB's multi-table statements, and of the one-row
/// table joined to it (names no annotated column is likely to carry).
const ALIAS: &str = "assent_target";
const ONE: &str = "assent_one";

impl ConnectOptions {
    /// These options with the lock wait that datastore `d` configures (`lock_timeout_ms`).
    pub fn for_datastore(self, d: &Datastore) -> Self {
        Self {
            lock_timeout_ms: d.lock_timeout_ms.unwrap_or(self.lock_timeout_ms),
            ..self
        }
    }
}

/// SQL text and its parameters (all text), for one dialect.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub sql: String,
    pub params: Vec<String>,
}

/// A connection to one datastore. Blocking: callers in async code run it on a blocking thread.
pub trait Conn: Send {
    fn kind(&self) -> DatastoreKind;
    /// The tables of the database (the current schema on PostgreSQL).
    fn catalog(&mut self) -> DsResult<Catalog>;
    /// Rows of a query, each cell as JSON (numbers as numbers, dates as text, blobs in hex).
    fn select(&mut self, q: &Query) -> DsResult<Vec<Vec<Value>>>;
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, q: &Query) -> DsResult<u64>;
    fn begin(&mut self) -> DsResult<()>;
    fn commit(&mut self) -> DsResult<()>;
    fn rollback(&mut self) -> DsResult<()>;
}

/// The SQL differences between engines, in one place.
#[derive(Debug, Clone, Copy)]
pub struct Dialect(pub DatastoreKind);

impl Dialect {
    /// A quoted identifier.
    pub fn ident(self, name: &str) -> String {
        match self.0 {
            DatastoreKind::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }
    /// A selected cell: PostgreSQL hands every type over as JSON text (`to_json`), the
    /// others' drivers decode their few types themselves.
    pub fn cell(self, column: &str) -> String {
        let c = self.ident(column);
        match self.0 {
            DatastoreKind::Postgres => format!("to_json({c})::text"),
            _ => c,
        }
    }
    /// `DELETE FROM table WHERE `, to be followed by a condition. MariaDB and MySQL plan an
    /// `IN (SELECT ...)` of a single-table DELETE as a dependent subquery run for every row of
    /// the table (a full scan: a minute on ten million order lines); the multi-table form
    /// lets them join through the indexes instead.
    pub fn delete_where(self, table: &str) -> String {
        match self.0 {
            DatastoreKind::Mysql => format!(
                "DELETE {ALIAS} FROM {} AS {ALIAS} WHERE ",
                self.ident(table)
            ),
            _ => format!("DELETE FROM {} WHERE ", self.ident(table)),
        }
    }
    /// `UPDATE table SET `, to be followed by assignments, ` WHERE ` and a condition; on
    /// MariaDB and MySQL a one-row join makes it a multi-table UPDATE, for the same reason
    /// as [`Dialect::delete_where`].
    pub fn update_set(self, table: &str) -> String {
        match self.0 {
            DatastoreKind::Mysql => format!(
                "UPDATE {} AS {ALIAS} JOIN (SELECT 1 AS {ONE}) AS {ONE} SET ",
                self.ident(table)
            ),
            _ => format!("UPDATE {} SET ", self.ident(table)),
        }
    }
    /// The boolean literal for a restriction flag.
    pub fn bool_lit(self, v: bool) -> &'static str {
        match (self.0, v) {
            (DatastoreKind::Postgres, true) => "TRUE",
            (DatastoreKind::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

/// Builds a [`Query`]: appends SQL and binds parameters in text order.
pub struct Builder {
    pub dialect: Dialect,
    pub q: Query,
}

impl Builder {
    pub fn new(kind: DatastoreKind) -> Self {
        Self {
            dialect: Dialect(kind),
            q: Query::default(),
        }
    }
    /// A placeholder for `value`, cast to `ty` on PostgreSQL (where text does not compare
    /// with integers); `ty = None` leaves it as text.
    pub fn param(&mut self, value: &str, ty: Option<&str>) -> String {
        self.q.params.push(value.to_string());
        match self.dialect.0 {
            DatastoreKind::Postgres => {
                let n = self.q.params.len();
                match ty {
                    Some(t) => format!("CAST(${n}::text AS {t})"),
                    None => format!("${n}::text"),
                }
            }
            _ => "?".to_string(),
        }
    }
    pub fn ident(&self, name: &str) -> String {
        self.dialect.ident(name)
    }
    pub fn push(&mut self, sql: &str) {
        self.q.sql.push_str(sql);
    }
    pub fn finish(self) -> Query {
        self.q
    }
}
