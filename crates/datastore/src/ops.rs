//! The operations on one datastore that rights fulfilment needs: find the person's rows
//! (access), count what erasure would do (dry run), erase, set or lift a restriction flag,
//! rectify columns. Each reads the catalog first and fails, naming the table, when an
//! annotated table or column is missing; each change runs in one transaction that is rolled
//! back on any failure, so a datastore is changed entirely or not at all.
//!
//! Invariants: erasure visits tables in `Datastore::erasure_order` (rows that reference
//! others go first, while the rows they reference can still be matched); kept tables
//! (`legal_hold`) are counted, never changed; a run that finds nothing changes nothing, so
//! running it again is harmless.

use assent_model::datastore::{ColumnErasure, DataTable, Datastore, RowErasure};
use serde_json::Value;

use crate::catalog::{Catalog, TableInfo};
use crate::conn::{Builder, Conn};
use crate::error::{DsError, DsResult, ErrorKind};
use crate::graph::{Identity, check_exists, condition};
use crate::hash::keyed_hash;

/// The person's rows of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableData {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// What erasure does to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delete,
    Mask,
    /// Kept for a legal obligation: restricted, not changed.
    Kept,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Mask => "mask",
            Action::Kept => "kept",
        }
    }
}

/// What erasure did (or, in a dry run, would do) to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableErasure {
    pub table: String,
    pub action: Action,
    pub rows: u64,
    /// The columns rewritten (masking only).
    pub columns: Vec<String>,
}

/// One requested correction: `table.column` becomes `value` (NULL for `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub table: String,
    pub column: String,
    pub value: Option<String>,
}

/// Rows changed in one table by a restriction or a rectification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

fn catalog(conn: &mut dyn Conn, ds: &Datastore) -> DsResult<Catalog> {
    let cat = conn.catalog()?;
    check_exists(ds, &cat)?;
    Ok(cat)
}

fn info<'a>(cat: &'a Catalog, t: &DataTable) -> DsResult<&'a TableInfo> {
    cat.table(&t.name).ok_or_else(|| {
        DsError::new(
            ErrorKind::Missing,
            format!("table `{}` does not exist", t.name),
        )
        .at(&t.name)
    })
}

/// Every annotated table with the person's rows (all columns), in registry order.
pub fn find(conn: &mut dyn Conn, ds: &Datastore, ids: &[Identity]) -> DsResult<Vec<TableData>> {
    let cat = catalog(conn, ds)?;
    let mut out = vec![];
    for t in &ds.tables {
        let ti = info(&cat, t)?;
        let columns: Vec<String> = ti.columns.iter().map(|c| c.name.clone()).collect();
        let mut b = Builder::new(conn.kind());
        let cells: Vec<String> = columns.iter().map(|c| b.dialect.cell(c)).collect();
        b.push(&format!(
            "SELECT {} FROM {} WHERE ",
            cells.join(", "),
            b.ident(&t.name)
        ));
        let rows = if condition(ds, &cat, t, ids, &mut b) {
            conn.select(&b.finish()).map_err(|e| e.at(&t.name))?
        } else {
            vec![]
        };
        out.push(TableData {
            table: t.name.clone(),
            columns,
            rows,
        });
    }
    Ok(out)
}

fn count(
    conn: &mut dyn Conn,
    ds: &Datastore,
    cat: &Catalog,
    t: &DataTable,
    ids: &[Identity],
) -> DsResult<u64> {
    let mut b = Builder::new(conn.kind());
    b.push(&format!("SELECT COUNT(*) FROM {} WHERE ", b.ident(&t.name)));
    if !condition(ds, cat, t, ids, &mut b) {
        return Ok(0);
    }
    let rows = conn.select(&b.finish()).map_err(|e| e.at(&t.name))?;
    let n = rows.first().and_then(|r| r.first()).map(|v| match v {
        Value::String(s) => s.parse().unwrap_or(0),
        v => v.as_u64().unwrap_or(0),
    });
    Ok(n.unwrap_or(0))
}

