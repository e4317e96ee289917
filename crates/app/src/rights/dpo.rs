//! The DPO's side of the rights workflow: the queue, one request with its history, and the
//! actions on it (note, start, extend, complete with attachments, reject), plus the
//! requester's download of what a completed request sent them. Each action validates its
//! input (naming the field), makes its change and ledger entry in one transaction through
//! [`transition`], and sends the email the law asks for.

use std::sync::Arc;

use assent_model::clock::{parse_time, rfc3339};
use assent_model::rights::Status;
use assent_store::{RightsAttachmentRow, RightsPatch, RightsRequestRow, RightsTokenRow};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::mailer::{Mail, Outcome};
use super::mails::{completion_mail, extension_mail, rejection_mail};
use super::{
    DOWNLOAD_TTL_MS, MAX_DETAILS, count_entry, deadlines_of, event, ledger_item, new_id,
    new_secret, send_and_record, sha256, site_tz, summary, transition,
};
use crate::App;
use crate::error::{AppError, AppResult, Kind};
use crate::sites::SiteVersion;

/// Content types accepted for attachments (exports and documents).
pub const ATTACHMENT_TYPES: &[&str] = &[
    "application/json",
    "text/csv",
    "text/plain",
    "application/pdf",
    "application/zip",
];

/// At most this many attachments per answer.
pub const MAX_ATTACHMENTS: usize = 10;

/// Which requests the queue shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueFilter {
    /// A status, `all`, or nothing: everything but requests awaiting email verification.
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub site: Option<String>,
}

/// Whether a request is past its (possibly extended) deadline and still open.
pub fn is_overdue(r: &RightsRequestRow, now: i64) -> bool {
    r.status != Status::Received && r.erased_at_ms.is_none() && deadlines_of(r).is_overdue(now)
}

/// Overdue first, then by effective due date (the store returns them by due date).
pub fn queue_order(rows: &mut [RightsRequestRow], now: i64) {
    rows.sort_by_key(|r| (!is_overdue(r, now), deadlines_of(r).effective_due()));
}

/// The queue as JSON summaries, and how many requests await email verification.
pub async fn queue(st: &App, f: &QueueFilter) -> AppResult<(Vec<Value>, usize)> {
    let now = st.clock.now_ms();
    // None: every request but those awaiting verification; Some(None): all of them.
    let status = match f.status.as_deref() {
        None | Some("") => None,
        Some("all") => Some(None),
        Some(s) => Some(Some(Status::parse(s).ok_or_else(|| {
            AppError::invalid("status", format!("unknown status `{s}`"))
        })?)),
    };
    let all = st.store.rights_list(None).await?;
    let awaiting = all
        .iter()
        .filter(|r| r.status == Status::Received && r.erased_at_ms.is_none())
        .count();
    let items: Vec<Value> = all
        .iter()
        .filter(|r| match status {
            None => r.status != Status::Received,
            Some(None) => true,
            Some(Some(s)) => r.status == s,
        })
        .filter(|r| f.site.as_deref().is_none_or(|s| r.site == s))
        .filter(|r| !f.overdue.unwrap_or(false) || is_overdue(r, now))
        .map(|r| summary(r, now))
        .collect();
    Ok((items, awaiting))
}

/// One request, or `NotFound` naming `id`.
pub async fn load(st: &App, id: &str) -> AppResult<RightsRequestRow> {
    st.store
        .rights_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such request").field("id"))
}

