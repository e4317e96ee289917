//! `assent datastore check`: the annotations of one datastore compared with its live
//! catalog. Findings name a path into the registry (`datastores[0].tables[2].columns[1]`)
//! that the model places at a line and column: tables or columns that do not exist, privileges
//! the account lacks for the annotated erasure, erasures the column cannot take (NULL into a
//! required column, a hash into a column narrower than 64 characters), identity columns
//! without an index, and personal-looking columns nobody annotated.

use assent_model::check::{Seg, Severity};
use assent_model::datastore::{
    ColumnErasure, Datastore, DatastoreKind, RowErasure, identity_hint, personal_hint,
};

use crate::catalog::Catalog;
use crate::introspect::text_width;

/// A finding at a path of the registry.
pub type Finding = (Severity, Vec<Seg>, String);

fn path(i: usize, rest: &[Seg]) -> Vec<Seg> {
    let mut v = vec![Seg::Key("datastores".into()), Seg::Index(i)];
    v.extend_from_slice(rest);
    v
}

fn k(s: &str) -> Seg {
    Seg::Key(s.into())
}

/// Every finding about datastore number `i` of the registry, `ds`, against `cat`.
pub fn inspect(i: usize, ds: &Datastore, cat: &Catalog) -> Vec<Finding> {
    let mut out: Vec<Finding> = vec![];
    let mut err = |p: Vec<Seg>, m: String| out.push((Severity::Error, p, m));
    let mut warns: Vec<Finding> = vec![];
    for (j, t) in ds.tables.iter().enumerate() {
        let tp = |rest: &[Seg]| {
            let mut v = vec![k("tables"), Seg::Index(j)];
            v.extend_from_slice(rest);
            path(i, &v)
        };
        let Some(ti) = cat.table(&t.name) else {
            err(
                tp(&[k("name")]),
                format!("datastore `{}`: table `{}` does not exist", ds.id, t.name),
            );
            continue;
        };
        if !ti.can_select {
            err(
                tp(&[k("name")]),
                format!(
                    "datastore `{}`: the account cannot SELECT from `{}`",
                    ds.id, t.name
                ),
            );
        }
        let masks = t.columns.iter().any(|c| c.erasure() != ColumnErasure::Keep);
        if !t.legal_hold && t.erase == RowErasure::Delete && !ti.can_delete {
            err(
                tp(&[k("erase")]),
                format!(
                    "datastore `{}`: the account cannot DELETE from `{}`",
                    ds.id, t.name
                ),
            );
        }
        if !t.legal_hold && t.erase == RowErasure::Mask && masks && !ti.can_update {
            err(
                tp(&[k("name")]),
                format!(
                    "datastore `{}`: the account cannot UPDATE `{}`",
                    ds.id, t.name
                ),
            );
        }
        for (n, c) in t.columns.iter().enumerate() {
            let cp = tp(&[k("columns"), Seg::Index(n)]);
            let Some(ci) = ti.column(&c.name) else {
                err(
                    cp,
                    format!(
                        "datastore `{}`: column `{}.{}` does not exist",
                        ds.id, t.name, c.name
                    ),
                );
                continue;
            };
            let masked = !t.legal_hold && t.erase == RowErasure::Mask;
            if masked && c.erasure() == ColumnErasure::Null && !ci.nullable {
                err(
                    cp.clone(),
                    format!(
                        "`{}.{}` is NOT NULL: erase = \"null\" would fail; use hash or fixed",
                        t.name, c.name
                    ),
                );
            }
            if masked
                && c.erasure() == ColumnErasure::Hash
                && text_width(&ci.data_type).is_some_and(|w| w < 64)
            {
                err(
                    cp.clone(),
                    format!(
                        "`{}.{}` ({}) is too narrow for a keyed hash (64 characters)",
                        t.name, c.name, ci.data_type
                    ),
                );
            }
            if let Some(kind) = &c.identity {
                let lower = kind == "email" && !(ds.kind == DatastoreKind::Mysql && ci.ci);
                if !ti.indexed(&c.name, lower) {
                    warns.push((
                        Severity::Warning,
                        cp,
                        format!(
                            "identity column `{}.{}` has no index{}: lookups scan the table",
                            t.name,
                            c.name,
                            if lower { " on lower()" } else { "" }
                        ),
                    ));
                }
            }
        }
        for (n, r) in t.references.iter().enumerate() {
            let rp = tp(&[k("references"), Seg::Index(n)]);
            if ti.column(&r.column).is_none() {
                err(
                    rp.clone(),
                    format!(
                        "datastore `{}`: column `{}.{}` does not exist",
                        ds.id, t.name, r.column
                    ),
                );
            }
            if let Some((tt, tc)) = r.target()
                && cat.table(tt).and_then(|x| x.column(tc)).is_none()
            {
                err(
                    rp,
                    format!("datastore `{}`: `{}` does not exist", ds.id, r.to),
                );
            }
        }
        if let Some(flag) = &t.restrict_column {
            if ti.column(flag).is_none() {
                err(
                    tp(&[k("restrict_column")]),
                    format!(
                        "datastore `{}`: column `{}.{flag}` does not exist",
                        ds.id, t.name
                    ),
                );
            } else if !ti.can_update {
                err(
                    tp(&[k("restrict_column")]),
                    format!(
                        "datastore `{}`: the account cannot UPDATE `{}`",
                        ds.id, t.name
                    ),
                );
            }
        }
        let annotated = |n: &str| {
            t.column(n).is_some()
                || t.references.iter().any(|r| r.column == n)
                || t.restrict_column.as_deref() == Some(n)
                || ti.primary_key.iter().any(|p| p == n)
        };
        for c in &ti.columns {
            if !annotated(&c.name)
                && (identity_hint(&c.name).is_some() || personal_hint(&c.name).is_some())
            {
                warns.push((
                    Severity::Warning,
                    tp(&[k("name")]),
                    format!(
                        "`{}.{}` looks personal but is not annotated (access packages include \
                         it, erasure leaves it)",
                        t.name, c.name
                    ),
                ));
            }
        }
    }
    for ti in &cat.tables {
        if ds.table(&ti.name).is_none()
            && let Some(c) = ti.columns.iter().find(|c| identity_hint(&c.name).is_some())
        {
            warns.push((
                Severity::Warning,
                path(i, &[k("tables")]),
                format!(
                    "table `{}` of datastore `{}` has an identity-looking column `{}` but is not \
                     annotated",
                    ti.name, ds.id, c.name
                ),
            ));
        }
    }
    out.extend(warns);
    out
}
