//! Lints of `[[retention]]` rules bound to data (`applies_to`, `anchor`,
//! `reconfirm_days_before`): what Assent can enforce, and saying clearly what it cannot.
//!
//! Invariants: an own kind is bound by at most one rule, with a trigger its records carry;
//! `anchor` names columns only for datastore tables; a rule Assent does not enforce is a
//! warning that says who does, never silently "enforced".

use super::diag::{Lints, p};
use crate::registry::{Registry, RetentionAction};
use crate::retention::{AppliesTo, Enforcer, own_anchor};

pub(crate) fn lint(r: &Registry, l: &mut Lints) {
    for (i, rr) in r.retention.iter().enumerate() {
        let Some(to) = &rr.applies_to else {
            if !rr.anchor.is_empty() {
                l.error(
                    p!["retention", i, "anchor"],
                    format!(
                        "retention `{}`: `anchor` needs `applies_to = \"DATASTORE.TABLE\"`",
                        rr.id
                    ),
                );
            }
            continue;
        };
        if let Some(first) = r.retention[..i]
            .iter()
            .find(|o| o.applies_to.as_ref() == Some(to) && !matches!(to, AppliesTo::Table { .. }))
        {
            l.error(
                p!["retention", i, "applies_to"],
                format!(
                    "retention `{}`: `{to}` is already bound by rule `{}`; one rule per kind",
                    rr.id, first.id
                ),
            );
        }
        match to {
            AppliesTo::Table { datastore, table } => {
                table_binding(r, i, datastore, table, l);
                if rr.anchor.is_empty() {
                    l.error(
                        p!["retention", i, "anchor"],
                        format!(
                            "retention `{}`: a datastore table needs `anchor`, the column(s) the \
                             period counts from",
                            rr.id
                        ),
                    );
                }
                for (j, col) in rr.anchor.iter().enumerate() {
                    let ok = col.split('.').count() <= 2
                        && col.split('.').all(|c| {
                            !c.is_empty()
                                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                        });
                    if !ok {
                        l.error(
                            p!["retention", i, "anchor", j],
                            format!("invalid anchor column `{col}`: use COLUMN or TABLE.COLUMN"),
                        );
                    }
                }
            }
            own => {
                if !rr.anchor.is_empty() {
                    l.error(
                        p!["retention", i, "anchor"],
                        format!(
                            "retention `{}`: `{own}` records have a fixed anchor; set `trigger` \
                             instead of `anchor`",
                            rr.id
                        ),
                    );
                }
                if matches!(own, AppliesTo::Consents | AppliesTo::RightsRequests)
                    && let Err(e) = own_anchor(own, rr.trigger)
                {
                    l.error(
                        p!["retention", i, "trigger"],
                        format!("retention `{}`: {e}", rr.id),
                    );
                }
                if *own == AppliesTo::Consents && rr.action == RetentionAction::Anonymise {
                    l.error(
                        p!["retention", i, "action"],
                        format!(
                            "retention `{}`: a consent proof cannot be anonymised (its ledger \
                             payload is redacted whole); use `action = \"delete\"`",
                            rr.id
                        ),
                    );
                }
            }
        }
        if rr.reconfirm_days_before.is_some() && *to != AppliesTo::Marketing {
            l.error(
                p!["retention", i, "reconfirm_days_before"],
                format!(
                    "retention `{}`: re-confirmation asks prospects; it applies to `marketing` \
                     only",
                    rr.id
                ),
            );
        }
        if rr.reconfirm_days_before.is_some() && *to == AppliesTo::Marketing {
            l.warn(
                p!["retention", i, "reconfirm_days_before"],
                format!(
                    "retention `{}`: this version sends no re-confirmation mail: the opt-ins \
                     are deleted at the cutoff without asking",
                    rr.id
                ),
            );
        }
        let (who, why) = to.enforcer();
        if who == Enforcer::Controller {
            l.warn(
                p!["retention", i, "applies_to"],
                format!("retention `{}` is not enforced by Assent: {why}", rr.id),
            );
        }
    }
}

/// A table rule names a declared datastore and one of its annotated tables, its `TABLE.COLUMN`
/// anchors an annotated table linked by a reference, and anonymising has something to mark
/// the anonymised rows. Columns themselves are checked against the live schema by the plan.
fn table_binding(r: &Registry, i: usize, datastore: &str, table: &str, l: &mut Lints) {
    let rr = &r.retention[i];
    let Some(ds) = r.datastores.iter().find(|d| d.id == datastore) else {
        l.error(
            p!["retention", i, "applies_to"],
            format!(
                "retention `{}`: datastore `{datastore}` is not declared in `[[datastores]]`",
                rr.id
            ),
        );
        return;
    };
    let Some(t) = ds.table(table) else {
        l.error(
            p!["retention", i, "applies_to"],
            format!(
                "retention `{}`: table `{table}` is not annotated in datastore `{datastore}` \
                 (`[[datastores.tables]]`)",
                rr.id
            ),
        );
        return;
    };
    for (j, a) in rr.anchor.iter().enumerate() {
        let Some((other, _)) = a.split_once('.').filter(|(o, _)| *o != table) else {
            continue;
        };
        let linked = t
            .references
            .iter()
            .any(|x| x.target().is_some_and(|(tt, _)| tt == other))
            || ds.table(other).is_some_and(|o| {
                o.references
                    .iter()
                    .any(|x| x.target().is_some_and(|(tt, _)| tt == table))
            });
        if !linked {
            l.error(
                p!["retention", i, "anchor", j],
                format!(
                    "retention `{}`: anchor `{a}`: no reference links `{other}` and `{table}` \
                     in datastore `{datastore}`",
                    rr.id
                ),
            );
        }
    }
    if rr.action == RetentionAction::Anonymise
        && !t.columns.iter().any(|c| {
            matches!(
                c.erasure(),
                crate::datastore::ColumnErasure::Null | crate::datastore::ColumnErasure::Fixed
            )
        })
    {
        l.error(
            p!["retention", i, "action"],
            format!(
                "retention `{}`: anonymising `{datastore}.{table}` needs a column annotated \
                 `erase = \"null\"` or `\"fixed\"` (it tells anonymised rows from the others)",
                rr.id
            ),
        );
    }
}
