//! The data-subject rights workflow: intake, identity verification by email, the DPO's
//! transitions, emails, ledger events, and the consent withdrawal of linked subjects.
//! Deadlines and the status machine live in `assent_model::rights`; persistence in
//! `assent_store` (`rights_*` methods); HTTP in `routes::rights`.
//!
//! Ledger events (`rights.*`) carry no personal data: ids, site, type, status, times and
//! template names only.

pub mod jobs;
pub mod mailer;

use std::collections::BTreeMap;

use assent_model::clock::rfc3339;
use assent_model::consent::{Action, Channel, Method, decide};
use assent_model::registry::{Controller, Purpose};
use assent_model::rights::{Deadlines, RequestType, RightsError, Status, time_zone};
use assent_pages::mail::local_time;
use assent_store::{
    AppendItem, ConsentKey, RightsEventRow, RightsGuard, RightsPatch, RightsRequestRow,
    RightsTokenRow,
};
use axum::http::StatusCode;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use mailer::{Mail, MailError, Outcome};

pub const MAX_NAME: usize = 200;
pub const MAX_EMAIL: usize = 254;
pub const MAX_DETAILS: usize = 5_000;
/// Verification links and codes expire after 24 hours.
pub const VERIFY_TTL_MS: i64 = 24 * 3_600_000;
/// Download links of attachments expire after 7 days.
pub const DOWNLOAD_TTL_MS: i64 = 7 * 86_400_000;
/// Wrong codes allowed per request before its code stops working.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// The answer to every accepted submission, whoever the email belongs to.
pub const ACCEPTED_MESSAGE: &str = "Your request has been received. If the address can receive \
    email, a confirmation link and code have been sent to it; they are valid for 24 hours.";

/// A submission as typed (form or JSON), before validation.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub site: String,
    pub kind: String,
    pub email: String,
    pub name: String,
    pub details: Option<String>,
    pub receipt: Option<String>,
    pub language: Option<String>,
}

/// A validated submission.
#[derive(Debug, Clone)]
pub struct Valid {
    pub site: String,
    pub kind: RequestType,
    pub email: String,
    pub name: String,
    pub details: Option<String>,
    pub receipt: Option<String>,
    pub language: String,
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// Checks a submission; errors name the field (`email`, `name`, `details`, `type`,
/// `receipt`).
pub fn validate(sub: &Submission, site_langs: &[String]) -> Result<Valid, ApiError> {
    let kind = RequestType::parse(sub.kind.trim()).ok_or_else(|| {
        let all: Vec<&str> = RequestType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::invalid(
            "type",
            format!("unknown request type; expected one of {}", all.join(", ")),
        )
    })?;
    let email = sub.email.trim();
    if has_line_break(email) {
        return Err(ApiError::invalid(
            "email",
            "the email address must not contain line breaks",
        ));
    }
    if email.chars().count() > MAX_EMAIL {
        return Err(ApiError::invalid(
            "email",
            format!("the email address is longer than {MAX_EMAIL} characters"),
        ));
    }
    if mailer::parse_address(email).is_none() || !email.contains('.') {
        return Err(ApiError::invalid("email", "not a valid email address"));
    }
    let name = sub.name.trim();
    if has_line_break(name) {
        return Err(ApiError::invalid(
            "name",
            "the name must not contain line breaks",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "the name must not contain control characters",
        ));
    }
    if name.is_empty() {
        return Err(ApiError::invalid("name", "a name is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid(
            "name",
            format!("the name is longer than {MAX_NAME} characters"),
        ));
    }
    let details = sub
        .details
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(d) = details {
        if d.chars().count() > MAX_DETAILS {
            return Err(ApiError::invalid(
                "details",
                format!("the details are longer than {MAX_DETAILS} characters"),
            ));
        }
        if d.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ApiError::invalid(
                "details",
                "the details contain control characters",
            ));
        }
    }
    let receipt = sub
        .receipt
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(r) = receipt
        && (r.len() != 32 || !r.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(ApiError::invalid(
            "receipt",
            "a consent receipt id is 32 hexadecimal characters",
        ));
    }
    let language = assent_pages::rights::pick_lang(sub.language.as_deref(), site_langs).to_owned();
    Ok(Valid {
        site: sub.site.clone(),
        kind,
        email: email.to_lowercase(),
        name: name.to_owned(),
        details: details.map(str::to_owned),
        receipt: receipt.map(str::to_ascii_lowercase),
        language,
    })
}

