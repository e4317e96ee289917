//! The rights background job, every minute on the injected clock: reminders to the DPO 7
//! days and 1 day before a request is due, and the overdue flag. (Request records are erased
//! at the end of their retention by the retention run, `crate::retention`.) Each step is idempotent and guarded in the
//! database (a mark is set by one process only), so several servers sharing PostgreSQL may
//! run it. Tests call [`run_due_jobs`] directly after moving the clock.

use assent_model::rights::{Reminder, Status};
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
    // Access packages whose single-use link has expired are deleted.
    crate::rights::runs::purge_expired(st, now).await?;
    Ok(rep)
}
