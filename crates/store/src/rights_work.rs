//! Persistence of the fulfilment side of rights requests (tables of migration
//! `0010_rights_fulfilment`), for both backends: how a request was received (channel, the
//! correction asked for), the restriction list, the Art. 19 notification tasks, the
//! fulfilment runs, and the keys shared by every server of a database.
//!
//! Like `rights.rs`, a change recorded in the ledger takes its entry as an argument and
//! commits with it (and with its history line) in one transaction; guarded changes (lift a
//! restriction, finish a run, close a task) apply once: `Ok(false)` when the row was not in
//! the expected state, and then nothing is written, the ledger entry included.
//!
//! Nothing here stores a person's identifier in clear: a restriction holds a keyed hash;
//! tasks and runs hold names of recipients, datastores, tables and columns, and counts.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::rights::{
    RightsEventRow, RightsRequestRow, conflict_on_duplicate, insert_event_stmt, insert_request_stmt,
};
use crate::sql::{Cols, Stmt, V, i, insert, ot, t};
use crate::store::Store;
use crate::types::AppendItem;

/// How a request reached the controller, and the correction a rectification asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsIntakeRow {
    pub request_id: String,
    /// `web`, `email`, `post`, `phone` or `in_person`.
    pub channel: String,
    /// The requested correction (JSON text); nulled when the request is erased.
    pub correction: Option<String>,
}

/// One entry of the restriction list (Art. 18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictionRow {
    pub id: String,
    /// Keyed hash of the normalised identifier.
    pub subject_hash: [u8; 32],
    /// `email` or `phone`.
    pub identity_kind: String,
    pub request_id: Option<String>,
    pub reason: String,
    pub created_at_ms: i64,
    pub created_by: String,
    pub lifted_at_ms: Option<i64>,
    pub lifted_by: Option<String>,
    pub lift_reason: Option<String>,
}

/// One Art. 19 notification task: tell `recipient` of a rectification, erasure or
/// restriction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: String,
    pub request_id: String,
    /// `rectification`, `erasure` or `restriction`.
    pub action: String,
    /// A service id of the registry, or `recipient:<name>` for a recipient named in words.
    pub recipient: String,
    pub recipient_name: String,
    pub provider: Option<String>,
    pub created_at_ms: i64,
    pub done_at_ms: Option<i64>,
    pub done_by: Option<String>,
    pub note: Option<String>,
}

/// One fulfilment run of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub request_id: String,
    /// `access`, `erase`, `rectify` or `restrict`.
    pub kind: String,
    /// `running`, `succeeded`, `failed` or `partial`.
    pub status: String,
    pub actor: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Per-datastore outcome (JSON text: names and counts, no personal data).
    pub outcome: Option<String>,
    pub error: Option<String>,
}

const INTAKE_COLS: &str = "request_id, channel, correction";
const RESTRICTION_COLS: &str = "id, subject_hash, identity_kind, request_id, reason, \
    created_at_ms, created_by, lifted_at_ms, lifted_by, lift_reason";
const NOTIFY_COLS: &str = "id, request_id, action, recipient, recipient_name, provider, \
    created_at_ms, done_at_ms, done_by, note";
const RUN_COLS: &str =
    "id, request_id, kind, status, actor, started_at_ms, finished_at_ms, outcome, error";

fn intake_at(r: &dyn Cols) -> Result<RightsIntakeRow, StoreError> {
    Ok(RightsIntakeRow {
        request_id: r.str_(0)?,
        channel: r.str_(1)?,
        correction: r.ostr(2)?,
    })
}

fn restriction_at(r: &dyn Cols) -> Result<RestrictionRow, StoreError> {
    Ok(RestrictionRow {
        id: r.str_(0)?,
        subject_hash: r.hash(1, "restriction subject hash")?,
        identity_kind: r.str_(2)?,
        request_id: r.ostr(3)?,
        reason: r.str_(4)?,
        created_at_ms: r.i64_(5)?,
        created_by: r.str_(6)?,
        lifted_at_ms: r.oi64(7)?,
        lifted_by: r.ostr(8)?,
        lift_reason: r.ostr(9)?,
    })
}