pub fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// The stored hash of a verification code: bound to its request.
pub fn code_hash(request_id: &str, code: &str) -> [u8; 32] {
    sha256(&format!("code:{request_id}:{code}"))
}

fn random_bytes<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(&e))?;
    Ok(b)
}

/// 128-bit ids: a 48-bit millisecond prefix (index-friendly) and 80 random bits.
pub fn new_id(now_ms: i64) -> ApiResult<String> {
    let mut b: [u8; 16] = random_bytes()?;
    let t = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&t[2..]);
    Ok(hex::encode(b))
}

/// A 256-bit secret for links.
pub fn new_secret() -> ApiResult<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A uniformly random 6-digit code.
pub fn new_code() -> ApiResult<String> {
    loop {
        let n = u32::from_be_bytes(random_bytes()?);
        // Rejection sampling: 4_294_000_000 is a multiple of 1_000_000.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// The controller's time zone for a site (UTC if the site or zone is unknown; the registry
/// lint refuses unknown zones).
pub fn site_tz(st: &AppState, site: &str) -> TimeZone {
    st.sites
        .current(site)
        .and_then(|c| time_zone(&c.snapshot.controller.timezone).ok())
        .unwrap_or(TimeZone::UTC)
}

/// Where the DPO's mail goes: the DPO, else the rights address, else the controller.
pub fn dpo_email(c: &Controller) -> String {
    c.dpo
        .as_ref()
        .and_then(|d| d.email.clone())
        .or_else(|| c.rights_email.clone())
        .unwrap_or_else(|| c.email.clone())
}

/// The deadline state of a stored request.
pub fn deadlines_of(r: &RightsRequestRow) -> Deadlines {
    Deadlines {
        status: Status::parse(&r.status).unwrap_or(Status::Received),
        received_at_ms: r.received_at_ms,
        due_at_ms: r.due_at_ms,
        extended_due_at_ms: r.extended_due_at_ms,
        extension_reason: r.extension_reason.clone(),
        closed_at_ms: r.closed_at_ms,
    }
}

/// Maps a model refusal to an API error (409 for the state machine and extension rules).
pub fn rights_error(e: RightsError) -> ApiError {
    let status = match e {
        RightsError::NoReason => StatusCode::UNPROCESSABLE_ENTITY,
        RightsError::TimeZone(_) | RightsError::Range => return ApiError::internal(&e),
        _ => StatusCode::CONFLICT,
    };
    let mut err = ApiError::new(status, e.code(), e.to_string());
    if matches!(e, RightsError::NoReason) {
        err = err.field("reason");
    }
    err
}

/// One `rights.*` ledger entry, for the store to append in the transaction of the change it
/// records. `extra` is merged into the payload.
pub fn ledger_item(
    kind: &str,
    r: &RightsRequestRow,
    status: &str,
    now: i64,
    extra: Value,
) -> ApiResult<AppendItem> {
    let mut payload = json!({
        "version": "assent-rights/1",
        "request": r.id,
        "site": r.site,
        "type": r.kind,
        "status": status,
        "at": now,
    });
    if let (Some(p), Value::Object(x)) = (payload.as_object_mut(), extra) {
        p.extend(x);
    }
    let bytes = assent_ledger::canonical_json(&payload).map_err(|e| ApiError::internal(&e))?;
    Ok(AppendItem {
        ts_ms: now,
        kind: kind.to_owned(),
        payload: bytes,
        consent: None,
    })
}

/// Counts a ledger entry appended with a rights change (for `/metrics`).
pub fn count_entry(st: &AppState) {
    st.metrics
        .ledger_entries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub fn event(id: &str, now: i64, kind: &str, actor: &str, note: Option<String>) -> RightsEventRow {
    RightsEventRow {
        request_id: id.to_owned(),
        ts_ms: now,
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        note,
    }
}

/// Sends an email about request `r` and records it: a history line and a
/// `rights.email_sent` ledger entry when sent; a history line and the request's
/// `mail_problem` when it could not be (no SMTP, or SMTP failed).
pub async fn send_and_record(
    st: &AppState,
    r: &RightsRequestRow,
    mail: &Mail,
    to_dpo: bool,
) -> Result<Outcome, MailError> {
    let now = st.clock.now_ms();
    let who = if to_dpo { "dpo" } else { "requester" };
    let res = mailer::send(st, &r.id, mail).await;
    let (kind, problem) = match &res {
        Ok(Outcome::Sent) => ("email_sent", None),
        Ok(Outcome::NotConfigured) => (
            "email_not_sent",
            Some("not sent: no SMTP configured".to_owned()),
        ),
        Err(e) => {
            tracing::warn!(template = mail.template, request = %r.id, error = %e, "email failed");
            ("email_failed", Some(format!("sending failed: {e}")))
        }
    };
    // A sent email is also a ledger event, in the transaction of its history line.
    let entry = match res {
        Ok(Outcome::Sent) => ledger_item(
            "rights.email_sent",
            r,
            &r.status,
            now,
            json!({"template": mail.template, "to": who}),
        )
        .map_err(|e| tracing::warn!(request = %r.id, error = e.message, "email ledger entry"))
        .ok(),
        _ => None,
    };
    let sent_entry = entry.is_some();
    let line = event(
        &r.id,
        now,
        kind,
        "system",
        Some(format!("{} to the {who}", mail.template)),
    );
    match st.store.rights_add_event(&line, entry).await {
        Ok(()) if sent_entry => count_entry(st),
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(request = %r.id, error = %e, "recording an email failed");
        }
    }
    if !to_dpo {
        let patch = RightsPatch {
            mail_problem: Some(problem),
            ..RightsPatch::default()
        };
        let _ = st
            .store
            .rights_update(&r.id, &RightsGuard::default(), &patch, None, None)
            .await;
    }
    res
}

/// The verification email (text from `assent_pages::mail`).
pub fn verification_mail(
    st: &AppState,
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    secret: &str,
    code: &str,
) -> Mail {
    let base = &st.public_base;
    let link = format!("{base}/v1/requests/verify?token={secret}");
    let code_page = format!("{base}/sites/{}/rights/verify?lang={}", r.site, r.language);
    let text = assent_pages::mail::verification(&r.language, c, &r.kind, &link, &code_page, code);
    mail(to, text, "verification")
}

/// An email to `to` with the subject and body rendered by `assent_pages::mail`.
fn mail(to: &str, text: assent_pages::mail::MailText, template: &'static str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: text.subject,
        body: text.body,
        template,
    }
}

/// Stores a validated submission, appends `rights.submitted` and emails the verification
/// link (in the background, so the answer does not depend on the mail server).
pub async fn submit(st: &AppState, v: Valid) -> ApiResult<()> {
    let cur = st
        .sites
        .current(&v.site)
        .ok_or_else(|| ApiError::not_found("unknown site").field("site"))?;
    let controller = cur.snapshot.controller.clone();
    let now = st.clock.now_ms();
    let tz = site_tz(st, &v.site);
    let d = Deadlines::new(now, &tz).map_err(|e| ApiError::internal(&e))?;
    let id = new_id(now)?;
    let secret = new_secret()?;
    let code = new_code()?;
    let row = RightsRequestRow {
        id: id.clone(),
        site: v.site.clone(),
        kind: v.kind.as_str().to_owned(),
        status: Status::Received.as_str().to_owned(),
        language: v.language.clone(),
        email: Some(v.email.clone()),
        name: Some(v.name.clone()),
        details: v.details.clone(),
        received_at_ms: now,
        verified_at_ms: None,
        due_at_ms: d.due_at_ms,
        extended_due_at_ms: None,
        extension_reason: None,
        closed_at_ms: None,
        response: None,
        subject: None,
        receipt_id: v.receipt.clone(),
        mail_problem: None,
        reminded_7d_at_ms: None,
        reminded_1d_at_ms: None,
        overdue_at_ms: None,
        erased_at_ms: None,
    };
    let tokens = [
        RightsTokenRow {
            hash: sha256(&secret),
            request_id: id.clone(),
            purpose: "verify_link".into(),
            expires_at_ms: now + VERIFY_TTL_MS,
            used_at_ms: None,
            attempts: 0,
        },
        RightsTokenRow {
            hash: code_hash(&id, &code),
            request_id: id.clone(),
            purpose: "verify_code".into(),
            expires_at_ms: now + VERIFY_TTL_MS,
            used_at_ms: None,
            attempts: 0,
        },
    ];
    let entry = ledger_item(
        "rights.submitted",
        &row,
        "received",
        now,
        json!({"received_at": now, "due_at": d.due_at_ms}),
    )?;
    st.store
        .rights_insert(
            &row,
            &tokens,
            &event(&id, now, "submitted", "requester", None),
            Some(entry),
        )
        .await?;
    count_entry(st);
    let mail = verification_mail(st, &row, &controller, &v.email, &secret, &code);
    let st2 = st.clone();
    tokio::spawn(async move {
        let _ = send_and_record(&st2, &row, &mail, false).await;
    });
    Ok(())
}

/// Result of a verification attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Verified now (with the request's language).
    Now(String),
    /// The token was already used, and the request is verified.
    Already(String),
    Invalid,
}

