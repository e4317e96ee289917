//! The retention run: executes the plan, rule by rule, in chunks. Each rule's run is
//! recorded (`retention_runs`, updated after every chunk) and ends with one `retention.run`
//! ledger entry (rule id, cutoff, counts, a digest of the keys purged; no personal data),
//! appended in the transaction that records its end.
//!
//! Consent proofs are redacted like an erasure: the ledger payload is erased, the consent
//! row deleted, a tombstone left (its receipt answers 410 Gone) and a `ledger.redaction`
//! entry appended, so `assent ledger verify` still passes. A chunk's redactions are sent to
//! the group-commit writer together, so they share transactions with the consents being
//! recorded instead of holding the database for a whole purge. Rights requests are erased
//! as before (personal fields nulled, ids and dates kept). Scan reports (no personal data)
//! are deleted.
//!
//! Datastore tables (`tables`) are purged in the controller's database, a chunk per
//! transaction; rows without an anchor are kept and counted (`unanchored`).
//!
//! Resuming: a run recomputes what is due, so a run cut short (budget, failure, crash) is
//! continued by the next one; one left `running` by a crash is marked `interrupted` by the
//! next run, which holds the retention lock.

use assent_model::retention::{AppliesTo, EffectiveRule, Enforcer, anchor_cutoff};
use assent_store::{AppendItem, RetentionRunRow, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::retention::holds::Held;
use crate::retention::marketing::purge_marketing;
use crate::retention::progress::{Progress, RunOptions};
use crate::retention::rules::{RightsState, RuleSet, Scope, consent_scopes, rfc3339, rights_state};
use crate::retention::tables::{TableScope, purge_table};

/// What a run did to one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRun {
    pub id: String,
    pub applies_to: Option<String>,
    pub enforced_by: &'static str,
    /// `done`, `partial`, `failed`; `skipped` for a rule Assent does not enforce.
    pub status: String,
    pub deleted: i64,
    pub anonymised: i64,
    pub held: i64,
    /// Datastore tables: rows whose anchor is NULL, kept and reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unanchored: Option<i64>,
    pub cutoff: Option<String>,
    pub digest: Option<String>,
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub at: String,
    /// Runs found `running` (a process stopped mid-run) and now marked `interrupted`.
    pub interrupted: Vec<String>,
    pub rules: Vec<RuleRun>,
}

/// Runs every rule Assent enforces, as of `opts.at_ms`. Fails only when the retention lock
/// is held elsewhere ([`AppError`] conflict) or the store is down; a rule that fails is
/// recorded `failed` and the others still run.
pub async fn run(store: &Store, set: &RuleSet, opts: &RunOptions) -> AppResult<RunReport> {
    let Some(lock) = store.retention_lock().await? else {
        return Err(AppError::conflict(
            "retention_running",
            "another Assent process is running retention",
        ));
    };
    let out = run_locked(store, set, opts).await;
    lock.release().await;
    out
}

async fn run_locked(store: &Store, set: &RuleSet, opts: &RunOptions) -> AppResult<RunReport> {
    let interrupted = store
        .retention_runs_interrupted(opts.now_ms)
        .await?
        .into_iter()
        .map(|r| r.rule_id)
        .collect();
    let mut rules = Vec::new();
    for rule in &set.rules {
        let (who, _) = rule.enforcer();
        let kind = rule.applies_to.clone();
        let skip = |status: &str| RuleRun {
            id: rule.id.clone(),
            applies_to: rule.applies_to_code(),
            enforced_by: who.as_str(),
            status: status.into(),
            deleted: 0,
            anonymised: 0,
            held: 0,
            unanchored: None,
            cutoff: None,
            digest: None,
            error: None,
        };
        let (Enforcer::Assent, Some(kind)) = (who, kind) else {
            rules.push(skip("skipped"));
            continue;
        };
        let Some(cut) = anchor_cutoff(opts.at_ms, rule.period, rule.trigger, &set.tz) else {
            rules.push(skip("skipped"));
            continue;
        };
        rules.push(run_rule(store, set, rule, &kind, cut, opts).await?);
    }
    Ok(RunReport {
        at: rfc3339(opts.at_ms),
        interrupted,
        rules,
    })
}

