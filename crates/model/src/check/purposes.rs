//! Lints of `[[purposes]]`: consent, exemption and legal basis must agree (ePrivacy Art. 5(3):
//! reading or writing on the device needs consent unless strictly necessary or CNIL-exempt
//! audience measurement), and Consent Mode signals are listed once.
//!
//! Invariant: a purpose needing consent has no exemption; an exempt purpose names its ground,
//! does not rely on consent and cannot be refused by GPC.

use std::collections::HashSet;

use super::diag::{Lints, p};
use crate::registry::{Exemption, LegalBasis, MONTH_SECS, Purpose, Registry};

pub(crate) fn lint(r: &Registry, l: &mut Lints) {
    for (i, pu) in r.purposes.iter().enumerate() {
        if pu.consent_required {
            needs_consent(pu, i, l);
        } else {
            exempt(pu, i, l);
        }
        if pu.legal_basis == LegalBasis::Consent && !pu.consent_required {
            l.error(
                p!["purposes", i, "legal_basis"],
                format!(
                    "purpose `{}` relies on consent but is marked exempt from consent",
                    pu.id
                ),
            );
        }
        let mut seen = HashSet::new();
        for (j, s) in pu.consent_mode.iter().enumerate() {
            if !seen.insert(s) {
                l.warn(
                    p!["purposes", i, "consent_mode", j],
                    format!("duplicate consent mode signal `{}`", s.as_str()),
                );
            }
        }
    }
}

fn needs_consent(pu: &Purpose, i: usize, l: &mut Lints) {
    if pu.exemption.is_some() {
        l.error(
            p!["purposes", i, "exemption"],
            format!("purpose `{}` requires consent but declares an exemption: set consent_required = false or remove the exemption", pu.id),
        );
    }
    if pu.legal_basis == LegalBasis::LegitimateInterest {
        l.warn(
            p!["purposes", i, "legal_basis"],
            format!("purpose `{}` needs consent for its trackers: legitimate interest is not a valid basis for reading or writing on the device (ePrivacy Art. 5(3))", pu.id),
        );
    }
}

fn exempt(pu: &Purpose, i: usize, l: &mut Lints) {
    match pu.exemption {
        None => l.error(
            p!["purposes", i, "consent_required"],
            format!("purpose `{}` is exempt from consent but gives no ground: add exemption = \"strictly_necessary\" or \"audience_measurement\"", pu.id),
        ),
        Some(Exemption::AudienceMeasurement) => {
            if pu.gpc {
                l.error(p!["purposes", i, "gpc"], "an exempt audience-measurement purpose cannot be an advertising/sharing purpose");
            }
            match pu.data_retention {
                None => l.warn(
                    p!["purposes", i],
                    format!("exempt audience measurement `{}`: declare data_retention (at most 25 months)", pu.id),
                ),
                Some(d) if d.seconds() > 25 * MONTH_SECS => l.error(
                    p!["purposes", i, "data_retention"],
                    format!("exempt audience measurement keeps data at most 25 months, not {d}"),
                ),
                _ => {}
            }
        }
        Some(Exemption::StrictlyNecessary) => {}
    }
    if pu.gpc {
        l.error(
            p!["purposes", i, "gpc"],
            format!(
                "purpose `{}` is exempt from consent, so a GPC refusal cannot apply to it",
                pu.id
            ),
        );
    }
}