fn action(t: &DataTable) -> Action {
    if t.legal_hold {
        Action::Kept
    } else if t.erase == RowErasure::Delete {
        Action::Delete
    } else {
        Action::Mask
    }
}

fn masked(t: &DataTable) -> Vec<String> {
    if action(t) != Action::Mask {
        return vec![];
    }
    t.columns
        .iter()
        .filter(|c| c.erasure() != ColumnErasure::Keep)
        .map(|c| c.name.clone())
        .collect()
}

/// What erasure would do, changing nothing (the dry run).
pub fn plan(conn: &mut dyn Conn, ds: &Datastore, ids: &[Identity]) -> DsResult<Vec<TableErasure>> {
    let cat = catalog(conn, ds)?;
    let mut out = vec![];
    for t in ds.erasure_order() {
        out.push(TableErasure {
            table: t.name.clone(),
            action: action(t),
            rows: count(conn, ds, &cat, t, ids)?,
            columns: masked(t),
        });
    }
    Ok(out)
}

/// Runs `f` in a transaction: committed when it succeeds, rolled back when it fails.
fn in_transaction<T>(
    conn: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> DsResult<T>,
) -> DsResult<T> {
    conn.begin()?;
    match f(conn) {
        Ok(v) => {
            conn.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.rollback();
            Err(e)
        }
    }
}

/// Erases the person's rows as annotated, in one transaction; `key` keys the hashes.
pub fn erase(
    conn: &mut dyn Conn,
    ds: &Datastore,
    ids: &[Identity],
    key: &[u8],
) -> DsResult<Vec<TableErasure>> {
    let cat = catalog(conn, ds)?;
    in_transaction(conn, |conn| {
        let mut out = vec![];
        for t in ds.erasure_order() {
            let act = action(t);
            let rows = match act {
                Action::Kept => count(conn, ds, &cat, t, ids)?,
                Action::Delete => {
                    let mut b = Builder::new(conn.kind());
                    b.push(&b.dialect.delete_where(&t.name));
                    if condition(ds, &cat, t, ids, &mut b) {
                        conn.execute(&b.finish()).map_err(|e| e.at(&t.name))?
                    } else {
                        0
                    }
                }
                Action::Mask => mask(conn, ds, &cat, t, ids, key).map_err(|e| e.at(&t.name))?,
            };
            out.push(TableErasure {
                table: t.name.clone(),
                action: act,
                rows,
                columns: masked(t),
            });
        }
        Ok(out)
    })
}

