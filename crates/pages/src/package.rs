//! The readable page of an access package (`index.html`, beside `data.json` and one CSV per
//! table): for each table where the person's data was found, where it comes from (the
//! datastore and table), the category of each column, the purpose and the retention that
//! apply, and the rows themselves. The application layer gathers the data; this module only
//! renders it.
//!
//! Invariants: every value is escaped by the template; the page says so plainly when nothing
//! was found, and when Assent's own records were not searched.

use askama::Template;

use crate::i18n::{Texts, texts};

/// One table of the package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageTable {
    /// The datastore id (or "assent" for Assent's own records).
    pub source: String,
    pub table: String,
    /// The purpose's name in the page's language, if the table names one.
    pub purpose: Option<String>,
    /// The retention rule in words ("Invoices: 10 years after the end of the contract").
    pub retention: Option<String>,
    /// Column names with their data category, if annotated.
    pub columns: Vec<(String, Option<String>)>,
    pub rows: Vec<Vec<String>>,
    /// The CSV file of this table in the package.
    pub csv: String,
    /// Kept for a legal obligation: restricted, not erased on request.
    pub legal_hold: bool,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageView {
    pub controller: String,
    /// When the package was made, in words.
    pub generated: String,
    pub tables: Vec<PackageTable>,
    /// Whether Assent's own records (consents, requests) were searched.
    pub own_searched: bool,
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage<'a> {
    t: &'static Texts,
    lang: &'static str,
    v: &'a PackageView,
    intro: String,
    generated: String,
    found: Vec<&'a PackageTable>,
}

/// The package's `index.html` in `lang` (French, English, German; English otherwise).
pub fn package_index(lang: &str, view: &PackageView) -> String {
    let t = texts(lang);
    let page = PackagePage {
        t,
        lang: t.lang(),
        v: view,
        intro: t.fill("pkg.intro", &[("controller", &view.controller)]),
        generated: t.fill("pkg.generated", &[("when", &view.generated)]),
        found: view.tables.iter().filter(|x| !x.rows.is_empty()).collect(),
    };
    page.render().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(rows: Vec<Vec<String>>) -> PackageView {
        PackageView {
            controller: "Shop <SAS>".into(),
            generated: "2026-12-03 13:00 UTC".into(),
            tables: vec![PackageTable {
                source: "shop".into(),
                table: "customers".into(),
                purpose: None,
                retention: Some("Invoices: 10 years".into()),
                columns: vec![("full_name".into(), Some("identity".into()))],
                rows,
                csv: "shop.customers.csv".into(),
                legal_hold: false,
            }],
            own_searched: false,
        }
    }

    #[test]
    fn values_are_escaped_and_an_empty_package_says_so() {
        let html = package_index("en", &view(vec![vec!["<script>alert(1)</script>".into()]]));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&#60;script&#62;"));
        assert!(html.contains("Shop &#60;SAS&#62;"));
        assert!(html.contains("Invoices: 10 years"));
        let fr = package_index("fr", &view(vec![]));
        assert!(fr.contains("Aucune donnée vous concernant"));
        assert!(fr.contains("n&#39;ont pas été recherchées"));
        assert!(!fr.contains("No data"));
    }
}