/// `GET /v1/requests/verify?token=...`.
pub async fn verify_link(st: &AppState, secret: &str) -> ApiResult<Verified> {
    if secret.len() != 64 || !secret.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Verified::Invalid);
    }
    let hash = sha256(&secret.to_ascii_lowercase());
    let Some(tok) = st.store.rights_token(&hash).await? else {
        return Ok(Verified::Invalid);
    };
    if tok.purpose != "verify_link" {
        return Ok(Verified::Invalid);
    }
    let Some(r) = st.store.rights_get(&tok.request_id).await? else {
        return Ok(Verified::Invalid);
    };
    let now = st.clock.now_ms();
    if !st.store.rights_use_token(&hash, now).await? {
        return Ok(
            if r.status != Status::Received.as_str() && r.erased_at_ms.is_none() {
                Verified::Already(r.language)
            } else {
                Verified::Invalid
            },
        );
    }
    mark_verified(st, &r, now, "link").await?;
    Ok(Verified::Now(r.language))
}

/// The code form: the email and the 6-digit code.
pub async fn verify_code(
    st: &AppState,
    site: &str,
    email: &str,
    code: &str,
) -> ApiResult<Verified> {
    let email = email.trim().to_lowercase();
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) || email.len() > MAX_EMAIL {
        return Ok(Verified::Invalid);
    }
    let now = st.clock.now_ms();
    for r in st
        .store
        .rights_by_email(site, &email, Status::Received.as_str())
        .await?
    {
        let hash = code_hash(&r.id, code);
        let tokens = st.store.rights_tokens(&r.id).await?;
        let Some(live) = tokens.iter().find(|k| {
            k.purpose == "verify_code" && k.used_at_ms.is_none() && k.expires_at_ms > now
        }) else {
            continue;
        };
        if live.attempts >= MAX_CODE_ATTEMPTS {
            continue;
        }
        if live.hash == hash && st.store.rights_use_token(&hash, now).await? {
            mark_verified(st, &r, now, "code").await?;
            return Ok(Verified::Now(r.language));
        }
        st.store.rights_token_attempt(&live.hash).await?;
    }
    Ok(Verified::Invalid)
}

