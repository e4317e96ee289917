//! Art. 19 notification tasks: after a rectification, erasure or restriction, every
//! recipient of the data is told, unless that proves impossible or involves
//! disproportionate effort, and the requester may learn who they are.
//!
//! The recipients concerned are read from the site's policy version: the services whose
//! purposes are affected (their role: processor, controller or joint controller), the
//! processors of the affected processing activities, and the recipients those activities
//! name in words. Without a narrower list of affected purposes (a datastore annotation), all
//! of the site's are affected: everything the site discloses may hold the person's data.
//!
//! One task per recipient and action; creating them again (a second run) keeps the existing
//! ones. The prepared message is rendered when read, from the request as it is then: the
//! tasks table holds no personal data, and an erased request's message says so.

use std::collections::BTreeSet;

use assent_model::clock::rfc3339;
use assent_model::version::SiteSnapshot;
use assent_store::{NotificationRow, RightsRequestRow};
use serde_json::{Value, json};

use super::request::{count_entry, event, ledger_item, new_id, pick_lang};
use crate::App;
use crate::error::{AppError, AppResult};

/// The actions that call for a notification.
pub const ACTIONS: [&str; 3] = ["rectification", "erasure", "restriction"];

/// One recipient of the data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recipient {
    /// A service id, or `recipient:<name>` for a recipient named in words.
    pub id: String,
    /// What the requester and the DPO read: "Mailjet (Mailjet SAS)".
    pub name: String,
    pub provider: Option<String>,
}

/// The recipients of a site's data for the `affected` purposes or activities (`None`: all).
pub fn recipients(snap: &SiteSnapshot, affected: Option<&[String]>) -> Vec<Recipient> {
    let hit = |id: &str| affected.is_none_or(|a| a.iter().any(|x| x == id));
    let lang = snap.site.languages.first().map_or("en", String::as_str);
    let mut out: BTreeSet<Recipient> = BTreeSet::new();
    let mut service_ids: BTreeSet<&str> = snap
        .services
        .iter()
        .filter(|s| s.purposes.iter().any(|p| hit(p)))
        .map(|s| s.id.as_str())
        .collect();
    for a in snap.activities.iter().filter(|a| hit(&a.id)) {
        service_ids.extend(a.processors.iter().map(String::as_str));
        for r in &a.recipients {
            let name = r.get(lang, "en").trim().to_owned();
            if !name.is_empty() {
                out.insert(Recipient {
                    id: format!("recipient:{}", name.chars().take(150).collect::<String>()),
                    name,
                    provider: None,
                });
            }
        }
    }
    for id in service_ids {
        if let Some(s) = snap.services.iter().find(|s| s.id == id) {
            out.insert(Recipient {
                id: s.id.clone(),
                name: format!("{} ({})", s.name, s.provider),
                provider: Some(s.provider.clone()),
            });
        }
    }
    out.into_iter().collect()
}

/// Creates the tasks of `action` for request `r` (idempotent), with a history line and a
/// `rights.notifications` ledger entry (counts and recipient ids only). Returns how many
/// recipients there are.
pub async fn create_tasks(
    st: &App,
    r: &RightsRequestRow,
    action: &str,
    affected: Option<&[String]>,
    actor: &str,
) -> AppResult<usize> {
    if !ACTIONS.contains(&action) {
        return Err(AppError::internal(&"unknown Art. 19 action"));
    }
    let cur = st
        .sites
        .current(&r.site)
        .ok_or_else(|| AppError::internal(&"site vanished"))?;
    let list = recipients(&cur.snapshot, affected);
    let now = st.clock.now_ms();
    let mut rows = vec![];
    for rec in &list {
        rows.push(NotificationRow {
            id: new_id(now)?,
            request_id: r.id.clone(),
            action: action.to_owned(),
            recipient: rec.id.clone(),
            recipient_name: rec.name.clone(),
            provider: rec.provider.clone(),
            created_at_ms: now,
            done_at_ms: None,
            done_by: None,
            note: None,
        });
    }
    let ids: Vec<&str> = list.iter().map(|x| x.id.as_str()).collect();
    let entry = ledger_item(
        "rights.notifications",
        r,
        r.status.as_str(),
        now,
        json!({"action": action, "recipients": ids}),
    )?;
    let note = format!("{} recipient(s) to tell of the {action}", list.len());
    st.store
        .notifications_insert(
            &rows,
            &event(&r.id, now, "notifications", actor, Some(note)),
            Some(entry),
        )
        .await?;
    count_entry(st);
    Ok(list.len())
}

