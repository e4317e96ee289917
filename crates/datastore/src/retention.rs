//! Retention on a datastore table (`applies_to = "DATASTORE.TABLE"`): which rows are due
//! (their anchor at or before a cutoff), held (their person has an open request, a
//! restriction or a DPO hold) or unanchored (the anchor is NULL), and the purge itself, one
//! chunk per transaction, deleting the rows or anonymising them with the table's erasure
//! annotations.
//!
//! The anchor of a row is the latest of the rule's `anchor` columns: a column of the table,
//! or `TABLE.COLUMN` reached through one of the registry's references, in either direction
//! ("the customer's last order": `orders.placed_at` where `orders.customer_id` references
//! `customers.id`, the latest of the customer's orders). NULLs are ignored; a row whose
//! every anchor is NULL (no order, no date) has no anchor: it is never purged and is
//! reported as `unanchored`. Anchors are compared in the controller's local time: the
//! caller passes the cutoff as a local date-time; PostgreSQL `timestamptz` columns are
//! converted to that zone; other date and time columns are read as local times.
//!
//! Invariants: every statement that changes a row repeats the whole rule's condition (due,
//! not held) inside the chunk's transaction, so a row changed meanwhile (a new order, a new
//! hold) is left alone: nothing outside the rule is deleted. A chunk is committed whole or
//! not at all; a failure leaves the earlier chunks done and the next run resumes. An
//! anonymised row is recognised (its `null` columns are NULL, its `fixed` columns hold their
//! value) and never anonymised twice.

use assent_model::datastore::{ColumnErasure, DataTable, Datastore, DatastoreKind};
use serde_json::Value;

use crate::catalog::{Catalog, TableInfo};
use crate::conn::{Builder, Conn};
use crate::error::{DsError, DsResult, ErrorKind};
use crate::graph::{Identity, check_exists, condition};
use crate::hash::keyed_hash;

/// One retention rule applied to one table.
#[derive(Debug, Clone)]
pub struct TableRule {
    pub table: String,
    /// `COLUMN` or `TABLE.COLUMN` (through a reference), the latest counting.
    pub anchor: Vec<String>,
    /// The controller's time zone (IANA name), for PostgreSQL `timestamptz` anchors.
    pub tz: String,
    /// The latest anchor due, as a local date-time `YYYY-MM-DD HH:MM:SS.fff`.
    pub cutoff_local: String,
    /// Anonymise with the table's erasure annotations instead of deleting.
    pub anonymise: bool,
    /// Identities of the held persons (their rows are skipped).
    pub held: Vec<Identity>,
}

/// What is due in a table, changing nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablePlan {
    pub due: u64,
    pub held: u64,
    /// Rows without an anchor (every anchor NULL): kept and reported.
    pub unanchored: u64,
    /// The earliest anchor after the cutoff among rows not held, as a local date or
    /// date-time (the caller computes when it falls due).
    pub next_anchor: Option<String>,
}

/// One chunk purged: the primary keys of the rows changed, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    pub keys: Vec<String>,
}

/// One anchor term, resolved against the catalog.
enum Term {
    /// A column of the rule's table.
    Own { column: String, ty: String },
    /// `MAX(other.column)` over the rows of `other` linked to this row:
    /// `other.link = this.key`.
    Linked {
        other: String,
        column: String,
        ty: String,
        link: String,
        key: String,
    },
}

/// The rule's table, its catalog entry and resolved anchor terms.
struct Resolved<'a> {
    t: &'a DataTable,
    ti: TableInfo,
    terms: Vec<Term>,
    kind: DatastoreKind,
    tz: String,
}

fn missing(table: &str, msg: String) -> DsError {
    DsError::new(ErrorKind::Missing, msg).at(table)
}

/// Whether the engine's type name is one an anchor can have (a date or a time).
fn date_type(kind: DatastoreKind, ty: &str) -> bool {
    let t = ty.to_ascii_lowercase();
    match kind {
        // SQLite stores dates as text; numbers would be read as Julian days.
        DatastoreKind::Sqlite => !(t.contains("int") || t.contains("real") || t.contains("num")),
        _ => t.starts_with("date") || t.starts_with("timestamp"),
    }
}

