//! The rights background job, every minute on the injected clock: reminders to the DPO 7
//! days and 1 day before a request is due, the overdue flag, and the erasure of request
//! records at the end of their retention. Each step is idempotent and guarded in the
//! database (a mark is set by one process only), so several servers sharing PostgreSQL may
//! run it. Tests call [`run_due_jobs`] directly after moving the clock.

use assent_model::rights::{Reminder, Status, erase_at};
use assent_store::{RightsGuard, RightsMark, RightsPatch};
use serde_json::json;

use crate::App;
use crate::error::AppResult;
use crate::rights::mails::reminder_mail;
use crate::rights::{count_entry, deadlines_of, event, ledger_item, send_and_record, site_tz};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub reminders: usize,
    pub overdue: usize,
    pub erased: usize,
}

/// Runs every rights job due at `now`.
pub async fn run_due_jobs(st: &App, now: i64) -> AppResult<JobReport> {
    let mut rep = JobReport::default();
    for r in st.store.rights_list(None).await? {
        if r.erased_at_ms.is_some() {
            continue;
        }
        let tz = site_tz(st, &r.site);
        let d = deadlines_of(&r);
        let status = d.status;
        // Retention: closed requests, and requests never verified whose link has expired,
        // are erased at the end of the calendar year (of closure / receipt) + 2 years.
        let retention_start = match status {
            Status::Completed | Status::Rejected => r.closed_at_ms,
            Status::Received => Some(r.received_at_ms),
            _ => None,
        };
        if let Some(start) = retention_start
            && let Ok(at) = erase_at(start, &tz)
            && now >= at
        {
            let entry = ledger_item(
                "rights.erased",
                &r,
                r.status.as_str(),
                now,
                json!({"retention_until": at}),
            )?;
            let ok = st
                .store
                .rights_erase(
                    &r.id,
                    now,
                    &event(&r.id, now, "erased", "system", None),
                    Some(entry),
                )
                .await?;
            if ok {
                count_entry(st);
                rep.erased += 1;
            }
            continue;
        }
        // Unverified requests are not due to the DPO: no reminders, no overdue flag.
        if status == Status::Received || status.is_closed() {
            continue;
        }
        if d.is_overdue(now) {
            let patch = RightsPatch {
                overdue_at_ms: Some(now),
                ..RightsPatch::default()
            };
            let ev = event(&r.id, now, "overdue", "system", None);
            let entry = ledger_item(
                "rights.overdue",
                &r,
                r.status.as_str(),
                now,
                json!({"due_at": d.effective_due()}),
            )?;
            if st
                .store
                .rights_update(
                    &r.id,
                    &RightsGuard::unset(RightsMark::Overdue),
                    &patch,
                    Some(&ev),
                    Some(entry),
                )
                .await?
            {
                count_entry(st);
                rep.overdue += 1;
            }
            continue;
        }
        let Some(cur) = st.sites.current(&r.site) else {
            continue;
        };
        for rem in d.reminders_due(now, &tz).unwrap_or_default() {
            let (mark, patch) = match rem {
                Reminder::SevenDays => (
                    RightsMark::Reminded7d,
                    RightsPatch {
                        reminded_7d_at_ms: Some(now),
                        ..RightsPatch::default()
                    },
                ),
                Reminder::OneDay => (
                    RightsMark::Reminded1d,
                    RightsPatch {
                        reminded_1d_at_ms: Some(now),
                        ..RightsPatch::default()
                    },
                ),
            };
            if !st
                .store
                .rights_update(&r.id, &RightsGuard::unset(mark), &patch, None, None)
                .await?
            {
                continue;
            }
            // A request found late gets only the most urgent reminder.
            if rem == Reminder::SevenDays
                && d.reminders_due(now, &tz)
                    .unwrap_or_default()
                    .contains(&Reminder::OneDay)
            {
                continue;
            }
            let mail = reminder_mail(
                st,
                &r,
                &cur.snapshot.controller,
                rem.days(),
                d.effective_due(),
                &tz,
            );
            let _ = send_and_record(st, &r, &mail, true).await;
            rep.reminders += 1;
        }
    }
    st.metrics
        .rights_purge_last_run_ms
        .store(now, std::sync::atomic::Ordering::Relaxed);
    // Access packages whose single-use link has expired are deleted.
    crate::rights::runs::purge_expired(st, now).await?;
    Ok(rep)
}
