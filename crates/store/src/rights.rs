//! Persistence of data-subject rights requests (tables of migration `0002_rights`), for
//! both backends.
//!
//! A write that is recorded in the ledger (a submission, a transition, a reminder, an
//! erasure, a note, a sent email) takes the ledger entry as an argument and goes through the
//! backend's group-commit writer, which owns the chain: the state change, its history line
//! and its ledger entry commit in one transaction, so a crash or a failed append can never
//! leave a change without its entry or an entry without its change. The state change is
//! guarded (`WHERE status = expected`): of two concurrent transitions one wins, and only its
//! entry is appended. Writes without a ledger entry (tokens, attempts, attachments) are
//! small and rare and skip the writer: on SQLite each opens its own short-lived read-write
//! connection (WAL, `BEGIN IMMEDIATE`, the same busy timeout as the writer, so the two take
//! turns for the write lock); on PostgreSQL they use the connection pool.
//!
//! Erasure (end of retention) nulls every personal field of a request, deletes its tokens
//! and attachments and the free-text notes of its history, and keeps ids, type, status and
//! dates.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql as PgToSql;

use crate::writer::{Op, Reply, RightsOp, hash32, unexpected};
use crate::{AppendItem, Store, StoreError};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A rights request as stored. Personal fields are `None` once erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsRequestRow {
    pub id: String,
    pub site: String,
    /// The request type (`access`, `erasure`, ...): column `type`.
    pub kind: String,
    pub status: String,
    /// Language of the requester's emails (`fr`, `en`).
    pub language: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub details: Option<String>,
    pub received_at_ms: i64,
    pub verified_at_ms: Option<i64>,
    pub due_at_ms: i64,
    pub extended_due_at_ms: Option<i64>,
    pub extension_reason: Option<String>,
    pub closed_at_ms: Option<i64>,
    /// The answer sent to the requester (completion message or rejection reasons).
    pub response: Option<String>,
    /// The consent subject linked to the request (from a receipt id), if any.
    pub subject: Option<String>,
    pub receipt_id: Option<String>,
    /// Why an email to the requester could not be sent (shown to the DPO).
    pub mail_problem: Option<String>,
    pub reminded_7d_at_ms: Option<i64>,
    pub reminded_1d_at_ms: Option<i64>,
    pub overdue_at_ms: Option<i64>,
    pub erased_at_ms: Option<i64>,
}

/// One line of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsEventRow {
    pub request_id: String,
    pub ts_ms: i64,
    pub kind: String,
    /// `requester`, `system`, or `admin:<token id>`.
    pub actor: String,
    /// Free text (a DPO note); erased with the request.
    pub note: Option<String>,
}

/// A one-time verification link or code, or an attachment download token (sha256 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsTokenRow {
    pub hash: [u8; 32],
    pub request_id: String,
    /// `verify_link`, `verify_code` or `download`.
    pub purpose: String,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    /// Failed attempts (codes).
    pub attempts: i64,
}

/// A file sent with a completed request (an export for access and portability).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsAttachmentRow {
    pub id: String,
    pub request_id: String,
    pub filename: String,
    pub content_type: String,
    /// Empty when listed ([`Store::rights_attachments`]); see `size`.
    pub bytes: Vec<u8>,
    pub size: i64,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A one-time flag of a request (set once, by whichever process gets there first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightsMark {
    Reminded7d,
    Reminded1d,
    Overdue,
}

impl RightsMark {
    fn column(self) -> &'static str {
        match self {
            RightsMark::Reminded7d => "reminded_7d_at_ms",
            RightsMark::Reminded1d => "reminded_1d_at_ms",
            RightsMark::Overdue => "overdue_at_ms",
        }
    }
}

/// The condition under which [`Store::rights_update`] applies: the request exists, is not
/// erased, and (optionally) has this status and/or this mark unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RightsGuard {
    pub status: Option<String>,
    pub unset: Option<RightsMark>,
}

impl RightsGuard {
    pub fn status(s: impl Into<String>) -> Self {
        Self {
            status: Some(s.into()),
            unset: None,
        }
    }
    pub fn unset(m: RightsMark) -> Self {
        Self {
            status: None,
            unset: Some(m),
        }
    }
}

