//! What the DPO console shows of a rights request (`console::requests` renders it): a row
//! of the queue, one request, a line of its history.
//!
//! Invariants: every stored value (which may be anything a requester typed) is escaped by
//! askama when rendered; the caller sorts the queue (overdue first, then by due date).

/// One row of the DPO queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: String,
    pub site: String,
    pub kind: String,
    pub status: String,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub extended: bool,
    pub mail_problem: bool,
    /// Why it needs attention (a failed, partial or stalled fulfilment run), if it does.
    pub attention: Option<String>,
}

/// One request as the DPO sees it: every field as stored (text), times in UTC.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub id: String,
    pub site: String,
    pub kind: String,
    pub status: String,
    pub received_at_ms: i64,
    /// The due date in force (extended or not).
    pub due_at_ms: i64,
    pub overdue: bool,
    pub email: String,
    pub name: String,
    pub details: String,
    pub receipt: String,
    pub extension_reason: String,
    pub answer: String,
    pub mail_problem: String,
}

/// One line of a request's history.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub ts_ms: i64,
    pub kind: String,
    pub actor: String,
    pub note: Option<String>,
}
