//! Recording a person's marketing choice (server to server, `POST
//! /v1/sites/{site}/marketing/consents`): validate the address, the purpose and its channel,
//! the basis and its proof (consent needs the notice shown; soft opt-in needs an order, an
//! objection offered at collection, the email channel and a purpose that allows it), then
//! write the choice with its ledger entry — or, for a double opt-in, keep it pending, send
//! the confirmation email, and write it when the link is followed.
//!
//! A confirmation email that cannot be sent (SMTP down) is not lost: the pending row keeps
//! the error for the operator (`GET /admin/v1/marketing/pending-mails`) and the marketing job
//! retries it every minute until it is sent or the request expires. Unconfirmed requests
//! expire after [`PENDING_TTL_MS`] and are deleted with their address.

use assent_model::marketing::{Basis, MarketingChannel, SubscriptionStatus};
use assent_store::PendingRow;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::choice::{Choice, address, count_entry, purpose_of, site_version};
use crate::App;
use crate::consent::record::new_receipt_id;
use crate::error::{AppError, AppResult};
use crate::rights::mailer::{self, Mail, Outcome};

/// How long a double opt-in waits for its link: 7 days.
pub const PENDING_TTL_MS: i64 = 7 * 86_400_000;
/// Longest provenance text (a notice, a URL, an order reference).
const MAX_TEXT: usize = 2_000;

/// `opt_in` or `opt_out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    OptIn,
    OptOut,
}

/// Where and how a choice was collected: the proof kept in the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The form's URL.
    pub source_url: Option<String>,
    /// What the person was shown: the text, or a notice id and version.
    pub notice: Option<String>,
    /// Soft opt-in: the order or contract the address was obtained in.
    pub order_ref: Option<String>,
    /// Soft opt-in: whether a free objection was offered at collection.
    pub objection_offered: Option<bool>,
}

/// The body of `POST /v1/sites/{site}/marketing/consents`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub channel: MarketingChannel,
    pub purpose: String,
    pub action: Action,
    pub basis: Option<Basis>,
    #[serde(default)]
    pub double_opt_in: bool,
    #[serde(default)]
    pub provenance: Provenance,
    /// Language of the confirmation email (default: the site's first).
    pub language: Option<String>,
}

/// The answer: recorded (201) or waiting for confirmation (202).
#[derive(Debug)]
pub enum Recorded {
    Done(Value),
    Pending(Value),
}

fn text(field: &str, v: &Option<String>) -> AppResult<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.len() > MAX_TEXT || s.chars().any(|c| c.is_control() && c != '\n') => {
            Err(AppError::invalid(
                field,
                format!("at most {MAX_TEXT} characters, no control characters"),
            ))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// A 422 naming the soft opt-in rule that is not met.
fn soft_rule(field: &str, code: &'static str, why: &str) -> AppError {
    let mut e = AppError::invalid(
        field,
        format!("soft opt-in refused (ePrivacy Art. 13(2)): {why}"),
    );
    e.code = code;
    e
}

/// Checks the basis and its proof; returns the provenance to keep.
fn proof(req: &ChoiceRequest, soft_allowed: bool) -> AppResult<Value> {
    let p = &req.provenance;
    let source_url = text("provenance.source_url", &p.source_url)?;
    if let Some(u) = &source_url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(AppError::invalid(
            "provenance.source_url",
            "an http(s) URL of the form where the choice was made",
        ));
    }
    let notice = text("provenance.notice", &p.notice)?;
    let order_ref = text("provenance.order_ref", &p.order_ref)?;
    if req.action == Action::OptIn {
        match req.basis {
            None => {
                return Err(AppError::invalid(
                    "basis",
                    "an opt-in needs its basis: consent or soft_opt_in",
                ));
            }
            Some(Basis::Consent) if notice.is_none() => {
                return Err(AppError::invalid(
                    "provenance.notice",
                    "a consent needs the notice the person was shown (its text or id and version)",
                ));
            }
            Some(Basis::SoftOptIn) => {
                if req.channel != MarketingChannel::Email {
                    return Err(soft_rule(
                        "channel",
                        "soft_opt_in_channel",
                        "it applies to email only",
                    ));
                }
                if !soft_allowed {
                    return Err(soft_rule(
                        "purpose",
                        "soft_opt_in_purpose",
                        "this purpose is not flagged soft_opt_in in the registry (the seller's own similar products only)",
                    ));
                }
                if order_ref.is_none() {
                    return Err(soft_rule(
                        "provenance.order_ref",
                        "soft_opt_in_order",
                        "the address must come from a sale: give the order or contract reference",
                    ));
                }
                if p.objection_offered != Some(true) {
                    return Err(soft_rule(
                        "provenance.objection_offered",
                        "soft_opt_in_objection",
                        "a free objection must have been offered when the address was collected",
                    ));
                }
            }
            Some(Basis::Consent) => {}
        }
    }
    Ok(json!({
        "source_url": source_url,
        "notice": notice,
        "order_ref": order_ref,
        "objection_offered": p.objection_offered,
    }))
}

