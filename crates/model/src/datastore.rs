//! The operator's own databases (`[[datastores]]`): where a person's data lives, how to find
//! it from an identity (email, phone, customer number...), how one table leads to another,
//! and what erasure does to each column. Rights fulfilment (`assent dsr access|erase`, the
//! request workflow) reads these annotations; `assent check` lints them
//! (`check::datastores`).
//!
//! Invariants: a datastore names the environment variable that holds its URL, never the URL
//! (a password never sits in the registry); datastores are operational configuration, outside
//! the per-site policy snapshot, so editing them never creates a policy version.

use serde::{Deserialize, Serialize};

/// One database of the operator's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datastore {
    pub id: String,
    pub kind: DatastoreKind,
    /// Name of the environment variable holding the connection URL
    /// (`postgres://USER:PASS@HOST:PORT/DB`, `mysql://...`, `sqlite:///path.db`).
    pub url_env: String,
    pub description: Option<String>,
    /// How long one statement waits for a lock held by the operator's own application before
    /// the operation fails and rolls back (milliseconds; [`DEFAULT_LOCK_TIMEOUT_MS`] when
    /// absent). An erasure never waits indefinitely behind a long transaction.
    #[serde(default)]
    pub lock_timeout_ms: Option<u64>,
    #[serde(default)]
    pub tables: Vec<DataTable>,
}

/// The lock wait of a datastore without `lock_timeout_ms`.
pub const DEFAULT_LOCK_TIMEOUT_MS: u64 = 5_000;
/// The longest lock wait `assent check` accepts (a statement is cut at ten minutes anyway).
pub const MAX_LOCK_TIMEOUT_MS: u64 = 300_000;

crate::codes::coded_enum! {
    /// The database engine; `mysql` serves MariaDB too.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum DatastoreKind {
        Postgres => "postgres",
        Mysql => "mysql",
        Sqlite => "sqlite",
    }
}

/// What erasure does to the rows of a table that belong to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowErasure {
    /// Rewrite the annotated columns as each column's `erase` says; the row stays.
    #[default]
    Mask,
    /// Delete the rows (after the rows of the tables that reference them).
    Delete,
}

/// What erasure does to one column of a masked row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnErasure {
    /// Set the column to NULL.
    Null,
    /// Replace the value by its keyed hash (HMAC-SHA256, 64 hex digits): still unique, no
    /// longer readable; the key lives with Assent, never in the registry.
    Hash,
    /// Replace the value by the column's `value`.
    Fixed,
    /// Leave the value as it is (annotated for access packages only).
    Keep,
}

/// One table of a datastore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataTable {
    pub name: String,
    /// The purpose (`[[purposes]]` id) this table serves, shown in access packages.
    pub purpose: Option<String>,
    /// The retention rule (`[[retention]]` id) that applies to its rows.
    pub retention: Option<String>,
    /// Rows kept for a legal obligation (Art. 17(3)(b)): erasure leaves them intact, lists
    /// them as restricted in the receipt; `retention` says until when.
    #[serde(default)]
    pub legal_hold: bool,
    #[serde(default)]
    pub erase: RowErasure,
    /// A boolean column set while the person's processing is restricted (Art. 18).
    pub restrict_column: Option<String>,
    #[serde(default)]
    pub columns: Vec<DataColumn>,
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// A column holding personal data or an identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataColumn {
    pub name: String,
    /// The identity this column holds (`email`, `phone`, `customer_number`...): a request
    /// giving that identity finds the rows whose column equals it (emails case-insensitively).
    pub identity: Option<String>,
    /// The data category, in words ("contact details", "order history").
    pub category: Option<String>,
    /// What erasure does to it in a masked row (default `null`).
    pub erase: Option<ColumnErasure>,
    /// The replacement for `erase = "fixed"`.
    pub value: Option<String>,
}

impl DataColumn {
    /// The erasure of this column in a masked row.
    pub fn erasure(&self) -> ColumnErasure {
        self.erase.unwrap_or(ColumnErasure::Null)
    }
}

/// `column` of this table holds values of `to` (`table.column`): rows of this table belong
/// to the person when that value is one of the person's rows' in `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub column: String,
    pub to: String,
}

impl Reference {
    /// `(table, column)` of `to`, when it is `table.column`.
    pub fn target(&self) -> Option<(&str, &str)> {
        self.to
            .rsplit_once('.')
            .filter(|(t, c)| !t.is_empty() && !c.is_empty())
    }
}

