//! What a database says about itself: tables, columns (type, nullability, case-insensitive
//! collation), primary and foreign keys, the leading key of each index, and the account's
//! privileges. Read once per operation by each engine's `catalog()`; used to build queries
//! (types for PostgreSQL casts, collations for MySQL), by `introspect` and by `check`.

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// The engine's type name (`character varying(200)`, `varchar(200)`, `TEXT`).
    pub data_type: String,
    pub nullable: bool,
    /// Compares case-insensitively already (a MySQL `_ci` collation, `COLLATE NOCASE`).
    pub ci: bool,
}

/// `column` references `to_table.to_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub column: String,
    pub to_table: String,
    pub to_column: String,
}

/// One table of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The leading key of each index, normalised: `email`, or `lower(email)` for an
    /// expression index.
    pub index_leads: Vec<String>,
    pub can_select: bool,
    pub can_update: bool,
    pub can_delete: bool,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// Whether an index starts with `column` (or with `lower(column)` when `lower`).
    pub fn indexed(&self, column: &str, lower: bool) -> bool {
        let c = column.to_ascii_lowercase();
        let want = if lower { format!("lower({c})") } else { c };
        self.index_leads.contains(&want)
    }
}

/// The tables of a database (its current schema on PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub tables: Vec<TableInfo>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// An index's leading expression as the engines print it (`lower((email)::text)`,
/// `LOWER("email")`, `` `email` ``), reduced to `lower(email)` or `email`.
pub(crate) fn normalise_index_expr(expr: &str) -> String {
    let mut s: String = expr
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | ' ' | '\n' | '\t'))
        .collect::<String>()
        .to_ascii_lowercase();
    for cast in ["::text", "::charactervarying", "::varchar"] {
        s = s.replace(cast, "");
    }
    // `lower((email))` → `lower(email)`
    while s.contains("((") && s.contains("))") {
        s = s.replacen("((", "(", 1).replacen("))", ")", 1);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::normalise_index_expr as n;

    #[test]
    fn index_expressions_normalise() {
        assert_eq!(n("lower((email)::text)"), "lower(email)");
        assert_eq!(n("LOWER(\"email\")"), "lower(email)");
        assert_eq!(n("`email`"), "email");
        assert_eq!(n("lower(email)"), "lower(email)");
    }
}