fn notify_at(r: &dyn Cols) -> Result<NotificationRow, StoreError> {
    Ok(NotificationRow {
        id: r.str_(0)?,
        request_id: r.str_(1)?,
        action: r.str_(2)?,
        recipient: r.str_(3)?,
        recipient_name: r.str_(4)?,
        provider: r.ostr(5)?,
        created_at_ms: r.i64_(6)?,
        done_at_ms: r.oi64(7)?,
        done_by: r.ostr(8)?,
        note: r.ostr(9)?,
    })
}

fn run_at(r: &dyn Cols) -> Result<RunRow, StoreError> {
    Ok(RunRow {
        id: r.str_(0)?,
        request_id: r.str_(1)?,
        kind: r.str_(2)?,
        status: r.str_(3)?,
        actor: r.str_(4)?,
        started_at_ms: r.i64_(5)?,
        finished_at_ms: r.oi64(6)?,
        outcome: r.ostr(7)?,
        error: r.ostr(8)?,
    })
}

fn bytes_at(r: &dyn Cols) -> Result<Vec<u8>, StoreError> {
    Ok(r.obytes(0)?.unwrap_or_default())
}

impl Store {
    /// Stores a request recorded by the DPO (received by email, post, phone...) with its
    /// intake row, its first history line and `ledger`, in one transaction.
    pub async fn rights_insert_offline(
        &self,
        req: &RightsRequestRow,
        intake: &RightsIntakeRow,
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let stmts = vec![
            insert_request_stmt(req),
            insert(
                "rights_intake",
                INTAKE_COLS,
                vec![
                    t(&intake.request_id),
                    t(&intake.channel),
                    ot(&intake.correction),
                ],
            ),
            insert_event_stmt(event),
        ];
        self.exec(stmts, false, ledger)
            .await
            .map_err(|e| conflict_on_duplicate(e, "rights request"))?;
        Ok(())
    }

    /// The intake row of a request (`None`: it came through the web form or API).
    pub async fn rights_intake(&self, id: &str) -> Result<Option<RightsIntakeRow>, StoreError> {
        let sql = format!("SELECT {INTAKE_COLS} FROM rights_intake WHERE request_id = ?1");
        self.row(sql, vec![t(id)], intake_at).await
    }

    /// Every intake row (for the admin list: the channel of each request).
    pub async fn rights_intakes(&self) -> Result<Vec<RightsIntakeRow>, StoreError> {
        let sql = format!("SELECT {INTAKE_COLS} FROM rights_intake");
        self.rows(sql, vec![], intake_at).await
    }

    /// Sets the name and/or email of a request (a rectification of Assent's own record),
    /// with its history line and ledger entry. `false` when the request is unknown or
    /// erased.
    pub async fn rights_rectify_record(
        &self,
        id: &str,
        name: Option<&str>,
        email: Option<&str>,
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let update = (
            "UPDATE rights_requests SET name = COALESCE(?2, name), email = COALESCE(?3, email) \
             WHERE id = ?1 AND erased_at_ms IS NULL"
                .to_owned(),
            vec![
                t(id),
                V::T(name.map(str::to_owned)),
                V::T(email.map(str::to_owned)),
            ],
        );
        let stmts = vec![update, insert_event_stmt(event)];
        Ok(self.exec(stmts, true, ledger).await?.is_some())
    }

    /// Adds a person to the restriction list, with a history line on the request (if any)
    /// and `ledger`, in one transaction.
    pub async fn restriction_insert(
        &self,
        row: &RestrictionRow,
        event: Option<&RightsEventRow>,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let mut stmts: Vec<Stmt> = vec![insert(
            "rights_restrictions",
            RESTRICTION_COLS,
            vec![
                t(&row.id),
                V::B(row.subject_hash.to_vec()),
                t(&row.identity_kind),
                ot(&row.request_id),
                t(&row.reason),
                i(row.created_at_ms),
                t(&row.created_by),
                V::I(row.lifted_at_ms),
                ot(&row.lifted_by),
                ot(&row.lift_reason),
            ],
        )];
        stmts.extend(event.map(insert_event_stmt));
        self.exec(stmts, false, ledger)
            .await
            .map_err(|e| conflict_on_duplicate(e, "restriction"))?;
        Ok(())
    }