/// A request with its history and attachments, as the admin API shows it.
pub async fn detail(st: &App, r: &RightsRequestRow) -> AppResult<Value> {
    let now = st.clock.now_ms();
    let mut v = summary(r, now);
    let history: Vec<Value> = st
        .store
        .rights_events(&r.id)
        .await?
        .into_iter()
        .map(|e| json!({"at": rfc3339(e.ts_ms), "kind": e.kind, "actor": e.actor, "note": e.note}))
        .collect();
    let attachments: Vec<Value> = st
        .store
        .rights_attachments(&r.id)
        .await?
        .into_iter()
        .map(|a| json!({"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "expires_at": rfc3339(a.expires_at_ms)}))
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("language".into(), json!(r.language));
        o.insert("email".into(), json!(r.email));
        o.insert("name".into(), json!(r.name));
        o.insert("details".into(), json!(r.details));
        o.insert("receipt".into(), json!(r.receipt_id));
        o.insert("subject".into(), json!(r.subject));
        o.insert("extension_reason".into(), json!(r.extension_reason));
        o.insert("response".into(), json!(r.response));
        o.insert("history".into(), json!(history));
        o.insert("attachments".into(), json!(attachments));
    }
    Ok(v)
}

/// The detail of request `id` as it is now (after an action).
async fn reload(st: &App, id: &str) -> AppResult<Value> {
    let r = load(st, id).await?;
    detail(st, &r).await
}

/// A required free-text field: trimmed, not empty, at most `max` characters.
pub fn text_field(field: &str, v: &str, max: usize) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// The current version of the site a request was made to (for its controller).
fn site_of(st: &App, r: &RightsRequestRow) -> AppResult<Arc<SiteVersion>> {
    st.sites
        .current(&r.site)
        .ok_or_else(|| AppError::internal(&"site vanished"))
}

/// What closing a request (completed or rejected) records: when, and the answer given.
fn closing(now: i64, response: &str) -> RightsPatch {
    RightsPatch {
        closed_at_ms: Some(now),
        response: Some(response.to_owned()),
        ..RightsPatch::default()
    }
}

/// Emails the requester the answer that closed `r`; the detail carries `email_sent` (the
/// request stays closed either way, the failure is in its history).
async fn send_answer(st: &App, r: &RightsRequestRow, mail: Option<&Mail>) -> AppResult<Value> {
    let sent = match mail {
        Some(mail) => matches!(send_and_record(st, r, mail, false).await, Ok(Outcome::Sent)),
        None => false,
    };
    let mut v = reload(st, &r.id).await?;
    v["email_sent"] = json!(sent);
    Ok(v)
}

/// The requester's address (`None` for a request received by post or phone without one),
/// unless the request has been erased.
fn live_email(r: &RightsRequestRow) -> AppResult<Option<String>> {
    if r.erased_at_ms.is_some() {
        return Err(AppError::conflict("erased", "this request has been erased"));
    }
    Ok(r.email.clone())
}

/// Adds a note to a request's history (a `rights.note` ledger entry without its text).
pub async fn add_note(st: &App, actor: &str, id: &str, note: &str) -> AppResult<Value> {
    let r = load(st, id).await?;
    if r.erased_at_ms.is_some() {
        return Err(AppError::conflict("erased", "this request has been erased"));
    }
    let note = text_field("note", note, MAX_DETAILS)?;
    let now = st.clock.now_ms();
    let entry = ledger_item("rights.note", &r, r.status.as_str(), now, json!({}))?;
    st.store
        .rights_add_event(&event(id, now, "note", actor, Some(note)), Some(entry))
        .await?;
    count_entry(st);
    detail(st, &r).await
}

/// verified -> in_progress.
pub async fn start(st: &App, actor: &str, id: &str) -> AppResult<Value> {
    let r = load(st, id).await?;
    transition(
        st,
        &r,
        Status::InProgress,
        RightsPatch::default(),
        actor,
        None,
        json!({}),
    )
    .await?;
    reload(st, id).await
}

/// An extension by two months (Art. 12(3)).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub reason: String,
    /// When the requester was already told by other means (RFC 3339); otherwise Assent
    /// emails them first.
    #[serde(default)]
    pub notified_at: Option<String>,
}

/// Extends the deadline: emails the requester the extension and its reason (unless they
/// were told otherwise, `notified_at`), then records it. Nothing is recorded when the
/// requester could not be told.
pub async fn extend(st: &App, actor: &str, id: &str, b: &Extension) -> AppResult<Value> {
    let r = load(st, id).await?;
    if b.reason.chars().count() > MAX_DETAILS {
        return Err(AppError::invalid(
            "reason",
            format!("`reason` is longer than {MAX_DETAILS} characters"),
        ));
    }
    let reason = b.reason.trim().to_owned();
    let tz = site_tz(st, &r.site);
    let now = st.clock.now_ms();
    let mut d = deadlines_of(&r);
    let new_due = d.check_extend(&reason, now, &tz)?;
    let to = live_email(&r)?;
    let notified = match b.notified_at.as_deref() {
        Some(s) => {
            let t = parse_time(s)
                .ok_or_else(|| AppError::invalid("notified_at", "expected an RFC 3339 time"))?;
            if t > now {
                return Err(AppError::invalid(
                    "notified_at",
                    "notified_at is in the future",
                ));
            }
            t
        }
        None => {
            let to = to.ok_or_else(|| {
                AppError::conflict(
                    "not_notified",
                    "this request has no email address: tell the requester of the extension by other means and send `notified_at`",
                )
            })?;
            let cur = site_of(st, &r)?;
            let mail = extension_mail(&r, &cur.snapshot.controller, &to, &reason, new_due, &tz);
            match send_and_record(st, &r, &mail, false).await {
                Ok(Outcome::Sent) => st.clock.now_ms(),
                Ok(Outcome::NotConfigured) => {
                    return Err(AppError::conflict(
                        "not_notified",
                        "the requester must be told of the extension first, and no SMTP server is configured: tell them by other means and send `notified_at`",
                    ));
                }
                Err(e) => {
                    return Err(AppError::new(
                        Kind::Upstream,
                        "email_failed",
                        format!(
                            "could not email the requester, so the extension was not recorded: {e}"
                        ),
                    ));
                }
            }
        }
    };
    let now = st.clock.now_ms();
    d.extend(&reason, Some(notified), now, &tz)?;
    let patch = RightsPatch {
        extended_due_at_ms: Some(new_due),
        extension_reason: Some(reason.clone()),
        ..RightsPatch::default()
    };
    transition(
        st,
        &r,
        Status::Extended,
        patch,
        actor,
        Some(reason),
        json!({"extended_due_at": new_due, "notified_at": notified}),
    )
    .await?;
    reload(st, id).await
}

/// A file sent with the answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    pub filename: String,
    pub content_type: String,
    pub content_base64: String,
}

