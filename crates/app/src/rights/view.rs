//! What the admin API and pages show of a request once fulfilment exists: the DPO's queue
//! and detail (`dpo`) with the channel it came by, the correction asked for, its runs, its
//! Art. 19 tasks, its restrictions, and whether it needs attention (its latest run failed,
//! partly failed or stalled). Nothing imports this file: it sits above the operations.

use std::collections::BTreeMap;

use assent_model::rights::Status;
use assent_store::{RightsRequestRow, RunRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dpo::{self, QueueFilter};
use super::fulfilment::{attention, run_json};
use super::intake::{OfflineRequest, correction_of, record};
use crate::App;
use crate::error::AppResult;

/// `GET /admin/v1/requests?status=&overdue=&site=&attention=`: `status` also takes
/// `awaiting_verification` (the same as `received`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListFilter {
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub site: Option<String>,
    /// Only requests that need attention (`true`) or only the others (`false`).
    pub attention: Option<bool>,
}

/// Why each request needs attention (by request id), from the latest run of each.
async fn attention_map(st: &App) -> AppResult<BTreeMap<String, String>> {
    let now = st.clock.now_ms();
    Ok(st
        .store
        .runs_latest()
        .await?
        .iter()
        .filter_map(|run| attention(run, now).map(|a| (run.request_id.clone(), a)))
        .collect())
}

/// The queue with each item's `channel` and `attention` (`null` or why), and the count of
/// requests awaiting verification.
pub async fn queue(st: &App, f: &ListFilter) -> AppResult<(Vec<Value>, usize)> {
    let status = match f.status.as_deref() {
        Some("awaiting_verification") => Some(Status::Received.as_str().to_owned()),
        other => other.map(str::to_owned),
    };
    let inner = QueueFilter {
        status,
        overdue: f.overdue,
        site: f.site.clone(),
    };
    let (items, awaiting) = dpo::queue(st, &inner).await?;
    let channels: BTreeMap<String, String> = st
        .store
        .rights_intakes()
        .await?
        .into_iter()
        .map(|i| (i.request_id, i.channel))
        .collect();
    let attention = attention_map(st).await?;
    let items = items
        .into_iter()
        .filter_map(|mut v| {
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            let why = attention.get(&id);
            if f.attention.is_some_and(|want| want != why.is_some()) {
                return None;
            }
            v["channel"] = json!(channels.get(&id).map_or("web", String::as_str));
            v["attention"] = json!(why);
            v["awaiting_verification"] = json!(v["status"] == "received");
            Some(v)
        })
        .collect();
    Ok((items, awaiting))
}

/// The fields rectified by a request's runs (names only), for the Art. 19 message.
fn rectified_fields(runs: &[RunRow]) -> Vec<String> {
    let mut out: Vec<String> = runs
        .iter()
        .filter(|r| r.kind == "rectify" && r.status == "succeeded")
        .filter_map(|r| r.outcome.as_deref())
        .filter_map(|o| serde_json::from_str::<Value>(o).ok())
        .flat_map(|o| {
            o["assent"]["rights_requests"]["fields"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|f| {
            f.as_str()
                .map(|s| s.rsplit('.').next().unwrap_or(s).to_owned())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One request as the admin API shows it: `dpo::detail` and its fulfilment.
pub async fn detail(st: &App, id: &str) -> AppResult<Value> {
    let r = dpo::load(st, id).await?;
    detail_of(st, &r).await
}

async fn detail_of(st: &App, r: &RightsRequestRow) -> AppResult<Value> {
    let mut v = dpo::detail(st, r).await?;
    let now = st.clock.now_ms();
    let intake = st.store.rights_intake(&r.id).await?;
    let runs = st.store.runs_of(&r.id).await?;
    let tasks = super::notify::tasks(st, r, &rectified_fields(&runs)).await?;
    let mut recipients: Vec<&str> = tasks
        .iter()
        .filter_map(|t| t["recipient_name"].as_str())
        .collect();
    recipients.sort_unstable();
    recipients.dedup();
    let recipients: Vec<String> = recipients.into_iter().map(str::to_owned).collect();
    v["channel"] = json!(intake.as_ref().map_or("web", |i| i.channel.as_str()));
    v["correction"] = correction_of(st, &r.id).await?.unwrap_or(Value::Null);
    v["attention"] = json!(runs.last().and_then(|run| attention(run, now)));
    v["runs"] = json!(runs.iter().map(run_json).collect::<Vec<_>>());
    v["notifications"] = json!(tasks);
    v["recipients"] = json!(recipients);
    v["restrictions"] = json!(super::restrict::of_request(st, &r.id).await?);
    Ok(v)
}

/// `POST /admin/v1/requests`: records a request received outside the web form; answers it
/// as [`detail`] does.
pub async fn record_offline(st: &App, actor: &str, b: &OfflineRequest) -> AppResult<Value> {
    let row = record(st, actor, b).await?;
    detail_of(st, &row).await
}

/// `POST /admin/v1/requests/{id}/notifications/{task}/done`.
pub async fn notification_done(
    st: &App,
    actor: &str,
    id: &str,
    task: &str,
    note: Option<&str>,
) -> AppResult<Value> {
    super::notify::mark_done(st, actor, id, task, note).await?;
    detail(st, id).await
}

/// `GET /admin/v1/requests/{id}/notifications`: the tasks with their prepared messages.
pub async fn notifications(st: &App, id: &str) -> AppResult<Value> {
    let r = dpo::load(st, id).await?;
    let runs = st.store.runs_of(id).await?;
    let tasks = super::notify::tasks(st, &r, &rectified_fields(&runs)).await?;
    let open = tasks.iter().filter(|t| t["done"] == false).count();
    Ok(json!({"items": tasks, "open": open}))
}

/// What the DPO's detail page adds to a request: (catalog key of the label, text).
pub async fn page_rows(st: &App, r: &RightsRequestRow) -> AppResult<Vec<(&'static str, String)>> {
    let now = st.clock.now_ms();
    let intake = st.store.rights_intake(&r.id).await?;
    let runs = st.store.runs_of(&r.id).await?;
    let tasks = st.store.notifications_of(&r.id).await?;
    let restrictions = st.store.restrictions_of_request(&r.id).await?;
    let runs_text = runs
        .iter()
        .map(|x| {
            let err = x
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            format!(
                "{} {} {}{err}",
                assent_model::clock::rfc3339(x.started_at_ms),
                x.kind,
                x.status
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tasks_text = tasks
        .iter()
        .map(|t| {
            let done = if t.done_at_ms.is_some() {
                "done"
            } else {
                "to do"
            };
            format!("{} ({}): {done}", t.recipient_name, t.action)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let restr_text = restrictions
        .iter()
        .map(|x| {
            let state = if x.lifted_at_ms.is_some() {
                "lifted"
            } else {
                "in force"
            };
            format!("{}: {state}", x.identity_kind)
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(vec![
        (
            "rw.admin.field.channel",
            intake.map_or_else(|| "web".to_owned(), |i| i.channel),
        ),
        (
            "rw.admin.field.attention",
            runs.last()
                .and_then(|run| attention(run, now))
                .unwrap_or_default(),
        ),
        ("rw.admin.field.runs", runs_text),
        ("rw.admin.field.notifications", tasks_text),
        ("rw.admin.field.restrictions", restr_text),
    ])
}

/// Why each request that needs attention does, by request id (for the queue page).
pub async fn needing_attention(st: &App) -> AppResult<BTreeMap<String, String>> {
    attention_map(st).await
}
