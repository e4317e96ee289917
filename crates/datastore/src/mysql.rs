//! MariaDB and MySQL through the blocking `mysql` client (no TLS, pure-Rust compression).
//! Catalog from `information_schema` for the connection's database; privileges from the
//! `*_PRIVILEGES` views for the current account.

use std::time::Duration;

use assent_model::datastore::DatastoreKind;
use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, Params};
use serde_json::Value;

use crate::catalog::{Catalog, ColumnInfo, ForeignKey, TableInfo, normalise_index_expr};
use crate::conn::{Conn, ConnectOptions, Query};
use crate::error::{DsError, DsResult, ErrorKind};

pub(crate) struct My {
    conn: mysql::Conn,
}

pub(crate) fn connect(url: &str, opts: ConnectOptions) -> DsResult<My> {
    let parsed = Opts::from_url(url)
        .map_err(|e| DsError::new(ErrorKind::Config, format!("invalid MySQL URL: {e}")))?;
    let builder = OptsBuilder::from_opts(parsed)
        .tcp_connect_timeout(Some(Duration::from_millis(opts.connect_timeout_ms)));
    let mut conn = mysql::Conn::new(builder).map_err(classify)?;
    let secs = opts.lock_timeout_ms.div_ceil(1000).max(1);
    conn.query_drop(format!(
        "SET SESSION innodb_lock_wait_timeout = {secs}, SESSION lock_wait_timeout = {secs}"
    ))
    .map_err(classify)?;
    Ok(My { conn })
}

fn classify(e: mysql::Error) -> DsError {
    match &e {
        mysql::Error::MySqlError(m) => {
            let kind = match m.code {
                1045 | 1044 | 1698 => ErrorKind::Auth,
                1142 | 1143 | 1227 | 1370 => ErrorKind::Permission,
                1146 | 1054 | 1049 => ErrorKind::Missing,
                1205 | 1213 => ErrorKind::LockTimeout,
                _ => ErrorKind::Engine,
            };
            DsError::new(kind, format!("{} ({})", m.message, m.code))
        }
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) => {
            DsError::new(ErrorKind::Unreachable, e.to_string())
        }
        mysql::Error::UrlError(_) => DsError::new(ErrorKind::Config, e.to_string()),
        _ => DsError::new(ErrorKind::Engine, e.to_string()),
    }
}

fn params(q: &Query) -> Params {
    if q.params.is_empty() {
        Params::Empty
    } else {
        Params::Positional(q.params.iter().map(mysql::Value::from).collect())
    }
}

/// A MySQL value as JSON.
fn cell(v: mysql::Value) -> Value {
    use mysql::Value as V;
    match v {
        V::NULL => Value::Null,
        V::Bytes(b) => match String::from_utf8(b) {
            Ok(s) => Value::String(s),
            Err(e) => Value::String(hex::encode(e.into_bytes())),
        },
        V::Int(i) => Value::from(i),
        V::UInt(u) => Value::from(u),
        V::Float(f) => Value::from(f),
        V::Double(f) => Value::from(f),
        V::Date(y, mo, d, h, mi, s, us) => Value::String(if (h, mi, s, us) == (0, 0, 0, 0) {
            format!("{y:04}-{mo:02}-{d:02}")
        } else {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }),
        V::Time(neg, d, h, mi, s, _) => Value::String(format!(
            "{}{:02}:{mi:02}:{s:02}",
            if neg { "-" } else { "" },
            u64::from(d) * 24 + u64::from(h)
        )),
    }
}