/// Records a choice for `site` on behalf of `actor` (`token:<id>`).
pub async fn record(st: &App, site: &str, actor: &str, req: ChoiceRequest) -> AppResult<Recorded> {
    let cur = site_version(st, site)?;
    let (raw, field) = match (&req.email, &req.phone, req.channel) {
        (Some(e), None, MarketingChannel::Email) => (e, "email"),
        (None, Some(p), MarketingChannel::Sms) => (p, "phone"),
        (None, Some(_), MarketingChannel::Email) | (None, None, MarketingChannel::Email) => {
            return Err(AppError::invalid("email", "channel email needs `email`"));
        }
        (Some(_), None, MarketingChannel::Sms) | (None, None, MarketingChannel::Sms) => {
            return Err(AppError::invalid("phone", "channel sms needs `phone`"));
        }
        (Some(_), Some(_), _) => {
            return Err(AppError::invalid(
                "email",
                "give `email` or `phone`, not both: one choice is for one address",
            ));
        }
    };
    let purpose = purpose_of(&cur, &req.purpose, req.channel)?;
    let soft_allowed = purpose.soft_opt_in;
    let provenance = proof(&req, soft_allowed)?;
    let addr = address(st, &cur, req.channel, raw, field)?;
    let lang = pick_language(&cur.snapshot.site.languages, req.language.as_deref())?;
    let opt_in = req.action == Action::OptIn;
    if req.double_opt_in {
        if !opt_in || req.channel != MarketingChannel::Email {
            return Err(AppError::invalid(
                "double_opt_in",
                "double opt-in confirms an email opt-in by a link sent to the address",
            ));
        }
        return pending(st, site, &req, addr, provenance, lang, actor).await;
    }
    let now = st.clock.now_ms();
    let (status, basis) = if opt_in {
        (SubscriptionStatus::Confirmed, req.basis)
    } else {
        (SubscriptionStatus::OptedOut, None)
    };
    let choice = Choice {
        site: site.to_owned(),
        channel: req.channel,
        addr_hash: addr.hash,
        address: Some(addr.canonical),
        purposes: vec![req.purpose.clone()],
        status,
        basis,
        source: "api",
        provenance,
        actor: actor.to_owned(),
        receipt_id: None,
    };
    let id = choice.write(st).await?;
    Ok(Recorded::Done(json!({"receipt": {
        "id": id,
        "site": site,
        "channel": req.channel.as_str(),
        "purpose": req.purpose,
        "status": status.as_str(),
        "basis": basis.map(Basis::as_str),
        "created_at": assent_model::clock::rfc3339(now),
    }})))
}

