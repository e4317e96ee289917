//! Fulfilment of a request from the console, as forms calling the operations the admin API
//! calls (`assent_app::rights::{runs, restrict, rectify, view}`): preview and run, the
//! access package, restriction and its lifting, rectification, Art. 19 tasks, and a request
//! received by email, post, phone or in person. Each write is by the person (the actor in
//! the request's history and the ledger), then a redirect back to the request.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use assent_app::rights::intake::{CHANNELS, Correction, OfflineRequest};
use assent_app::rights::rectify::{self, Rectification};
use assent_app::rights::restrict::{self, RestrictBody};
use assent_app::rights::runs::{self, PACKAGE_PREFIX, RunBody};
use assent_app::rights::view;
use assent_pages::console::fulfil::{self as page, Fulfilment, Restriction, RunParams, Task};
use assent_store::RightsRequestRow;

use super::common::{actor, fail, form, local_to_rfc3339, ok, shell, sites_of};
use crate::auth::Admin;
use crate::console_reply::see_other;
use crate::error::ApiError;
use crate::state::AppState;

/// What the detail page shows of a request's fulfilment.
pub(super) async fn of_request(
    st: &AppState,
    r: &RightsRequestRow,
) -> Result<Fulfilment, ApiError> {
    let rows = view::page_rows(st, r).await?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let tasks = view::notifications(st, &r.id).await?;
    let tasks = tasks["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| Task {
                    id: text(&x["id"]),
                    recipient: text(&x["recipient_name"]),
                    action: text(&x["action"]),
                    done: x["done"] == true,
                    message: match &x["message"] {
                        Value::Object(m) => format!(
                            "{}\n\n{}",
                            text(&m["subject"].clone()),
                            text(&m["body"].clone())
                        ),
                        _ => String::new(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let restrictions = restrict::of_request(st, &r.id)
        .await?
        .iter()
        .map(|x| Restriction {
            id: text(&x["id"]),
            identity: text(&x["identity"]),
            reason: text(&x["reason"]),
            active: x["active"] == true,
        })
        .collect();
    let now = st.clock.now_ms();
    let package = st
        .store
        .rights_attachments(&r.id)
        .await
        .map_err(ApiError::from)?
        .iter()
        .any(|a| a.filename.starts_with(PACKAGE_PREFIX) && a.expires_at_ms > now);
    Ok(Fulfilment {
        rows,
        tasks,
        restrictions,
        package,
    })
}

/// After an action: back to the request with its confirmation, or the refusal.
fn after<T>(admin: &Admin, id: &str, done: &str, r: assent_app::AppResult<T>) -> Response {
    match r {
        Ok(_) => see_other(&format!("/admin/requests/{id}?done={done}")),
        Err(e) => fail(admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    receipts: String,
}

impl RunForm {
    fn body(&self) -> RunBody {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        RunBody {
            kind: opt(&self.kind),
            subject: opt(&self.subject),
            receipts: self
                .receipts
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            reason: None,
            phone: None,
        }
    }
}

/// `POST /admin/requests/{id}/preview`: what a run would do (nothing changes), with the
/// form that runs it.
pub async fn preview(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RunForm>, FormRejection>,
) -> Response {
    let f: RunForm = form(f);
    match runs::preview(&st, &id, &f.body()).await {
        Ok(v) => {
            let s = shell(&admin, "console.title.preview", "/admin/requests");
            let p = RunParams {
                kind: f.kind,
                subject: f.subject,
                receipts: f.receipts,
            };
            ok(page::preview(&s, &id, &p, &v, true))
        }
        Err(e) => fail(&admin, e),
    }
}

/// `POST /admin/requests/{id}/run`: runs it; a failed run is shown on the request.
pub async fn run(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RunForm>, FormRejection>,
) -> Response {
    let f: RunForm = form(f);
    let r = runs::run(&st, &actor(&admin), &id, &f.body()).await;
    after(&admin, &id, "run", r)
}

/// `GET /admin/requests/{id}/package`: the DPO's copy of the latest access package.
pub async fn package(admin: Admin, State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match runs::package(&st, &actor(&admin), &id).await {
        Ok((name, content_type, bytes)) => {
            crate::routes::rights::file_response(&name, &content_type, bytes)
        }
        Err(e) => fail(&admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RestrictForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    phone: String,
}

/// `POST /admin/requests/{id}/restrict`: the requester joins the restriction list.
pub async fn restrict(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RestrictForm>, FormRejection>,
) -> Response {
    let f: RestrictForm = form(f);
    let b = RestrictBody {
        reason: f.reason,
        phone: Some(f.phone.trim().to_owned()).filter(|p| !p.is_empty()),
    };
    let r = restrict::restrict(&st, &actor(&admin), &id, &b).await;
    after(&admin, &id, "restrict", r)
}

#[derive(Debug, Default, Deserialize)]
pub struct LiftForm {
    #[serde(default)]
    reason: String,
    /// The request whose page the form was on (where to go back).
    #[serde(default)]
    request: String,
}

/// `POST /admin/restrictions/{rid}/lift`.
pub async fn lift(
    admin: Admin,
    State(st): State<AppState>,
    Path(rid): Path<String>,
    f: Result<Form<LiftForm>, FormRejection>,
) -> Response {
    let f: LiftForm = form(f);
    let r = restrict::lift(&st, &actor(&admin), &rid, &f.reason).await;
    let back = if f
        .request
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !f.request.is_empty()
    {
        f.request
    } else {
        return match r {
            Ok(_) => see_other("/admin/requests"),
            Err(e) => fail(&admin, e),
        };
    };
    after(&admin, &back, "lift", r)
}

/// Corrections typed one per line as `field = value` (`name`, `email`, or
/// `datastore.table.column`).
fn corrections(field: &str, text: &str) -> Result<Vec<Correction>, ApiError> {
    let mut out = vec![];
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((f, v)) = line.split_once('=') else {
            return Err(ApiError::invalid(
                field,
                format!("line {}: expected `field = value`", n + 1),
            ));
        };
        out.push(Correction {
            field: f.trim().to_owned(),
            value: v.trim().to_owned(),
        });
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
pub struct RectifyForm {
    #[serde(default)]
    changes: String,
}

/// `POST /admin/requests/{id}/rectify`: applies the changes the DPO approved.
pub async fn rectify(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RectifyForm>, FormRejection>,
) -> Response {
    let f: RectifyForm = form(f);
    let changes = match corrections("changes", &f.changes) {
        Ok(c) => c,
        Err(e) => return fail(&admin, e),
    };
    let r = rectify::rectify(&st, &actor(&admin), &id, &Rectification { changes }).await;
    after(&admin, &id, "rectify", r)
}

#[derive(Debug, Default, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    note: String,
}

/// `POST /admin/requests/{id}/tasks/{task}/done`: the recipient was told (Art. 19).
pub async fn task_done(
    admin: Admin,
    State(st): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    f: Result<Form<TaskForm>, FormRejection>,
) -> Response {
    let f: TaskForm = form(f);
    let note = Some(f.note.trim()).filter(|n| !n.is_empty());
    let r = view::notification_done(&st, &actor(&admin), &id, &task, note).await;
    after(&admin, &id, "task", r)
}

/// `GET /admin/requests/new`: the form of a request received offline.
pub async fn intake_page(admin: Admin, State(st): State<AppState>) -> Response {
    let s = shell(&admin, "console.title.intake", "/admin/requests");
    ok(page::intake(&s, &sites_of(&st), &CHANNELS[1..]))
}

#[derive(Debug, Default, Deserialize)]
pub struct IntakeForm {
    #[serde(default)]
    site: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    received_at: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    correction: String,
}

/// `POST /admin/requests`: logs the request (its deadline runs from its reception), then
/// shows it.
pub async fn intake(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<IntakeForm>, FormRejection>,
) -> Response {
    let f: IntakeForm = form(f);
    let tz = admin.person.as_ref().map_or("UTC", |p| p.user.tz.as_str());
    let received_at = match local_to_rfc3339("received_at", &f.received_at, tz) {
        Ok(t) => t,
        Err(e) => return fail(&admin, e),
    };
    let correction = if f.correction.trim().is_empty() {
        None
    } else {
        match corrections("correction", &f.correction) {
            Ok(c) => Some(c),
            Err(e) => return fail(&admin, e),
        }
    };
    let opt = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let b = OfflineRequest {
        site: f.site,
        kind: f.kind,
        email: opt(f.email),
        name: f.name,
        details: opt(f.details),
        channel: f.channel,
        received_at,
        language: admin.person.as_ref().map(|p| p.user.lang.clone()),
        receipt: opt(f.receipt),
        correction,
    };
    match view::record_offline(&st, &actor(&admin), &b).await {
        Ok(v) => match v["id"].as_str() {
            Some(id) => see_other(&format!("/admin/requests/{id}?done=intake")),
            None => see_other("/admin/requests"),
        },
        Err(e) => fail(&admin, e),
    }
}
