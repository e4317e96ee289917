//! The rights queue (filters: status, type, site, overdue) and one request with every
//! action as a form: verify by hand, start, note, extend, complete with an attachment,
//! reject. Each action is one `assent_app::rights::dpo` operation by the person (the actor
//! in the history and the ledger), then a redirect back to the request.

use axum::Form;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;

use assent_app::rights::deadlines_of;
use assent_app::rights::dpo::{self, ATTACHMENT_TYPES, is_overdue, load, queue_order};
use assent_app::rights::view;
use assent_model::rights::Status;
use assent_pages::console::requests::{self as page, Filters};
use assent_pages::rights::admin::{Detail, HistoryLine, QueueRow};
use assent_store::RightsRequestRow;

use super::common::{Done, fail, form, local_to_rfc3339, ok, shell, sites_of};
use crate::auth::Admin;
use crate::console_reply::see_other;
use crate::error::ApiError;
use crate::multipart;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    overdue: String,
}

/// Whether a request passes the status filter (`open`: every request not closed, those
/// awaiting verification included: without email the DPO verifies them by hand).
fn status_matches(filter: &str, s: Status) -> bool {
    match filter {
        "" | "open" => !s.is_closed(),
        "closed" => s.is_closed(),
        "all" => true,
        other => s.as_str() == other,
    }
}

/// `GET /admin/requests`: the queue, overdue first, then by due date.
pub async fn queue(
    admin: Admin,
    State(st): State<AppState>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let f = Filters {
        status: if q.status.is_empty() {
            "open".into()
        } else {
            q.status.clone()
        },
        kind: q.kind.clone(),
        site: q.site.clone(),
        overdue: q.overdue == "true",
    };
    let now = st.clock.now_ms();
    let mut rows: Vec<RightsRequestRow> = match st.store.rights_list(None).await {
        Ok(a) => a,
        Err(e) => return fail(&admin, ApiError::from(e)),
    };
    rows.retain(|r| {
        r.erased_at_ms.is_none()
            && status_matches(&f.status, r.status)
            && (f.kind.is_empty() || r.kind.as_str() == f.kind)
            && (f.site.is_empty() || r.site == f.site)
            && (!f.overdue || is_overdue(r, now))
    });
    queue_order(&mut rows, now);
    // A failed, partial or stalled fulfilment run flags its request.
    let attention = view::needing_attention(&st).await.unwrap_or_default();
    let lines: Vec<QueueRow> = rows
        .iter()
        .map(|r| QueueRow {
            id: r.id.clone(),
            site: r.site.clone(),
            kind: r.kind.to_string(),
            status: r.status.to_string(),
            received_at_ms: r.received_at_ms,
            due_at_ms: deadlines_of(r).effective_due(),
            overdue: is_overdue(r, now),
            extended: r.extended_due_at_ms.is_some(),
            mail_problem: r.mail_problem.is_some(),
            attention: attention.get(&r.id).cloned(),
        })
        .collect();
    let sites = sites_of(&st);
    let s = shell(&admin, "console.title.requests", "/admin/requests");
    let may_act = admin.role.may(assent_app::access::Permission::Requests);
    ok(page::queue(&s, &lines, &f, &sites, now, may_act))
}

/// `GET /admin/requests/{id}`: one request, its history and its actions.
pub async fn request(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let r = match load(&st, &id).await {
        Ok(r) => r,
        Err(e) => return fail(&admin, e),
    };
    let events = match st.store.rights_events(&id).await {
        Ok(e) => e,
        Err(e) => return fail(&admin, ApiError::from(e)),
    };
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let d = Detail {
        id: r.id.clone(),
        site: r.site.clone(),
        kind: r.kind.to_string(),
        status: r.status.to_string(),
        received_at_ms: r.received_at_ms,
        due_at_ms: deadlines_of(&r).effective_due(),
        overdue: is_overdue(&r, st.clock.now_ms()),
        email: opt(&r.email),
        name: opt(&r.name),
        details: opt(&r.details),
        receipt: opt(&r.receipt_id),
        extension_reason: opt(&r.extension_reason),
        answer: opt(&r.response),
        mail_problem: opt(&r.mail_problem),
    };
    let ful = match super::fulfil::of_request(&st, &r).await {
        Ok(f) => f,
        Err(e) => return fail(&admin, e),
    };
    let history: Vec<HistoryLine> = events
        .into_iter()
        .map(|e| HistoryLine {
            ts_ms: e.ts_ms,
            kind: e.kind,
            actor: e.actor,
            note: e.note,
        })
        .collect();
    let mut s = shell(&admin, "console.title.request", "/admin/requests");
    if let Ok(Query(d)) = done {
        d.show(&mut s);
    }
    let types = ATTACHMENT_TYPES.join(", ");
    let may_act = admin.role.may(assent_app::access::Permission::Requests);
    let max = crate::csrf::MAX_FORM_BODY;
    ok(page::detail(&s, &d, &ful, &history, &types, max, may_act))
}