/// The answer that completes a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
}

/// Checks and decodes the attachments: (file name, content type, bytes).
fn decode_attachments(list: &[AttachmentIn]) -> AppResult<Vec<(String, String, Vec<u8>)>> {
    if list.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut files = vec![];
    for (k, a) in list.iter().enumerate() {
        let f = |x: &str| format!("attachments[{k}].{x}");
        let name = a.filename.trim();
        if name.is_empty()
            || name.chars().count() > 200
            || name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
        {
            return Err(AppError::invalid(
                f("filename"),
                "a file name of 1 to 200 characters, without control characters, quotes or slashes",
            ));
        }
        let ct = a.content_type.trim().to_ascii_lowercase();
        if !ATTACHMENT_TYPES.contains(&ct.as_str()) {
            return Err(AppError::invalid(
                f("content_type"),
                format!("expected one of {}", ATTACHMENT_TYPES.join(", ")),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|_| AppError::invalid(f("content_base64"), "not valid base64"))?;
        files.push((name.to_owned(), ct, bytes));
    }
    Ok(files)
}

/// Records the answer, stores the attachments behind one 7-day download token, and emails
/// the requester the message with the links. The detail carries `email_sent`.
pub async fn complete(st: &App, actor: &str, id: &str, b: &Completion) -> AppResult<Value> {
    let r = load(st, id).await?;
    let message = text_field("message", &b.message, 20_000)?;
    let files = decode_attachments(&b.attachments)?;
    let to = live_email(&r)?;
    let now = st.clock.now_ms();
    let patch = closing(now, &message);
    transition(
        st,
        &r,
        Status::Completed,
        patch,
        actor,
        None,
        json!({"attachments": files.len()}),
    )
    .await?;
    // An erasure: the stored marketing address goes, its keyed-hash suppression stays.
    if let Err(e) = crate::marketing::suppress::on_erasure_completed(st, &r).await {
        tracing::warn!(request = %r.id, error = e.message, "erasing the marketing address failed");
    }
    let expires = now + DOWNLOAD_TTL_MS;
    let mut links = vec![];
    if !files.is_empty() {
        let secret = new_secret()?;
        st.store
            .rights_insert_token(&RightsTokenRow {
                hash: sha256(&secret),
                request_id: id.to_owned(),
                purpose: "download".into(),
                expires_at_ms: expires,
                used_at_ms: None,
                attempts: 0,
            })
            .await?;
        let base = &st.public_base;
        for (name, ct, bytes) in files {
            let aid = new_id(now)?;
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            st.store
                .rights_insert_attachment(&RightsAttachmentRow {
                    id: aid.clone(),
                    request_id: id.to_owned(),
                    filename: name.clone(),
                    content_type: ct,
                    bytes,
                    size,
                    created_at_ms: now,
                    expires_at_ms: expires,
                })
                .await?;
            links.push((
                name,
                format!("{base}/v1/requests/{id}/download/{aid}?token={secret}"),
            ));
        }
    }
    let cur = site_of(st, &r)?;
    let tz = site_tz(st, &r.site);
    // The requester is told who was informed of a rectification, erasure or restriction.
    let mut recipients: Vec<String> = st
        .store
        .notifications_of(id)
        .await?
        .into_iter()
        .map(|n| n.recipient_name)
        .collect();
    recipients.dedup();
    let mail = to.map(|to| {
        completion_mail(
            &r,
            &cur.snapshot.controller,
            &to,
            &message,
            &links,
            expires,
            &tz,
            &recipients,
        )
    });
    send_answer(st, &r, mail.as_ref()).await
}

/// Records the refusal and emails the reasons with the right to complain to the supervisory
/// authority and to go to court. The detail carries `email_sent`.
pub async fn reject(st: &App, actor: &str, id: &str, reasons: &str) -> AppResult<Value> {
    let r = load(st, id).await?;
    let reasons = text_field("reasons", reasons, MAX_DETAILS)?;
    let to = live_email(&r)?;
    let now = st.clock.now_ms();
    let patch = closing(now, &reasons);
    transition(st, &r, Status::Rejected, patch, actor, None, json!({})).await?;
    let cur = site_of(st, &r)?;
    let mail = to.map(|to| rejection_mail(&r, &cur.snapshot.controller, &to, &reasons));
    send_answer(st, &r, mail.as_ref()).await
}

/// A file the requester downloads.
#[derive(Debug)]
pub struct Download {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The requester's download of attachment `att` of request `id` with the link's `token`:
/// `NotFound` for anything wrong with the link (never saying what), `Gone` once expired.
/// Each download is a line in the request's history.
pub async fn download(st: &App, id: &str, att: &str, token: &str) -> AppResult<Download> {
    let not_found = || AppError::not_found("no such file, or the link is wrong");
    let expired = || {
        AppError::gone(
            "expired",
            "this download link has expired (links are valid for 7 days): ask the controller again",
        )
    };
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let tok = st
        .store
        .rights_token(&sha256(&token.to_ascii_lowercase()))
        .await?
        .ok_or_else(not_found)?;
    // `package`: the single-use link to the package of an access run.
    let single_use = tok.purpose == "package";
    if !(tok.purpose == "download" || single_use) || tok.request_id != id {
        return Err(not_found());
    }
    let now = st.clock.now_ms();
    if now >= tok.expires_at_ms {
        return Err(expired());
    }
    let used = || {
        AppError::gone(
            "used",
            "this link has already been used: ask the controller again",
        )
    };
    if single_use && tok.used_at_ms.is_some() {
        return Err(used());
    }
    let a = st
        .store
        .rights_attachment(id, att)
        .await?
        .ok_or_else(not_found)?;
    if now >= a.expires_at_ms {
        return Err(expired());
    }
    if single_use {
        // One download: the token is consumed first (a second request finds it used), then
        // the package is deleted once its bytes are in hand.
        if !st.store.rights_use_token(&tok.hash, now).await? {
            return Err(used());
        }
        st.store.rights_delete_attachment(id, att).await?;
    }
    let _ = st
        .store
        .rights_add_event(
            &event(id, now, "downloaded", "requester", Some(a.filename.clone())),
            None,
        )
        .await;
    Ok(Download {
        filename: a.filename,
        content_type: a.content_type,
        bytes: a.bytes,
    })
}

/// The DPO verifies the requester's identity by other means (a request received by post, no
/// email possible): received -> verified, with a note that is kept in the history (never in
/// the ledger) and the same consequences as a verification by link.
pub async fn verify_by_hand(st: &App, actor: &str, id: &str, note: &str) -> AppResult<Value> {
    let r = load(st, id).await?;
    if r.status != Status::Received {
        return Err(AppError::conflict(
            "not_awaiting_verification",
            format!("this request is {}, not awaiting verification", r.status),
        ));
    }
    let note = text_field("note", note, MAX_DETAILS)?;
    let now = st.clock.now_ms();
    if !super::workflow::verify_as(st, &r, now, "hand", actor, Some(note)).await? {
        return Err(AppError::conflict(
            "not_awaiting_verification",
            "this request was verified meanwhile",
        ));
    }
    reload(st, id).await
}
