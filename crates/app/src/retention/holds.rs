//! Holds: whose records no retention run purges. A person is held while a rights request of
//! theirs is open (received and not yet closed, awaiting verification included), while a
//! restriction of processing they obtained is in force (a completed restriction request not
//! yet erased), and while a DPO hold names them (with a reason and an optional end). The DPO
//! sets and lifts holds through the admin API; each change is an audit entry without the
//! person (only the hold's id and end).

use std::collections::HashSet;

use assent_model::retention::Hold;
use assent_model::rights::{RequestType, Status};
use assent_store::{RightsRequestRow, Store};
use serde_json::json;

use crate::error::{AppError, AppResult};

/// The persons held at an instant: consent subject ids, requesters' emails, request ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    pub persons: HashSet<String>,
}

/// Whether a request keeps its requester's records: open, or a restriction in force.
fn holds_person(r: &RightsRequestRow) -> bool {
    r.erased_at_ms.is_none()
        && (!r.status.is_closed()
            || (r.kind == RequestType::Restriction && r.status == Status::Completed))
}

impl Held {
    pub(crate) async fn load(store: &Store, now_ms: i64) -> AppResult<Held> {
        let mut persons = HashSet::new();
        for h in store.retention_holds().await? {
            if h.active(now_ms) {
                persons.insert(h.person);
            }
        }
        for r in store.rights_list(None).await? {
            if holds_person(&r) {
                persons.extend(r.subject.clone());
                persons.extend(r.email.clone());
            }
        }
        Ok(Held { persons })
    }

    /// The held persons, sorted (for a query's `NOT IN` list).
    pub(crate) fn subjects(&self) -> Vec<String> {
        let mut v: Vec<String> = self.persons.iter().cloned().collect();
        v.sort();
        v
    }

    /// `(site, email)` of the requesters whose other requests are held.
    pub(crate) fn open_emails(rows: &[RightsRequestRow]) -> HashSet<(String, String)> {
        rows.iter()
            .filter(|r| holds_person(r))
            .filter_map(|r| r.email.clone().map(|e| (r.site.clone(), e)))
            .collect()
    }
}

/// Sets a DPO hold on `person` (a consent subject id, a requester's email or a request id)
/// until `until_ms` (or until lifted).
pub async fn set_hold(
    store: &Store,
    now_ms: i64,
    actor: &str,
    person: &str,
    reason: &str,
    until_ms: Option<i64>,
) -> AppResult<Hold> {
    let person = person.trim();
    if person.is_empty() || person.len() > 320 || person.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "person",
            "a consent subject id, a requester's email or a request id (at most 320 characters)",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 500 || reason.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "reason",
            "a reason is required (at most 500 characters, one line)",
        ));
    }
    if until_ms.is_some_and(|u| u <= now_ms) {
        return Err(AppError::invalid(
            "until",
            "the end of a hold must be in the future",
        ));
    }
    let hold = Hold {
        id: crate::rights::new_id(now_ms)?,
        person: person.to_owned(),
        reason: reason.to_owned(),
        until_ms,
        created_at_ms: now_ms,
        lifted_at_ms: None,
    };
    store.retention_hold_insert(&hold, actor).await?;
    crate::ledger::audit(
        store,
        now_ms,
        "retention.hold_set",
        json!({"hold": hold.id, "until": until_ms, "by": actor}),
    )
    .await?;
    Ok(hold)
}

/// Lifts a hold; [`AppError`] not found when unknown or already lifted.
pub async fn lift_hold(store: &Store, now_ms: i64, actor: &str, id: &str) -> AppResult<()> {
    if !store.retention_hold_lift(id, now_ms).await? {
        return Err(AppError::not_found("no such hold in force").field("id"));
    }
    crate::ledger::audit(
        store,
        now_ms,
        "retention.hold_lifted",
        json!({"hold": id, "by": actor}),
    )
    .await?;
    Ok(())
}

/// Every hold, newest first, with whether it is in force at `now_ms`.
pub async fn list_holds(store: &Store, now_ms: i64) -> AppResult<Vec<serde_json::Value>> {
    Ok(store
        .retention_holds()
        .await?
        .into_iter()
        .map(|h| {
            json!({
                "id": h.id,
                "person": h.person,
                "reason": h.reason,
                "until_ms": h.until_ms,
                "created_at_ms": h.created_at_ms,
                "lifted_at_ms": h.lifted_at_ms,
                "active": h.active(now_ms),
            })
        })
        .collect())
}