fn resolve<'a>(
    cat: &Catalog,
    ds: &'a Datastore,
    rule: &TableRule,
    kind: DatastoreKind,
) -> DsResult<Resolved<'a>> {
    let t = ds.table(&rule.table).ok_or_else(|| {
        missing(
            &rule.table,
            format!(
                "table `{}` is not annotated in datastore `{}`",
                rule.table, ds.id
            ),
        )
    })?;
    let ti = cat
        .table(&t.name)
        .ok_or_else(|| missing(&t.name, format!("table `{}` does not exist", t.name)))?
        .clone();
    if rule.anchor.is_empty() {
        return Err(DsError::new(
            ErrorKind::Config,
            format!("the rule on `{}` names no anchor column", t.name),
        ));
    }
    let mut terms = vec![];
    for a in &rule.anchor {
        let (other, column) = match a.split_once('.') {
            Some((o, c)) if o != t.name => (Some(o), c),
            Some((_, c)) => (None, c),
            None => (None, a.as_str()),
        };
        let in_table = |tn: &str, c: &str| -> DsResult<String> {
            let info = cat
                .table(tn)
                .ok_or_else(|| missing(tn, format!("anchor `{a}`: table `{tn}` does not exist")))?;
            let col = info.column(c).ok_or_else(|| {
                missing(
                    tn,
                    format!("anchor `{a}`: column `{tn}.{c}` does not exist"),
                )
            })?;
            if !date_type(kind, &col.data_type) {
                return Err(DsError::new(
                    ErrorKind::Config,
                    format!(
                        "anchor `{a}`: column `{tn}.{c}` is of type {}, not a date or a time",
                        col.data_type
                    ),
                )
                .at(tn));
            }
            Ok(col.data_type.clone())
        };
        let Some(other) = other else {
            let ty = in_table(&t.name, column)?;
            terms.push(Term::Own {
                column: column.to_owned(),
                ty,
            });
            continue;
        };
        let ty = in_table(other, column)?;
        // This table references the other (`orders.customer_id` → `customers.id`).
        let out = t
            .references
            .iter()
            .find(|r| r.target().is_some_and(|(tt, _)| tt == other))
            .and_then(|r| r.target().map(|(_, tc)| (tc.to_owned(), r.column.clone())));
        // The other references this table (`orders.customer_id` → `customers.id`).
        let inbound = ds.table(other).and_then(|o| {
            o.references
                .iter()
                .find(|r| r.target().is_some_and(|(tt, _)| tt == t.name))
                .and_then(|r| r.target().map(|(_, tc)| (r.column.clone(), tc.to_owned())))
        });
        let (link, key) = out.or(inbound).ok_or_else(|| {
            missing(
                &t.name,
                format!(
                    "anchor `{a}`: no reference between `{}` and `{other}` in the registry",
                    t.name
                ),
            )
        })?;
        terms.push(Term::Linked {
            other: other.to_owned(),
            column: column.to_owned(),
            ty,
            link,
            key,
        });
    }
    Ok(Resolved {
        t,
        ti,
        terms,
        kind,
        tz: rule.tz.clone(),
    })
}