/// After an action: back to the request with its confirmation, or the refusal.
fn after<T>(admin: &Admin, id: &str, done: &str, r: assent_app::AppResult<T>) -> Response {
    match r {
        Ok(_) => see_other(&format!("/admin/requests/{id}?done={done}")),
        Err(e) => fail(admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

/// `POST /admin/requests/{id}/verify`: identity verified by other means, with how.
pub async fn verify(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<NoteForm>, FormRejection>,
) -> Response {
    let f: NoteForm = form(f);
    let r = dpo::verify_by_hand(&st, &admin.token_id, &id, &f.note).await;
    after(&admin, &id, "verify", r)
}

/// `POST /admin/requests/{id}/start`.
pub async fn start(admin: Admin, State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let r = dpo::start(&st, &admin.token_id, &id).await;
    after(&admin, &id, "start", r)
}

/// `POST /admin/requests/{id}/note`.
pub async fn note(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<NoteForm>, FormRejection>,
) -> Response {
    let f: NoteForm = form(f);
    let r = dpo::add_note(&st, &admin.token_id, &id, &f.note).await;
    after(&admin, &id, "note", r)
}

#[derive(Debug, Default, Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    notified_at: String,
}

/// `POST /admin/requests/{id}/extend`: by two months, with the reason (emailed to the
/// requester unless they were told already).
pub async fn extend(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<ExtendForm>, FormRejection>,
) -> Response {
    let f: ExtendForm = form(f);
    let tz = admin.person.as_ref().map_or("UTC", |p| p.user.tz.as_str());
    let notified_at = if f.notified_at.trim().is_empty() {
        None
    } else {
        match local_to_rfc3339("notified_at", &f.notified_at, tz) {
            Ok(t) => Some(t),
            Err(e) => return fail(&admin, e),
        }
    };
    let b = dpo::Extension {
        reason: f.reason,
        notified_at,
    };
    let r = dpo::extend(&st, &admin.token_id, &id, &b).await;
    after(&admin, &id, "extend", r)
}

/// The answer and its attachment from the multipart form.
fn completion(headers: &HeaderMap, body: &[u8]) -> Result<dpo::Completion, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = multipart::parse(ct, body).map_err(ApiError::bad_request)?;
    let mut c = dpo::Completion {
        message: String::new(),
        attachments: vec![],
    };
    for p in parts {
        match (p.name.as_str(), p.filename) {
            ("message", _) => {
                c.message = String::from_utf8(p.data)
                    .map_err(|_| ApiError::invalid("message", "the answer is not UTF-8 text"))?;
            }
            ("attachment", Some(name)) if !name.is_empty() || !p.data.is_empty() => {
                c.attachments.push(dpo::AttachmentIn {
                    filename: name,
                    content_type: p.content_type.unwrap_or_default(),
                    content_base64: base64::engine::general_purpose::STANDARD.encode(&p.data),
                });
            }
            _ => {}
        }
    }
    Ok(c)
}

/// `POST /admin/requests/{id}/complete` (multipart): the answer, and a file sent with it.
pub async fn complete(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = match completion(&headers, &body) {
        Ok(c) => c,
        Err(e) => return fail(&admin, e),
    };
    let r = dpo::complete(&st, &admin.token_id, &id, &c).await;
    after(&admin, &id, "complete", r)
}

#[derive(Debug, Default, Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reasons: String,
}

/// `POST /admin/requests/{id}/reject`: with the reasons (the email adds the right to complain).
pub async fn reject(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RejectForm>, FormRejection>,
) -> Response {
    let f: RejectForm = form(f);
    let r = dpo::reject(&st, &admin.token_id, &id, &f.reasons).await;
    after(&admin, &id, "reject", r)
}
