//! What a consent adds to the dashboard's counters ([`assent_store::Tally`]): built on the
//! consent path, written by the store's group-commit writer in the consent's own transaction.
//! Per policy version, the counter kinds and the controller's time zone are prepared once
//! ([`VersionTally`]), so that a consent costs a time-zone offset lookup and a few bit sets.

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_model::stats::{ACTIONS, GPC, PURPOSE_PREFIX, local_day};
use assent_model::version::SiteSnapshot;
use assent_store::Tally;
use jiff::tz::TimeZone;

/// Bit of the GPC counter; the actions take bits 0..4, purposes follow.
const GPC_BIT: usize = ACTIONS.len();
/// Largest number of purposes counted (the rest of a larger registry is not).
const MAX_PURPOSES: usize = 128 - GPC_BIT - 1;

/// A policy version's counter kinds (actions, `gpc`, then `purpose:<id>` for each purpose
/// that needs consent, in the registry's order) and its controller's time zone.
#[derive(Debug)]
pub struct VersionTally {
    kinds: Arc<[String]>,
    /// The purposes counted, in the order of their kinds.
    purposes: Vec<String>,
    pub tz: TimeZone,
}

impl VersionTally {
    pub fn new(snap: &SiteSnapshot) -> Self {
        let purposes: Vec<String> = snap
            .purposes
            .iter()
            .filter(|p| p.consent_required)
            .take(MAX_PURPOSES)
            .map(|p| p.id.clone())
            .collect();
        let kinds = ACTIONS
            .iter()
            .map(|a| (*a).to_owned())
            .chain([GPC.to_owned()])
            .chain(purposes.iter().map(|p| format!("{PURPOSE_PREFIX}{p}")))
            .collect();
        // The registry's check refuses unknown zones; an old version's unknown zone counts
        // in UTC rather than not at all.
        let tz = TimeZone::get(&snap.controller.timezone).unwrap_or(TimeZone::UTC);
        VersionTally {
            kinds,
            purposes,
            tz,
        }
    }

    /// The tally of a consent made at `now_ms`: its `action` (one of
    /// [`assent_model::stats::ACTIONS`]), whether a GPC signal decided it, and the purposes
    /// it granted.
    pub fn tally(
        &self,
        version: i64,
        lang: String,
        now_ms: i64,
        action: &str,
        gpc: bool,
        choices: &BTreeMap<String, bool>,
    ) -> Tally {
        let mut bits = 0u128;
        if let Some(a) = ACTIONS.iter().position(|a| *a == action) {
            bits |= 1 << a;
        }
        if gpc {
            bits |= 1 << GPC_BIT;
        }
        for (k, p) in self.purposes.iter().enumerate() {
            if choices.get(p) == Some(&true) {
                bits |= 1 << (GPC_BIT + 1 + k);
            }
        }
        Tally {
            day: local_day(now_ms, &self.tz),
            version,
            lang,
            kinds: self.kinds.clone(),
            bits,
        }
    }
}