/// The language of the confirmation email: the one asked if the site offers it.
fn pick_language(langs: &[String], asked: Option<&str>) -> AppResult<String> {
    match asked {
        Some(l) if langs.iter().any(|x| x == l) => Ok(l.to_owned()),
        Some(l) => Err(AppError::invalid(
            "language",
            format!(
                "language `{l}` is not offered by this site ({})",
                langs.join(", ")
            ),
        )),
        None => Ok(langs.first().cloned().unwrap_or_else(|| "en".into())),
    }
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Keeps a double opt-in pending and sends its confirmation email.
async fn pending(
    st: &App,
    site: &str,
    req: &ChoiceRequest,
    addr: super::choice::Addr,
    provenance: Value,
    lang: String,
    actor: &str,
) -> AppResult<Recorded> {
    let now = st.clock.now_ms();
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| AppError::internal(&e))?;
    let token = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    };
    let id = new_receipt_id(now)?;
    let mut prov = provenance;
    prov["requested_by"] = json!(actor);
    prov["requested_at"] = json!(now);
    let row = PendingRow {
        token_hash: sha256(token.as_bytes()),
        id: id.clone(),
        site: site.to_owned(),
        channel: req.channel,
        purpose: req.purpose.clone(),
        addr_hash: addr.hash,
        address: addr.canonical,
        basis: req.basis.unwrap_or(Basis::Consent).as_str().to_owned(),
        provenance: prov.to_string(),
        language: lang,
        created_at_ms: now,
        expires_at_ms: now + PENDING_TTL_MS,
        mail_sent_at_ms: None,
        mail_attempts: 0,
        mail_error: None,
    };
    st.store.marketing_insert_pending(&row).await?;
    let sent = send_confirmation(st, &row, Some(&token)).await;
    Ok(Recorded::Pending(json!({"receipt": {
        "id": id,
        "site": site,
        "channel": req.channel.as_str(),
        "purpose": req.purpose,
        "status": SubscriptionStatus::Unconfirmed.as_str(),
        "expires_at": assent_model::clock::rfc3339(row.expires_at_ms),
        "confirmation_email": sent,
    }})))
}

/// Sends (or re-sends) the confirmation email of `row`. The token is known at creation
/// only; a retry makes a new one (replacing the stored hash), so an older email's link
/// stops working. Returns what the operator sees: `sent`, `not_sent` (no SMTP) or
/// `failed: <error>` (retried by the job).
async fn send_confirmation(st: &App, row: &PendingRow, token: Option<&str>) -> Value {
    let token = match token {
        Some(t) => t.to_owned(),
        None => match rotate_token(st, row).await {
            Ok(t) => t,
            Err(e) => return json!({"status": "failed", "error": e.message}),
        },
    };
    let Some(cur) = st.sites.current(&row.site) else {
        return json!({"status": "failed", "error": "site removed"});
    };
    let snap = &cur.snapshot;
    let purpose_name = snap
        .marketing
        .iter()
        .find(|p| p.id == row.purpose)
        .map(|p| p.name.get(&row.language, "en").to_owned())
        .unwrap_or_else(|| row.purpose.clone());
    let link = format!("{}/m/confirm/{token}", st.public_base);
    let text = assent_pages::marketing::confirmation_mail(
        &row.language,
        &snap.controller.name,
        &purpose_name,
        &link,
        PENDING_TTL_MS / 86_400_000,
    );
    let mail = Mail {
        to: row.address.clone(),
        subject: text.subject,
        body: text.body,
        template: "marketing_confirmation",
    };
    let now = st.clock.now_ms();
    let (sent, error, answer) = match mailer::send(st, &row.id, &mail).await {
        Ok(Outcome::Sent) => (Some(now), None, json!({"status": "sent"})),
        Ok(Outcome::NotConfigured) => (
            None,
            Some("not sent: no SMTP configured".to_owned()),
            json!({"status": "not_sent", "error": "no SMTP configured"}),
        ),
        Err(e) => {
            tracing::warn!(pending = %row.id, error = %e, "marketing confirmation email failed; will retry");
            let msg = format!("sending failed: {e}");
            (
                None,
                Some(msg.clone()),
                json!({"status": "failed", "error": msg, "retry": "every minute until sent or expired"}),
            )
        }
    };
    if let Err(e) = st
        .store
        .marketing_mail_attempt(&row.id, sent, error.as_deref())
        .await
    {
        tracing::warn!(pending = %row.id, error = %e, "recording a confirmation email attempt failed");
    }
    answer
}

