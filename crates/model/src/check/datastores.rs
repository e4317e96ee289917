//! Lints of `[[datastores]]`: ids and names, the purposes and retention rules tables name,
//! the references between tables, and erasure annotations that could not work (a kept table
//! referencing a deleted one, a masked column that others reference, a fixed value missing).
//!
//! Invariants: only the registry is read here; whether tables and columns exist in the live
//! database is `assent datastore check`'s job. A table linked to no purpose nor retention rule
//! is a warning, not an error (the rule).

use std::collections::HashSet;

use super::diag::{Lints, p};
use super::ids::Known;
use super::valid::valid_id;
use crate::datastore::{
    ColumnErasure, DEFAULT_LOCK_TIMEOUT_MS, DataColumn, DataTable, Datastore, MAX_LOCK_TIMEOUT_MS,
    RowErasure,
};
use crate::registry::Registry;

pub(crate) fn lint(r: &Registry, known: &Known<'_>, l: &mut Lints) {
    let mut ids = HashSet::new();
    for (i, d) in r.datastores.iter().enumerate() {
        if !valid_id(&d.id) {
            l.error(
                p!["datastores", i, "id"],
                format!(
                    "invalid datastore id `{}`: use lowercase letters, digits, `-` and `_` (at most 64)",
                    d.id
                ),
            );
        }
        if !ids.insert(d.id.as_str()) {
            l.error(
                p!["datastores", i, "id"],
                format!("duplicate datastore id `{}`", d.id),
            );
        }
        if !valid_env_name(&d.url_env) {
            l.error(
                p!["datastores", i, "url_env"],
                format!(
                    "`{}` is not an environment variable name: url_env names the variable that \
                     holds the URL (e.g. SHOP_DATABASE_URL), never the URL itself",
                    d.url_env
                ),
            );
        }
        if let Some(ms) = d.lock_timeout_ms
            && !(1..=MAX_LOCK_TIMEOUT_MS).contains(&ms)
        {
            l.error(
                p!["datastores", i, "lock_timeout_ms"],
                format!(
                    "lock_timeout_ms = {ms}: give a wait between 1 and {MAX_LOCK_TIMEOUT_MS} \
                     milliseconds (default {DEFAULT_LOCK_TIMEOUT_MS})"
                ),
            );
        }
        lint_tables(d, i, known, l);
    }
}

/// Environment variable names: `A-Z`, `0-9`, `_`, not starting with a digit.
fn valid_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn lint_tables(d: &Datastore, i: usize, known: &Known<'_>, l: &mut Lints) {
    let mut names = HashSet::new();
    let mut has_identity = false;
    for (j, t) in d.tables.iter().enumerate() {
        let at = |rest: &[&str]| {
            let mut v = p!["datastores", i, "tables", j];
            v.extend(rest.iter().map(|s| super::diag::Seg::from(*s)));
            v
        };
        if !names.insert(t.name.as_str()) {
            l.error(
                at(&["name"]),
                format!("table `{}` is annotated twice", t.name),
            );
        }
        if let Some(pid) = &t.purpose
            && !known.purposes.contains(pid.as_str())
        {
            l.error(at(&["purpose"]), format!("unknown purpose `{pid}`"));
        }
        if let Some(rid) = &t.retention
            && !known.rules.contains(rid.as_str())
        {
            l.error(
                at(&["retention"]),
                format!("unknown retention rule `{rid}`"),
            );
        }
        if t.purpose.is_none() && t.retention.is_none() {
            l.warn(
                at(&["name"]),
                format!(
                    "table `{}` is linked to no purpose nor retention rule: access packages \
                     cannot say why it is kept",
                    t.name
                ),
            );
        }
        if t.legal_hold && t.retention.is_none() {
            l.error(
                at(&["legal_hold"]),
                format!(
                    "table `{}` is kept for a legal obligation: name the retention rule that \
                     says until when",
                    t.name
                ),
            );
        }
        let mut cols = HashSet::new();
        for (k, c) in t.columns.iter().enumerate() {
            let cat = || {
                let mut v = at(&["columns"]);
                v.push(k.into());
                v
            };
            if !cols.insert(c.name.as_str()) {
                l.error(
                    cat(),
                    format!("column `{}.{}` is annotated twice", t.name, c.name),
                );
            }
            if let Some(kind) = &c.identity {
                has_identity = true;
                if !valid_id(kind) {
                    l.error(
                        cat(),
                        format!(
                            "invalid identity kind `{kind}`: use e.g. email, phone, customer_number"
                        ),
                    );
                }
            }
            match (c.erase, &c.value) {
                (Some(ColumnErasure::Fixed), None) => l.error(
                    cat(),
                    format!("`{}.{}`: erase = \"fixed\" needs a `value`", t.name, c.name),
                ),
                (e, Some(_)) if e != Some(ColumnErasure::Fixed) => l.error(
                    cat(),
                    format!(
                        "`{}.{}`: `value` is only used with erase = \"fixed\"",
                        t.name, c.name
                    ),
                ),
                _ => {}
            }
            if keeps_identity(t, c) {
                l.error(
                    cat(),
                    format!(
                        "`{}.{}` identifies the person but erasure keeps it: use null, hash or \
                         fixed, or delete the rows",
                        t.name, c.name
                    ),
                );
            }
            if t.restrict_column.as_deref() == Some(c.name.as_str()) {
                l.error(
                    cat(),
                    format!(
                        "`{}.{}` is the restriction flag: do not annotate it as personal data",
                        t.name, c.name
                    ),
                );
            }
        }
        for (k, rf) in t.references.iter().enumerate() {
            let rat = || {
                let mut v = at(&["references"]);
                v.push(k.into());
                v
            };
            let Some((tt, tc)) = rf.target() else {
                l.error(
                    rat(),
                    format!("reference `{}`: `to` must be `table.column`", rf.to),
                );
                continue;
            };
            let Some(target) = d.table(tt) else {
                l.error(
                    rat(),
                    format!(
                        "reference to `{}`: table `{tt}` is not annotated in datastore `{}`",
                        rf.to, d.id
                    ),
                );
                continue;
            };
            if target.erase == RowErasure::Mask
                && target
                    .column(tc)
                    .is_some_and(|c| c.erasure() != ColumnErasure::Keep)
            {
                l.error(
                    rat(),
                    format!(
                        "`{}` is referenced by `{}.{}` but erasure rewrites it: the reference \
                         would break (keep the key column, erase the others)",
                        rf.to, t.name, rf.column
                    ),
                );
            }
            if t.legal_hold && target.erase == RowErasure::Delete && !target.legal_hold {
                l.error(
                    rat(),
                    format!(
                        "`{}` is kept for a legal obligation but references `{tt}`, whose rows \
                         erasure deletes: mask `{tt}` instead (erase = \"mask\")",
                        t.name
                    ),
                );
            }
        }
    }
    if !d.tables.is_empty() && !has_identity {
        l.warn(
            p!["datastores", i, "tables"],
            format!(
                "datastore `{}` has no identity column (identity = \"email\", ...): no request \
                 can find anyone in it",
                d.id
            ),
        );
    }
}

/// An identity column that a masked, not kept, row would leave readable.
fn keeps_identity(t: &DataTable, c: &DataColumn) -> bool {
    c.identity.is_some()
        && t.erase == RowErasure::Mask
        && !t.legal_hold
        && c.erasure() == ColumnErasure::Keep
}