    /// The restrictions in force for a subject hash, oldest first.
    pub async fn restrictions_active(
        &self,
        subject_hash: &[u8; 32],
    ) -> Result<Vec<RestrictionRow>, StoreError> {
        let sql = format!(
            "SELECT {RESTRICTION_COLS} FROM rights_restrictions WHERE subject_hash = ?1 \
             AND lifted_at_ms IS NULL ORDER BY created_at_ms, id"
        );
        self.rows(sql, vec![V::B(subject_hash.to_vec())], restriction_at)
            .await
    }

    /// One restriction.
    pub async fn restriction_get(&self, id: &str) -> Result<Option<RestrictionRow>, StoreError> {
        let sql = format!("SELECT {RESTRICTION_COLS} FROM rights_restrictions WHERE id = ?1");
        self.row(sql, vec![t(id)], restriction_at).await
    }

    /// The restrictions recorded through a request.
    pub async fn restrictions_of_request(
        &self,
        request_id: &str,
    ) -> Result<Vec<RestrictionRow>, StoreError> {
        let sql = format!(
            "SELECT {RESTRICTION_COLS} FROM rights_restrictions WHERE request_id = ?1 \
             ORDER BY created_at_ms, id"
        );
        self.rows(sql, vec![t(request_id)], restriction_at).await
    }

    /// Lifts a restriction still in force, with the request's history line and `ledger`.
    /// `false` when unknown or already lifted.
    pub async fn restriction_lift(
        &self,
        id: &str,
        now_ms: i64,
        by: &str,
        reason: &str,
        event: Option<&RightsEventRow>,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let mut stmts: Vec<Stmt> = vec![(
            "UPDATE rights_restrictions SET lifted_at_ms = ?2, lifted_by = ?3, lift_reason = ?4 \
             WHERE id = ?1 AND lifted_at_ms IS NULL"
                .to_owned(),
            vec![t(id), i(now_ms), t(by), t(reason)],
        )];
        stmts.extend(event.map(insert_event_stmt));
        Ok(self.exec(stmts, true, ledger).await?.is_some())
    }

    /// Creates notification tasks (a task already created for the same request, action and
    /// recipient is kept as it is), with a history line and `ledger`, in one transaction.
    pub async fn notifications_insert(
        &self,
        rows: &[NotificationRow],
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let mut stmts: Vec<Stmt> = rows
            .iter()
            .map(|n| {
                let (sql, vals) = insert(
                    "rights_notifications",
                    NOTIFY_COLS,
                    vec![
                        t(&n.id),
                        t(&n.request_id),
                        t(&n.action),
                        t(&n.recipient),
                        t(&n.recipient_name),
                        ot(&n.provider),
                        i(n.created_at_ms),
                        V::I(n.done_at_ms),
                        ot(&n.done_by),
                        ot(&n.note),
                    ],
                );
                (
                    format!("{sql} ON CONFLICT (request_id, action, recipient) DO NOTHING"),
                    vals,
                )
            })
            .collect();
        stmts.push(insert_event_stmt(event));
        self.exec(stmts, false, ledger).await?;
        Ok(())
    }

    /// The notification tasks of a request, in creation order.
    pub async fn notifications_of(
        &self,
        request_id: &str,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let sql = format!(
            "SELECT {NOTIFY_COLS} FROM rights_notifications WHERE request_id = ?1 \
             ORDER BY created_at_ms, action, recipient"
        );
        self.rows(sql, vec![t(request_id)], notify_at).await
    }

    /// Marks an open task done as `done` says (`done_at_ms`, `done_by`, `note`), with a
    /// history line and `ledger`. `false` when unknown, of another request, or already done.
    pub async fn notification_done(
        &self,
        done: &NotificationRow,
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let stmts: Vec<Stmt> = vec![
            (
                "UPDATE rights_notifications SET done_at_ms = ?3, done_by = ?4, note = ?5 \
                 WHERE request_id = ?1 AND id = ?2 AND done_at_ms IS NULL"
                    .to_owned(),
                vec![
                    t(&done.request_id),
                    t(&done.id),
                    V::I(done.done_at_ms),
                    ot(&done.done_by),
                    ot(&done.note),
                ],
            ),
            insert_event_stmt(event),
        ];
        Ok(self.exec(stmts, true, ledger).await?.is_some())
    }