async fn run_rule(
    store: &Store,
    set: &RuleSet,
    rule: &EffectiveRule,
    kind: &AppliesTo,
    cut: i64,
    opts: &RunOptions,
) -> AppResult<RuleRun> {
    // Runs of a rule are ordered by their start: two runs in the same millisecond (a frozen
    // or injected clock) still get distinct, increasing starts, so "the last run" is one row.
    let started_at_ms = store
        .retention_last_runs()
        .await?
        .iter()
        .filter(|r| r.rule_id == rule.id)
        .map(|r| r.started_at_ms.saturating_add(1))
        .fold(opts.now_ms, i64::max);
    let mut p = Progress {
        row: RetentionRunRow {
            id: crate::rights::new_id(opts.now_ms)?,
            rule_id: rule.id.clone(),
            applies_to: kind.code(),
            started_at_ms,
            at_ms: opts.at_ms,
            cutoff_ms: cut,
            finished_at_ms: None,
            status: "running".into(),
            deleted: 0,
            anonymised: 0,
            held: 0,
            digest: None,
            error: None,
        },
        hasher: Sha256::new(),
        unanchored: 0,
    };
    store.retention_run_start(&p.row).await?;
    let held = Held::load(store, opts.at_ms).await?;
    let scope = Scope {
        store,
        set,
        rule,
        cut,
        held: &held,
    };
    let outcome = match kind {
        AppliesTo::Consents => purge_consents(&scope, opts, &mut p).await,
        AppliesTo::RightsRequests => purge_rights(&scope, opts, &mut p).await,
        AppliesTo::ScanReports => purge_scans(&scope, opts, &mut p).await,
        AppliesTo::Marketing => purge_marketing(store, cut, &held, opts, &mut p).await,
        AppliesTo::Table { .. } => {
            let ts = TableScope {
                access: &set.tables,
                rule,
                tz: &set.tz,
                cut,
                held: &held,
            };
            purge_table(&ts, store, opts, &mut p).await
        }
        _ => Ok(true),
    };
    let is_table = matches!(kind, AppliesTo::Table { .. });
    p.row.status = match &outcome {
        Ok(true) => "done",
        Ok(false) => "partial",
        Err(_) => "failed",
    }
    .into();
    // The error's kind and message (no personal data: store and app messages name ids only).
    p.row.error = outcome.as_ref().err().map(|e| e.message.clone());
    p.row.digest = Some(hex::encode(p.hasher.clone().finalize()));
    p.row.finished_at_ms = Some(opts.now_ms);
    let mut payload = json!({
        "version": "assent-retention/1",
        "rule": rule.id,
        "applies_to": p.row.applies_to,
        "at": opts.at_ms,
        "run_at": opts.now_ms,
        "cutoff": cut,
        "status": p.row.status,
        "deleted": p.row.deleted,
        "anonymised": p.row.anonymised,
        "held": p.row.held,
        "keys_digest": p.row.digest,
    });
    if is_table {
        payload["unanchored"] = json!(p.unanchored);
    }
    let bytes = assent_ledger::canonical_json(&payload).map_err(|e| AppError::internal(&e))?;
    let item = AppendItem {
        ts_ms: opts.now_ms,
        kind: "retention.run".into(),
        payload: bytes,
        consent: None,
    };
    store.retention_run_update(&p.row, Some(item)).await?;
    Ok(RuleRun {
        id: rule.id.clone(),
        applies_to: Some(kind.code()),
        enforced_by: Enforcer::Assent.as_str(),
        status: p.row.status.clone(),
        deleted: p.row.deleted,
        anonymised: p.row.anonymised,
        held: p.row.held,
        unanchored: is_table.then_some(p.unanchored),
        cutoff: Some(rfc3339(cut)),
        digest: p.row.digest,
        error: p.row.error,
    })
}

