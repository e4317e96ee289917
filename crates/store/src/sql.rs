//! One way to write a query for both backends: the SQL text is written once, in SQLite's
//! dialect with numbered `?N` placeholders, parameters are [`V`] values, and rows are read
//! through the [`Cols`] trait, which both drivers' rows implement. Each read is therefore
//! one SQL text and one row mapper (a [`Mapper`]), whatever the backend.
//!
//! The dialect differences live here and nowhere else:
//! * placeholders: `?N` is rewritten to `$N` for PostgreSQL ([`pg_sql`]);
//! * integer widths: PostgreSQL's `INTEGER` columns (`chain`) and `length(bytea)` are INT4,
//!   read as `i64` like SQLite's integers, and bound from [`V::I4`];
//! * booleans: SQLite stores 0/1, PostgreSQL `BOOLEAN`; [`Cols::bool_`] reads both.
//!
//! The few queries whose text must differ (the consent lookups, which follow each
//! backend's indexes) choose their text by [`Dialect`] next to each other, in
//! `consents.rs`. The group-commit writers' statements stay dialect-specific on purpose: the
//! PostgreSQL writer inserts whole batches with `UNNEST`, the SQLite writer row by row with
//! borrowed parameters, and neither may allocate more per consent than it does.
//!
//! Invariant: a value read from an enum-like column is parsed into its domain type here
//! ([`parsed`]); an unknown value is [`StoreError::CorruptValue`], never a default.

use rusqlite::types::{ToSqlOutput, Value};
use tokio_postgres::types::{ToSql as PgToSql, Type};

use crate::error::StoreError;

/// The SQL dialect of a backend (for the rare query whose text differs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum V {
    I(Option<i64>),
    /// A PostgreSQL `INTEGER` (INT4) column's value, e.g. a ledger chain.
    I4(i32),
    T(Option<String>),
    B(Vec<u8>),
}

/// A text parameter.
pub(crate) fn t(s: &str) -> V {
    V::T(Some(s.to_owned()))
}

/// A nullable text parameter.
pub(crate) fn ot(s: &Option<String>) -> V {
    V::T(s.clone())
}

/// An integer parameter.
pub(crate) fn i(n: i64) -> V {
    V::I(Some(n))
}

/// One statement with its parameters.
pub(crate) type Stmt = (String, Vec<V>);

/// `INSERT INTO table (cols) VALUES (?1, ..., ?n)` for `n` values, in column order.
pub(crate) fn insert(table: &str, cols: &str, vals: Vec<V>) -> Stmt {
    let marks: Vec<String> = (1..=vals.len()).map(|k| format!("?{k}")).collect();
    let sql = format!("INSERT INTO {table} ({cols}) VALUES ({})", marks.join(", "));
    (sql, vals)
}

/// A row mapper, written once for both drivers.
pub(crate) type Mapper<T> = fn(&dyn Cols) -> Result<T, StoreError>;

impl rusqlite::ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(match self {
            V::I(Some(n)) => Value::Integer(*n),
            V::I4(n) => Value::Integer(i64::from(*n)),
            V::T(Some(s)) => Value::Text(s.clone()),
            V::I(None) | V::T(None) => Value::Null,
            V::B(b) => Value::Blob(b.clone()),
        }))
    }
}

/// The parameters as tokio-postgres wants them.
pub(crate) fn pg_params(vals: &[V]) -> Vec<&(dyn PgToSql + Sync)> {
    vals.iter()
        .map(|v| -> &(dyn PgToSql + Sync) {
            match v {
                V::I(n) => n,
                V::I4(n) => n,
                V::T(s) => s,
                V::B(b) => b,
            }
        })
        .collect()
}

/// `?N` -> `$N`.
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Column access common to both drivers' rows.
pub(crate) trait Cols {
    fn i64_(&self, i: usize) -> Result<i64, StoreError>;
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn bool_(&self, i: usize) -> Result<bool, StoreError>;
    fn str_(&self, i: usize) -> Result<String, StoreError>;
    fn ostr(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn obytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
    /// A ledger payload column for the verification scan: like [`Cols::obytes`], but a value
    /// re-typed by hand must not abort the whole scan (see the SQLite impl).
    fn payload(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        self.obytes(i)
    }
    /// A 32-byte hash column (`what` names it in the corruption error), without copying.
    fn hash(&self, i: usize, what: &str) -> Result<[u8; 32], StoreError>;
}

/// The columns both drivers read alike: their own typed getter, its error converted. Only
/// the getter's name differs (`get` for rusqlite, `try_get` for tokio-postgres).
macro_rules! driver_typed_cols {
    ($get:ident) => {
        fn bool_(&self, i: usize) -> Result<bool, StoreError> {
            Ok(self.$get(i)?)
        }
        fn str_(&self, i: usize) -> Result<String, StoreError> {
            Ok(self.$get(i)?)
        }
        fn ostr(&self, i: usize) -> Result<Option<String>, StoreError> {
            Ok(self.$get(i)?)
        }
        fn obytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.$get(i)?)
        }
    };
}

