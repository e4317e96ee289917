//! `assent datastore introspect`: a proposed `[[datastores]]` block from a live catalog, so
//! that nobody writes annotations by hand for an ordinary schema. Tables with a column whose
//! name suggests an identity (`email`, `phone`...) are the roots; tables whose foreign keys
//! lead to a root (directly or through others) follow. Personal-looking columns (name,
//! address, birth date, IP...) get a category and a safe erasure: `null` where the column
//! allows it, a keyed `hash` for a required text identity, a fixed value otherwise. Rows are
//! masked, never deleted, by default: deleting is the operator's decision.
//!
//! Warnings (returned apart from the TOML): identity and reference columns without an index,
//! with the index to create (a `lower()` index for emails where the engine needs one).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use assent_model::datastore::{DatastoreKind, identity_hint, personal_hint};

use crate::catalog::{Catalog, ColumnInfo, TableInfo};

/// The proposal: TOML to paste, and warnings to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub toml: String,
    pub warnings: Vec<String>,
}

fn is_text(c: &ColumnInfo) -> bool {
    let t = c.data_type.to_ascii_lowercase();
    t.contains("char") || t.contains("text") || t.contains("clob") || t.is_empty()
}

/// Width of a `varchar(n)`-like type, if it has one.
pub fn text_width(data_type: &str) -> Option<usize> {
    let t = data_type.to_ascii_lowercase();
    if !t.contains("char") {
        return None;
    }
    let open = t.find('(')?;
    let close = t[open..].find(')')? + open;
    t[open + 1..close].trim().parse().ok()
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The tables to annotate: identity roots, then the tables whose foreign keys reach them.
fn personal_tables(cat: &Catalog) -> Vec<&TableInfo> {
    let mut chosen: BTreeSet<&str> = cat
        .tables
        .iter()
        .filter(|t| t.columns.iter().any(|c| identity_hint(&c.name).is_some()))
        .map(|t| t.name.as_str())
        .collect();
    loop {
        let before = chosen.len();
        for t in &cat.tables {
            if t.foreign_keys
                .iter()
                .any(|fk| chosen.contains(fk.to_table.as_str()) && fk.to_table != t.name)
            {
                chosen.insert(t.name.as_str());
            }
        }
        if chosen.len() == before {
            break;
        }
    }
    cat.tables
        .iter()
        .filter(|t| chosen.contains(t.name.as_str()))
        .collect()
}

/// The index statement that would serve lookups of `column` (by `lower()` for emails where
/// the engine compares case-sensitively).
fn index_advice(kind: DatastoreKind, table: &str, column: &str, lower: bool) -> String {
    let name = format!("{table}_{column}_idx");
    match (kind, lower) {
        (DatastoreKind::Mysql, _) => format!("CREATE INDEX {name} ON {table} ({column})"),
        (_, true) => format!("CREATE INDEX {name} ON {table} (lower({column}))"),
        (_, false) => format!("CREATE INDEX {name} ON {table} ({column})"),
    }
}

/// Proposes the block of datastore `id` of `kind` whose URL is in `url_env`.
pub fn propose(cat: &Catalog, id: &str, kind: DatastoreKind, url_env: &str) -> Proposal {
    let mut t = String::new();
    let mut warnings = vec![];
    let _ = writeln!(
        t,
        "[[datastores]]\nid = {}\nkind = {}\nurl_env = {}",
        quote(id),
        quote(kind.as_str()),
        quote(url_env)
    );
    let tables = personal_tables(cat);
    if tables.is_empty() {
        warnings.push(
            "no column looks like an identity (email, phone, customer number): annotate the \
             tables by hand"
                .to_string(),
        );
    }
    let referenced: BTreeSet<(&str, &str)> = tables
        .iter()
        .flat_map(|x| x.foreign_keys.iter())
        .map(|fk| (fk.to_table.as_str(), fk.to_column.as_str()))
        .collect();
    for ti in &tables {
        let _ = writeln!(t, "\n[[datastores.tables]]\nname = {}", quote(&ti.name));
        let _ = writeln!(
            t,
            "# purpose = \"...\"      # the [[purposes]] id this table serves\n\
             # retention = \"...\"    # the [[retention]] rule id; legal_hold = true keeps rows for it"
        );
        let mut cols = vec![];
        for c in &ti.columns {
            // A key other tables point to stays: rewriting it would break the references.
            if ti.primary_key.contains(&c.name)
                || referenced.contains(&(ti.name.as_str(), c.name.as_str()))
            {
                continue;
            }
            let identity = identity_hint(&c.name);
            let category = match identity {
                Some("email" | "phone") => Some("contact details"),
                Some(_) => Some("identity"),
                None => personal_hint(&c.name),
            };
            let Some(category) = category else { continue };
            let erase = if c.nullable {
                "erase = \"null\"".to_string()
            } else if is_text(c) && text_width(&c.data_type).is_none_or(|w| w >= 64) {
                "erase = \"hash\"".to_string()
            } else if is_text(c) {
                "erase = \"fixed\", value = \"erased\"".to_string()
            } else {
                warnings.push(format!(
                    "{}.{}: required and not text: choose its erasure (fixed value) or delete the rows",
                    ti.name, c.name
                ));
                "erase = \"fixed\", value = \"0\"".to_string()
            };
            let id_part = identity
                .map(|k| format!("identity = {}, ", quote(k)))
                .unwrap_or_default();
            cols.push(format!(
                "  {{ name = {}, {id_part}category = {}, {erase} }},",
                quote(&c.name),
                quote(category)
            ));
            if let Some(k) = identity {
                let lower = k == "email" && !(kind == DatastoreKind::Mysql && c.ci);
                if kind == DatastoreKind::Mysql && k == "email" && !c.ci {
                    warnings.push(format!(
                        "{}.{}: its collation compares case-sensitively: emails are then matched \
                         with LOWER(), which no index serves; use a _ci collation",
                        ti.name, c.name
                    ));
                }
                if !ti.indexed(&c.name, lower) {
                    warnings.push(format!(
                        "{}.{}: identity column without an index: {}",
                        ti.name,
                        c.name,
                        index_advice(kind, &ti.name, &c.name, lower)
                    ));
                }
            }
        }
        if !cols.is_empty() {
            let _ = writeln!(t, "columns = [\n{}\n]", cols.join("\n"));
        }
        let refs: Vec<String> = ti
            .foreign_keys
            .iter()
            .filter(|fk| tables.iter().any(|x| x.name == fk.to_table) && fk.to_table != ti.name)
            .map(|fk| {
                if !ti.indexed(&fk.column, false) {
                    warnings.push(format!(
                        "{}.{}: reference column without an index: {}",
                        ti.name,
                        fk.column,
                        index_advice(kind, &ti.name, &fk.column, false)
                    ));
                }
                format!(
                    "  {{ column = {}, to = {} }},",
                    quote(&fk.column),
                    quote(&format!("{}.{}", fk.to_table, fk.to_column))
                )
            })
            .collect();
        if !refs.is_empty() {
            let _ = writeln!(t, "references = [\n{}\n]", refs.join("\n"));
        }
    }
    Proposal { toml: t, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_quotes() {
        assert_eq!(text_width("character varying(200)"), Some(200));
        assert_eq!(text_width("varchar(40)"), Some(40));
        assert_eq!(text_width("text"), None);
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
