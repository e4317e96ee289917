//! Lints of `[[cookies]]` (and other device storage): names, domains, the purpose and service
//! they belong to, their lifetime, and the rules for trackers exempt from consent.
//!
//! Invariants: no tracker lives more than 13 months (CNIL); a tracker is declared once per
//! (name, domain, service); an exempt tracker says why and belongs to an exempt purpose, and an
//! exempt audience-measurement tracker keeps the 13-month cap too.

use std::collections::HashSet;

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::{refs, valid_host};
use crate::registry::{
    Cookie, Exemption, LegalBasis, Lifetime, MAX_TRACKER_LIFETIME_SECS, Purpose, Registry,
    StorageKind,
};

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    let mut seen = HashSet::new();
    for (i, ck) in r.cookies.iter().enumerate() {
        let name_ok = !ck.name.is_empty()
            && !ck
                .name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "=;,\"<>".contains(c))
            && ck
                .name
                .find('*')
                .is_none_or(|pos| pos == ck.name.len() - 1 && pos > 0);
        if !name_ok {
            l.error(
                p!["cookies", i, "name"],
                format!("invalid tracker name `{}` (a wildcard `*` is allowed only at the end, after a prefix)", ck.name),
            );
        }
        if let Some(d) = &ck.domain
            && !valid_host(d)
        {
            l.error(p!["cookies", i, "domain"], format!("invalid domain `{d}`"));
        }
        if !seen.insert((
            ck.name.as_str(),
            ck.domain.as_deref(),
            ck.service.as_deref(),
        )) {
            l.error(
                p!["cookies", i, "name"],
                format!(
                    "tracker `{}` is declared twice for the same domain and service",
                    ck.name
                ),
            );
        }
        let purpose = r.purpose(&ck.purpose);
        owners(r, ck, i, purpose.is_some(), l);
        if let Some(ss) = &ck.sites {
            refs(l, p!["cookies", i, "sites"], ss, &known.sites, "site");
        }
        lifetime(ck, i, l);
        if let Some(pu) = purpose {
            exemption(ck, pu, i, l);
        }
    }
}

/// The purpose and the service a tracker names exist, and the service serves that purpose.
fn owners(r: &Registry, ck: &Cookie, i: usize, purpose_known: bool, l: &mut Lints) {
    if !purpose_known {
        l.error(
            p!["cookies", i, "purpose"],
            format!("unknown purpose `{}`", ck.purpose),
        );
    }
    match ck.service.as_ref().map(|s| (s, r.service(s))) {
        Some((sid, None)) => {
            l.error(
                p!["cookies", i, "service"],
                format!("unknown service `{sid}`"),
            );
        }
        Some((sid, Some(svc))) if !svc.purposes.contains(&ck.purpose) && purpose_known => {
            l.error(
                p!["cookies", i, "purpose"],
                format!(
                    "tracker `{}` serves purpose `{}`, which its service `{sid}` does not list",
                    ck.name, ck.purpose
                ),
            );
        }
        _ => {}
    }
}

fn lifetime(ck: &Cookie, i: usize, l: &mut Lints) {
    if ck.lifetime.seconds() > MAX_TRACKER_LIFETIME_SECS {
        l.error(
            p!["cookies", i, "lifetime"],
            format!(
                "tracker `{}` lives {}: trackers may live at most 13 months (CNIL)",
                ck.name, ck.lifetime
            ),
        );
    }
    if ck.kind == StorageKind::Cookie && matches!(ck.lifetime, Lifetime::For(d) if d.seconds() == 0)
    {
        l.error(
            p!["cookies", i, "lifetime"],
            "a lifetime of 0 is meaningless: write \"session\"",
        );
    }
}

/// A tracker's basis and exemption agree with its purpose's.
fn exemption(ck: &Cookie, pu: &Purpose, i: usize, l: &mut Lints) {
    let basis = ck.legal_basis.unwrap_or(pu.legal_basis);
    if pu.consent_required {
        if basis == LegalBasis::LegitimateInterest {
            l.warn(
                p!["cookies", i, "legal_basis"],
                format!("tracker `{}` is not strictly necessary (purpose `{}` needs consent): legitimate interest is not a valid basis for it", ck.name, pu.id),
            );
        }
        if ck.exemption_reason.is_some() {
            l.error(
                p!["cookies", i, "exemption_reason"],
                format!("tracker `{}` is marked exempt, but its purpose `{}` is neither strictly necessary nor exempt audience measurement", ck.name, pu.id),
            );
        }
        return;
    }
    if ck.exemption_reason.is_none() {
        l.error(
            p!["cookies", i],
            format!(
                "tracker `{}` is exempt from consent (purpose `{}`): say why in exemption_reason",
                ck.name, pu.id
            ),
        );
    }
    if pu.exemption == Some(Exemption::AudienceMeasurement)
        && ck.lifetime.seconds() > MAX_TRACKER_LIFETIME_SECS
    {
        l.error(
            p!["cookies", i, "lifetime"],
            format!("exempt audience-measurement tracker `{}` lives {}: at most 13 months, not extended on later visits", ck.name, ck.lifetime),
        );
    }
    if basis == LegalBasis::Consent {
        l.error(
            p!["cookies", i, "legal_basis"],
            format!(
                "tracker `{}` relies on consent but its purpose `{}` is exempt",
                ck.name, pu.id
            ),
        );
    }
}
