//! The differences between two policy versions of a site, in plain words (English, French,
//! German), each naming the element, the field and both values, and each weighed: a change of
//! what the banner asks re-asks visitors ([`Change::material`]); a change of what only the
//! privacy policy tells is flagged as a material privacy-policy change
//! ([`Change::policy_material`]) without re-asking; the rest is shown.
//!
//! `change` holds the type and the shared words; `offer` the banner's side (controller,
//! purposes, services, trackers); `processing` the privacy policy's (activities, transfers,
//! retention, site settings).

pub mod change;
mod offer;
mod processing;

pub use change::{Change, Weight};

use crate::version::SiteSnapshot;

/// The differences from `old` to `new`: those that re-ask visitors first, then the material
/// privacy-policy changes, then the rest.
pub fn diff(old: &SiteSnapshot, new: &SiteSnapshot) -> Vec<Change> {
    let mut out = vec![];
    offer::controller(old, new, &mut out);
    offer::purposes(old, new, &mut out);
    offer::services(old, new, &mut out);
    offer::cookies(old, new, &mut out);
    processing::activity_transfers(old, new, &mut out);
    processing::activities(old, new, &mut out);
    processing::retention(old, new, &mut out);
    processing::site(old, new, &mut out);
    if old.marketing != new.marketing {
        // Stated in the privacy policy, never in the banner: a policy change, not a re-ask.
        out.push(change::change!(
            "marketing_changed",
            change::Weight::Policy,
            |l| "Marketing purposes or channels changed",
            "Finalités ou canaux de prospection modifiés",
            "Werbezwecke oder -kanäle geändert"
        ));
    }
    out.sort_by_key(|c| (!c.material, !c.policy_material));
    out
}

/// Whether a set of changes requires asking visitors again.
pub fn requires_fresh_consent(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.material)
}

/// Whether a set of changes is a material change of the privacy policy (without asking the
/// banner again, unless another change does).
pub fn policy_changed(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.policy_material)
}