    /// Records the start of a run, with a history line.
    pub async fn run_insert(&self, run: &RunRow, event: &RightsEventRow) -> Result<(), StoreError> {
        let stmts = vec![
            insert(
                "rights_runs",
                RUN_COLS,
                vec![
                    t(&run.id),
                    t(&run.request_id),
                    t(&run.kind),
                    t(&run.status),
                    t(&run.actor),
                    i(run.started_at_ms),
                    V::I(run.finished_at_ms),
                    ot(&run.outcome),
                    ot(&run.error),
                ],
            ),
            insert_event_stmt(event),
        ];
        self.exec(stmts, false, None)
            .await
            .map_err(|e| conflict_on_duplicate(e, "run"))?;
        Ok(())
    }

    /// Finishes a running run with its status, outcome and error, its history line and
    /// `ledger`. `false` when unknown or already finished.
    pub async fn run_finish(
        &self,
        run: &RunRow,
        event: &RightsEventRow,
        ledger: Option<AppendItem>,
    ) -> Result<bool, StoreError> {
        let stmts: Vec<Stmt> = vec![
            (
                "UPDATE rights_runs SET status = ?2, finished_at_ms = ?3, outcome = ?4, \
                 error = ?5 WHERE id = ?1 AND status = 'running'"
                    .to_owned(),
                vec![
                    t(&run.id),
                    t(&run.status),
                    V::I(run.finished_at_ms),
                    ot(&run.outcome),
                    ot(&run.error),
                ],
            ),
            insert_event_stmt(event),
        ];
        Ok(self.exec(stmts, true, ledger).await?.is_some())
    }

    /// One run.
    pub async fn run_get(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLS} FROM rights_runs WHERE id = ?1");
        self.row(sql, vec![t(id)], run_at).await
    }

    /// The runs of a request, oldest first.
    pub async fn runs_of(&self, request_id: &str) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM rights_runs WHERE request_id = ?1 ORDER BY started_at_ms, id"
        );
        self.rows(sql, vec![t(request_id)], run_at).await
    }

    /// The latest run of every request that has one (what the queue's attention flag reads).
    pub async fn runs_latest(&self) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM rights_runs r WHERE id = (SELECT x.id FROM rights_runs x \
             WHERE x.request_id = r.request_id ORDER BY x.started_at_ms DESC, x.id DESC LIMIT 1)"
        );
        self.rows(sql, vec![], run_at).await
    }

    /// The secret `name` shared by every server of the database: `candidate` if none was
    /// stored yet (the first caller's candidate wins a race), else the stored one.
    pub async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.exec(
            vec![(
                "INSERT INTO assent_secrets (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO NOTHING"
                    .to_owned(),
                vec![t(name), V::B(candidate.to_vec())],
            )],
            false,
            None,
        )
        .await?;
        let sql = "SELECT value FROM assent_secrets WHERE name = ?1".to_owned();
        self.row(sql, vec![t(name)], bytes_at)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("secret {name} vanished")))
    }

    /// Deletes one attachment of a request (a single-use package, once downloaded).
    pub async fn rights_delete_attachment(
        &self,
        request_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            vec![(
                "DELETE FROM rights_attachments WHERE request_id = ?1 AND id = ?2".to_owned(),
                vec![t(request_id), t(id)],
            )],
            false,
            None,
        )
        .await?;
        Ok(())
    }

    /// Deletes the attachments whose file name starts with `prefix` and whose expiry has
    /// passed; answers how many.
    pub async fn rights_delete_expired_attachments(
        &self,
        prefix: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let n = self
            .exec(
                vec![(
                    "DELETE FROM rights_attachments WHERE substr(filename, 1, ?1) = ?2 \
                     AND expires_at_ms <= ?3"
                        .to_owned(),
                    vec![
                        V::I4(i32::try_from(prefix.len()).unwrap_or(i32::MAX)),
                        t(prefix),
                        i(now_ms),
                    ],
                )],
                false,
                None,
            )
            .await?;
        Ok(n.and_then(|v| v.first().copied()).unwrap_or(0))
    }
}