/// `SET` clauses for the null and fixed columns of a masked table.
pub(crate) fn plain_sets(b: &mut Builder, t: &DataTable, ti: &TableInfo) -> Vec<String> {
    let mut sets = vec![];
    for c in &t.columns {
        let ty = ti.column(&c.name).map(|x| x.data_type.clone());
        match c.erasure() {
            ColumnErasure::Null => sets.push(format!("{} = NULL", b.ident(&c.name))),
            ColumnErasure::Fixed => {
                let v = c.value.clone().unwrap_or_default();
                let p = b.param(&v, ty.as_deref());
                sets.push(format!("{} = {p}", b.ident(&c.name)));
            }
            ColumnErasure::Hash | ColumnErasure::Keep => {}
        }
    }
    sets
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn mask(
    conn: &mut dyn Conn,
    ds: &Datastore,
    cat: &Catalog,
    t: &DataTable,
    ids: &[Identity],
    key: &[u8],
) -> DsResult<u64> {
    let ti = info(cat, t)?;
    let hashed: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| c.erasure() == ColumnErasure::Hash)
        .map(|c| c.name.as_str())
        .collect();
    if masked(t).is_empty() {
        return Ok(0);
    }
    if hashed.is_empty() {
        let mut b = Builder::new(conn.kind());
        b.push(&b.dialect.update_set(&t.name));
        let sets = plain_sets(&mut b, t, ti);
        b.push(&sets.join(", "));
        b.push(" WHERE ");
        if !condition(ds, cat, t, ids, &mut b) {
            return Ok(0);
        }
        return conn.execute(&b.finish());
    }
    // A keyed hash is computed here, row by row: read the keys and the values, then update
    // each row by its primary key.
    if ti.primary_key.is_empty() {
        return Err(DsError::new(
            ErrorKind::Engine,
            format!(
                "table `{}` has no primary key: erase = \"hash\" needs one to rewrite each row",
                t.name
            ),
        ));
    }
    let mut b = Builder::new(conn.kind());
    let cells: Vec<String> = ti
        .primary_key
        .iter()
        .map(String::as_str)
        .chain(hashed.iter().copied())
        .map(|c| b.dialect.cell(c))
        .collect();
    b.push(&format!(
        "SELECT {} FROM {} WHERE ",
        cells.join(", "),
        b.ident(&t.name)
    ));
    if !condition(ds, cat, t, ids, &mut b) {
        return Ok(0);
    }
    let rows = conn.select(&b.finish())?;
    let npk = ti.primary_key.len();
    let mut n = 0;
    for r in rows {
        let mut u = Builder::new(conn.kind());
        u.push(&format!("UPDATE {} SET ", u.ident(&t.name)));
        let mut sets = plain_sets(&mut u, t, ti);
        for (i, c) in hashed.iter().enumerate() {
            let ty = ti.column(c).map(|x| x.data_type.clone());
            let set = match r.get(npk + i).and_then(text_of) {
                Some(v) => {
                    let p = u.param(&keyed_hash(key, &v), ty.as_deref());
                    format!("{} = {p}", u.ident(c))
                }
                None => format!("{} = NULL", u.ident(c)),
            };
            sets.push(set);
        }
        u.push(&sets.join(", "));
        u.push(" WHERE ");
        let mut keys = vec![];
        for (i, pk) in ti.primary_key.iter().enumerate() {
            let ty = ti.column(pk).map(|x| x.data_type.clone());
            let v = r.get(i).and_then(text_of).unwrap_or_default();
            let p = u.param(&v, ty.as_deref());
            keys.push(format!("{} = {p}", u.ident(pk)));
        }
        u.push(&keys.join(" AND "));
        n += conn.execute(&u.finish())?;
    }
    Ok(n)
}

/// Sets (`on`) or lifts the restriction flag of every table that has one, in one transaction.
pub fn restrict(
    conn: &mut dyn Conn,
    ds: &Datastore,
    ids: &[Identity],
    on: bool,
) -> DsResult<Vec<Touched>> {
    let cat = catalog(conn, ds)?;
    in_transaction(conn, |conn| {
        let mut out = vec![];
        for t in &ds.tables {
            let Some(flag) = &t.restrict_column else {
                continue;
            };
            let mut b = Builder::new(conn.kind());
            b.push(&b.dialect.update_set(&t.name));
            b.push(&format!(
                "{} = {} WHERE ",
                b.ident(flag),
                b.dialect.bool_lit(on)
            ));
            let rows = if condition(ds, &cat, t, ids, &mut b) {
                conn.execute(&b.finish()).map_err(|e| e.at(&t.name))?
            } else {
                0
            };
            out.push(Touched {
                table: t.name.clone(),
                columns: vec![flag.clone()],
                rows,
            });
        }
        Ok(out)
    })
}

/// Applies corrections to the person's rows, in one transaction, in the order given (a
/// change of an identity column goes last, or the later ones no longer find the rows).
pub fn rectify(
    conn: &mut dyn Conn,
    ds: &Datastore,
    ids: &[Identity],
    changes: &[Change],
) -> DsResult<Vec<Touched>> {
    let cat = catalog(conn, ds)?;
    for ch in changes {
        let exists = ds.table(&ch.table).is_some()
            && cat
                .table(&ch.table)
                .is_some_and(|ti| ti.column(&ch.column).is_some());
        if !exists {
            return Err(DsError::new(
                ErrorKind::Missing,
                format!(
                    "`{}.{}` is not an annotated table's column",
                    ch.table, ch.column
                ),
            )
            .at(&ch.table));
        }
    }
    in_transaction(conn, |conn| {
        let mut out = vec![];
        for ch in changes {
            let Some(t) = ds.table(&ch.table) else {
                continue;
            };
            let ty = cat
                .table(&ch.table)
                .and_then(|ti| ti.column(&ch.column))
                .map(|c| c.data_type.clone());
            let mut b = Builder::new(conn.kind());
            b.push(&b.dialect.update_set(&t.name));
            b.push(&format!("{} = ", b.ident(&ch.column)));
            let v = match &ch.value {
                Some(v) => b.param(v, ty.as_deref()),
                None => "NULL".to_string(),
            };
            b.push(&v);
            b.push(" WHERE ");
            let rows = if condition(ds, &cat, t, ids, &mut b) {
                conn.execute(&b.finish()).map_err(|e| e.at(&t.name))?
            } else {
                0
            };
            out.push(Touched {
                table: t.name.clone(),
                columns: vec![ch.column.clone()],
                rows,
            });
        }
        Ok(out)
    })
}