/// Fields to set (`Some`); the others are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RightsPatch {
    pub status: Option<String>,
    pub verified_at_ms: Option<i64>,
    pub extended_due_at_ms: Option<i64>,
    pub extension_reason: Option<String>,
    pub closed_at_ms: Option<i64>,
    pub response: Option<String>,
    pub subject: Option<String>,
    /// `Some(None)` clears it.
    pub mail_problem: Option<Option<String>>,
    pub reminded_7d_at_ms: Option<i64>,
    pub reminded_1d_at_ms: Option<i64>,
    pub overdue_at_ms: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// SQL shared by both backends (SQLite `?N` placeholders, rewritten to `$N` for PostgreSQL).

const REQ_COLS: &str = "id, site, type, status, language, email, name, details, received_at_ms, \
    verified_at_ms, due_at_ms, extended_due_at_ms, extension_reason, closed_at_ms, response, \
    subject, receipt_id, mail_problem, reminded_7d_at_ms, reminded_1d_at_ms, overdue_at_ms, \
    erased_at_ms";
const REQ_ORDER: &str = "ORDER BY COALESCE(extended_due_at_ms, due_at_ms), received_at_ms, id";
const EVENT_COLS: &str = "request_id, ts_ms, kind, actor, note";
const TOKEN_COLS: &str = "hash, request_id, purpose, expires_at_ms, used_at_ms, attempts";
const ATT_COLS: &str =
    "id, request_id, filename, content_type, bytes, length(bytes), created_at_ms, expires_at_ms";
const ATT_META_COLS: &str = "id, request_id, filename, content_type, substr(bytes, 1, 0), length(bytes), created_at_ms, \
     expires_at_ms";

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum V {
    I(Option<i64>),
    T(Option<String>),
    B(Vec<u8>),
}

fn t(s: &str) -> V {
    V::T(Some(s.to_owned()))
}
fn ot(s: &Option<String>) -> V {
    V::T(s.clone())
}
fn i(n: i64) -> V {
    V::I(Some(n))
}

impl rusqlite::ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(match self {
            V::I(Some(n)) => Value::Integer(*n),
            V::T(Some(s)) => Value::Text(s.clone()),
            V::I(None) | V::T(None) => Value::Null,
            V::B(b) => Value::Blob(b.clone()),
        }))
    }
}