/// received -> verified, then the consent withdrawal of a linked subject.
async fn mark_verified(st: &AppState, r: &RightsRequestRow, now: i64, via: &str) -> ApiResult<()> {
    let mut d = deadlines_of(r);
    d.verify().map_err(rights_error)?;
    let patch = RightsPatch {
        status: Some(Status::Verified.as_str().into()),
        verified_at_ms: Some(now),
        ..RightsPatch::default()
    };
    let entry = ledger_item("rights.verified", r, "verified", now, json!({"via": via}))?;
    let ok = st
        .store
        .rights_update(
            &r.id,
            &RightsGuard::status(&r.status),
            &patch,
            Some(&event(
                &r.id,
                now,
                "verified",
                "requester",
                Some(format!("by {via}")),
            )),
            Some(entry),
        )
        .await?;
    if !ok {
        return Ok(()); // verified concurrently
    }
    count_entry(st);
    if let Some(cur) = st.sites.current(&r.site) {
        let mail = new_request_mail(st, r, &cur.snapshot.controller, &site_tz(st, &r.site));
        let _ = send_and_record(st, r, &mail, true).await;
    }
    let kind = RequestType::parse(&r.kind);
    if kind.is_some_and(RequestType::withdraws_consent)
        && let Some(receipt) = &r.receipt_id
        && let Err(e) = withdraw_consent(st, r, receipt, now).await
    {
        tracing::warn!(request = %r.id, error = e.message, "consent withdrawal for a rights request failed");
    }
    Ok(())
}