impl Resolved<'_> {
    /// One term as a comparable local time (binding the zone where needed).
    fn term(&self, b: &mut Builder, term: &Term) -> String {
        let (raw, ty) = match term {
            Term::Own { column, ty } => {
                (format!("{}.{}", b.ident(&self.t.name), b.ident(column)), ty)
            }
            Term::Linked {
                other,
                column,
                ty,
                link,
                key,
            } => (
                format!(
                    "(SELECT MAX({o}.{c}) FROM {o} WHERE {o}.{l} = {me}.{k})",
                    o = b.ident(other),
                    c = b.ident(column),
                    l = b.ident(link),
                    me = b.ident(&self.t.name),
                    k = b.ident(key)
                ),
                ty,
            ),
        };
        match self.kind {
            DatastoreKind::Postgres if ty.contains("with time zone") => {
                let tz = b.param(&self.tz, None);
                format!("({raw} AT TIME ZONE {tz})")
            }
            DatastoreKind::Postgres => format!("CAST({raw} AS timestamp)"),
            DatastoreKind::Mysql => format!("CAST({raw} AS DATETIME(3))"),
            DatastoreKind::Sqlite => format!("julianday({raw})"),
        }
    }

    /// The row's anchor: the latest of its terms, NULLs ignored, NULL when all are.
    fn anchor(&self, b: &mut Builder) -> String {
        let n = self.terms.len();
        if n == 1 {
            return self.term(b, &self.terms[0]);
        }
        if self.kind == DatastoreKind::Postgres {
            // GREATEST ignores NULLs on PostgreSQL.
            let parts: Vec<String> = self.terms.iter().map(|t| self.term(b, t)).collect();
            return format!("GREATEST({})", parts.join(", "));
        }
        // Elsewhere a NULL makes GREATEST NULL: each argument is one term, falling back on
        // the others, so that the greatest is the latest known term.
        let mut args = vec![];
        for i in 0..n {
            let parts: Vec<String> = (0..n)
                .map(|k| self.term(b, &self.terms[(i + k) % n]))
                .collect();
            args.push(format!("COALESCE({})", parts.join(", ")));
        }
        let f = if self.kind == DatastoreKind::Sqlite {
            "max"
        } else {
            "GREATEST"
        };
        format!("{f}({})", args.join(", "))
    }

    /// The cutoff as a comparable value.
    fn cutoff(&self, b: &mut Builder, local: &str) -> String {
        match self.kind {
            DatastoreKind::Postgres => {
                let p = b.param(local, None);
                format!("CAST({p} AS timestamp)")
            }
            DatastoreKind::Mysql => {
                let p = b.param(local, None);
                format!("CAST({p} AS DATETIME(3))")
            }
            DatastoreKind::Sqlite => {
                let p = b.param(local, None);
                format!("julianday({p})")
            }
        }
    }

    /// Whether the row is held: its restriction flag set, or reached from a held identity.
    /// Never NULL.
    fn held(&self, ds: &Datastore, cat: &Catalog, b: &mut Builder, ids: &[Identity]) -> String {
        let mut parts = vec![];
        if let Some(flag) = &self.t.restrict_column {
            parts.push(format!(
                "{}.{} = {}",
                b.ident(&self.t.name),
                b.ident(flag),
                b.dialect.bool_lit(true)
            ));
        }
        let mut sub = Builder::new(self.kind);
        sub.q.params = std::mem::take(&mut b.q.params);
        if !ids.is_empty() && condition(ds, cat, self.t, ids, &mut sub) {
            parts.push(sub.q.sql.clone());
        }
        b.q.params = std::mem::take(&mut sub.q.params);
        if parts.is_empty() {
            return b.dialect.bool_lit(false).to_owned();
        }
        format!(
            "COALESCE(({}), {})",
            parts.join(") OR ("),
            b.dialect.bool_lit(false)
        )
    }

    /// `due AND NOT held` for the rule (and, when anonymising, not anonymised yet).
    fn purgeable(
        &self,
        ds: &Datastore,
        cat: &Catalog,
        b: &mut Builder,
        rule: &TableRule,
    ) -> String {
        let a = self.anchor(b);
        let c = self.cutoff(b, &rule.cutoff_local);
        let h = self.held(ds, cat, b, &rule.held);
        let mut s = format!("{a} <= {c} AND NOT {h}");
        if rule.anonymise {
            s.push_str(&format!(" AND ({})", self.pending(b)));
        }
        s
    }

    /// Rows not yet anonymised: a `null` column still set, or a `fixed` column not holding
    /// its value.
    fn pending(&self, b: &mut Builder) -> String {
        let mut parts = vec![];
        for c in &self.t.columns {
            let q = b.ident(&c.name);
            match c.erasure() {
                ColumnErasure::Null => parts.push(format!("{q} IS NOT NULL")),
                ColumnErasure::Fixed => {
                    let ty = self.ti.column(&c.name).map(|x| x.data_type.clone());
                    let v = c.value.clone().unwrap_or_default();
                    let p = b.param(&v, ty.as_deref());
                    parts.push(format!("({q} IS NULL OR {q} <> {p})"));
                }
                ColumnErasure::Hash | ColumnErasure::Keep => {}
            }
        }
        if parts.is_empty() {
            b.dialect.bool_lit(false).to_owned()
        } else {
            parts.join(" OR ")
        }
    }
}

fn number(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(v) => v.as_u64().unwrap_or(0),
        None => 0,
    }
}

fn prepare<'a>(
    conn: &mut dyn Conn,
    ds: &'a Datastore,
    rule: &TableRule,
) -> DsResult<(Catalog, Resolved<'a>)> {
    let cat = conn.catalog()?;
    check_exists(ds, &cat)?;
    let r = resolve(&cat, ds, rule, conn.kind())?;
    if rule.anonymise
        && r.t
            .columns
            .iter()
            .all(|c| !matches!(c.erasure(), ColumnErasure::Null | ColumnErasure::Fixed))
    {
        return Err(DsError::new(
            ErrorKind::Config,
            format!(
                "anonymising `{}` needs a column erased to NULL or to a fixed value (it tells \
                 the anonymised rows from the others)",
                r.t.name
            ),
        )
        .at(&r.t.name));
    }
    Ok((cat, r))
}

