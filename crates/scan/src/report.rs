//! The scan report: findings first, then what was observed per scenario.
//!
//! The JSON form is documented in `docs/scanner.md`; keep the two in step (`schema` changes
//! when a field's meaning changes). The HTML form is `Report::to_html`, in `html.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Category;

/// The schema identifier written in every report.
pub const SCHEMA: &str = "assent-scan-report/1";

/// The four situations a site is audited in, each from a fresh browser profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// No interaction with the banner.
    BeforeConsent,
    /// After clicking "accept all".
    AcceptAll,
    /// After clicking "refuse all".
    RejectAll,
    /// After accepting, then refusing through the "manage cookies" link.
    Withdrawal,
}

impl Scenario {
    /// All scenarios, in report order.
    pub const ALL: [Scenario; 4] = [
        Scenario::BeforeConsent,
        Scenario::AcceptAll,
        Scenario::RejectAll,
        Scenario::Withdrawal,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::BeforeConsent => "before_consent",
            Scenario::AcceptAll => "accept_all",
            Scenario::RejectAll => "reject_all",
            Scenario::Withdrawal => "withdrawal",
        }
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::BeforeConsent => "Before consent",
            Scenario::AcceptAll => "After accept all",
            Scenario::RejectAll => "After refuse all",
            Scenario::Withdrawal => "Withdrawal (accept, then refuse)",
        }
    }
}

/// When, within a scenario, something was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before any click on the banner.
    BeforeChoice,
    /// After the accept/refuse click (in `withdrawal`: after accepting).
    AfterChoice,
    /// In `withdrawal`, after refusing through the manage link.
    AfterWithdrawal,
}

impl Phase {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::BeforeChoice => "before_choice",
            Phase::AfterChoice => "after_choice",
            Phase::AfterWithdrawal => "after_withdrawal",
        }
    }
}

/// The kinds of findings. All are violations except `declared_on_other_domain` and
/// `declared_not_seen` (information).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A tracker that needs consent was present before any choice.
    SetBeforeConsent,
    /// A tracker that needs consent was present after "refuse all".
    SetAfterRefusal,
    /// A tracker that needs consent was still present after consent was withdrawn.
    KeptAfterWithdrawal,
    /// A cookie or storage key that matches no declaration.
    Undeclared,
    /// Its lifetime is longer than the declared one.
    LifetimeExceedsDeclared,
    /// Its lifetime is longer than 13 months.
    #[serde(rename = "lifetime_over_13_months")]
    LifetimeOver13Months,
    /// A third-party host was contacted before any choice.
    ThirdPartyRequestBeforeConsent,
    /// A cookie matched a declaration by name only: it was seen on another domain than the
    /// declared one (a test or staging host; information).
    DeclaredOnOtherDomain,
    /// A declared tracker was never observed (information).
    DeclaredNotSeen,
}

impl FindingKind {
    /// All kinds, in report order.
    pub const ALL: [FindingKind; 9] = [
        FindingKind::SetBeforeConsent,
        FindingKind::SetAfterRefusal,
        FindingKind::KeptAfterWithdrawal,
        FindingKind::ThirdPartyRequestBeforeConsent,
        FindingKind::Undeclared,
        FindingKind::LifetimeExceedsDeclared,
        FindingKind::LifetimeOver13Months,
        FindingKind::DeclaredOnOtherDomain,
        FindingKind::DeclaredNotSeen,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::SetBeforeConsent => "set_before_consent",
            FindingKind::SetAfterRefusal => "set_after_refusal",
            FindingKind::KeptAfterWithdrawal => "kept_after_withdrawal",
            FindingKind::Undeclared => "undeclared",
            FindingKind::LifetimeExceedsDeclared => "lifetime_exceeds_declared",
            FindingKind::LifetimeOver13Months => "lifetime_over_13_months",
            FindingKind::ThirdPartyRequestBeforeConsent => "third_party_request_before_consent",
            FindingKind::DeclaredOnOtherDomain => "declared_on_other_domain",
            FindingKind::DeclaredNotSeen => "declared_not_seen",
        }
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::SetBeforeConsent => "Set before consent",
            FindingKind::SetAfterRefusal => "Set after refusal",
            FindingKind::KeptAfterWithdrawal => "Kept after withdrawal",
            FindingKind::Undeclared => "Undeclared",
            FindingKind::LifetimeExceedsDeclared => "Lifetime exceeds the declared one",
            FindingKind::LifetimeOver13Months => "Lifetime over 13 months",
            FindingKind::ThirdPartyRequestBeforeConsent => "Third-party request before consent",
            FindingKind::DeclaredOnOtherDomain => "Declared on another domain",
            FindingKind::DeclaredNotSeen => "Declared but not seen",
        }
    }

    /// Violation or information.
    pub fn severity(self) -> Severity {
        match self {
            FindingKind::DeclaredNotSeen | FindingKind::DeclaredOnOtherDomain => Severity::Info,
            _ => Severity::Violation,
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Makes the scan fail (exit code 1).
    Violation,
    /// Reported, does not fail the scan.
    Info,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A cookie.
    Cookie,
    /// A `localStorage` key.
    LocalStorage,
    /// A `sessionStorage` key.
    SessionStorage,
    /// A network request (the `name` is the host).
    Request,
    /// A declaration of the inventory (the `name` is the declared pattern).
    Declaration,
}

impl Subject {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Cookie => "cookie",
            Subject::LocalStorage => "local_storage",
            Subject::SessionStorage => "session_storage",
            Subject::Request => "request",
            Subject::Declaration => "declaration",
        }
    }
}