fn text(v: &mysql::Value) -> String {
    match cell(v.clone()) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Privilege names held database-wide, and `(table, privilege)` pairs held per table.
type Privileges = (Vec<String>, Vec<(String, String)>);

impl My {
    fn rows(&mut self, sql: &str) -> DsResult<Vec<Vec<mysql::Value>>> {
        let rows: Vec<mysql::Row> = self.conn.query(sql).map_err(classify)?;
        Ok(rows.into_iter().map(mysql::Row::unwrap).collect())
    }

    /// Privileges the current account holds on every table of the database
    /// (global, database-wide) and per table.
    fn privileges(&mut self) -> DsResult<Privileges> {
        let grantee = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                       SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
        let wide = self.rows(&format!(
            "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = {grantee} \
             UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES \
             WHERE GRANTEE = {grantee} AND TABLE_SCHEMA = DATABASE()"
        ))?;
        let per_table = self.rows(&format!(
            "SELECT TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES \
             WHERE GRANTEE = {grantee} AND TABLE_SCHEMA = DATABASE()"
        ))?;
        Ok((
            wide.iter().filter_map(|r| r.first().map(text)).collect(),
            per_table
                .iter()
                .filter_map(|r| Some((text(r.first()?), text(r.get(1)?))))
                .collect(),
        ))
    }
}

impl Conn for My {
    fn kind(&self) -> DatastoreKind {
        DatastoreKind::Mysql
    }

    fn catalog(&mut self) -> DsResult<Catalog> {
        let mut cat = Catalog::default();
        let (wide, per_table) = self.privileges()?;
        let has = |t: &str, p: &str| {
            wide.iter().any(|w| w == p || w == "ALL PRIVILEGES")
                || per_table.iter().any(|(tt, pp)| tt == t && pp == p)
        };
        for r in self.rows(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        )? {
            let name = r.first().map(text).unwrap_or_default();
            cat.tables.push(TableInfo {
                can_select: has(&name, "SELECT"),
                can_update: has(&name, "UPDATE"),
                can_delete: has(&name, "DELETE"),
                name,
                ..TableInfo::default()
            });
        }
        for r in self.rows(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COALESCE(COLLATION_NAME, '') \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )? {
            let f: Vec<String> = r.iter().map(text).collect();
            if let (Some(ti), [_, name, ty, nullable, coll]) = (
                cat.tables.iter_mut().find(|x| Some(&x.name) == f.first()),
                f.as_slice(),
            ) {
                ti.columns.push(ColumnInfo {
                    name: name.clone(),
                    data_type: ty.clone(),
                    nullable: nullable == "YES",
                    ci: coll.ends_with("_ci"),
                });
            }
        }
        for r in self.rows(
            "SELECT TABLE_NAME, COLUMN_NAME, CONSTRAINT_NAME, COALESCE(REFERENCED_TABLE_NAME, ''), \
             COALESCE(REFERENCED_COLUMN_NAME, '') FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
        )? {
            let f: Vec<String> = r.iter().map(text).collect();
            let [t, col, cons, rt, rc] = f.as_slice() else {
                continue;
            };
            let Some(ti) = cat.tables.iter_mut().find(|x| &x.name == t) else {
                continue;
            };
            if cons == "PRIMARY" {
                ti.primary_key.push(col.clone());
            } else if !rt.is_empty() {
                ti.foreign_keys.push(ForeignKey {
                    column: col.clone(),
                    to_table: rt.clone(),
                    to_column: rc.clone(),
                });
            }
        }
        for r in self.rows(
            "SELECT TABLE_NAME, COALESCE(COLUMN_NAME, '') FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1",
        )? {
            let f: Vec<String> = r.iter().map(text).collect();
            if let [t, col] = f.as_slice()
                && let Some(ti) = cat.tables.iter_mut().find(|x| &x.name == t)
            {
                ti.index_leads.push(normalise_index_expr(col));
            }
        }
        Ok(cat)
    }

    fn select(&mut self, q: &Query) -> DsResult<Vec<Vec<Value>>> {
        let rows: Vec<mysql::Row> = self.conn.exec(&q.sql, params(q)).map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|r| r.unwrap().into_iter().map(cell).collect())
            .collect())
    }

    fn execute(&mut self, q: &Query) -> DsResult<u64> {
        self.conn.exec_drop(&q.sql, params(q)).map_err(classify)?;
        Ok(self.conn.affected_rows())
    }

    fn begin(&mut self) -> DsResult<()> {
        self.conn.query_drop("START TRANSACTION").map_err(classify)
    }
    fn commit(&mut self) -> DsResult<()> {
        self.conn.query_drop("COMMIT").map_err(classify)
    }
    fn rollback(&mut self) -> DsResult<()> {
        self.conn.query_drop("ROLLBACK").map_err(classify)
    }
}