impl Datastore {
    pub fn table(&self, name: &str) -> Option<&DataTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Tables in the order erasure touches them: a table before every table it references,
    /// so that referencing rows are deleted before the rows they point to. Cycles keep the
    /// registry's order for the tables involved.
    pub fn erasure_order(&self) -> Vec<&DataTable> {
        let n = self.tables.len();
        let mut placed = vec![false; n];
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let before = out.len();
            for (i, t) in self.tables.iter().enumerate() {
                if placed[i] {
                    continue;
                }
                // Ready when no unplaced other table references `t`.
                let referenced_by_unplaced = self.tables.iter().enumerate().any(|(j, o)| {
                    j != i
                        && !placed[j]
                        && o.references
                            .iter()
                            .any(|r| r.target().is_some_and(|(tt, _)| tt == t.name))
                });
                if !referenced_by_unplaced {
                    placed[i] = true;
                    out.push(t);
                }
            }
            if out.len() == before {
                // A cycle: take the first unplaced table as it comes.
                if let Some(i) = placed.iter().position(|p| !p) {
                    placed[i] = true;
                    out.push(&self.tables[i]);
                }
            }
        }
        out
    }
}

impl DataTable {
    pub fn column(&self, name: &str) -> Option<&DataColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// Columns holding an identity of `kind`.
    pub fn identity_columns<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a DataColumn> {
        self.columns
            .iter()
            .filter(move |c| c.identity.as_deref() == Some(kind))
    }
}

/// Whether an identity kind matches case-insensitively (emails) or exactly.
pub fn case_insensitive(kind: &str) -> bool {
    kind == "email"
}

/// Words in a column name that suggest an identity, and the identity kind they suggest.
pub const IDENTITY_HINTS: &[(&str, &str)] = &[
    ("email", "email"),
    ("mail", "email"),
    ("phone", "phone"),
    ("mobile", "phone"),
    ("tel", "phone"),
    ("customer_number", "customer_number"),
    ("customer_no", "customer_number"),
];

/// Words in a column name that suggest personal data, and the category they suggest.
pub const PERSONAL_HINTS: &[(&str, &str)] = &[
    ("first_name", "identity"),
    ("last_name", "identity"),
    ("firstname", "identity"),
    ("lastname", "identity"),
    ("full_name", "identity"),
    ("surname", "identity"),
    ("name", "identity"),
    ("birth", "identity"),
    ("dob", "identity"),
    ("gender", "identity"),
    ("address", "contact details"),
    ("street", "contact details"),
    ("city", "contact details"),
    ("zip", "contact details"),
    ("postcode", "contact details"),
    ("postal", "contact details"),
    ("ip", "connection data"),
    ("iban", "payment details"),
    ("card", "payment details"),
];

/// The identity kind a column name suggests, if any (`contact_email` → `email`).
pub fn identity_hint(column: &str) -> Option<&'static str> {
    let c = column.to_ascii_lowercase();
    IDENTITY_HINTS
        .iter()
        .find(|(w, _)| word_in(&c, w))
        .map(|(_, k)| *k)
}

/// The data category a column name suggests, if it looks personal (`billing_address`).
pub fn personal_hint(column: &str) -> Option<&'static str> {
    let c = column.to_ascii_lowercase();
    PERSONAL_HINTS
        .iter()
        .find(|(w, _)| word_in(&c, w))
        .map(|(_, k)| *k)
}

/// Whether `word` is one of the `_`-separated parts of `name` (or the parts it spans), so
/// that `ip` matches `last_ip` but not `shipping`, and `name` matches `name` but not `rename`;
/// `email`-like words also match inside a part (`contactemail`).
fn word_in(name: &str, word: &str) -> bool {
    if matches!(word, "email" | "phone" | "birth" | "address") {
        return name.contains(word);
    }
    let parts: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let wparts: Vec<&str> = word.split('_').collect();
    parts.windows(wparts.len()).any(|w| w == wparts.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(src: &str) -> Datastore {
        toml::from_str(src).unwrap()
    }

    #[test]
    fn children_come_before_parents() {
        let d = store(
            r#"
            id = "shop"
            kind = "postgres"
            url_env = "SHOP_URL"
            [[tables]]
            name = "customers"
            [[tables]]
            name = "order_lines"
            references = [{ column = "order_id", to = "orders.id" }]
            [[tables]]
            name = "orders"
            references = [{ column = "customer_id", to = "customers.id" }]
            "#,
        );
        let order: Vec<&str> = d.erasure_order().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(order, ["order_lines", "orders", "customers"]);
    }

    #[test]
    fn hints_read_words_not_substrings() {
        assert_eq!(identity_hint("contact_email"), Some("email"));
        assert_eq!(identity_hint("phone_number"), Some("phone"));
        assert_eq!(identity_hint("shipping_fee"), None);
        assert_eq!(personal_hint("last_ip"), Some("connection data"));
        assert_eq!(personal_hint("shipping_fee"), None);
        assert_eq!(personal_hint("billing_address"), Some("contact details"));
        assert_eq!(personal_hint("first_name"), Some("identity"));
        assert_eq!(personal_hint("product_id"), None);
    }
}
