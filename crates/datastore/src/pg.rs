//! PostgreSQL through the blocking `postgres` client (the tokio-postgres the store already
//! builds). Catalog from `pg_catalog` for the current schema; cells read as `to_json(...)`
//! so that every type arrives as JSON without a type-by-type decoder.

use std::time::Duration;

use assent_model::datastore::DatastoreKind;
use postgres::{Client, NoTls};
use serde_json::Value;

use crate::catalog::{Catalog, ColumnInfo, ForeignKey, TableInfo, normalise_index_expr};
use crate::conn::{Conn, ConnectOptions, Query};
use crate::error::{DsError, DsResult, ErrorKind};

pub(crate) struct Pg {
    client: Client,
}

pub(crate) fn connect(url: &str, opts: ConnectOptions) -> DsResult<Pg> {
    let mut cfg: postgres::Config = url
        .parse()
        .map_err(|e| DsError::new(ErrorKind::Config, format!("invalid PostgreSQL URL: {e}")))?;
    cfg.connect_timeout(Duration::from_millis(opts.connect_timeout_ms));
    let mut client = cfg.connect(NoTls).map_err(classify)?;
    client
        .batch_execute(&format!(
            "SET lock_timeout = {}; SET statement_timeout = 600000",
            opts.lock_timeout_ms
        ))
        .map_err(classify)?;
    Ok(Pg { client })
}

/// The error's kind from its SQLSTATE (or a connection failure).
fn classify(e: postgres::Error) -> DsError {
    let Some(db) = e.as_db_error() else {
        let msg = e.to_string();
        let kind = if e.is_closed() || msg.contains("connect") || msg.contains("timed out") {
            ErrorKind::Unreachable
        } else {
            ErrorKind::Engine
        };
        let detail = std::error::Error::source(&e)
            .map(|s| format!("{msg}: {s}"))
            .unwrap_or(msg);
        return DsError::new(kind, detail);
    };
    let code = db.code().code();
    let kind = match code {
        "28P01" | "28000" => ErrorKind::Auth,
        "42501" => ErrorKind::Permission,
        "42P01" | "42703" | "3D000" | "3F000" => ErrorKind::Missing,
        "55P03" | "40P01" => ErrorKind::LockTimeout,
        _ if code.starts_with("08") => ErrorKind::Unreachable,
        _ => ErrorKind::Engine,
    };
    DsError::new(kind, format!("{} ({code})", db.message()))
}

fn params(q: &Query) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    q.params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Conn for Pg {
    fn kind(&self) -> DatastoreKind {
        DatastoreKind::Postgres
    }

    fn catalog(&mut self) -> DsResult<Catalog> {
        let mut cat = Catalog::default();
        let tables = self
            .client
            .query(
                "SELECT c.relname::text, has_table_privilege(c.oid, 'SELECT'), \
                 has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE') \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 ORDER BY c.relname",
                &[],
            )
            .map_err(classify)?;
        for r in tables {
            cat.tables.push(TableInfo {
                name: r.get(0),
                can_select: r.get(1),
                can_update: r.get(2),
                can_delete: r.get(3),
                ..TableInfo::default()
            });
        }
        let cols = self
            .client
            .query(
                "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                 NOT a.attnotnull, coalesce(co.collname = 'nocase', false) \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
                &[],
            )
            .map_err(classify)?;
        for r in cols {
            let t: String = r.get(0);
            if let Some(ti) = cat.tables.iter_mut().find(|x| x.name == t) {
                ti.columns.push(ColumnInfo {
                    name: r.get(1),
                    data_type: r.get(2),
                    nullable: r.get(3),
                    ci: r.get(4),
                });
            }
        }
        let keys = self
            .client
            .query(
                "SELECT cl.relname::text, c.contype::text, a.attname::text, fcl.relname::text, \
                 fa.attname::text \
                 FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid \
                 JOIN pg_namespace n ON n.oid = cl.relnamespace \
                 CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, fcol, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
                 LEFT JOIN pg_class fcl ON fcl.oid = c.confrelid \
                 LEFT JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol \
                 WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f') \
                 ORDER BY cl.relname, c.conname, k.ord",
                &[],
            )
            .map_err(classify)?;
        for r in keys {
            let t: String = r.get(0);
            let Some(ti) = cat.tables.iter_mut().find(|x| x.name == t) else {
                continue;
            };
            let kind: String = r.get(1);
            if kind == "p" {
                ti.primary_key.push(r.get(2));
            } else if let (Some(ft), Some(fc)) =
                (r.get::<_, Option<String>>(3), r.get::<_, Option<String>>(4))
            {
                ti.foreign_keys.push(ForeignKey {
                    column: r.get(2),
                    to_table: ft,
                    to_column: fc,
                });
            }
        }
        let idx = self
            .client
            .query(
                "SELECT t.relname::text, pg_get_indexdef(i.indexrelid, 1, true) \
                 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE n.nspname = current_schema()",
                &[],
            )
            .map_err(classify)?;
        for r in idx {
            let t: String = r.get(0);
            if let Some(ti) = cat.tables.iter_mut().find(|x| x.name == t) {
                ti.index_leads.push(normalise_index_expr(r.get(1)));
            }
        }
        Ok(cat)
    }

    fn select(&mut self, q: &Query) -> DsResult<Vec<Vec<Value>>> {
        let rows = self.client.query(&q.sql, &params(q)).map_err(classify)?;
        Ok(rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| match r.try_get::<_, Option<String>>(i) {
                        Ok(Some(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                        Ok(None) => Value::Null,
                        Err(_) => r
                            .try_get::<_, Option<i64>>(i)
                            .ok()
                            .flatten()
                            .map(Value::from)
                            .unwrap_or(Value::Null),
                    })
                    .collect()
            })
            .collect())
    }

    fn execute(&mut self, q: &Query) -> DsResult<u64> {
        self.client.execute(&q.sql, &params(q)).map_err(classify)
    }

    fn begin(&mut self) -> DsResult<()> {
        self.client.batch_execute("BEGIN").map_err(classify)
    }
    fn commit(&mut self) -> DsResult<()> {
        self.client.batch_execute("COMMIT").map_err(classify)
    }
    fn rollback(&mut self) -> DsResult<()> {
        self.client.batch_execute("ROLLBACK").map_err(classify)
    }
}