/// Counts the table's due, held and unanchored rows and finds the next anchor. Changes
/// nothing.
pub fn plan(conn: &mut dyn Conn, ds: &Datastore, rule: &TableRule) -> DsResult<TablePlan> {
    {
        let (cat, r) = prepare(conn, ds, rule)?;
        let mut b = Builder::new(conn.kind());
        let wrap = |e: String| match r.kind {
            DatastoreKind::Postgres => format!("to_json({e})::text"),
            DatastoreKind::Sqlite => format!("strftime('%Y-%m-%d %H:%M:%f', {e})"),
            DatastoreKind::Mysql => e,
        };
        let due = {
            let a = r.anchor(&mut b);
            let c = r.cutoff(&mut b, &rule.cutoff_local);
            let h = r.held(ds, &cat, &mut b, &rule.held);
            let p = if rule.anonymise {
                format!(" AND ({})", r.pending(&mut b))
            } else {
                String::new()
            };
            format!("COUNT(CASE WHEN {a} <= {c} AND NOT {h}{p} THEN 1 END)")
        };
        let held = {
            let a = r.anchor(&mut b);
            let c = r.cutoff(&mut b, &rule.cutoff_local);
            let h = r.held(ds, &cat, &mut b, &rule.held);
            format!("COUNT(CASE WHEN {a} <= {c} AND {h} THEN 1 END)")
        };
        let unanchored = format!("COUNT(CASE WHEN {} IS NULL THEN 1 END)", r.anchor(&mut b));
        let next = {
            let a = r.anchor(&mut b);
            let a2 = r.anchor(&mut b);
            let c = r.cutoff(&mut b, &rule.cutoff_local);
            let h = r.held(ds, &cat, &mut b, &rule.held);
            wrap(format!(
                "MIN(CASE WHEN {a} > {c} AND NOT {h} THEN {a2} END)"
            ))
        };
        b.push(&format!(
            "SELECT {due}, {held}, {unanchored}, {next} FROM {}",
            b.ident(&r.t.name)
        ));
        let rows = conn.select(&b.finish()).map_err(|e| e.at(&r.t.name))?;
        let row = rows.first().cloned().unwrap_or_default();
        Ok(TablePlan {
            due: number(row.first()),
            held: number(row.get(1)),
            unanchored: number(row.get(2)),
            next_anchor: match row.get(3) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
        })
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `(pk1 = ? AND pk2 = ?)` for one row's key values.
fn key_match(b: &mut Builder, r: &Resolved<'_>, values: &[Value]) -> String {
    let mut keys = vec![];
    for (i, pk) in r.ti.primary_key.iter().enumerate() {
        let ty = r.ti.column(pk).map(|x| x.data_type.clone());
        let v = values.get(i).and_then(text_of).unwrap_or_default();
        let p = b.param(&v, ty.as_deref());
        keys.push(format!("{}.{} = {p}", b.ident(&r.t.name), b.ident(pk)));
    }
    format!("({})", keys.join(" AND "))
}

/// The rows of `rows` by primary key: `pk IN (?, ?)` for a one-column key (which every
/// engine reads by its index, so InnoDB locks only these rows), else `(a = ? AND b = ?) OR …`.
fn keys_match(b: &mut Builder, r: &Resolved<'_>, rows: &[Vec<Value>]) -> String {
    if let [pk] = r.ti.primary_key.as_slice() {
        let ty = r.ti.column(pk).map(|x| x.data_type.clone());
        let ps: Vec<String> = rows
            .iter()
            .map(|row| {
                let v = row.first().and_then(text_of).unwrap_or_default();
                b.param(&v, ty.as_deref())
            })
            .collect();
        return format!(
            "{}.{} IN ({})",
            b.ident(&r.t.name),
            b.ident(pk),
            ps.join(", ")
        );
    }
    let keys: Vec<String> = rows.iter().map(|row| key_match(b, r, row)).collect();
    format!("({})", keys.join(" OR "))
}

/// Purges at most `limit` due rows, in one transaction: deletes them, or anonymises them
/// with the table's annotations (`key` keys the `hash` columns). An empty chunk: nothing
/// left to do.
pub fn purge_chunk(
    conn: &mut dyn Conn,
    ds: &Datastore,
    rule: &TableRule,
    limit: u32,
    key: &[u8],
) -> DsResult<Chunk> {
    {
        let (cat, r) = prepare(conn, ds, rule)?;
        if r.ti.primary_key.is_empty() {
            return Err(DsError::new(
                ErrorKind::Config,
                format!(
                    "table `{}` has no primary key: a retention purge needs one to work in chunks",
                    r.t.name
                ),
            )
            .at(&r.t.name));
        }
        let hashed: Vec<&str> =
            r.t.columns
                .iter()
                .filter(|c| rule.anonymise && c.erasure() == ColumnErasure::Hash)
                .map(|c| c.name.as_str())
                .collect();
        conn.begin()?;
        let out = chunk_in_tx(conn, ds, &cat, &r, rule, limit, key, &hashed);
        match out {
            Ok(c) => {
                conn.commit()?;
                Ok(c)
            }
            Err(e) => {
                let _ = conn.rollback();
                Err(e.at(&r.t.name))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn chunk_in_tx(
    conn: &mut dyn Conn,
    ds: &Datastore,
    cat: &Catalog,
    r: &Resolved<'_>,
    rule: &TableRule,
    limit: u32,
    key: &[u8],
    hashed: &[&str],
) -> DsResult<Chunk> {
    let npk = r.ti.primary_key.len();
    let mut b = Builder::new(conn.kind());
    let cells: Vec<String> =
        r.ti.primary_key
            .iter()
            .map(String::as_str)
            .chain(hashed.iter().copied())
            .map(|c| b.dialect.cell(c))
            .collect();
    let cond = r.purgeable(ds, cat, &mut b, rule);
    let order: Vec<String> = r.ti.primary_key.iter().map(|k| b.ident(k)).collect();
    // Values to hash are read under a row lock, so that the hash is of the value replaced
    // (SQLite locks the whole file on write). Deletes and plain rewrites need none: their
    // statement repeats the rule's condition, and an unlocked read does not make InnoDB
    // wait on due rows of later chunks.
    let lock = match conn.kind() {
        DatastoreKind::Sqlite => "",
        _ if hashed.is_empty() => "",
        _ => " FOR UPDATE",
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE {cond} ORDER BY {} LIMIT {limit}{lock}",
        cells.join(", "),
        b.ident(&r.t.name),
        order.join(", ")
    );
    b.push(&sql);
    let rows = conn.select(&b.finish())?;
    if rows.is_empty() {
        return Ok(Chunk::default());
    }
    let key_text = |row: &[Value]| -> String {
        row[..npk.min(row.len())]
            .iter()
            .map(|v| text_of(v).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut done = vec![];
    if !rule.anonymise {
        // One DELETE for the chunk; the rule's condition is repeated, so a row that stopped
        // being due since the SELECT (a new order of the customer) is left alone.
        let mut u = Builder::new(conn.kind());
        u.push(&format!("DELETE FROM {} WHERE ", u.ident(&r.t.name)));
        let keys = keys_match(&mut u, r, &rows);
        u.push(&format!("{keys} AND "));
        let cond = r.purgeable(ds, cat, &mut u, rule);
        u.push(&cond);
        let n = conn.execute(&u.finish())?;
        let all: Vec<String> = rows.iter().map(|row| key_text(row)).collect();
        if usize::try_from(n).is_ok_and(|n| n == rows.len()) {
            return Ok(Chunk { keys: all });
        }
        let left = still_there(conn, r, &rows)?;
        return Ok(Chunk {
            keys: all.into_iter().filter(|k| !left.contains(k)).collect(),
        });
    }
    // Anonymised one row at a time (keyed hashes are computed here), each UPDATE repeating
    // the rule's condition.
    for row in &rows {
        let mut u = Builder::new(conn.kind());
        u.push(&format!("UPDATE {} SET ", u.ident(&r.t.name)));
        let mut sets = crate::ops::plain_sets(&mut u, r.t, &r.ti);
        for (i, c) in hashed.iter().enumerate() {
            let ty = r.ti.column(c).map(|x| x.data_type.clone());
            let set = match row.get(npk + i).and_then(text_of) {
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
        let k = key_match(&mut u, r, row);
        u.push(&format!("{k} AND "));
        let cond = r.purgeable(ds, cat, &mut u, rule);
        u.push(&cond);
        if conn.execute(&u.finish())? > 0 {
            done.push(key_text(row));
        }
    }
    Ok(Chunk { keys: done })
}

/// The keys (as text) of the chunk's rows that still exist.
fn still_there(
    conn: &mut dyn Conn,
    r: &Resolved<'_>,
    rows: &[Vec<Value>],
) -> DsResult<Vec<String>> {
    let mut b = Builder::new(conn.kind());
    let cells: Vec<String> = r.ti.primary_key.iter().map(|c| b.dialect.cell(c)).collect();
    b.push(&format!(
        "SELECT {} FROM {} WHERE ",
        cells.join(", "),
        b.ident(&r.t.name)
    ));
    let keys = keys_match(&mut b, r, rows);
    b.push(&keys);
    Ok(conn
        .select(&b.finish())?
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| text_of(v).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect())
}
