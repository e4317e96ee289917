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
//! small and rare: on SQLite they go through the writer thread too (the database's only
//! writer), on PostgreSQL they use the connection pool (see `Store::exec`).
//!
//! A request's status and type are read into `assent_model`'s enums; an unknown value in
//! the database is [`StoreError::CorruptValue`], never a default.
//!
//! Erasure (end of retention) nulls every personal field of a request, deletes its tokens
//! and attachments and the free-text notes of its history, and keeps ids, type, status and
//! dates.

use assent_model::rights::{RequestType, Status};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::sql::{Cols, Stmt, V, i, insert, ot, parsed, t};
use crate::store::Store;
use crate::types::AppendItem;

/// A rights request as stored. Personal fields are `None` once erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsRequestRow {
    pub id: String,
    pub site: String,
    /// The request type: column `type`.
    pub kind: RequestType,
    pub status: Status,
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
    pub status: Option<Status>,
    pub unset: Option<RightsMark>,
}

impl RightsGuard {
    pub fn status(s: Status) -> Self {
        Self {
            status: Some(s),
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
    pub status: Option<Status>,
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

fn req_at(r: &dyn Cols) -> Result<RightsRequestRow, StoreError> {
    Ok(RightsRequestRow {
        id: r.str_(0)?,
        site: r.str_(1)?,
        kind: parsed(r, 2, "rights_requests", "type", RequestType::parse)?,
        status: parsed(r, 3, "rights_requests", "status", Status::parse)?,
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
    Ok(RightsTokenRow {
        hash: r.hash(0, "rights token hash")?,
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

pub(crate) fn insert_request_stmt(q: &RightsRequestRow) -> Stmt {
    insert(
        "rights_requests",
        REQ_COLS,
        vec![
            t(&q.id),
            t(&q.site),
            t(q.kind.as_str()),
            t(q.status.as_str()),
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

pub(crate) fn insert_event_stmt(e: &RightsEventRow) -> Stmt {
    insert(
        "rights_events",
        EVENT_COLS,
        vec![
            t(&e.request_id),
            i(e.ts_ms),
            t(&e.kind),
            t(&e.actor),
            ot(&e.note),
        ],
    )
}

fn insert_token_stmt(k: &RightsTokenRow) -> Stmt {
    insert(
        "rights_tokens",
        TOKEN_COLS,
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

fn update_stmt(id: &str, guard: &RightsGuard, p: &RightsPatch) -> Option<Stmt> {
    // One row per patchable column: the value to write, when the patch sets it.
    let columns = [
        ("status", p.status.map(|s| t(s.as_str()))),
        ("verified_at_ms", p.verified_at_ms.map(i)),
        ("extended_due_at_ms", p.extended_due_at_ms.map(i)),
        ("extension_reason", p.extension_reason.as_deref().map(t)),
        ("closed_at_ms", p.closed_at_ms.map(i)),
        ("response", p.response.as_deref().map(t)),
        ("subject", p.subject.as_deref().map(t)),
        ("mail_problem", p.mail_problem.as_ref().map(ot)),
        ("reminded_7d_at_ms", p.reminded_7d_at_ms.map(i)),
        ("reminded_1d_at_ms", p.reminded_1d_at_ms.map(i)),
        ("overdue_at_ms", p.overdue_at_ms.map(i)),
    ];
    let mut sets: Vec<String> = vec![];
    let mut vals: Vec<V> = vec![];
    for (col, v) in columns {
        if let Some(v) = v {
            vals.push(v);
            sets.push(format!("{col} = ?{}", vals.len()));
        }
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
    if let Some(s) = guard.status {
        vals.push(t(s.as_str()));
        sql.push_str(&format!(" AND status = ?{}", vals.len()));
    }
    if let Some(m) = guard.unset {
        sql.push_str(&format!(" AND {} IS NULL", m.column()));
    }
    Some((sql, vals))
}

const ERASE_STMTS: [&str; 5] = [
    "UPDATE rights_requests SET email = NULL, name = NULL, details = NULL, \
     extension_reason = NULL, response = NULL, subject = NULL, receipt_id = NULL, \
     mail_problem = NULL, erased_at_ms = ?2 WHERE id = ?1 AND erased_at_ms IS NULL",
    "DELETE FROM rights_tokens WHERE request_id = ?1",
    "DELETE FROM rights_attachments WHERE request_id = ?1",
    "UPDATE rights_events SET note = NULL WHERE request_id = ?1",
    "UPDATE rights_intake SET correction = NULL WHERE request_id = ?1",
];

/// A unique-constraint failure on insert is a conflict.
pub(crate) fn conflict_on_duplicate(e: StoreError, what: &str) -> StoreError {
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
    async fn rights_write(
        &self,
        stmts: Vec<Stmt>,
        ledger: Option<AppendItem>,
    ) -> Result<Vec<u64>, StoreError> {
        Ok(self.exec(stmts, false, ledger).await?.unwrap_or_default())
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
        self.row(sql, vec![t(id)], req_at).await
    }

    /// Requests (erased ones included), optionally of one status, by effective due date.
    pub async fn rights_list(
        &self,
        status: Option<Status>,
    ) -> Result<Vec<RightsRequestRow>, StoreError> {
        match status {
            Some(s) => {
                let sql =
                    format!("SELECT {REQ_COLS} FROM rights_requests WHERE status = ?1 {REQ_ORDER}");
                self.rows(sql, vec![t(s.as_str())], req_at).await
            }
            None => {
                let sql = format!("SELECT {REQ_COLS} FROM rights_requests {REQ_ORDER}");
                self.rows(sql, vec![], req_at).await
            }
        }
    }

    /// Requests of a site by the requester's email (exact, as stored) and status.
    pub async fn rights_by_email(
        &self,
        site: &str,
        email: &str,
        status: Status,
    ) -> Result<Vec<RightsRequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQ_COLS} FROM rights_requests WHERE site = ?1 AND email = ?2 \
             AND status = ?3 {REQ_ORDER}"
        );
        self.rows(sql, vec![t(site), t(email), t(status.as_str())], req_at)
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
        Ok(self.exec(stmts, true, ledger).await?.is_some())
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
        self.rows(sql, vec![t(id)], event_at).await
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
        self.row(sql, vec![V::B(hash.to_vec())], token_at).await
    }

    /// The tokens of a request.
    pub async fn rights_tokens(&self, request_id: &str) -> Result<Vec<RightsTokenRow>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM rights_tokens WHERE request_id = ?1 ORDER BY expires_at_ms"
        );
        self.rows(sql, vec![t(request_id)], token_at).await
    }

    /// Consumes a single-use token: `true` only for the first use before expiry. Every other
    /// unused token of the same request and purpose family (`verify_*`) is consumed with it,
    /// so a link and its code cannot both be used.
    pub async fn rights_use_token(&self, hash: &[u8; 32], now_ms: i64) -> Result<bool, StoreError> {
        let used = self
            .exec(
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

    /// Claims one attempt at a request's verification code, atomically: `true` when the
    /// request has a live, unused `verify_code` token with fewer than `max` attempts, whose
    /// count this call raised by one. The check and the count are one statement, so parallel
    /// guesses cannot share an attempt (each statement re-reads the row under its lock on
    /// PostgreSQL; SQLite's one writer runs them one after the other).
    pub async fn rights_claim_code_attempt(
        &self,
        request_id: &str,
        now_ms: i64,
        max: i64,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .exec(
                vec![(
                    "UPDATE rights_tokens SET attempts = attempts + 1 WHERE request_id = ?1 \
                     AND purpose = 'verify_code' AND used_at_ms IS NULL AND expires_at_ms > ?2 \
                     AND attempts < ?3"
                        .to_owned(),
                    vec![t(request_id), i(now_ms), i(max)],
                )],
                true,
                None,
            )
            .await?;
        Ok(claimed.is_some())
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
            vec![insert(
                "rights_attachments",
                "id, request_id, filename, content_type, bytes, created_at_ms, expires_at_ms",
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
        self.row(sql, vec![t(request_id), t(id)], att_at).await
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
        self.rows(sql, vec![t(request_id)], att_at).await
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
        let mut stmts: Vec<Stmt> = ERASE_STMTS
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
        Ok(self.exec(stmts, true, ledger).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_statement() {
        let (sql, vals) = update_stmt(
            "x",
            &RightsGuard {
                status: Some(Status::Received),
                unset: Some(RightsMark::Overdue),
            },
            &RightsPatch {
                status: Some(Status::Verified),
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
