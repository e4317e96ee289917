//! Lints of `[[marketing]]`: ids well formed and unique, at least one channel, each once;
//! soft opt-in only where ePrivacy Art. 13(2) allows it (email); sites declared.
//!
//! Invariant: a registry that passes lets the consent API trust every purpose's channels and
//! its soft opt-in flag.

use std::collections::HashSet;

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::{refs, valid_id};
use crate::marketing::MarketingChannel;
use crate::registry::Registry;

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    let mut ids = HashSet::new();
    for (i, m) in r.marketing.iter().enumerate() {
        if !valid_id(&m.id) || m.id == crate::marketing::ALL_PURPOSES {
            l.error(
                p!["marketing", i, "id"],
                format!(
                    "invalid marketing purpose id `{}`: use lowercase letters, digits, `-` and `_` (at most 64)",
                    m.id
                ),
            );
        }
        if !ids.insert(m.id.as_str()) {
            l.error(
                p!["marketing", i, "id"],
                format!("duplicate marketing purpose id `{}`", m.id),
            );
        }
        if m.channels.is_empty() {
            l.error(
                p!["marketing", i, "channels"],
                format!(
                    "marketing purpose `{}` has no channel: list \"email\", \"sms\" or both",
                    m.id
                ),
            );
        }
        let mut seen = HashSet::new();
        for (j, c) in m.channels.iter().enumerate() {
            if !seen.insert(c) {
                l.warn(
                    p!["marketing", i, "channels", j],
                    format!("duplicate channel `{}`", c.as_str()),
                );
            }
        }
        if m.soft_opt_in && !m.has_channel(MarketingChannel::Email) {
            l.error(
                p!["marketing", i, "soft_opt_in"],
                format!(
                    "marketing purpose `{}` allows soft opt-in but has no email channel: the \
                     exception of ePrivacy Art. 13(2) is for email to customers",
                    m.id
                ),
            );
        }
        if let Some(sites) = &m.sites {
            refs(l, p!["marketing", i, "sites"], sites, &known.sites, "site");
        }
    }
}