/// How the recipient finds the person: the request's identifiers as they are now.
fn identity_lines(r: &RightsRequestRow) -> Vec<String> {
    if r.erased_at_ms.is_some() {
        return vec!["(the request has been erased)".into()];
    }
    let mut v = vec![];
    if let Some(n) = &r.name {
        v.push(format!("name: {n}"));
    }
    if let Some(e) = &r.email {
        v.push(format!("email: {e}"));
    }
    v
}

/// The tasks of a request with their prepared messages (subject and body, in the site's
/// first language). `fields`: the fields rectified, for a rectification's message.
pub async fn tasks(st: &App, r: &RightsRequestRow, fields: &[String]) -> AppResult<Vec<Value>> {
    let rows = st.store.notifications_of(&r.id).await?;
    let cur = st.sites.current(&r.site);
    let identity = identity_lines(r);
    Ok(rows
        .iter()
        .map(|n| {
            let message = cur.as_ref().map(|cur| {
                let snap = &cur.snapshot;
                let lang = pick_lang(None, &snap.site.languages);
                let m = assent_pages::mail::art19(
                    lang,
                    &snap.controller,
                    &assent_pages::mail::Art19 {
                        action: &n.action,
                        recipient: &n.recipient_name,
                        reference: &r.id,
                        identity: &identity,
                        fields,
                    },
                );
                json!({"subject": m.subject, "body": m.body, "language": lang})
            });
            json!({
                "id": n.id,
                "action": n.action,
                "recipient": n.recipient,
                "recipient_name": n.recipient_name,
                "provider": n.provider,
                "created_at": rfc3339(n.created_at_ms),
                "done": n.done_at_ms.is_some(),
                "done_at": n.done_at_ms.map(rfc3339),
                "done_by": n.done_by,
                "note": n.note,
                "message": message,
            })
        })
        .collect())
}

/// Marks task `task` of request `id` done (the recipient was told), with an optional note.
pub async fn mark_done(
    st: &App,
    actor: &str,
    id: &str,
    task: &str,
    note: Option<&str>,
) -> AppResult<()> {
    let r = st
        .store
        .rights_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such request").field("id"))?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2_000) {
        return Err(AppError::invalid(
            "note",
            "`note` is longer than 2000 characters",
        ));
    }
    let rows = st.store.notifications_of(id).await?;
    let Some(n) = rows.iter().find(|n| n.id == task) else {
        return Err(AppError::not_found("no such notification task").field("task"));
    };
    if n.done_at_ms.is_some() {
        return Err(AppError::conflict(
            "already_done",
            "this task is already done",
        ));
    }
    let now = st.clock.now_ms();
    let entry = ledger_item(
        "rights.notified",
        &r,
        r.status.as_str(),
        now,
        json!({"task": n.id, "action": n.action, "recipient": n.recipient}),
    )?;
    let line = event(
        id,
        now,
        "notified",
        actor,
        Some(format!("{} told of the {}", n.recipient_name, n.action)),
    );
    let done = NotificationRow {
        done_at_ms: Some(now),
        done_by: Some(actor.to_owned()),
        note: note.map(str::to_owned),
        ..n.clone()
    };
    if !st
        .store
        .notification_done(&done, &line, Some(entry))
        .await?
    {
        return Err(AppError::conflict(
            "already_done",
            "this task is already done",
        ));
    }
    count_entry(st);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_of_affected_purposes_only() {
        let reg: assent_model::registry::Registry =
            toml::from_str(include_str!("../../../../examples/callkom.toml")).unwrap();
        let site = reg.sites[0].id.clone();
        let snap = SiteSnapshot::from_registry(&reg, &site).unwrap();
        let all = recipients(&snap, None);
        assert!(!all.is_empty());
        let none = recipients(&snap, Some(&["no-such-purpose".to_string()]));
        assert!(none.is_empty());
        // Every service of the site is a recipient of something.
        for s in &snap.services {
            assert!(all.iter().any(|r| r.id == s.id), "{}", s.id);
        }
        let ids: BTreeSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "one task per recipient");
    }
}
