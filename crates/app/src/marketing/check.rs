//! The check before a campaign (`POST /v1/marketing/check`): for each recipient of a batch,
//! whether it may be contacted for a purpose on a channel, and for email the RFC 8058
//! headers to put on that message (`List-Unsubscribe: <https://PUBLIC/u/TOKEN>`,
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
//!
//! Hot path (at least 50,000 recipients a second on SQLite, `docs/benchmarks.md`): the
//! addresses are canonicalised and hashed in memory, looked up in chunks of
//! `assent_store::LOOKUP_CHUNK` per query, and the signed tokens made only for recipients
//! who may be contacted. No SQL round trip per recipient.

use std::collections::HashMap;

use assent_model::marketing::{MarketingChannel, UnsubscribeToken, canonical_address};
use assent_store::Standing;
use serde::{Deserialize, Serialize};

use super::choice::{allowed, purpose_of, site_version};
use crate::App;
use crate::error::{AppError, AppResult, Kind};

/// Recipients per check.
pub const MAX_RECIPIENTS: usize = 10_000;
/// The value of `List-Unsubscribe-Post` (RFC 8058).
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub site: String,
    pub channel: MarketingChannel,
    pub purpose: String,
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The recipient as given.
    pub recipient: String,
    pub allowed: bool,
    /// `<URL>` for the `List-Unsubscribe` header (email, when allowed).
    pub list_unsubscribe: Option<String>,
    /// `List-Unsubscribe=One-Click` (email, when allowed).
    pub list_unsubscribe_post: Option<&'static str>,
    /// Why the recipient is not an address of the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResponse {
    pub results: Vec<CheckResult>,
}

/// Checks a batch of recipients.
pub async fn check(st: &App, req: CheckRequest) -> AppResult<CheckResponse> {
    if req.recipients.len() > MAX_RECIPIENTS {
        return Err(AppError::new(
            Kind::TooLarge,
            "too_many_recipients",
            format!(
                "at most {MAX_RECIPIENTS} recipients per check ({} given): split the batch",
                req.recipients.len()
            ),
        )
        .field("recipients"));
    }
    let cur = site_version(st, &req.site)?;
    purpose_of(&cur, &req.purpose, req.channel)?;
    let country = &cur.snapshot.controller.country;
    let key = &st.marketing_key;
    let hashed: Vec<Result<[u8; 32], String>> = req
        .recipients
        .iter()
        .map(|r| {
            canonical_address(req.channel, r, country)
                .map(|c| key.hash(req.channel, &c))
                .map_err(|e| e.0)
        })
        .collect();
    let hashes: Vec<[u8; 32]> = hashed
        .iter()
        .filter_map(|h| h.as_ref().ok())
        .copied()
        .collect();
    let found = st
        .store
        .marketing_lookup(&req.site, req.channel, &req.purpose, &hashes)
        .await?;
    let mut by_hash: HashMap<[u8; 32], Vec<&Standing>> = HashMap::with_capacity(found.len());
    for s in &found {
        by_hash.entry(s.addr_hash).or_default().push(s);
    }
    let base = &st.public_base;
    let email = req.channel == MarketingChannel::Email;
    let mut token = UnsubscribeToken {
        site: req.site.clone(),
        channel: req.channel,
        addr_hash: [0; 32],
        purpose: Some(req.purpose.clone()),
    };
    let results = req
        .recipients
        .into_iter()
        .zip(hashed)
        .map(|(recipient, h)| match h {
            Err(e) => CheckResult {
                recipient,
                allowed: false,
                list_unsubscribe: None,
                list_unsubscribe_post: None,
                error: Some(e),
            },
            Ok(h) => {
                let ok = by_hash.get(&h).is_some_and(|rows| allowed(rows));
                let header = (ok && email).then(|| {
                    token.addr_hash = h;
                    format!("<{base}/u/{}>", token.encode(key.bytes()))
                });
                CheckResult {
                    recipient,
                    allowed: ok,
                    list_unsubscribe_post: header.as_ref().map(|_| ONE_CLICK),
                    list_unsubscribe: header,
                    error: None,
                }
            }
        })
        .collect();
    Ok(CheckResponse { results })
}
