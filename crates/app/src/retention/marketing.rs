//! Retention of marketing records (`applies_to = "marketing"`): a prospect's opt-ins are
//! deleted when the period has passed since the last contact coming from them that Assent
//! records (the last choice they made: a subscription, its confirmation, a change on the
//! preference page); an opt-out is never purged, so its suppression entry (the keyed hash of
//! the address) always stays and the person is never contacted again by mistake.
//!
//! Invariants: opt-ins of a held person (an open rights request, a restriction, a DPO hold:
//! matched by email) are skipped and counted; each delete repeats the condition, so a
//! subscription renewed meanwhile is kept; the digest names rows by keyed hash only.

use assent_store::Store;

use crate::error::AppResult;
use crate::retention::holds::Held;
use crate::retention::progress::{Progress, RunOptions};

/// The held persons' emails.
fn held_emails(held: &Held) -> Vec<String> {
    let mut v: Vec<String> = held
        .persons
        .iter()
        .filter(|p| p.contains('@'))
        .cloned()
        .collect();
    v.sort();
    v
}

/// `(due, held, the last change of the next opt-in to fall due)` at cutoff `cut`.
pub(crate) async fn plan_marketing(
    store: &Store,
    cut: i64,
    held: &Held,
) -> AppResult<(i64, i64, Option<i64>)> {
    let (due, h) = store
        .marketing_retention_count(cut, &held_emails(held))
        .await?;
    let next = store.marketing_retention_next(cut).await?;
    Ok((due, h, next))
}

/// Deletes the due opt-ins, a chunk at a time. `Ok(false)`: stopped by the budget.
pub(crate) async fn purge_marketing(
    store: &Store,
    cut: i64,
    held: &Held,
    opts: &RunOptions,
    p: &mut Progress,
) -> AppResult<bool> {
    let emails = held_emails(held);
    p.row.held = store.marketing_retention_count(cut, &emails).await?.1;
    loop {
        if !p.budget_left(opts) {
            return Ok(false);
        }
        let left = opts
            .max_rows
            .map_or(u64::from(opts.chunk), |m| m.saturating_sub(p.changed()))
            .min(u64::from(opts.chunk));
        let limit = u32::try_from(left).unwrap_or(opts.chunk);
        let batch = store.marketing_retention_due(cut, &emails, limit).await?;
        if batch.is_empty() {
            return Ok(true);
        }
        let done = store.marketing_retention_delete(&batch, cut).await?;
        let mut any = false;
        for (row, n) in batch.iter().zip(done) {
            if n > 0 {
                p.purged(&row.key());
                any = true;
            }
        }
        store.retention_run_update(&p.row, None).await?;
        if !any {
            // Every row changed meanwhile: the next run sees them afresh.
            return Ok(true);
        }
    }
}
