//! The rights workflow's operations: intake, identity verification by link or code, the
//! DPO's transitions, and the consent withdrawal of a verified request's linked subject.
//! Each change and its `rights.*` ledger entry commit in one store transaction.

use std::collections::BTreeMap;

use assent_model::consent::{Action, Channel, Method, decide};
use assent_model::registry::Purpose;
use assent_model::rights::{Deadlines, Status};
use assent_store::{RightsGuard, RightsPatch, RightsRequestRow, RightsTokenRow};
use serde_json::{Value, json};

use super::mailer::{self, Mail, MailError, Outcome};
use super::mails::*;
use super::request::*;
use crate::App;
use crate::error::{AppError, AppResult};

/// Sends an email about request `r` and records it: a history line and a
/// `rights.email_sent` ledger entry when sent; a history line and the request's
/// `mail_problem` when it could not be (no SMTP, or SMTP failed).
pub async fn send_and_record(
    st: &App,
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
            r.status.as_str(),
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

/// Stores a validated submission, appends `rights.submitted` and emails the verification
/// link (in the background, so the answer does not depend on the mail server).
pub async fn submit(st: &App, v: Valid) -> AppResult<Pending> {
    let cur = st
        .sites
        .current(&v.site)
        .ok_or_else(|| AppError::not_found("unknown site").field("site"))?;
    let controller = cur.snapshot.controller.clone();
    let now = st.clock.now_ms();
    let tz = site_tz(st, &v.site);
    let d = Deadlines::new(now, &tz).map_err(|e| AppError::internal(&e))?;
    let id = new_id(now)?;
    let secret = new_secret()?;
    let code = new_code()?;
    let row = new_row(&id, &v, now, d.due_at_ms);
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
    // The requester gets the same answer either way: whether an address is flooded is not
    // theirs to learn.
    let allowed = st.mail_limit.allow(sha256(&v.email), now);
    Ok(Pending {
        request: row,
        mail: allowed.then_some(mail),
    })
}

/// The verification email of a submission, to be sent after answering the requester (the
/// answer must not wait on SMTP, and must not reveal whether the address exists). `None`
/// when the address already received its hourly share of verification emails.
#[derive(Debug)]
pub struct Pending {
    request: RightsRequestRow,
    mail: Option<Mail>,
}

impl Pending {
    /// Sends the email and records the outcome on the request; or records on the request
    /// that no email was sent because of the per-address limit.
    pub async fn deliver(self, st: &App) {
        let r = &self.request;
        match &self.mail {
            Some(mail) => {
                let _ = send_and_record(st, r, mail, false).await;
            }
            None => {
                let now = st.clock.now_ms();
                let note = format!(
                    "verification email not sent: this address already received {} in the last hour",
                    super::limit::MAX_PER_HOUR
                );
                let line = event(&r.id, now, "email_not_sent", "system", Some(note.clone()));
                if let Err(e) = st.store.rights_add_event(&line, None).await {
                    tracing::warn!(request = %r.id, error = %e, "recording a withheld email failed");
                }
                let patch = RightsPatch {
                    mail_problem: Some(Some(note)),
                    ..RightsPatch::default()
                };
                let _ = st
                    .store
                    .rights_update(&r.id, &RightsGuard::default(), &patch, None, None)
                    .await;
            }
        }
    }
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
pub async fn verify_link(st: &App, secret: &str) -> AppResult<Verified> {
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
            if r.status != Status::Received && r.erased_at_ms.is_none() {
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
pub async fn verify_code(st: &App, site: &str, email: &str, code: &str) -> AppResult<Verified> {
    let email = email.trim().to_lowercase();
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) || email.len() > MAX_EMAIL {
        return Ok(Verified::Invalid);
    }
    let now = st.clock.now_ms();
    for r in st
        .store
        .rights_by_email(site, &email, Status::Received)
        .await?
    {
        // Every guess, right or wrong, first claims one of the code's attempts in one atomic
        // statement: parallel guesses cannot share an attempt, and none is compared once
        // they are spent.
        if !st
            .store
            .rights_claim_code_attempt(&r.id, now, MAX_CODE_ATTEMPTS)
            .await?
        {
            continue;
        }
        let hash = code_hash(&r.id, code);
        let tokens = st.store.rights_tokens(&r.id).await?;
        let matches = tokens
            .iter()
            .any(|k| k.purpose == "verify_code" && k.hash == hash);
        if matches && st.store.rights_use_token(&hash, now).await? {
            mark_verified(st, &r, now, "code").await?;
            return Ok(Verified::Now(r.language));
        }
    }
    Ok(Verified::Invalid)
}

/// received -> verified, then the consent withdrawal of a linked subject.
async fn mark_verified(st: &App, r: &RightsRequestRow, now: i64, via: &str) -> AppResult<()> {
    verify_as(st, r, now, via, "requester", None)
        .await
        .map(|_| ())
}

/// received -> verified on behalf of `actor` (the requester by link or code, or the DPO who
/// checked the identity by other means, with a `note` for the history); the DPO is told of
/// the new request and a linked consent is withdrawn. `false` when it was verified
/// concurrently.
pub(crate) async fn verify_as(
    st: &App,
    r: &RightsRequestRow,
    now: i64,
    via: &str,
    actor: &str,
    note: Option<String>,
) -> AppResult<bool> {
    let mut d = deadlines_of(r);
    d.verify().map_err(AppError::from)?;
    let patch = RightsPatch {
        status: Some(Status::Verified),
        verified_at_ms: Some(now),
        ..RightsPatch::default()
    };
    let entry = ledger_item("rights.verified", r, "verified", now, json!({"via": via}))?;
    let text = match note {
        Some(n) => format!("by {via}: {n}"),
        None => format!("by {via}"),
    };
    let line = event(&r.id, now, "verified", actor, Some(text));
    let guard = RightsGuard::status(r.status);
    let ok = st
        .store
        .rights_update(&r.id, &guard, &patch, Some(&line), Some(entry))
        .await?;
    if !ok {
        return Ok(false); // verified concurrently
    }
    count_entry(st);
    if let Some(cur) = st.sites.current(&r.site) {
        let mail = new_request_mail(st, r, &cur.snapshot.controller, &site_tz(st, &r.site));
        let _ = send_and_record(st, r, &mail, true).await;
    }
    if r.kind.withdraws_consent()
        && let Some(receipt) = &r.receipt_id
        && let Err(e) = withdraw_consent(st, r, receipt, now).await
    {
        tracing::warn!(request = %r.id, error = e.message, "consent withdrawal for a rights request failed");
    }
    // An objection, a withdrawal or an erasure stops marketing to the address at once.
    if let Err(e) = crate::marketing::suppress::on_request_verified(st, r).await {
        tracing::warn!(request = %r.id, error = e.message, "marketing suppression for a rights request failed");
    }
    Ok(true)
}

/// Records a `withdraw` consent (every consent-requiring purpose refused, channel
/// `rights_request`) for the subject of `receipt`, when the receipt belongs to the
/// request's site.
async fn withdraw_consent(
    st: &App,
    r: &RightsRequestRow,
    receipt: &str,
    now: i64,
) -> AppResult<()> {
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
        .ok_or_else(|| AppError::internal(&"site vanished"))?;
    let snap = &cur.snapshot;
    let purposes: Vec<&Purpose> = snap.purposes.iter().collect();
    let decision = decide(&purposes, Action::Withdraw, &BTreeMap::new(), false)
        .map_err(|e| AppError::internal(&e))?;
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
    let fields = crate::consent::record::RecordFields {
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
    let mut record = crate::consent::record::record_value(&cur.row, &cur.snapshot, &fields);
    record["rightsRequest"] = json!(r.id);
    let payload = assent_ledger::canonical_json(&record).map_err(|e| AppError::internal(&e))?;
    let withdrawal = crate::consent::consent_item(
        receipt_id.clone(),
        r.site.clone(),
        prev.subject.clone(),
        now,
        payload,
        Some(crate::consent::tally(
            &cur,
            language.clone(),
            now,
            Action::Withdraw.as_str(),
            false,
            &decision.choices,
        )),
    );
    // The withdrawal, the request's link to the subject and its history line: one
    // transaction (none of them if the request was erased meanwhile).
    let patch = RightsPatch {
        subject: Some(prev.subject.clone()),
        ..RightsPatch::default()
    };
    let note = format!("new consent receipt {receipt_id}");
    let line = event(&r.id, now, "consent_withdrawn", "system", Some(note));
    let recorded = st
        .store
        .rights_update(
            &r.id,
            &RightsGuard::default(),
            &patch,
            Some(&line),
            Some(withdrawal),
        )
        .await?;
    if recorded {
        st.metrics
            .consents
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The visitor's browser still holds the withdrawn choice: tell it to ask again (a
        // failure here leaves the withdrawal recorded; the browser learns it within a day).
        if let Err(e) = st.sites.bump_epoch(&st.store, &r.site).await {
            tracing::warn!(request = %r.id, error = %e, "banner revalidation epoch not moved after a withdrawal");
        }
    }
    Ok(())
}

/// Applies a transition decided by the DPO (guarded on the status read), with its history
/// line and ledger entry. A concurrent change is a 409 naming the states.
pub async fn transition(
    st: &App,
    r: &RightsRequestRow,
    to: Status,
    patch: RightsPatch,
    actor: &str,
    note: Option<String>,
    extra: Value,
) -> AppResult<()> {
    let now = st.clock.now_ms();
    r.status.go(to).map_err(AppError::from)?;
    let patch = RightsPatch {
        status: Some(to),
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
            &RightsGuard::status(r.status),
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
            .map_or_else(|| "erased".to_owned(), |x| x.status.to_string());
        return Err(AppError::conflict(
            "illegal_transition",
            format!("illegal transition from {cur} to {to} (the request changed meanwhile)"),
        ));
    }
    count_entry(st);
    Ok(())
}