/// Records a `withdraw` consent (every consent-requiring purpose refused, channel
/// `rights_request`) for the subject of `receipt`, when the receipt belongs to the
/// request's site.
async fn withdraw_consent(
    st: &AppState,
    r: &RightsRequestRow,
    receipt: &str,
    now: i64,
) -> ApiResult<()> {
    let found = st.store.consent_by_receipt(receipt).await?;
    let Some((prev, _)) = found.filter(|(c, _)| c.site == r.site) else {
        st.store
            .rights_add_event(
                &event(
                    &r.id,
                    now,
                    "consent_not_linked",
                    "system",
                    Some("no consent with this receipt id on this site".into()),
                ),
                None,
            )
            .await?;
        return Ok(());
    };
    let cur = st
        .sites
        .current(&r.site)
        .ok_or_else(|| ApiError::internal(&"site vanished"))?;
    let snap = &cur.snapshot;
    let purposes: Vec<&Purpose> = snap.purposes.iter().collect();
    let decision = decide(&purposes, Action::Withdraw, &BTreeMap::new(), false)
        .map_err(|e| ApiError::internal(&e))?;
    let language = if snap.site.languages.contains(&prev.language) {
        prev.language.clone()
    } else {
        snap.site
            .languages
            .first()
            .cloned()
            .unwrap_or_else(|| "en".into())
    };
    let expires = now + i64::from(snap.site.consent_lifetime_days) * 86_400_000;
    let receipt_id = new_id(now)?;
    let fingerprint = snap.text_fingerprint(&language);
    let fields = crate::routes::consent::RecordFields {
        receipt_id: &receipt_id,
        subject: &prev.subject,
        choices: &decision.choices,
        action: Action::Withdraw.as_str(),
        method: Method::Explicit.as_str(),
        channel: Channel::RightsRequest.as_str(),
        language: &language,
        fingerprint: &fingerprint,
        now,
        expires,
    };
    let mut record = crate::routes::consent::record_value(&cur, &fields);
    record["rightsRequest"] = json!(r.id);
    let payload = assent_ledger::canonical_json(&record).map_err(|e| ApiError::internal(&e))?;
    let key = ConsentKey {
        receipt_id: receipt_id.clone(),
        site: r.site.clone(),
        subject: prev.subject.clone(),
        created_at_ms: now,
    };
    let withdrawal = AppendItem {
        ts_ms: now,
        kind: "consent".into(),
        payload,
        consent: Some(key),
    };
    // The withdrawal, the request's link to the subject and its history line: one
    // transaction (none of them if the request was erased meanwhile).
    let patch = RightsPatch {
        subject: Some(prev.subject.clone()),
        ..RightsPatch::default()
    };
    let recorded = st
        .store
        .rights_update(
            &r.id,
            &RightsGuard::default(),
            &patch,
            Some(&event(
                &r.id,
                now,
                "consent_withdrawn",
                "system",
                Some(format!("new consent receipt {receipt_id}")),
            )),
            Some(withdrawal),
        )
        .await?;
    if recorded {
        st.metrics
            .consents
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

/// The admin's view of a request (what the list and the detail share).
pub fn summary(r: &RightsRequestRow, now: i64) -> Value {
    let d = deadlines_of(r);
    let overdue =
        r.status != Status::Received.as_str() && d.is_overdue(now) && r.erased_at_ms.is_none();
    json!({
        "id": r.id,
        "site": r.site,
        "type": r.kind,
        "status": r.status,
        "received_at": rfc3339(r.received_at_ms),
        "due_at": rfc3339(d.effective_due()),
        "original_due_at": rfc3339(r.due_at_ms),
        "extended_due_at": r.extended_due_at_ms.map(rfc3339),
        "verified_at": r.verified_at_ms.map(rfc3339),
        "closed_at": r.closed_at_ms.map(rfc3339),
        "overdue": overdue,
        "email_problem": r.mail_problem,
        "erased": r.erased_at_ms.is_some(),
    })
}

/// Applies a transition decided by the DPO (guarded on the status read), with its history
/// line and ledger entry. A concurrent change is a 409 naming the states.
pub async fn transition(
    st: &AppState,
    r: &RightsRequestRow,
    to: Status,
    patch: RightsPatch,
    actor: &str,
    note: Option<String>,
    extra: Value,
) -> ApiResult<()> {
    let now = st.clock.now_ms();
    let from = Status::parse(&r.status).unwrap_or(Status::Received);
    from.go(to).map_err(rights_error)?;
    let patch = RightsPatch {
        status: Some(to.as_str().into()),
        ..patch
    };
    let kind = match to {
        Status::Verified => "rights.verified",
        Status::InProgress => "rights.started",
        Status::Extended => "rights.extended",
        Status::Completed => "rights.completed",
        Status::Rejected => "rights.rejected",
        Status::Received => "rights.submitted",
    };
    let entry = ledger_item(kind, r, to.as_str(), now, extra)?;
    let ok = st
        .store
        .rights_update(
            &r.id,
            &RightsGuard::status(&r.status),
            &patch,
            Some(&event(&r.id, now, to.as_str(), actor, note)),
            Some(entry),
        )
        .await?;
    if !ok {
        let cur = st
            .store
            .rights_get(&r.id)
            .await?
            .map(|x| x.status)
            .unwrap_or_else(|| "erased".into());
        return Err(ApiError::conflict(
            "illegal_transition",
            format!("illegal transition from {cur} to {to} (the request changed meanwhile)"),
        ));
    }
    count_entry(st);
    Ok(())
}

/// The extension email (sent before the extension is recorded).
pub fn extension_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    reason: &str,
    new_due: i64,
    tz: &TimeZone,
) -> Mail {
    let due = local_time(new_due, tz);
    let text = assent_pages::mail::extension(&r.language, c, &r.id, reason, &due);
    mail(to, text, "extension")
}

/// The completion email, with download links.
pub fn completion_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    message: &str,
    links: &[(String, String)],
    expires: i64,
    tz: &TimeZone,
) -> Mail {
    let until = local_time(expires, tz);
    let text = assent_pages::mail::completion(&r.language, c, &r.id, message, links, &until);
    mail(to, text, "completion")
}

