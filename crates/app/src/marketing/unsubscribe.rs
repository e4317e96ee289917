//! Unsubscribe links (`/u/{token}`): the RFC 8058 one-click POST a mailbox provider sends
//! (no cookie, no login, no confirmation page: the opt-out is recorded before the answer),
//! and the preference page a person reaches from the same link.
//!
//! The token is signed (`assent_model::marketing::UnsubscribeToken`): a forged or altered
//! one is refused before anything is read or written. A link only ever removes
//! subscriptions: whoever holds a forwarded message must not be able to subscribe its
//! recipient again, so re-subscribing takes a fresh consent through the operator's form.
//!
//! Invariants: a one-click opt-out is idempotent (a second POST writes nothing new and
//! answers the same); it is recorded even if the site was removed from the registry since.

use assent_model::marketing::{ALL_PURPOSES, SubscriptionStatus, UnsubscribeToken};
use serde_json::json;

use super::choice::{Choice, allowed_purposes};
use crate::App;
use crate::error::{AppError, AppResult};

/// Decodes a token, or a 400 that says nothing of why.
pub fn token(st: &App, raw: &str) -> AppResult<UnsubscribeToken> {
    UnsubscribeToken::decode(raw, st.marketing_key.bytes()).ok_or_else(|| {
        let mut e = AppError::bad_request("this unsubscribe link is not valid");
        e.code = "invalid_token";
        e
    })
}

/// Opts out of `purposes` (or every purpose with `*`) for the token's address, unless that
/// is already the state. Returns whether something was written.
async fn opt_out(
    st: &App,
    t: &UnsubscribeToken,
    purposes: Vec<String>,
    source: &'static str,
) -> AppResult<bool> {
    let rows = st
        .store
        .marketing_of(&t.site, t.channel, &t.addr_hash)
        .await?;
    let all_out = rows
        .iter()
        .any(|r| r.purpose == ALL_PURPOSES && r.status == SubscriptionStatus::OptedOut);
    let state = allowed_purposes(&rows);
    let todo: Vec<String> = purposes
        .into_iter()
        .filter(|p| {
            let any_in = state.iter().any(|(_, ok)| *ok);
            if p == ALL_PURPOSES {
                return !all_out || any_in;
            }
            // Already out: its own row says so, or `*` covers a purpose without a row.
            let own = state.iter().find(|(q, _)| q == p);
            match own {
                Some((_, ok)) => *ok,
                None => !all_out,
            }
        })
        .collect();
    if todo.is_empty() {
        return Ok(false);
    }
    Choice {
        site: t.site.clone(),
        channel: t.channel,
        addr_hash: t.addr_hash,
        address: None,
        purposes: todo,
        status: SubscriptionStatus::OptedOut,
        basis: None,
        source,
        provenance: json!({}),
        actor: "person".into(),
        receipt_id: None,
    }
    .write(st)
    .await?;
    Ok(true)
}

/// RFC 8058 one-click: opts out of the token's purpose (every purpose for a token without
/// one). Idempotent.
pub async fn one_click(st: &App, raw: &str) -> AppResult<()> {
    let t = token(st, raw)?;
    let purpose = t.purpose.clone().unwrap_or_else(|| ALL_PURPOSES.to_owned());
    opt_out(st, &t, vec![purpose], "one_click").await?;
    Ok(())
}

/// One line of the preference page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeState {
    pub id: String,
    pub name: String,
    pub description: String,
    pub subscribed: bool,
}

/// What the preference page shows.
#[derive(Debug, Clone)]
pub struct Preferences {
    pub site_name: String,
    pub controller: String,
    pub languages: Vec<String>,
    pub channel: &'static str,
    pub purposes: Vec<PurposeState>,
}

/// The state of every marketing purpose of the token's site and channel, in `lang`.
pub async fn preferences(st: &App, raw: &str, lang: &str) -> AppResult<Preferences> {
    let t = token(st, raw)?;
    let rows = st
        .store
        .marketing_of(&t.site, t.channel, &t.addr_hash)
        .await?;
    let state = allowed_purposes(&rows);
    let (site_name, controller, languages, purposes) = match st.sites.current(&t.site) {
        Some(cur) => {
            let s = &cur.snapshot;
            let def = s.site.default_language();
            let purposes = s
                .marketing
                .iter()
                .filter(|p| p.has_channel(t.channel))
                .map(|p| PurposeState {
                    id: p.id.clone(),
                    name: p.name.get(lang, def).to_owned(),
                    description: p
                        .description
                        .as_ref()
                        .map(|d| d.get(lang, def).to_owned())
                        .unwrap_or_default(),
                    subscribed: state.iter().any(|(q, ok)| *q == p.id && *ok),
                })
                .collect();
            (
                s.site.name.clone(),
                s.controller.name.clone(),
                s.site.languages.clone(),
                purposes,
            )
        }
        None => (t.site.clone(), t.site.clone(), vec![], vec![]),
    };
    Ok(Preferences {
        site_name,
        controller,
        languages,
        channel: t.channel.as_str(),
        purposes,
    })
}

/// Saves the preference form: every purpose of the page not kept ticked is opted out;
/// `leave_all` opts out of every purpose, present and future.
pub async fn save_preferences(
    st: &App,
    raw: &str,
    keep: &[String],
    leave_all: bool,
    lang: &str,
) -> AppResult<Preferences> {
    let t = token(st, raw)?;
    let before = preferences(st, raw, lang).await?;
    let out: Vec<String> = if leave_all {
        vec![ALL_PURPOSES.to_owned()]
    } else {
        before
            .purposes
            .iter()
            .filter(|p| p.subscribed && !keep.contains(&p.id))
            .map(|p| p.id.clone())
            .collect()
    };
    if !out.is_empty() {
        opt_out(st, &t, out, "preferences").await?;
    }
    preferences(st, raw, lang).await
}
