//! Lints of the GDPR Art. 30 record: `[[activities]]` (what the register must state, the
//! processors, retention rules and sites they name, the transfers they declare) and
//! `[[retention]]` (periods and their archive part).
//!
//! Invariants: every processor, retention rule and site an activity names exists; a transfer
//! names a country outside the EEA; an archive period fits within its retention period.

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::{refs, valid_country};
use crate::registry::{LegalBasis, Registry, in_eea};

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    for (i, a) in r.activities.iter().enumerate() {
        if a.legal_basis == LegalBasis::LegitimateInterest && a.legitimate_interest.is_none() {
            l.warn(
                p!["activities", i, "legitimate_interest"],
                format!(
                    "activity `{}` relies on legitimate interest: state the interest pursued",
                    a.id
                ),
            );
        }
        // What an Art. 30 record must state.
        for (empty, needs) in [
            (
                a.data_subjects.is_empty(),
                "the categories of data subjects",
            ),
            (
                a.data_categories.is_empty(),
                "the categories of personal data",
            ),
            (
                a.retention.is_empty(),
                "time limits for erasure (retention)",
            ),
        ] {
            if empty {
                l.warn(
                    p!["activities", i],
                    format!("activity `{}`: the Art. 30 record needs {needs}", a.id),
                );
            }
        }
        let listed = [
            (
                "processors",
                Some(&a.processors),
                &known.services,
                "service",
            ),
            (
                "retention",
                Some(&a.retention),
                &known.rules,
                "retention rule",
            ),
            ("sites", a.sites.as_ref(), &known.sites, "site"),
        ];
        for (key, ids, known, what) in listed {
            if let Some(ids) = ids {
                refs(l, p!["activities", i, key], ids, known, what);
            }
        }
        for (j, t) in a.transfers.iter().enumerate() {
            if !valid_country(&t.country) {
                l.error(
                    p!["activities", i, "transfers", j, "country"],
                    format!("invalid country `{}`", t.country),
                );
            } else if in_eea(&t.country) {
                l.warn(
                    p!["activities", i, "transfers", j, "country"],
                    format!("{} is inside the EEA: not a transfer", t.country),
                );
            }
        }
    }
    for (i, rr) in r.retention.iter().enumerate() {
        if let Some(a) = rr.archive
            && a.seconds() > rr.period.seconds()
        {
            l.error(
                p!["retention", i, "archive"],
                "the archive period cannot exceed the whole retention period",
            );
        }
    }
}