/// The refusal email: reasons, and the right to complain and to go to court (Art. 12(4)).
pub fn rejection_mail(r: &RightsRequestRow, c: &Controller, to: &str, reasons: &str) -> Mail {
    let text = assent_pages::mail::rejection(&r.language, c, &r.id, reasons);
    mail(to, text, "rejection")
}

/// Tells the DPO of a newly verified request. The requester's text is included as plain
/// text (the email is `text/plain`, so markup stays inert).
pub fn new_request_mail(
    st: &AppState,
    r: &RightsRequestRow,
    c: &Controller,
    tz: &TimeZone,
) -> Mail {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let (received, due) = (
        local_time(r.received_at_ms, tz),
        local_time(r.due_at_ms, tz),
    );
    let (name, email, receipt, details) = (
        opt(&r.name),
        opt(&r.email),
        opt(&r.receipt_id),
        opt(&r.details),
    );
    let url = format!("{}/admin/requests/{}", st.public_base, r.id);
    let text = assent_pages::mail::new_request(&assent_pages::mail::NewRequest {
        id: &r.id,
        site: &r.site,
        kind: &r.kind,
        received: &received,
        due: &due,
        name: &name,
        email: &email,
        receipt: &receipt,
        details: &details,
        url: &url,
    });
    mail(&dpo_email(c), text, "new_request")
}

