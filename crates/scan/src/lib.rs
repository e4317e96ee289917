//! Assent's cookie scanner: audits a live site in Chromium against its declared inventory.
//!
//! One browser, four scenarios run concurrently, each in its own browser context (a fresh
//! cookie jar, third-party cookies allowed): **before consent**, **after accept all**,
//! **after refuse all**, and **withdrawal** (accept, then refuse through the manage link).
//! Each crawls up to `max_pages` same-site pages breadth-first and records every cookie in the
//! browser's store (HttpOnly and third-party included) with who set it, cookies the browser
//! refused, storage keys, and requests to third-party hosts. The observations are compared with
//! the [`Declared`] inventory and classified with a [`Catalog`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), assent_scan::ScanError> {
//! use assent_scan::{Declared, ScanOptions, scan};
//! let declared: Declared = serde_json::from_str(r#"{"site_hosts": ["www.example.com"]}"#).unwrap();
//! let report = scan("https://www.example.com/", &declared, ScanOptions::default()).await?;
//! std::fs::write("report.html", report.to_html()).ok();
//! std::process::exit(report.exit_code());
//! # }
//! ```
//!
//! This crate does not depend on the server: the CLI converts the registry into a
//! [`Declared`].
//!
//! Module order: each file uses only the ones before it (no import cycles), and `lib.rs` only
//! declares and re-exports them.
//! - `url` (parsing, site scope) → `catalog`, `declared` (the inputs) → `report` (the report's
//!   types and its JSON) → `dates`, `cookie_line` (text formats) → `observed` (raw
//!   observations of one scenario) → `progress` → `options`;
//! - then the pipeline: `monitor` (protocol events of a page) → `collect` (drives the browser,
//!   fills `observed`) → `analyze` (observations to inventory) → `rules` (inventory to
//!   findings) → `html` (the HTML report, from `templates/`) → `run` (the [`scan`] function,
//!   which calls collect, analyze and rules in turn).

mod analyze;
pub mod catalog;
mod collect;
mod cookie_line;
mod dates;
mod declared;
mod html;
mod monitor;
mod observed;
mod options;
pub mod progress;
pub mod report;
mod rules;
mod run;
pub mod url;

pub use catalog::{Catalog, CatalogEntry, CatalogError, Category};
pub use dates::human_duration;
pub use declared::{Declared, DeclaredCookie, DeclaredPurpose};
pub use options::{ASSENT_ACCEPT, ASSENT_MANAGE, ASSENT_REJECT, ScanError, ScanOptions};
pub use progress::{ProgressEvent, ProgressFn};
pub use report::{Finding, FindingKind, Phase, Report, Scenario, Severity, Subject};
pub use rules::THIRTEEN_MONTHS_SECONDS;
pub use run::scan;