fn pg_params(vals: &[V]) -> Vec<Box<dyn PgToSql + Sync + Send>> {
    vals.iter()
        .map(|v| -> Box<dyn PgToSql + Sync + Send> {
            match v {
                V::I(n) => Box::new(*n),
                V::T(s) => Box::new(s.clone()),
                V::B(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

/// `?N` -> `$N`.
fn pg_sql(sql: &str) -> String {
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
trait Cols {
    fn i64_(&self, i: usize) -> Result<i64, StoreError>;
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn str_(&self, i: usize) -> Result<String, StoreError>;
    fn ostr(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn obytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
}

impl Cols for rusqlite::Row<'_> {
    fn i64_(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn str_(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.get(i)?)
    }
    fn ostr(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn obytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(i)?)
    }
}

impl Cols for tokio_postgres::Row {
    fn i64_(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn oi64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        // `length(bytea)` is an INT4.
        if self.columns().get(i).map(|c| c.type_()) == Some(&tokio_postgres::types::Type::INT4) {
            let v: Option<i32> = self.try_get(i)?;
            return Ok(v.map(i64::from));
        }
        Ok(self.try_get(i)?)
    }
    fn str_(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn ostr(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn obytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

fn req_at(r: &dyn Cols) -> Result<RightsRequestRow, StoreError> {
    Ok(RightsRequestRow {
        id: r.str_(0)?,
        site: r.str_(1)?,
        kind: r.str_(2)?,
        status: r.str_(3)?,
        language: r.str_(4)?,
        email: r.ostr(5)?,
        name: r.ostr(6)?,
        details: r.ostr(7)?,
        received_at_ms: r.i64_(8)?,
        verified_at_ms: r.oi64(9)?,
        due_at_ms: r.i64_(10)?,
        extended_due_at_ms: r.oi64(11)?,
        extension_reason: r.ostr(12)?,
        closed_at_ms: r.oi64(13)?,
        response: r.ostr(14)?,
        subject: r.ostr(15)?,
        receipt_id: r.ostr(16)?,
        mail_problem: r.ostr(17)?,
        reminded_7d_at_ms: r.oi64(18)?,
        reminded_1d_at_ms: r.oi64(19)?,
        overdue_at_ms: r.oi64(20)?,
        erased_at_ms: r.oi64(21)?,
    })
}

fn event_at(r: &dyn Cols) -> Result<RightsEventRow, StoreError> {
    Ok(RightsEventRow {
        request_id: r.str_(0)?,
        ts_ms: r.i64_(1)?,
        kind: r.str_(2)?,
        actor: r.str_(3)?,
        note: r.ostr(4)?,
    })
}

fn token_at(r: &dyn Cols) -> Result<RightsTokenRow, StoreError> {
    let h = r.obytes(0)?.unwrap_or_default();
    Ok(RightsTokenRow {
        hash: hash32(&h, "rights token hash")?,
        request_id: r.str_(1)?,
        purpose: r.str_(2)?,
        expires_at_ms: r.i64_(3)?,
        used_at_ms: r.oi64(4)?,
        attempts: r.i64_(5)?,
    })
}

fn att_at(r: &dyn Cols) -> Result<RightsAttachmentRow, StoreError> {
    Ok(RightsAttachmentRow {
        id: r.str_(0)?,
        request_id: r.str_(1)?,
        filename: r.str_(2)?,
        content_type: r.str_(3)?,
        bytes: r.obytes(4)?.unwrap_or_default(),
        size: r.oi64(5)?.unwrap_or(0),
        created_at_ms: r.i64_(6)?,
        expires_at_ms: r.i64_(7)?,
    })
}

fn insert_request_stmt(q: &RightsRequestRow) -> (String, Vec<V>) {
    (
        format!(
            "INSERT INTO rights_requests ({REQ_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
             ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
        ),
        vec![
            t(&q.id),
            t(&q.site),
            t(&q.kind),
            t(&q.status),
            t(&q.language),
            ot(&q.email),
            ot(&q.name),
            ot(&q.details),
            i(q.received_at_ms),
            V::I(q.verified_at_ms),
            i(q.due_at_ms),
            V::I(q.extended_due_at_ms),
            ot(&q.extension_reason),
            V::I(q.closed_at_ms),
            ot(&q.response),
            ot(&q.subject),
            ot(&q.receipt_id),
            ot(&q.mail_problem),
            V::I(q.reminded_7d_at_ms),
            V::I(q.reminded_1d_at_ms),
            V::I(q.overdue_at_ms),
            V::I(q.erased_at_ms),
        ],
    )
}

fn insert_event_stmt(e: &RightsEventRow) -> (String, Vec<V>) {
    (
        format!("INSERT INTO rights_events ({EVENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        vec![
            t(&e.request_id),
            i(e.ts_ms),
            t(&e.kind),
            t(&e.actor),
            ot(&e.note),
        ],
    )
}

fn insert_token_stmt(k: &RightsTokenRow) -> (String, Vec<V>) {
    (
        format!("INSERT INTO rights_tokens ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        vec![
            V::B(k.hash.to_vec()),
            t(&k.request_id),
            t(&k.purpose),
            i(k.expires_at_ms),
            V::I(k.used_at_ms),
            i(k.attempts),
        ],
    )
}

fn update_stmt(id: &str, guard: &RightsGuard, p: &RightsPatch) -> Option<(String, Vec<V>)> {
    let mut sets: Vec<String> = vec![];
    let mut vals: Vec<V> = vec![];
    let mut set = |col: &str, v: V, vals: &mut Vec<V>| {
        vals.push(v);
        sets.push(format!("{col} = ?{}", vals.len()));
    };
    if let Some(s) = &p.status {
        set("status", t(s), &mut vals);
    }
    if let Some(n) = p.verified_at_ms {
        set("verified_at_ms", i(n), &mut vals);
    }
    if let Some(n) = p.extended_due_at_ms {
        set("extended_due_at_ms", i(n), &mut vals);
    }
    if let Some(s) = &p.extension_reason {
        set("extension_reason", t(s), &mut vals);
    }
    if let Some(n) = p.closed_at_ms {
        set("closed_at_ms", i(n), &mut vals);
    }
    if let Some(s) = &p.response {
        set("response", t(s), &mut vals);
    }
    if let Some(s) = &p.subject {
        set("subject", t(s), &mut vals);
    }
    if let Some(s) = &p.mail_problem {
        set("mail_problem", ot(s), &mut vals);
    }
    if let Some(n) = p.reminded_7d_at_ms {
        set("reminded_7d_at_ms", i(n), &mut vals);
    }
    if let Some(n) = p.reminded_1d_at_ms {
        set("reminded_1d_at_ms", i(n), &mut vals);
    }
    if let Some(n) = p.overdue_at_ms {
        set("overdue_at_ms", i(n), &mut vals);
    }
    if sets.is_empty() {
        return None;
    }
    vals.push(t(id));
    let mut sql = format!(
        "UPDATE rights_requests SET {} WHERE id = ?{} AND erased_at_ms IS NULL",
        sets.join(", "),
        vals.len()
    );
    if let Some(s) = &guard.status {
        vals.push(t(s));
        sql.push_str(&format!(" AND status = ?{}", vals.len()));
    }
    if let Some(m) = guard.unset {
        sql.push_str(&format!(" AND {} IS NULL", m.column()));
    }
    Some((sql, vals))
}

const ERASE_STMTS: [&str; 4] = [
    "UPDATE rights_requests SET email = NULL, name = NULL, details = NULL, \
     extension_reason = NULL, response = NULL, subject = NULL, receipt_id = NULL, \
     mail_problem = NULL, erased_at_ms = ?2 WHERE id = ?1 AND erased_at_ms IS NULL",
    "DELETE FROM rights_tokens WHERE request_id = ?1",
    "DELETE FROM rights_attachments WHERE request_id = ?1",
    "UPDATE rights_events SET note = NULL WHERE request_id = ?1",
];

// ---------------------------------------------------------------------------------------
// SQLite plumbing

fn sqlite_open(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(BUSY_TIMEOUT)?;
    // Checkpoints are the store's checkpointer thread's job.
    c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;")?;
    Ok(c)
}

/// Runs a read on a fresh connection, off the async threads.
async fn sqlite_read<T, F>(path: &Path, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<T, StoreError> { f(&sqlite_open(&path)?) })
        .await
        .map_err(|e| StoreError::Internal(format!("blocking task failed: {e}")))?
}

pub(crate) fn sqlite_exec(
    c: &Connection,
    (sql, vals): &(String, Vec<V>),
) -> Result<usize, StoreError> {
    Ok(c.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(vals.iter()))?)
}

fn sqlite_rows<T>(
    c: &Connection,
    sql: &str,
    vals: &[V],
    f: fn(&dyn Cols) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(vals.iter()))?;
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// Statements of one rights write, each with its parameters.
pub(crate) type Stmts = [(String, Vec<V>)];

/// Whether to go on after statement `k` changed `n` rows: with `guarded`, the first
/// statement must change exactly one row. `Ok(false)`: it changed none, so nothing was
/// written and the rest is skipped. More than one is an error, which rolls back the
/// caller's transaction (or savepoint).
fn guard_held(guarded: bool, k: usize, n: u64) -> Result<bool, StoreError> {
    match (guarded && k == 0, n) {
        (true, 0) => Ok(false),
        (true, 2..) => Err(StoreError::Internal(format!(
            "a guarded rights update changed {n} rows instead of 1"
        ))),
        _ => Ok(true),
    }
}

/// Runs `stmts` inside the caller's SQLite transaction: the rows each changed, or `None`
/// when the guard failed (see [`guard_held`]).
pub(crate) fn sqlite_run(
    c: &Connection,
    stmts: &Stmts,
    guarded: bool,
) -> Result<Option<Vec<u64>>, StoreError> {
    let mut out = Vec::with_capacity(stmts.len());
    for (k, st) in stmts.iter().enumerate() {
        let n = sqlite_exec(c, st)? as u64;
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
    stmts: &Stmts,
    guarded: bool,
) -> Result<Option<Vec<u64>>, StoreError> {
    let mut out = Vec::with_capacity(stmts.len());
    for (k, (sql, vals)) in stmts.iter().enumerate() {
        let params = pg_params(vals);
        let refs: Vec<&(dyn PgToSql + Sync)> = params
            .iter()
            .map(|b| b.as_ref() as &(dyn PgToSql + Sync))
            .collect();
        let n = tx.execute(pg_sql(sql).as_str(), &refs).await?;
        if !guard_held(guarded, k, n)? {
            return Ok(None);
        }
        out.push(n);
    }
    Ok(Some(out))
}

/// A unique-constraint failure on insert is a conflict.
fn conflict_on_duplicate(e: StoreError, what: &str) -> StoreError {
    let s = e.to_string();
    if s.contains("UNIQUE") || s.contains("unique") || s.contains("23505") {
        StoreError::Conflict(format!("duplicate {what}"))
    } else {
        e
    }
}

// ---------------------------------------------------------------------------------------
// The public interface

impl Store {
    async fn rights_read<T: Send + 'static>(
        &self,
        sql: String,
        vals: Vec<V>,
        f: fn(&dyn Cols) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlite_read(s.path(), move |c| sqlite_rows(c, &sql, &vals, f)).await
            }
            Store::Postgres(p) => {
                let c = p.client().await?;
                let st = c.prepare_cached(&pg_sql(&sql)).await?;
                let params = pg_params(&vals);
                let refs: Vec<&(dyn PgToSql + Sync)> = params
                    .iter()
                    .map(|b| b.as_ref() as &(dyn PgToSql + Sync))
                    .collect();
                let rows = c.query(&st, &refs).await?;
                rows.iter().map(|r| f(r)).collect()
            }
        }
    }

    /// Runs statements in one transaction; returns the rows changed by each. With
    /// `guarded`, the first statement must change exactly one row, otherwise the transaction
    /// is rolled back and `Ok(None)` returned. With `ledger`, the entry is appended in the
    /// same transaction, through the writer that owns the chain (and only if the guard held).
    async fn rights_tx(
        &self,
        stmts: Vec<(String, Vec<V>)>,
        guarded: bool,
        ledger: Option<AppendItem>,
    ) -> Result<Option<Vec<u64>>, StoreError> {
        if let Some(ledger) = ledger {
            let op = Op::Rights(Box::new(RightsOp {
                stmts,
                guarded,
                ledger,
            }));
            return match self.call(op).await? {
                Reply::Rights(r) => Ok(r.map(|(counts, _)| counts)),
                other => Err(unexpected(other)),
            };
        }
        match self {
            Store::Sqlite(s) => {
                let path = s.path().to_path_buf();
                tokio::task::spawn_blocking(move || -> Result<Option<Vec<u64>>, StoreError> {
                    let mut c = sqlite_open(&path)?;
                    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let out = sqlite_run(&tx, &stmts, guarded)?;
                    // Nothing to keep when the guard failed: dropping `tx` rolls back.
                    if out.is_some() {
                        tx.commit()?;
                    }
                    Ok(out)
                })
                .await
                .map_err(|e| StoreError::Internal(format!("blocking task failed: {e}")))?
            }
            Store::Postgres(p) => {
                let mut c = p.client().await?;
                let tx = c.transaction().await?;
                let out = pg_run(&tx, &stmts, guarded).await?;
                if out.is_some() {
                    tx.commit().await?;
                }
                Ok(out)
            }
        }
    }

    async fn rights_write(
        &self,
        stmts: Vec<(String, Vec<V>)>,
        ledger: Option<AppendItem>,
    ) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .rights_tx(stmts, false, ledger)
            .await?
            .unwrap_or_default())
    }

    /// Stores a new request with its verification tokens and first history line, and
    /// appends `ledger`, in one transaction. A duplicate id or token is
    /// [`StoreError::Conflict`].
    pub async fn rights_insert(
        &self,
        req: &RightsRequestRow,
        tokens: &[RightsTokenRow],
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let mut stmts = vec![insert_request_stmt(req)];
        stmts.extend(tokens.iter().map(insert_token_stmt));
        stmts.push(insert_event_stmt(event));
        self.rights_write(stmts, ledger)
            .await
            .map_err(|e| conflict_on_duplicate(e, "rights request"))?;
        Ok(())
    }

    /// One request.
    pub async fn rights_get(&self, id: &str) -> Result<Option<RightsRequestRow>, StoreError> {
        let sql = format!("SELECT {REQ_COLS} FROM rights_requests WHERE id = ?1");
        Ok(self
            .rights_read(sql, vec![t(id)], req_at)
            .await?
            .into_iter()
            .next())
    }

    /// Requests (erased ones included), optionally of one status, by effective due date.
    pub async fn rights_list(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<RightsRequestRow>, StoreError> {
        match status {
            Some(s) => {
                let sql =
                    format!("SELECT {REQ_COLS} FROM rights_requests WHERE status = ?1 {REQ_ORDER}");
                self.rights_read(sql, vec![t(s)], req_at).await
            }
            None => {
                let sql = format!("SELECT {REQ_COLS} FROM rights_requests {REQ_ORDER}");
                self.rights_read(sql, vec![], req_at).await
            }
        }
    }

    /// Requests of a site by the requester's email (exact, as stored) and status.
    pub async fn rights_by_email(
        &self,
        site: &str,
        email: &str,
        status: &str,
    ) -> Result<Vec<RightsRequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQ_COLS} FROM rights_requests WHERE site = ?1 AND email = ?2 \
             AND status = ?3 {REQ_ORDER}"
        );
        self.rights_read(sql, vec![t(site), t(email), t(status)], req_at)
            .await
    }

    /// Applies `patch` if `guard` holds, and then records `event` and appends `ledger`, in
    /// one transaction. `Ok(false)` when the guard failed (wrong status, mark already set,
    /// erased, unknown): then nothing is written, the ledger entry included.
    pub async fn rights_update(
        &self,
        id: &str,
        guard: &RightsGuard,
        patch: &RightsPatch,
        event: Option<&RightsEventRow>,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let Some(update) = update_stmt(id, guard, patch) else {
            return Ok(false);
        };
        let mut stmts = vec![update];
        stmts.extend(event.map(insert_event_stmt));
        Ok(self.rights_tx(stmts, true, ledger).await?.is_some())
    }

    /// Adds a line to a request's history, with `ledger` appended in the same transaction.
    pub async fn rights_add_event(
        &self,
        ev: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        self.rights_write(vec![insert_event_stmt(ev)], ledger)
            .await?;
        Ok(())
    }

    /// A request's history, oldest first.
    pub async fn rights_events(&self, id: &str) -> Result<Vec<RightsEventRow>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLS} FROM rights_events WHERE request_id = ?1 ORDER BY id");
        self.rights_read(sql, vec![t(id)], event_at).await
    }

    /// Stores a token. A duplicate hash is [`StoreError::Conflict`].
    pub async fn rights_insert_token(&self, tok: &RightsTokenRow) -> Result<(), StoreError> {
        self.rights_write(vec![insert_token_stmt(tok)], None)
            .await
            .map_err(|e| conflict_on_duplicate(e, "token"))?;
        Ok(())
    }

    /// A token by the sha256 of its secret.
    pub async fn rights_token(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<RightsTokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM rights_tokens WHERE hash = ?1");
        Ok(self
            .rights_read(sql, vec![V::B(hash.to_vec())], token_at)
            .await?
            .into_iter()
            .next())
    }

    /// The tokens of a request.
    pub async fn rights_tokens(&self, request_id: &str) -> Result<Vec<RightsTokenRow>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM rights_tokens WHERE request_id = ?1 ORDER BY expires_at_ms"
        );
        self.rights_read(sql, vec![t(request_id)], token_at).await
    }

    /// Consumes a single-use token: `true` only for the first use before expiry. Every other
    /// unused token of the same request and purpose family (`verify_*`) is consumed with it,
    /// so a link and its code cannot both be used.
    pub async fn rights_use_token(&self, hash: &[u8; 32], now_ms: i64) -> Result<bool, StoreError> {
        let used = self
            .rights_tx(
                vec![
                (
                    "UPDATE rights_tokens SET used_at_ms = ?2 WHERE hash = ?1 AND used_at_ms IS NULL \
                     AND expires_at_ms > ?2"
                        .to_owned(),
                    vec![V::B(hash.to_vec()), i(now_ms)],
                ),
                (
                    "UPDATE rights_tokens SET used_at_ms = ?2 WHERE used_at_ms IS NULL \
                     AND purpose LIKE 'verify_%' AND request_id = \
                     (SELECT request_id FROM rights_tokens WHERE hash = ?1 AND purpose LIKE 'verify_%')"
                        .to_owned(),
                    vec![V::B(hash.to_vec()), i(now_ms)],
                ),
                ],
                true,
                None,
            )
            .await?;
        Ok(used.is_some())
    }

    /// Counts a failed attempt against a token; returns the new count.
    pub async fn rights_token_attempt(&self, hash: &[u8; 32]) -> Result<i64, StoreError> {
        self.rights_write(
            vec![(
                "UPDATE rights_tokens SET attempts = attempts + 1 WHERE hash = ?1".to_owned(),
                vec![V::B(hash.to_vec())],
            )],
            None,
        )
        .await?;
        Ok(self.rights_token(hash).await?.map_or(0, |k| k.attempts))
    }

    /// Stores an attachment.
    pub async fn rights_insert_attachment(
        &self,
        a: &RightsAttachmentRow,
    ) -> Result<(), StoreError> {
        self.rights_write(
            vec![(
                "INSERT INTO rights_attachments (id, request_id, filename, content_type, bytes, \
             created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    .to_owned(),
                vec![
                    t(&a.id),
                    t(&a.request_id),
                    t(&a.filename),
                    t(&a.content_type),
                    V::B(a.bytes.clone()),
                    i(a.created_at_ms),
                    i(a.expires_at_ms),
                ],
            )],
            None,
        )
        .await
        .map_err(|e| conflict_on_duplicate(e, "attachment"))?;
        Ok(())
    }

    /// One attachment of a request, with its bytes.
    pub async fn rights_attachment(
        &self,
        request_id: &str,
        id: &str,
    ) -> Result<Option<RightsAttachmentRow>, StoreError> {
        let sql =
            format!("SELECT {ATT_COLS} FROM rights_attachments WHERE request_id = ?1 AND id = ?2");
        Ok(self
            .rights_read(sql, vec![t(request_id), t(id)], att_at)
            .await?
            .into_iter()
            .next())
    }

    /// The attachments of a request, without their bytes.
    pub async fn rights_attachments(
        &self,
        request_id: &str,
    ) -> Result<Vec<RightsAttachmentRow>, StoreError> {
        let sql = format!(
            "SELECT {ATT_META_COLS} FROM rights_attachments WHERE request_id = ?1 \
             ORDER BY created_at_ms, id"
        );
        self.rights_read(sql, vec![t(request_id)], att_at).await
    }

    /// Erases a request's personal data (fields, tokens, attachments, notes), records
    /// `event` and appends `ledger`, in one transaction. `false` if unknown or already erased
    /// (then nothing is written).
    pub async fn rights_erase(
        &self,
        id: &str,
        now_ms: i64,
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let mut stmts: Vec<(String, Vec<V>)> = ERASE_STMTS
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let vals = if k == 0 {
                    vec![t(id), i(now_ms)]
                } else {
                    vec![t(id)]
                };
                ((*s).to_owned(), vals)
            })
            .collect();
        stmts.push(insert_event_stmt(event));
        Ok(self.rights_tx(stmts, true, ledger).await?.is_some())
    }
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
        let (sql, vals) = update_stmt(
            "x",
            &RightsGuard {
                status: Some("received".into()),
                unset: Some(RightsMark::Overdue),
            },
            &RightsPatch {
                status: Some("verified".into()),
                verified_at_ms: Some(5),
                ..RightsPatch::default()
            },
        )
        .unwrap();
        assert_eq!(
            sql,
            "UPDATE rights_requests SET status = ?1, verified_at_ms = ?2 WHERE id = ?3 AND \
             erased_at_ms IS NULL AND status = ?4 AND overdue_at_ms IS NULL"
        );
        assert_eq!(vals.len(), 4);
        assert!(update_stmt("x", &RightsGuard::default(), &RightsPatch::default()).is_none());
    }
}