/// Who wrote a cookie or storage key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    /// `response` (a `Set-Cookie` header), `script` (`document.cookie`, `cookieStore` or the
    /// Storage API, attributed through the stack), or `inline` (a script with no URL of its
    /// own: the document's URL is given).
    pub kind: String,
    /// The response URL or the script URL.
    pub url: String,
}

/// The declaration an observed item matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRef {
    /// The declared name or pattern.
    pub pattern: String,
    /// The declared purpose.
    pub purpose: String,
    /// Whether that purpose needs consent.
    pub consent_required: bool,
    /// Declared lifetime in seconds (`null`: session).
    pub lifetime_seconds: Option<i64>,
    /// Declared service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The declared domain, when the item was seen on another one and matched by name only
    /// (a page served from a test host): reported as `declared_on_other_domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_domain: Option<String>,
}

/// A catalog classification of an observed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The catalog name or prefix that matched.
    pub matched: String,
    /// Platform or vendor.
    pub platform: String,
    /// Category.
    pub category: Category,
    /// Usual lifetime, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_lifetime: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `builtin` or the catalog file name.
    pub source: String,
}

/// One finding, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What is wrong.
    pub kind: FindingKind,
    /// Violation or information.
    pub severity: Severity,
    /// The scenario it was observed in (the first one, for scenario-independent kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Scenario>,
    /// Every scenario it was observed in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<Scenario>,
    /// What it is about.
    pub subject: Subject,
    /// Cookie name, storage key, host, or declared pattern.
    pub name: String,
    /// Cookie domain or storage origin host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The page on which it was first observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// A sentence explaining the finding.
    pub message: String,
    /// Who wrote it, where known (the first five distinct writers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_by: Vec<Source>,
    /// Its lifetime in seconds as requested by the site (or stored, when unknown); `null` for
    /// session cookies or when irrelevant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<i64>,
    /// The matching declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<DeclaredRef>,
    /// The catalog classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// For requests: the first URL seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For requests: how many were seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

/// A visited page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageVisit {
    /// The URL (or a label such as `... (after clicking accept-all)` for post-click snapshots).
    pub url: String,
    /// When in the scenario.
    pub phase: Phase,
    /// HTTP status of the document, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it could not be loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A cookie observed in the browser's cookie store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CookieRecord {
    /// Name.
    pub name: String,
    /// Domain as stored (leading dot: domain cookie).
    pub domain: String,
    /// Path.
    pub path: String,
    /// Whether it belongs to the audited site's domains.
    pub first_party: bool,
    /// HttpOnly flag.
    pub http_only: bool,
    /// Secure flag.
    pub secure: bool,
    /// SameSite attribute, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<String>,
    /// Session cookie.
    pub session: bool,
    /// Expiry, epoch milliseconds (`null`: session).
    pub expires_at_ms: Option<i64>,
    /// Lifetime left when first observed, in seconds (`null`: session). Chromium caps stored
    /// lifetimes at 400 days.
    pub stored_lifetime_seconds: Option<i64>,
    /// Lifetime the site asked for (`Max-Age`/`Expires` of the writing header or script), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_lifetime_seconds: Option<i64>,
    /// When in the scenario it was present.
    pub phases: Vec<Phase>,
    /// The page after which it was first seen.
    pub first_seen_on: String,
    /// Who wrote it, where known (the first five distinct writers).
    pub set_by: Vec<Source>,
    /// The matching declaration, if any.
    pub declared: Option<DeclaredRef>,
    /// The catalog classification, if any.
    pub classification: Option<Classification>,
    /// Whether it needs consent (from its declaration, else from its catalog category; unknown
    /// cookies do).
    pub needs_consent: bool,
}

/// A `localStorage` or `sessionStorage` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageRecord {
    /// `local_storage` or `session_storage`.
    pub kind: Subject,
    /// The key.
    pub name: String,
    /// The origin's host.
    pub host: String,
    /// Whether it belongs to the audited site.
    pub first_party: bool,
    /// When in the scenario it was present.
    pub phases: Vec<Phase>,
    /// The page after which it was first seen.
    pub first_seen_on: String,
    /// Which script wrote it, where known.
    pub set_by: Vec<Source>,
    /// The matching declaration, if any.
    pub declared: Option<DeclaredRef>,
    /// The catalog classification, if any.
    pub classification: Option<Classification>,
    /// Whether it needs consent.
    pub needs_consent: bool,
}

