//! SQLite files through rusqlite (the store's own). A missing file is an error, never a new
//! empty database; `sqlite:///path.db?mode=ro` opens read-only. The catalog comes from the
//! `PRAGMA` table functions; a read-only file (or connection) has no UPDATE nor DELETE.

use std::time::Duration;

use assent_model::datastore::DatastoreKind;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::catalog::{Catalog, ColumnInfo, ForeignKey, TableInfo, normalise_index_expr};
use crate::conn::{Conn, ConnectOptions, Query};
use crate::error::{DsError, DsResult, ErrorKind};

pub(crate) struct Lite {
    conn: Connection,
}

/// The file of a `sqlite://PATH[?mode=ro]` URL and whether it is read-only.
fn parse(url: &str) -> DsResult<(String, bool)> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| DsError::new(ErrorKind::Config, "a SQLite URL starts with sqlite://"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(DsError::new(
            ErrorKind::Config,
            "sqlite:// needs a file path, e.g. sqlite:///var/lib/shop.db",
        ));
    }
    let ro = query.split('&').any(|kv| kv == "mode=ro");
    Ok((path.to_string(), ro))
}

pub(crate) fn connect(url: &str, opts: ConnectOptions) -> DsResult<Lite> {
    let (path, ro) = parse(url)?;
    if !std::path::Path::new(&path).is_file() {
        return Err(DsError::new(
            ErrorKind::Unreachable,
            format!("{path}: no such database file"),
        ));
    }
    let flags = if ro {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(classify)?;
    conn.busy_timeout(Duration::from_millis(opts.lock_timeout_ms))
        .map_err(classify)?;
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(classify)?;
    Ok(Lite { conn })
}

fn classify(e: rusqlite::Error) -> DsError {
    use rusqlite::ErrorCode as C;
    let msg = e.to_string();
    let kind = match e.sqlite_error_code() {
        Some(C::CannotOpen | C::NotADatabase) => ErrorKind::Unreachable,
        Some(C::ReadOnly | C::PermissionDenied | C::AuthorizationForStatementDenied) => {
            ErrorKind::Permission
        }
        Some(C::DatabaseBusy | C::DatabaseLocked) => ErrorKind::LockTimeout,
        _ if msg.contains("no such table") || msg.contains("no such column") => ErrorKind::Missing,
        _ => ErrorKind::Engine,
    };
    DsError::new(kind, msg)
}

fn cell(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(hex::encode(b)),
    }
}

impl Lite {
    fn strings(&self, sql: &str, param: Option<&str>) -> DsResult<Vec<Vec<Value>>> {
        self.select(&Query {
            sql: sql.to_string(),
            params: param.map(str::to_string).into_iter().collect(),
        })
    }
    fn select(&self, q: &Query) -> DsResult<Vec<Vec<Value>>> {
        let mut st = self.conn.prepare(&q.sql).map_err(classify)?;
        let n = st.column_count();
        let mut rows = st
            .query(rusqlite::params_from_iter(q.params.iter()))
            .map_err(classify)?;
        let mut out = vec![];
        while let Some(r) = rows.next().map_err(classify)? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(cell(r.get_ref(i).map_err(classify)?));
            }
            out.push(row);
        }
        Ok(out)
    }
}

fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(o) => o.to_string(),
    }
}

/// The first key of an index from its `CREATE INDEX` text: `lower(email)` of
/// `CREATE INDEX i ON t (lower(email), x)`.
fn first_key(sql: &str) -> Option<String> {
    let open = sql.find('(')?;
    let body = &sql[open + 1..];
    let mut depth = 0usize;
    for (i, ch) in body.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(body[..i].to_string()),
            ')' => depth -= 1,
            ',' if depth == 0 => return Some(body[..i].to_string()),
            _ => {}
        }
    }
    None
}

impl Conn for Lite {
    fn kind(&self) -> DatastoreKind {
        DatastoreKind::Sqlite
    }

    fn catalog(&mut self) -> DsResult<Catalog> {
        let writable = !self.conn.is_readonly(rusqlite::MAIN_DB).map_err(classify)?;
        let mut cat = Catalog::default();
        let names = self.strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
            None,
        )?;
        for n in names {
            let name = s(n.first());
            let mut ti = TableInfo {
                name: name.clone(),
                can_select: true,
                can_update: writable,
                can_delete: writable,
                ..TableInfo::default()
            };
            // cid, name, type, notnull, dflt_value, pk
            let mut pk: Vec<(i64, String)> = vec![];
            for c in self.strings("SELECT * FROM pragma_table_info(?)", Some(&name))? {
                let cname = s(c.get(1));
                let ty = s(c.get(2));
                ti.columns.push(ColumnInfo {
                    name: cname.clone(),
                    ci: ty.to_ascii_uppercase().contains("NOCASE"),
                    data_type: ty,
                    nullable: c.get(3).and_then(Value::as_i64) == Some(0),
                });
                if let Some(k) = c.get(5).and_then(Value::as_i64).filter(|k| *k > 0) {
                    pk.push((k, cname));
                }
            }
            pk.sort();
            ti.primary_key = pk.into_iter().map(|(_, c)| c).collect();
            // id, seq, table, from, to
            for f in self.strings("SELECT * FROM pragma_foreign_key_list(?)", Some(&name))? {
                ti.foreign_keys.push(ForeignKey {
                    column: s(f.get(3)),
                    to_table: s(f.get(2)),
                    to_column: s(f.get(4)),
                });
            }
            for i in self.strings("SELECT name FROM pragma_index_list(?)", Some(&name))? {
                let iname = s(i.first());
                // seqno, cid, name, desc, coll, key
                let first = self
                    .strings(
                        "SELECT cid, name, coll FROM pragma_index_xinfo(?) WHERE seqno = 0",
                        Some(&iname),
                    )?
                    .into_iter()
                    .next();
                let Some(first) = first else { continue };
                let lead = if first.first().and_then(Value::as_i64) == Some(-2) {
                    let sql = self.strings(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                        Some(&iname),
                    )?;
                    first_key(&s(sql.first().and_then(|r| r.first()))).unwrap_or_default()
                } else if s(first.get(2)).eq_ignore_ascii_case("NOCASE") {
                    format!("lower({})", s(first.get(1)))
                } else {
                    s(first.get(1))
                };
                ti.index_leads.push(normalise_index_expr(&lead));
            }
            if let Some(pk) = ti.primary_key.first() {
                ti.index_leads.push(pk.to_ascii_lowercase());
            }
            cat.tables.push(ti);
        }
        Ok(cat)
    }

    fn select(&mut self, q: &Query) -> DsResult<Vec<Vec<Value>>> {
        Lite::select(self, q)
    }

    fn execute(&mut self, q: &Query) -> DsResult<u64> {
        let n = self
            .conn
            .execute(&q.sql, rusqlite::params_from_iter(q.params.iter()))
            .map_err(classify)?;
        Ok(n as u64)
    }

    fn begin(&mut self) -> DsResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(classify)
    }
    fn commit(&mut self) -> DsResult<()> {
        self.conn.execute_batch("COMMIT").map_err(classify)
    }
    fn rollback(&mut self) -> DsResult<()> {
        self.conn.execute_batch("ROLLBACK").map_err(classify)
    }
}
