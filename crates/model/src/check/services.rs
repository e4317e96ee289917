//! Lints of `[[services]]` (vendors): what they serve, where they process data and under which
//! safeguard, their privacy policy and the hosts they load from.
//!
//! Invariant: a service in a country outside the EEA declares its transfer safeguard (GDPR
//! Arts. 45-49); every purpose it names exists.

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::{refs, url, valid_country, valid_host};
use crate::registry::{Registry, in_eea};

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    for (i, s) in r.services.iter().enumerate() {
        if s.purposes.is_empty() {
            l.error(
                p!["services", i, "purposes"],
                format!("service `{}` serves no purpose", s.id),
            );
        }
        refs(
            l,
            p!["services", i, "purposes"],
            &s.purposes,
            &known.purposes,
            "purpose",
        );
        url(
            l,
            p!["services", i, "privacy_policy"],
            s.privacy_policy.as_ref(),
        );
        if s.privacy_policy.is_none() {
            l.warn(
                p!["services", i],
                format!("service `{}` has no privacy_policy link", s.id),
            );
        }
        for (j, h) in s.hosts.iter().enumerate() {
            if !valid_host(h) {
                l.error(
                    p!["services", i, "hosts", j],
                    format!("invalid host name `{h}`"),
                );
            }
        }
        match &s.country {
            Some(cc) if !valid_country(cc) => l.error(
                p!["services", i, "country"],
                format!("invalid country `{cc}`: use an ISO 3166-1 alpha-2 code like \"US\""),
            ),
            Some(cc) if !in_eea(cc) && s.safeguard.is_none() => l.error(
                p!["services", i, "safeguard"],
                format!("service `{}` transfers data to {cc}, outside the EEA: declare its safeguard (adequacy, dpf, scc, bcr or derogation)", s.id),
            ),
            None => l.warn(p!["services", i], format!("service `{}` has no country: transfers outside the EEA cannot be shown", s.id)),
            _ => {}
        }
    }
}
