//! Inbound SMS from an aggregator (`POST /v1/sites/{site}/sms/inbound`): a STOP message
//! (STOP, ARRET, ARRÊT, STOP SMS, UNSUBSCRIBE, in any case or accent, anywhere in a short
//! message) opts the sender out of every SMS purpose of the site, present and future, at once.
//! Any other message is ignored, and logged as such without its text or number.
//!
//! The aggregator's secret is checked by the server before this runs.

use assent_model::marketing::{ALL_PURPOSES, MarketingChannel, SubscriptionStatus, is_stop_sms};
use serde::Deserialize;
use serde_json::json;

use super::choice::{Choice, address, site_version};
use crate::App;
use crate::error::{AppError, AppResult};

/// An inbound message as aggregators post it (JSON or form fields).
#[derive(Debug, Clone, Deserialize)]
pub struct InboundSms {
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
    pub text: String,
}

/// What was done with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsOutcome {
    OptedOut,
    Ignored,
}

impl SmsOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsOutcome::OptedOut => "opted_out",
            SmsOutcome::Ignored => "ignored",
        }
    }
}

/// Handles one inbound message for `site`.
pub async fn inbound(st: &App, site: &str, m: &InboundSms) -> AppResult<SmsOutcome> {
    let cur = site_version(st, site)?;
    if m.text.len() > 2_000 {
        return Err(AppError::invalid("text", "at most 2,000 characters"));
    }
    if !is_stop_sms(&m.text) {
        tracing::info!(site, "inbound SMS ignored: not a STOP message");
        return Ok(SmsOutcome::Ignored);
    }
    let addr = address(st, &cur, MarketingChannel::Sms, &m.from, "from")?;
    Choice {
        site: site.to_owned(),
        channel: MarketingChannel::Sms,
        addr_hash: addr.hash,
        address: Some(addr.canonical),
        purposes: vec![ALL_PURPOSES.to_owned()],
        status: SubscriptionStatus::OptedOut,
        basis: None,
        source: "sms_stop",
        provenance: json!({"short_code": m.to.as_deref().map(|t| t.chars().take(32).collect::<String>())}),
        actor: "person".into(),
        receipt_id: None,
    }
    .write(st)
    .await?;
    tracing::info!(site, "inbound SMS: STOP recorded");
    Ok(SmsOutcome::OptedOut)
}