/// A new token for a pending row whose first email failed.
async fn rotate_token(st: &App, row: &PendingRow) -> AppResult<String> {
    use base64::Engine;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| AppError::internal(&e))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    st.store
        .marketing_rotate_token(&row.id, &sha256(token.as_bytes()))
        .await?;
    Ok(token)
}

/// What following a confirmation link did, for its page.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub language: String,
    /// `false`: the link was unknown, used or expired.
    pub ok: bool,
}

/// Follows a confirmation link: the pending opt-in becomes a confirmed one, with its ledger
/// entry (source `double_opt_in`, the provenance given at the request and the time of
/// confirmation).
pub async fn confirm(st: &App, token: &str) -> AppResult<Confirmed> {
    let now = st.clock.now_ms();
    let hash = sha256(token.as_bytes());
    let Some(p) = st.store.marketing_pending(&hash).await? else {
        return Ok(Confirmed {
            language: String::new(),
            ok: false,
        });
    };
    if p.expires_at_ms <= now {
        return Ok(Confirmed {
            language: p.language,
            ok: false,
        });
    }
    let mut provenance: Value = serde_json::from_str(&p.provenance).unwrap_or(Value::Null);
    provenance["confirmed_at"] = json!(now);
    let choice = Choice {
        site: p.site.clone(),
        channel: p.channel,
        addr_hash: p.addr_hash,
        address: Some(p.address.clone()),
        purposes: vec![p.purpose.clone()],
        status: SubscriptionStatus::Confirmed,
        basis: Basis::parse(&p.basis),
        source: "double_opt_in",
        provenance,
        actor: "person".into(),
        receipt_id: Some(p.id.clone()),
    };
    let (rows, item, _) = choice.build(now)?;
    let row = rows
        .first()
        .ok_or_else(|| AppError::internal(&"a choice without a row"))?;
    let ok = st.store.marketing_confirm(&hash, row, item).await?;
    if ok {
        count_entry(st);
    }
    Ok(Confirmed {
        language: p.language,
        ok,
    })
}

/// What one run of the marketing job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub sent: usize,
    pub failed: usize,
    pub expired: u64,
}

/// Every minute: retries the confirmation emails not yet sent, deletes expired requests.
pub async fn run_jobs(st: &App, now: i64) -> AppResult<JobReport> {
    let mut rep = JobReport {
        expired: st.store.marketing_expire(now).await?,
        ..JobReport::default()
    };
    if st.settings.smtp.is_none() {
        return Ok(rep);
    }
    for row in st.store.marketing_unsent(now).await? {
        let answer = send_confirmation(st, &row, None).await;
        if answer["status"] == "sent" {
            rep.sent += 1;
        } else {
            rep.failed += 1;
        }
    }
    Ok(rep)
}

/// Confirmation emails that failed, for the operator: id, site, purpose, attempts, error
/// (never the address).
pub async fn failed_mails(st: &App) -> AppResult<Vec<Value>> {
    let rows = st.store.marketing_failed_mails().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "site": r.site,
                "purpose": r.purpose,
                "attempts": r.mail_attempts,
                "error": r.mail_error,
                "created_at": assent_model::clock::rfc3339(r.created_at_ms),
                "expires_at": assent_model::clock::rfc3339(r.expires_at_ms),
            })
        })
        .collect())
}