impl Cols for rusqlite::Row<'_> {
    fn i64_(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    driver_typed_cols!(get);
    /// TEXT is read as its bytes (the payload hash then says whether they are the committed
    /// ones), any other type as a missing payload (reported unless a redaction explains it).
    fn payload(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(match self.get_ref(i)? {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                Some(b.to_vec())
            }
            _ => None,
        })
    }
    fn hash(&self, i: usize, what: &str) -> Result<[u8; 32], StoreError> {
        let b = self.get_ref(i)?.as_blob().map_err(rusqlite::Error::from)?;
        hash32(b, what)
    }
}

impl Cols for tokio_postgres::Row {
    fn i64_(&self, i: usize) -> Result<i64, StoreError> {
        self.oi64(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        // `INTEGER` columns and `length(bytea)` are INT4.
        if self.columns().get(i).map(|c| c.type_()) == Some(&Type::INT4) {
            let v: Option<i32> = self.try_get(i)?;
            return Ok(v.map(i64::from));
        }
        Ok(self.try_get(i)?)
    }
    driver_typed_cols!(try_get);
    fn hash(&self, i: usize, what: &str) -> Result<[u8; 32], StoreError> {
        hash32(self.try_get(i)?, what)
    }
}

/// Reads an enum-like text column into its domain type; a value this build does not know
/// is corruption naming `table.column` and the value.
pub(crate) fn parsed<T>(
    r: &dyn Cols,
    i: usize,
    table: &'static str,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let s = r.str_(i)?;
    parse(&s).ok_or(StoreError::CorruptValue {
        table,
        column,
        value: s,
    })
}

/// Runs a query on SQLite and maps its rows.
pub(crate) fn sqlite_rows<T>(
    c: &rusqlite::Connection,
    sql: &str,
    vals: &[V],
    f: Mapper<T>,
) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(vals.iter()))?;
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// Whether to go on after statement `k` changed `n` rows: with `guarded`, the first
/// statement must change exactly one row. `Ok(false)`: it changed none, so nothing was
/// written and the rest is skipped. More than one is an error, which rolls back the
/// caller's transaction (or savepoint).
fn guard_held(guarded: bool, k: usize, n: u64) -> Result<bool, StoreError> {
    match (guarded && k == 0, n) {
        (true, 0) => Ok(false),
        (true, 2..) => Err(StoreError::Internal(format!(
            "a guarded update changed {n} rows instead of 1"
        ))),
        _ => Ok(true),
    }
}

/// Runs `stmts` inside the caller's SQLite transaction: the rows each changed, or `None`
/// when the guard failed (see [`guard_held`]).
pub(crate) fn sqlite_run(
    c: &rusqlite::Connection,
    stmts: &[Stmt],
    guarded: bool,
) -> Result<Option<Vec<u64>>, StoreError> {
    let mut out = Vec::with_capacity(stmts.len());
    for (k, (sql, vals)) in stmts.iter().enumerate() {
        let n = c
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(vals.iter()))? as u64;
        if !guard_held(guarded, k, n)? {
            return Ok(None);
        }
        out.push(n);
    }
    Ok(Some(out))
}

/// [`sqlite_run`] inside the caller's PostgreSQL transaction.
pub(crate) async fn pg_run(
    tx: &tokio_postgres::Transaction<'_>,
    stmts: &[Stmt],
    guarded: bool,
) -> Result<Option<Vec<u64>>, StoreError> {
    let mut out = Vec::with_capacity(stmts.len());
    for (k, (sql, vals)) in stmts.iter().enumerate() {
        let n = tx.execute(pg_sql(sql).as_str(), &pg_params(vals)).await?;
        if !guard_held(guarded, k, n)? {
            return Ok(None);
        }
        out.push(n);
    }
    Ok(Some(out))
}

/// `u64` sequence number to SQL `BIGINT`.
pub(crate) fn seq_to_i64(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::NotFound(format!("sequence number {seq}")))
}

/// SQL `BIGINT` to `u64` sequence number.
pub(crate) fn seq_from_i64(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("negative sequence number {seq}")))
}

/// SQL `INTEGER` chain to `u32`.
pub(crate) fn chain_from_i64(chain: i64) -> Result<u32, StoreError> {
    u32::try_from(chain).map_err(|_| StoreError::Corrupt(format!("chain number {chain}")))
}

/// `u32` chain to PostgreSQL's `INTEGER`.
pub(crate) fn chain_i32(chain: u32) -> Result<i32, StoreError> {
    i32::try_from(chain).map_err(|_| StoreError::NotFound(format!("ledger chain {chain}")))
}

/// 32-byte hash column.
pub(crate) fn hash32(b: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(b)
        .map_err(|_| StoreError::Corrupt(format!("{what} has {} bytes, expected 32", b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            pg_sql("a = ?1 AND b = ?12 AND c LIKE '?'"),
            "a = $1 AND b = $12 AND c LIKE '?'"
        );
    }

    #[test]
    fn inserts_number_their_values() {
        let (sql, vals) = insert("t", "a, b", vec![i(1), t("x")]);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?1, ?2)");
        assert_eq!(vals.len(), 2);
    }

    #[test]
    fn guard() {
        assert!(guard_held(true, 0, 1).unwrap());
        assert!(!guard_held(true, 0, 0).unwrap());
        assert!(guard_held(true, 0, 2).is_err());
        assert!(guard_held(true, 1, 0).unwrap());
        assert!(guard_held(false, 0, 0).unwrap());
    }
}
