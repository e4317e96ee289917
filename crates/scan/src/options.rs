//! How to scan ([`ScanOptions`]), why a scan can fail ([`ScanError`]), and the selectors of
//! Assent's own banner, tried after a site's custom ones.

use std::path::PathBuf;
use std::time::Duration;

use assent_cdp::CdpError;

use crate::catalog::Catalog;
use crate::progress::ProgressFn;
use crate::report::Scenario;

/// Assent's banner buttons and manage link.
pub const ASSENT_ACCEPT: &str = "[data-assent-action=\"accept-all\"]";
/// Assent's "refuse all" button.
pub const ASSENT_REJECT: &str = "[data-assent-action=\"reject-all\"]";
/// Assent's "manage my choices" link.
pub const ASSENT_MANAGE: &str = "[data-assent-manage]";
/// Assent's "customize" button (a refusal may go through it, then "save").
pub(crate) const ASSENT_CUSTOMIZE: &str = "[data-assent-action=\"customize\"]";
/// Assent's "save my choices" button.
pub(crate) const ASSENT_SAVE: &str = "[data-assent-action=\"save\"]";

/// How to scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Pages crawled per scenario (after the choice, for the scenarios that make one).
    pub max_pages: usize,
    /// Scenarios to run (all four by default).
    pub scenarios: Vec<Scenario>,
    /// Known-cookie catalog (built-in by default).
    pub catalog: Catalog,
    /// CSS selector of another banner's "accept all" (tried before Assent's).
    pub accept_selector: Option<String>,
    /// CSS selector of another banner's "refuse all".
    pub reject_selector: Option<String>,
    /// CSS selector of another banner's "manage choices" link.
    pub manage_selector: Option<String>,
    /// Chromium executable (default: see [`assent_cdp::LaunchOptions::executable`]).
    pub chromium: Option<PathBuf>,
    /// `--host-resolver-rules` for the browser (tests map names to loopback addresses).
    pub host_resolver_rules: Option<String>,
    /// More Chromium flags.
    pub extra_args: Vec<String>,
    /// How long to wait for a banner control to become visible.
    pub banner_timeout: Duration,
    /// Quiet network time after which a page counts as settled.
    pub settle: Duration,
    /// Upper bound of the wait for a quiet network.
    pub max_settle: Duration,
    /// Upper bound of one page load.
    pub page_timeout: Duration,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("max_pages", &self.max_pages)
            .field("scenarios", &self.scenarios)
            .field("catalog_entries", &self.catalog.len())
            .field("accept_selector", &self.accept_selector)
            .field("reject_selector", &self.reject_selector)
            .field("manage_selector", &self.manage_selector)
            .field("chromium", &self.chromium)
            .field("host_resolver_rules", &self.host_resolver_rules)
            .field("banner_timeout", &self.banner_timeout)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_pages: 10,
            scenarios: Scenario::ALL.to_vec(),
            catalog: Catalog::builtin(),
            accept_selector: None,
            reject_selector: None,
            manage_selector: None,
            chromium: None,
            host_resolver_rules: None,
            extra_args: Vec::new(),
            banner_timeout: Duration::from_secs(5),
            settle: Duration::from_millis(250),
            max_settle: Duration::from_secs(5),
            page_timeout: Duration::from_secs(20),
            progress: None,
        }
    }
}

/// Why a scan could not produce a report (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The URL is not an absolute http(s) URL.
    #[error("not an absolute http(s) URL: {0}")]
    InvalidUrl(String),
    /// Chromium could not be started or driven.
    #[error(transparent)]
    Browser(#[from] CdpError),
    /// The start page could not be loaded in any scenario.
    #[error("cannot load {url}: {error}")]
    Unreachable {
        /// The start URL.
        url: String,
        /// Chromium's error.
        error: String,
    },
}

impl ScanError {
    /// Process exit code for CI.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// The selectors to try, in order: the site's own (if any), then Assent's.
pub(crate) fn selectors(custom: &Option<String>, assent: &str) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = custom
        && !c.trim().is_empty()
    {
        v.push(c.trim().to_owned());
    }
    v.push(assent.to_owned());
    v
}