/// Whether `value` can be stored in a column of `data_type` (the catalog's type name), so
/// that a correction of the wrong type is refused before anything changes: SQLite would
/// store it as text, the other engines fail in the middle of the transaction. `Err` says
/// what the column takes.
pub fn value_fits(data_type: &str, value: &str) -> Result<(), String> {
    let t = data_type.to_ascii_lowercase();
    let v = value.trim();
    let date = |s: &str| {
        let b = s.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    };
    let ok = if t.contains("bool") {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "t" | "f" | "1" | "0"
        )
    } else if t.contains("int") && !t.contains("interval") && !t.contains("point") {
        v.parse::<i64>().is_ok()
    } else if ["numeric", "decimal", "real", "double", "float"]
        .iter()
        .any(|x| t.contains(x))
    {
        v.parse::<f64>().is_ok_and(f64::is_finite)
    } else if t == "date" {
        date(v)
    } else if let Some(w) = crate::introspect::text_width(&t) {
        if value.chars().count() > w {
            return Err(format!(
                "at most {w} characters (the column is {data_type})"
            ));
        }
        true
    } else {
        true
    };
    if ok {
        Ok(())
    } else {
        Err(format!("a value of the column's type ({data_type})"))
    }
}

/// Checks corrections against the live catalog before any change: each names an annotated
/// table's existing column and its value fits the column's type. `Err((index, field,
/// message))` names the first bad one (`field`: `field` or `value`).
pub fn check_changes(
    cat: &Catalog,
    ds: &Datastore,
    changes: &[Change],
) -> Result<(), (usize, &'static str, String)> {
    for (k, ch) in changes.iter().enumerate() {
        let col = ds
            .table(&ch.table)
            .and_then(|_| cat.table(&ch.table))
            .and_then(|ti| ti.column(&ch.column));
        let Some(col) = col else {
            return Err((
                k,
                "field",
                format!(
                    "`{}.{}` does not exist in datastore `{}`",
                    ch.table, ch.column, ds.id
                ),
            ));
        };
        match &ch.value {
            Some(v) => value_fits(&col.data_type, v).map_err(|m| (k, "value", m))?,
            None if !col.nullable => {
                return Err((k, "value", "the column cannot be empty (NOT NULL)".into()));
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::value_fits;

    #[test]
    fn values_fit_their_column() {
        for (ty, v) in [
            ("integer", "42"),
            ("int(11)", "-3"),
            ("bigint", "9000000000"),
            ("boolean", "true"),
            ("tinyint(1)", "1"),
            ("numeric(10,2)", "4.20"),
            ("double precision", "1e3"),
            ("date", "2026-02-03"),
            ("character varying(5)", "Ada K"),
            ("varchar(5)", "Zoé!"),
            ("text", "anything at all"),
            ("timestamp with time zone", "2026-02-03 10:00:00+00"),
        ] {
            assert_eq!(value_fits(ty, v), Ok(()), "{ty} {v}");
        }
        for (ty, v) in [
            ("integer", "forty-two"),
            ("int(11)", "4.5"),
            ("boolean", "maybe"),
            ("numeric", "NaN"),
            ("date", "3 February"),
            ("character varying(5)", "Ada King"),
        ] {
            assert!(value_fits(ty, v).is_err(), "{ty} {v}");
        }
    }
}