/// A reminder to the DPO (no personal data of the requester in it).
pub fn reminder_mail(
    st: &AppState,
    r: &RightsRequestRow,
    c: &Controller,
    days: i64,
    due: i64,
    tz: &TimeZone,
) -> Mail {
    let (local, utc) = (local_time(due, tz), rfc3339(due));
    let url = format!("{}/admin/requests/{}", st.public_base, r.id);
    let text = assent_pages::mail::reminder(&assent_pages::mail::Reminder {
        days,
        id: &r.id,
        site: &r.site,
        kind: &r.kind,
        status: &r.status,
        due: &local,
        due_utc: &utc,
        url: &url,
    });
    let template = if days == 7 {
        "reminder_7d"
    } else {
        "reminder_1d"
    };
    mail(&dpo_email(c), text, template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Submission {
        Submission {
            site: "s".into(),
            kind: "access".into(),
            email: " Zoe@Example.org ".into(),
            name: "Zoé".into(),
            details: Some("  ".into()),
            receipt: None,
            language: Some("fr".into()),
        }
    }

    #[test]
    fn validation_names_fields() {
        let v = validate(&sub(), &[]).unwrap();
        assert_eq!(
            (v.email.as_str(), v.details, v.language.as_str()),
            ("zoe@example.org", None, "fr")
        );
        let cases: Vec<(Submission, &str)> = vec![
            (
                Submission {
                    kind: "nope".into(),
                    ..sub()
                },
                "type",
            ),
            (
                Submission {
                    email: "a@b.org\r\nBcc: x@y.org".into(),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    email: format!("{}@example.org", "a".repeat(250)),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    email: "not-an-email".into(),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    name: "Eve\nBcc: x@y.org".into(),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    name: "x".repeat(201),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    name: " ".into(),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    details: Some("x".repeat(5001)),
                    ..sub()
                },
                "details",
            ),
            (
                Submission {
                    receipt: Some("xyz".into()),
                    ..sub()
                },
                "receipt",
            ),
        ];
        for (s, field) in cases {
            let e = validate(&s, &[]).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.field.as_deref()),
                (422, Some(field)),
                "{s:?}"
            );
        }
        assert!(
            validate(
                &Submission {
                    name: "x".repeat(200),
                    details: Some("é".repeat(5000)),
                    ..sub()
                },
                &[]
            )
            .is_ok()
        );
    }

    #[test]
    fn codes_and_ids() {
        for _ in 0..100 {
            let c = new_code().unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|x| x.is_ascii_digit()));
        }
        assert_eq!(new_id(0).unwrap().len(), 32);
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"));
    }
}