/// A `Set-Cookie` the browser refused (e.g. `SameSite=None` without `Secure`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedCookie {
    /// Cookie name.
    pub name: String,
    /// Domain it was for (the `Domain` attribute, else the response's host).
    pub domain: String,
    /// Chromium's reasons (`SecureOnly`, `SameSiteUnspecifiedTreatedAsLax`...).
    pub reasons: Vec<String>,
    /// The response URL.
    pub url: String,
    /// The page being visited.
    pub page: String,
    /// When in the scenario.
    pub phase: Phase,
}

/// Requests to one third-party host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThirdPartyHost {
    /// The host.
    pub host: String,
    /// When in the scenario it was first contacted.
    pub first_phase: Phase,
    /// All phases it was contacted in.
    pub phases: Vec<Phase>,
    /// Number of requests.
    pub count: usize,
    /// The first URL requested.
    pub first_url: String,
    /// The page that made the first request.
    pub first_page: String,
    /// Resource types (`Script`, `Image`, `Ping`, `XHR`...).
    pub types: Vec<String>,
    /// Whether the inventory allows it before consent.
    pub allowed_before_consent: bool,
}

/// What happened with the consent banner in one scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BannerOutcome {
    /// Whether a banner control could be found (for `before_consent`: whether an accept button
    /// was visible).
    pub found: bool,
    /// The selectors clicked, in order.
    pub clicked: Vec<String>,
    /// Why the scenario could not click what it needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything observed in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: Scenario,
    /// How long it took.
    pub duration_ms: u64,
    /// Banner interaction.
    pub banner: BannerOutcome,
    /// Visited pages and post-click snapshots, in order.
    pub pages: Vec<PageVisit>,
    /// Cookies in the browser's store (HttpOnly and third-party included).
    pub cookies: Vec<CookieRecord>,
    /// Storage keys.
    pub storage: Vec<StorageRecord>,
    /// Cookies the browser refused to store.
    pub blocked_cookies: Vec<BlockedCookie>,
    /// Third-party hosts contacted.
    pub third_party_requests: Vec<ThirdPartyHost>,
    /// Anything that went wrong or is worth knowing.
    pub notes: Vec<String>,
}

/// Counts for the top of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// No violation.
    pub clean: bool,
    /// Number of violations.
    pub violations: usize,
    /// Number of informational findings.
    pub info: usize,
    /// Findings per kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Page loads, all scenarios together.
    pub pages_visited: usize,
    /// Distinct cookies (name, domain) over all scenarios.
    pub distinct_cookies: usize,
    /// Third-party hosts contacted, all scenarios.
    pub third_party_hosts: Vec<String>,
    /// Whether a consent banner was found: seen by the before-consent scenario, or clicked.
    pub banner_found: bool,
}

/// Options that shaped the scan, recorded for reproducibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Page limit per scenario.
    pub max_pages: usize,
    /// Scenarios run.
    pub scenarios: Vec<Scenario>,
    /// Selectors tried to accept.
    pub accept_selectors: Vec<String>,
    /// Selectors tried to refuse.
    pub reject_selectors: Vec<String>,
    /// Selectors tried to open the preferences.
    pub manage_selectors: Vec<String>,
    /// Catalog size.
    pub catalog_entries: usize,
}

/// A complete scan report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// The scanned URL.
    pub url: String,
    /// When the scan started, epoch milliseconds, by the browser's clock.
    pub started_at_ms: i64,
    /// Total duration.
    pub duration_ms: u64,
    /// Browser product and version.
    pub browser: String,
    /// Options.
    pub options: ReportOptions,
    /// Counts.
    pub summary: Summary,
    /// Notes for the reader (e.g. no banner could be clicked).
    pub notes: Vec<String>,
    /// Violations, then information.
    pub findings: Vec<Finding>,
    /// What was observed, per scenario.
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// The terminal summary: one line per finding, the notes, then the counts.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for f in &self.findings {
            let tag = match f.severity {
                Severity::Violation => "VIOLATION",
                Severity::Info => "info",
            };
            let _ = writeln!(
                out,
                "{tag:9} {:34} {:15} {}",
                f.kind.as_str(),
                f.scenario.map(|s| s.as_str()).unwrap_or("-"),
                f.message
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let _ = writeln!(
            out,
            "{} violation(s), {} note(s) of information; {} page loads in {:.1} s",
            self.summary.violations,
            self.summary.info,
            self.summary.pages_visited,
            self.duration_ms as f64 / 1000.0
        );
        out
    }

    /// Whether any finding is a violation.
    pub fn has_violations(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Violation)
    }

    /// Process exit code for CI: 0 clean, 1 violations (2 is for errors: `ScanError`).
    pub fn exit_code(&self) -> i32 {
        if self.has_violations() { 1 } else { 0 }
    }

    /// The findings of one kind.
    pub fn findings_of(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// Pretty-printed JSON (schema in `docs/scanner.md`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
    }

    /// Reads a report back from its JSON.
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_as_str() {
        for k in FindingKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in Scenario::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for p in [
            Phase::BeforeChoice,
            Phase::AfterChoice,
            Phase::AfterWithdrawal,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for s in [
            Subject::Cookie,
            Subject::LocalStorage,
            Subject::SessionStorage,
            Subject::Request,
            Subject::Declaration,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
