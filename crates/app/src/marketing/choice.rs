//! What every marketing operation shares: the site's marketing purposes, an address read
//! into its canonical form and keyed hash, the writing of a choice with its ledger entry,
//! and the rule that says whether a person may be contacted.
//!
//! Ledger entries (`marketing.choice`, payload `assent-marketing/1`) carry the keyed hash of
//! the address (`hmac:<hex>`), never the address: receipt id, site, channel, purposes,
//! action, status, basis, source, provenance, actor and time.

use std::sync::Arc;

use assent_model::marketing::{
    ALL_PURPOSES, Basis, MarketingChannel, MarketingPurpose, SubscriptionStatus, canonical_address,
    sha256_hex,
};
use assent_store::{AppendItem, Standing, SubscriptionRow};
use serde_json::{Value, json};

use crate::App;
use crate::consent::record::new_receipt_id;
use crate::error::{AppError, AppResult};
use crate::sites::SiteVersion;

/// The ledger kind of a marketing choice.
pub const LEDGER_KIND: &str = "marketing.choice";

/// The current version of a site, or 404.
pub fn site_version(st: &App, site: &str) -> AppResult<Arc<SiteVersion>> {
    st.sites
        .current(site)
        .ok_or_else(|| AppError::not_found(format!("no site `{site}`")).field("site"))
}

/// The marketing purpose `id` of a site, usable on `channel`; a 422 naming `purpose` or
/// `channel` otherwise.
pub fn purpose_of<'a>(
    cur: &'a SiteVersion,
    id: &str,
    channel: MarketingChannel,
) -> AppResult<&'a MarketingPurpose> {
    let m = &cur.snapshot.marketing;
    let p = m.iter().find(|p| p.id == id).ok_or_else(|| {
        let known: Vec<&str> = m.iter().map(|p| p.id.as_str()).collect();
        AppError::invalid(
            "purpose",
            format!(
                "unknown marketing purpose `{id}` (this site has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        )
    })?;
    if !p.has_channel(channel) {
        return Err(AppError::invalid(
            "channel",
            format!(
                "marketing purpose `{id}` is not sent by {} (registry channels: {})",
                channel.as_str(),
                p.channels
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(p)
}

/// An address in its canonical form, with its keyed hash.
#[derive(Debug, Clone)]
pub struct Addr {
    pub canonical: String,
    pub hash: [u8; 32],
}

/// Reads `raw` as an address of `channel` (a phone number in the controller's country);
/// a 422 naming `field` when it is not one.
pub fn address(
    st: &App,
    cur: &SiteVersion,
    channel: MarketingChannel,
    raw: &str,
    field: &str,
) -> AppResult<Addr> {
    let canonical = canonical_address(channel, raw, &cur.snapshot.controller.country)
        .map_err(|e| AppError::invalid(field, e.0))?;
    Ok(Addr {
        hash: st.marketing_key.hash(channel, &canonical),
        canonical,
    })
}

/// One choice to record: the same status for one or several purposes of one address.
#[derive(Debug, Clone)]
pub struct Choice {
    pub site: String,
    pub channel: MarketingChannel,
    pub addr_hash: [u8; 32],
    /// The canonical address when known (not from an unsubscribe link).
    pub address: Option<String>,
    pub purposes: Vec<String>,
    pub status: SubscriptionStatus,
    pub basis: Option<Basis>,
    pub source: &'static str,
    pub provenance: Value,
    /// `token:<id>`, `person` (a link), `system`, `rights_request`.
    pub actor: String,
    /// Receipt id chosen in advance (a double opt-in's), else a new one.
    pub receipt_id: Option<String>,
}

impl Choice {
    /// The rows and ledger item of this choice at `now`, and its receipt id.
    pub fn build(self, now: i64) -> AppResult<(Vec<SubscriptionRow>, AppendItem, String)> {
        let receipt_id = match self.receipt_id {
            Some(r) => r,
            None => new_receipt_id(now)?,
        };
        let payload = json!({
            "version": "assent-marketing/1",
            "receipt": receipt_id,
            "site": self.site,
            "channel": self.channel.as_str(),
            "address": format!("hmac:{}", hex::encode(self.addr_hash)),
            "purposes": self.purposes,
            "status": self.status.as_str(),
            "basis": self.basis.map(Basis::as_str),
            "source": self.source,
            "provenance": self.provenance,
            "actor": self.actor,
            "at": now,
        });
        let bytes = assent_ledger::canonical_json(&payload).map_err(|e| AppError::internal(&e))?;
        let item = AppendItem {
            ts_ms: now,
            kind: LEDGER_KIND.to_owned(),
            payload: bytes,
            consent: None,
        };
        let sha = self.address.as_deref().map(sha256_hex);
        let rows = self
            .purposes
            .iter()
            .map(|p| SubscriptionRow {
                site: self.site.clone(),
                channel: self.channel,
                addr_hash: self.addr_hash,
                purpose: p.clone(),
                status: self.status,
                basis: self.basis.map(|b| b.as_str().to_owned()),
                source: self.source.to_owned(),
                receipt_id: receipt_id.clone(),
                address: self.address.clone(),
                sha256: sha.clone(),
                updated_at_ms: now,
            })
            .collect();
        Ok((rows, item, receipt_id))
    }

    /// Writes the choice and its ledger entry in one transaction; returns the receipt id.
    pub async fn write(self, st: &App) -> AppResult<String> {
        let now = st.clock.now_ms();
        let (rows, item, id) = self.build(now)?;
        st.store.marketing_set(&rows, Some(item)).await?;
        count_entry(st);
        Ok(id)
    }
}

/// Counts a ledger entry in the metrics.
pub fn count_entry(st: &App) {
    st.metrics
        .ledger_entries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the rows found for one address (its purpose's row and the `*` suppression) let
/// it be contacted: the purpose is confirmed, and no suppression of every purpose is as
/// recent or more (an opt-out wins a tie).
pub fn allowed(rows: &[&Standing]) -> bool {
    let own = rows.iter().find(|r| !r.all_purposes);
    let all = rows.iter().find(|r| r.all_purposes);
    match own {
        Some(o) if o.status == SubscriptionStatus::Confirmed => all.is_none_or(|a| {
            a.status != SubscriptionStatus::OptedOut || a.updated_at_ms < o.updated_at_ms
        }),
        _ => false,
    }
}

/// The state of every purpose of `rows` (one address), `*` applied: purpose id → allowed.
pub fn allowed_purposes(rows: &[SubscriptionRow]) -> Vec<(String, bool)> {
    let all = rows.iter().find(|r| r.purpose == ALL_PURPOSES);
    rows.iter()
        .filter(|r| r.purpose != ALL_PURPOSES)
        .map(|r| {
            let ok = r.status == SubscriptionStatus::Confirmed
                && all.is_none_or(|a| {
                    a.status != SubscriptionStatus::OptedOut || a.updated_at_ms < r.updated_at_ms
                });
            (r.purpose.clone(), ok)
        })
        .collect()
}