/// Redacts the due consents of every site, a chunk at a time. `Ok(false)`: stopped by the
/// budget.
async fn purge_consents(c: &Scope<'_>, opts: &RunOptions, p: &mut Progress) -> AppResult<bool> {
    let store = c.store;
    let subjects = c.held.subjects();
    let reason = format!("retention: rule {}", c.rule.id);
    for s in consent_scopes(c).await? {
        p.row.held += store
            .retention_consents_count(&s.site, s.created_max, Some(&subjects))
            .await?;
        loop {
            if !p.budget_left(opts) {
                return Ok(false);
            }
            let left = opts
                .max_rows
                .map_or(u64::from(opts.chunk), |m| m.saturating_sub(p.changed()))
                .min(u64::from(opts.chunk));
            let limit = u32::try_from(left).unwrap_or(opts.chunk);
            let batch = store
                .retention_consents_due(&s.site, s.created_max, &subjects, limit)
                .await?;
            if batch.is_empty() {
                break;
            }
            let mut tasks = tokio::task::JoinSet::new();
            for (k, c) in batch.into_iter().enumerate() {
                let payload =
                    assent_ledger::redaction_payload(c.chain, c.seq, &c.payload_hash, &reason)
                        .map_err(|e| AppError::internal(&e))?;
                let item = AppendItem {
                    ts_ms: opts.now_ms,
                    kind: assent_ledger::REDACTION_KIND.into(),
                    payload,
                    consent: None,
                };
                let st = store.clone();
                tasks
                    .spawn(async move { (k, c.receipt_id, st.redact(c.chain, c.seq, item).await) });
            }
            let mut done = Vec::new();
            let mut failure = None;
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok((k, id, Ok(_))) => done.push((k, id)),
                    // Erased meanwhile (a rights request, another process): not ours to count.
                    Ok((_, _, Err(StoreError::Conflict(_) | StoreError::NotFound(_)))) => {}
                    Ok((_, _, Err(e))) => failure = Some(AppError::from(e)),
                    Err(e) => failure = Some(AppError::internal(&e)),
                }
            }
            done.sort();
            for (_, id) in &done {
                p.purged(id);
            }
            store.retention_run_update(&p.row, None).await?;
            if let Some(e) = failure {
                return Err(e);
            }
        }
    }
    Ok(true)
}

/// Erases the due rights requests. `Ok(false)`: stopped by the budget.
async fn purge_rights(c: &Scope<'_>, opts: &RunOptions, p: &mut Progress) -> AppResult<bool> {
    let (store, rule, cut) = (c.store, c.rule, c.cut);
    let rows = store.rights_list(None).await?;
    let open = Held::open_emails(&rows);
    for r in &rows {
        match rights_state(r, cut, c.held, &open) {
            RightsState::Held => p.row.held += 1,
            RightsState::Due => {
                if !p.budget_left(opts) {
                    return Ok(false);
                }
                let entry = crate::rights::ledger_item(
                    "rights.erased",
                    r,
                    r.status.as_str(),
                    opts.now_ms,
                    json!({"retention_rule": rule.id, "cutoff": cut}),
                )?;
                let ev = crate::rights::event(&r.id, opts.now_ms, "erased", "system", None);
                if store
                    .rights_erase(&r.id, opts.now_ms, &ev, Some(entry))
                    .await?
                {
                    p.purged(&r.id);
                }
            }
            RightsState::NotDue | RightsState::Erased => {}
        }
    }
    store.retention_run_update(&p.row, None).await?;
    Ok(true)
}

/// Deletes the reports of the scans that ended at or before the cutoff, a chunk at a time.
/// A scan report names no person, so nothing is held. `Ok(false)`: stopped by the budget.
async fn purge_scans(c: &Scope<'_>, opts: &RunOptions, p: &mut Progress) -> AppResult<bool> {
    loop {
        if !p.budget_left(opts) {
            return Ok(false);
        }
        let done = u64::try_from(p.row.deleted).unwrap_or(u64::MAX);
        let room = opts
            .max_rows
            .map_or(u64::from(opts.chunk), |m| m.saturating_sub(done))
            .min(u64::from(opts.chunk));
        let ids: Vec<String> = c
            .store
            .scans_ended_before(c.cut, u32::try_from(room).unwrap_or(opts.chunk))
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return Ok(true);
        }
        c.store.scans_delete(&ids).await?;
        for id in &ids {
            p.purged(id);
        }
        c.store.retention_run_update(&p.row, None).await?;
    }
}

/// The server's scheduled run: the server's rule set, as of now, counted in `/metrics`.
/// `Ok(None)` when another server holds the retention lock.
pub async fn scheduled_run(st: &App) -> AppResult<Option<RunReport>> {
    let set = RuleSet::for_app(st)?;
    let now = st.clock.now_ms();
    match run(&st.store, &set, &RunOptions::at(now, now)).await {
        Ok(rep) => {
            for r in &rep.rules {
                st.metrics.retention.add_rule(
                    crate::retention::counters::RuleOutcome {
                        id: &r.id,
                        applies_to: r.applies_to.as_deref(),
                        status: &r.status,
                        deleted: r.deleted,
                        anonymised: r.anonymised,
                        held: r.held,
                    },
                    now,
                );
            }
            Ok(Some(rep))
        }
        Err(e) if e.code == "retention_running" => Ok(None),
        Err(e) => Err(e),
    }
}
