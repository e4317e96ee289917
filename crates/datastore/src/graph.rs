//! From an identity to the person's rows: the SQL condition that selects, in one table, the
//! rows that belong to the person. A table's rows belong to the person when one of its
//! identity columns equals an identity the request gives (emails case-insensitively), or
//! when one of its references points at a row of the referenced table that belongs to the
//! person: `customer_id IN (SELECT id FROM customers WHERE lower(email) = $1)`. The whole
//! traversal is one query per table that the database plans with its indexes: no rows travel
//! to Assent to be fed back.
//!
//! Invariants: a reference cycle is followed once (a table is not re-entered on its own
//! path); a table that no identity reaches gets no condition (`None`), never "all rows".

use assent_model::datastore::{DataTable, Datastore, DatastoreKind, case_insensitive};

use crate::catalog::Catalog;
use crate::conn::Builder;
use crate::error::{DsError, DsResult, ErrorKind};

/// An identity the request gives: `email` = `ada@example.org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: String,
    pub value: String,
}

impl Identity {
    pub fn new(kind: &str, value: &str) -> Self {
        Self {
            kind: kind.to_string(),
            value: value.trim().to_string(),
        }
    }
    /// `email=ada@example.org` (from `--identity KIND=VALUE`).
    pub fn parse(s: &str) -> Option<Self> {
        let (k, v) = s.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        (!k.is_empty() && !v.is_empty()).then(|| Self::new(k, v))
    }
}

/// Checks that every annotated table and column exists, naming the first that does not.
pub fn check_exists(ds: &Datastore, cat: &Catalog) -> DsResult<()> {
    for t in &ds.tables {
        let Some(ti) = cat.table(&t.name) else {
            return Err(DsError::new(
                ErrorKind::Missing,
                format!("table `{}` does not exist", t.name),
            )
            .at(&t.name));
        };
        let named = t
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .chain(t.references.iter().map(|r| r.column.as_str()))
            .chain(t.restrict_column.as_deref());
        for c in named {
            if ti.column(c).is_none() {
                return Err(DsError::new(
                    ErrorKind::Missing,
                    format!("column `{}.{c}` does not exist", t.name),
                )
                .at(&t.name));
            }
        }
    }
    Ok(())
}

/// Appends to `b` the condition selecting the person's rows of `table` (unqualified column
/// names), or returns `false` (appending nothing) when no identity reaches the table.
pub fn condition(
    ds: &Datastore,
    cat: &Catalog,
    table: &DataTable,
    ids: &[Identity],
    b: &mut Builder,
) -> bool {
    let mut path = vec![table.name.clone()];
    match cond(ds, cat, table, ids, b.dialect.0, &mut path, &mut b.q.params) {
        Some(sql) => {
            b.push(&sql);
            true
        }
        None => false,
    }
}

/// The condition for `t` as text, binding its parameters in text order.
fn cond(
    ds: &Datastore,
    cat: &Catalog,
    t: &DataTable,
    ids: &[Identity],
    kind: DatastoreKind,
    path: &mut Vec<String>,
    params: &mut Vec<String>,
) -> Option<String> {
    let info = cat.table(&t.name);
    let mut parts: Vec<String> = vec![];
    let mut sub = Builder::new(kind);
    for c in &t.columns {
        let Some(ik) = &c.identity else { continue };
        for id in ids.iter().filter(|i| &i.kind == ik) {
            let col = info.and_then(|ti| ti.column(&c.name));
            let quoted = sub.ident(&c.name);
            // Parameters are bound into the caller's list as the text is produced.
            sub.q.params = std::mem::take(params);
            let part = if case_insensitive(ik) {
                let v = id.value.to_lowercase();
                let ci = col.is_some_and(|x| x.ci) && kind == DatastoreKind::Mysql;
                let p = sub.param(&v, None);
                if ci {
                    format!("{quoted} = {p}")
                } else {
                    format!("lower({quoted}) = {p}")
                }
            } else {
                let ty = col.map(|x| x.data_type.clone());
                let p = sub.param(&id.value, ty.as_deref());
                format!("{quoted} = {p}")
            };
            *params = std::mem::take(&mut sub.q.params);
            parts.push(part);
        }
    }
    for r in &t.references {
        let Some((tt, tc)) = r.target() else { continue };
        if path.iter().any(|p| p == tt) {
            continue;
        }
        let Some(target) = ds.table(tt) else { continue };
        path.push(tt.to_string());
        let inner = cond(ds, cat, target, ids, kind, path, params);
        path.pop();
        if let Some(inner) = inner {
            parts.push(format!(
                "{} IN (SELECT {} FROM {} WHERE {inner})",
                sub.ident(&r.column),
                sub.ident(tc),
                sub.ident(tt)
            ));
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(format!("({})", parts.join(" OR "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ColumnInfo, TableInfo};

    fn shop() -> Datastore {
        toml::from_str(
            r#"
            id = "shop"
            kind = "postgres"
            url_env = "SHOP_URL"
            [[tables]]
            name = "customers"
            columns = [{ name = "email", identity = "email" }, { name = "customer_no", identity = "customer_number" }]
            [[tables]]
            name = "orders"
            references = [{ column = "customer_id", to = "customers.id" }]
            [[tables]]
            name = "order_lines"
            references = [{ column = "order_id", to = "orders.id" }]
            [[tables]]
            name = "products"
            "#,
        )
        .unwrap()
    }

    fn cat() -> Catalog {
        let col = |n: &str, t: &str| ColumnInfo {
            name: n.into(),
            data_type: t.into(),
            nullable: true,
            ci: false,
        };
        Catalog {
            tables: vec![TableInfo {
                name: "customers".into(),
                columns: vec![col("email", "text"), col("customer_no", "integer")],
                ..TableInfo::default()
            }],
        }
    }

    #[test]
    fn references_nest_and_parameters_follow_the_text() {
        let ds = shop();
        let ids = [
            Identity::new("email", "Ada@Example.org"),
            Identity::new("customer_number", "42"),
        ];
        let mut b = Builder::new(DatastoreKind::Postgres);
        assert!(condition(
            &ds,
            &cat(),
            ds.table("order_lines").unwrap(),
            &ids,
            &mut b
        ));
        let q = b.finish();
        assert_eq!(
            q.sql,
            "\"order_id\" IN (SELECT \"id\" FROM \"orders\" WHERE \"customer_id\" IN (SELECT \"id\" \
             FROM \"customers\" WHERE (lower(\"email\") = $1::text OR \"customer_no\" = CAST($2::text AS integer))))"
        );
        assert_eq!(q.params, ["ada@example.org", "42"]);
        let mut b = Builder::new(DatastoreKind::Mysql);
        assert!(!condition(
            &ds,
            &cat(),
            ds.table("products").unwrap(),
            &ids,
            &mut b
        ));
        assert_eq!(b.finish().sql, "");
    }
}
