//! Fulfilment runs of a request: every access, erasure, rectification or restriction done
//! through Assent is a run, recorded when it starts ([`record_start`]) and when it ends
//! ([`record_finish`]) with its status, its outcome per datastore (names and counts, never a
//! person's data) and its error. A request whose latest run failed, partly failed, or has not
//! finished long after it started (the server stopped during it) needs the DPO's attention
//! ([`attention`]): no request is ever stuck without a reason.
//!
//! The end of a run is a `rights.fulfilment` ledger entry carrying the outcome: for an
//! erasure, the receipt a supervisory authority can be shown (what was erased, where, when).

use assent_model::clock::rfc3339;
use assent_store::RunRow;
use serde_json::{Value, json};

use super::request::{count_entry, event, ledger_item, new_id};
use crate::App;
use crate::error::{AppError, AppResult};

/// A run still `running` this long after it started is reported as stalled.
pub const STALLED_AFTER_MS: i64 = 15 * 60_000;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Access,
    Erase,
    Rectify,
    Restrict,
}

impl RunKind {
    pub const ALL: [RunKind; 4] = [
        RunKind::Access,
        RunKind::Erase,
        RunKind::Rectify,
        RunKind::Restrict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Access => "access",
            RunKind::Erase => "erase",
            RunKind::Rectify => "rectify",
            RunKind::Restrict => "restrict",
        }
    }

    pub fn parse(s: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    /// Some datastores done, others failed (each datastore is all or nothing).
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }
}

/// Records that a run of `kind` starts on request `request_id`, by `actor` (a history line).
pub async fn record_start(
    st: &App,
    request_id: &str,
    kind: RunKind,
    actor: &str,
) -> AppResult<RunRow> {
    let now = st.clock.now_ms();
    let run = RunRow {
        id: new_id(now)?,
        request_id: request_id.to_owned(),
        kind: kind.as_str().to_owned(),
        status: "running".into(),
        actor: actor.to_owned(),
        started_at_ms: now,
        finished_at_ms: None,
        outcome: None,
        error: None,
    };
    let line = event(
        request_id,
        now,
        "run_started",
        actor,
        Some(format!("{} run {}", kind.as_str(), run.id)),
    );
    st.store.run_insert(&run, &line).await?;
    Ok(run)
}

/// Records the end of `run`: its status, its `outcome` (no personal data: datastore, table
/// and column names and counts) and its `error` (which must not quote personal data either),
/// with a history line and a `rights.fulfilment` ledger entry. A run finished already is a
/// conflict.
pub async fn record_finish(
    st: &App,
    run: &RunRow,
    status: RunStatus,
    outcome: Value,
    error: Option<String>,
) -> AppResult<RunRow> {
    let r = st
        .store
        .rights_get(&run.request_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such request").field("id"))?;
    let now = st.clock.now_ms();
    let outcome_text = serde_json::to_string(&outcome).map_err(|e| AppError::internal(&e))?;
    let done = RunRow {
        status: status.as_str().to_owned(),
        finished_at_ms: Some(now),
        outcome: Some(outcome_text),
        error: error.clone(),
        ..run.clone()
    };
    let entry = ledger_item(
        "rights.fulfilment",
        &r,
        r.status.as_str(),
        now,
        json!({
            "run": run.id,
            "kind": run.kind,
            "outcome": status.as_str(),
            "started_at": run.started_at_ms,
            "datastores": outcome,
        }),
    )?;
    let note = match &error {
        Some(e) => format!("{} run {} {}: {e}", run.kind, run.id, status.as_str()),
        None => format!("{} run {} {}", run.kind, run.id, status.as_str()),
    };
    let line = event(&run.request_id, now, "run_finished", &run.actor, Some(note));
    if !st.store.run_finish(&done, &line, Some(entry)).await? {
        return Err(AppError::conflict(
            "run_finished",
            "this run has already finished",
        ));
    }
    count_entry(st);
    Ok(done)
}

/// Why request of `latest` run needs the DPO's attention, if it does.
pub fn attention(latest: &RunRow, now: i64) -> Option<String> {
    let err = latest.error.as_deref().unwrap_or("no error recorded");
    match latest.status.as_str() {
        "failed" => Some(format!("the {} run failed: {err}", latest.kind)),
        "partial" => Some(format!("the {} run partly failed: {err}", latest.kind)),
        "running" if now - latest.started_at_ms > STALLED_AFTER_MS => Some(format!(
            "the {} run started at {} has not finished (the server may have stopped during \
             it): run it again",
            latest.kind,
            rfc3339(latest.started_at_ms)
        )),
        _ => None,
    }
}

/// A run as the admin API shows it.
pub fn run_json(run: &RunRow) -> Value {
    let outcome = run
        .outcome
        .as_deref()
        .and_then(|o| serde_json::from_str::<Value>(o).ok())
        .unwrap_or(Value::Null);
    json!({
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "actor": run.actor,
        "started_at": rfc3339(run.started_at_ms),
        "finished_at": run.finished_at_ms.map(rfc3339),
        "outcome": outcome,
        "error": run.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: &str, started: i64) -> RunRow {
        RunRow {
            id: "r".into(),
            request_id: "q".into(),
            kind: "erase".into(),
            status: status.into(),
            actor: "admin:x".into(),
            started_at_ms: started,
            finished_at_ms: None,
            outcome: None,
            error: Some("datastore shop: table orders: permission denied".into()),
        }
    }

    #[test]
    fn attention_rules() {
        let now = 100 * 60_000;
        assert!(attention(&run("succeeded", 0), now).is_none());
        assert!(
            attention(&run("failed", 0), now)
                .unwrap()
                .contains("permission denied")
        );
        assert!(attention(&run("partial", 0), now).is_some());
        assert!(attention(&run("running", now - 60_000), now).is_none());
        assert!(
            attention(&run("running", 0), now)
                .unwrap()
                .contains("has not finished")
        );
        for k in RunKind::ALL {
            assert_eq!(RunKind::parse(k.as_str()), Some(k));
        }
    }
}
