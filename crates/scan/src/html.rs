//! The HTML report: one self-contained page (inline CSS, no script), rendered from the askama
//! templates under `templates/` (`report.html`, which includes `scenario.html` per scenario and
//! uses the pieces of `macros.html`; the style is `report.css`).
//!
//! Invariant: every value from the report reaches the page through the templates'
//! auto-escaping (the templates are `.html`); nothing is marked safe. This file only prepares
//! the values (texts, counts, groups); the markup is in the templates. Backticks in messages
//! and notes become `<code>`: the text is split on them here and each part escaped there.

use askama::Template;

use crate::dates::{format_utc, human_duration};
use crate::report::{
    CookieRecord, Finding, FindingKind, Report, Scenario, ScenarioReport, Severity,
};

impl Report {
    /// A self-contained HTML page: summary, violations with evidence, then the inventory.
    pub fn to_html(&self) -> String {
        ReportPage::new(self).render().unwrap_or_else(|e| {
            // Only a failing `Display` can get here, and ours do not fail; still, no panic.
            format!("<!doctype html><title>Cookie audit</title><p>The report could not be rendered: {e}.</p>")
        })
    }
}

/// A stretch of a message: code (between backticks) or plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    code: bool,
    text: String,
}

/// Splits `s` on backticks: odd stretches are code. A backtick without its closing one stays
/// text, as written.
fn spans(s: &str) -> Vec<Span> {
    let parts: Vec<&str> = s.split('`').collect();
    // n parts = n - 1 backticks; with an odd number of them the last one is unpaired.
    let paired = if parts.len() % 2 == 1 {
        parts.len()
    } else {
        parts.len() - 1
    };
    let mut out: Vec<Span> = parts[..paired]
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| Span {
            code: i % 2 == 1,
            text: (*p).to_owned(),
        })
        .collect();
    if let Some(rest) = parts.get(paired) {
        out.push(Span {
            code: false,
            text: format!("`{rest}"),
        });
    }
    out
}

/// A lifetime for humans (`730 days`, `session`), as the templates call it: they pass fields
/// by reference.
fn lifetime(secs: &Option<i64>) -> String {
    human_duration(*secs)
}

/// Seconds with one decimal, from milliseconds.
fn seconds(ms: u64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    r: &'a Report,
    started: String,
    duration: String,
    scenario_list: String,
    cards: Vec<Card>,
    notes: Vec<Vec<Span>>,
    violations: Vec<Group<'a>>,
    info: Vec<Group<'a>>,
    scenarios: Vec<ScenarioView<'a>>,
}

/// One count at the top, per finding kind.
struct Card {
    n: usize,
    label: &'static str,
    /// A violation kind that occurred.
    hot: bool,
}

/// The findings of one kind and severity.
struct Group<'a> {
    kind: FindingKind,
    findings: Vec<FindingView<'a>>,
}

struct FindingView<'a> {
    f: &'a Finding,
    message: Vec<Span>,
}

struct ScenarioView<'a> {
    r: &'a ScenarioReport,
    duration: String,
    notes: Vec<Vec<Span>>,
    cookies: Vec<CookieView<'a>>,
}

struct CookieView<'a> {
    c: &'a CookieRecord,
    /// The lifetime left when first seen.
    stored: String,
    /// What the site asked for, when it was clearly more (Chromium caps lifetimes).
    asked: Option<String>,
}

impl<'a> ReportPage<'a> {
    fn new(r: &'a Report) -> Self {
        let cards = FindingKind::ALL
            .iter()
            .map(|kind| {
                let n = r.summary.by_kind.get(kind.as_str()).copied().unwrap_or(0);
                Card {
                    n,
                    label: kind.title(),
                    hot: n > 0 && kind.severity() == Severity::Violation,
                }
            })
            .collect();
        ReportPage {
            r,
            started: format_utc(r.started_at_ms),
            duration: seconds(r.duration_ms),
            scenario_list: r
                .options
                .scenarios
                .iter()
                .map(|s| s.title())
                .collect::<Vec<_>>()
                .join(", "),
            cards,
            notes: r.notes.iter().map(|n| spans(n)).collect(),
            violations: groups(&r.findings, Severity::Violation),
            info: groups(&r.findings, Severity::Info),
            scenarios: r.scenarios.iter().map(ScenarioView::new).collect(),
        }
    }
}

/// The findings of `severity`, grouped by kind in report order; empty groups left out.
fn groups(findings: &[Finding], severity: Severity) -> Vec<Group<'_>> {
    FindingKind::ALL
        .iter()
        .map(|&kind| Group {
            kind,
            findings: findings
                .iter()
                .filter(|f| f.severity == severity && f.kind == kind)
                .map(|f| FindingView {
                    f,
                    message: spans(&f.message),
                })
                .collect(),
        })
        .filter(|g| !g.findings.is_empty())
        .collect()
}

impl<'a> ScenarioView<'a> {
    fn new(s: &'a ScenarioReport) -> Self {
        let mut notes: Vec<Vec<Span>> = Vec::new();
        if s.scenario == Scenario::BeforeConsent && s.banner.found {
            notes.push(vec![Span {
                code: false,
                text: "Consent banner found (this scenario never clicks it).".into(),
            }]);
        }
        if !s.banner.clicked.is_empty() {
            notes.push(vec![Span {
                code: false,
                text: format!("Clicked: {}", s.banner.clicked.join(", then ")),
            }]);
        }
        notes.extend(s.banner.note.iter().chain(&s.notes).map(|n| spans(n)));
        ScenarioView {
            r: s,
            duration: seconds(s.duration_ms),
            notes,
            cookies: s.cookies.iter().map(CookieView::new).collect(),
        }
    }
}

impl<'a> CookieView<'a> {
    fn new(c: &'a CookieRecord) -> Self {
        let asked = c
            .requested_lifetime_seconds
            .filter(|req| c.stored_lifetime_seconds.is_none_or(|s| *req > s + 60))
            .map(|req| human_duration(Some(req)));
        CookieView {
            c,
            stored: human_duration(c.stored_lifetime_seconds),
            asked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Category;
    use crate::report::{
        BannerOutcome, BlockedCookie, Classification, DeclaredRef, PageVisit, Phase, ReportOptions,
        Scenario, Source, StorageRecord, Subject, Summary, ThirdPartyHost,
    };

    const HOSTILE: &str = "<script>alert('x')</script>\"&";

    /// A report with `HOSTILE` in every text field the page shows.
    fn hostile_report() -> Report {
        let h = || HOSTILE.to_owned();
        let source = Source {
            kind: h(),
            url: h(),
        };
        let declared = DeclaredRef {
            pattern: h(),
            purpose: h(),
            consent_required: true,
            lifetime_seconds: Some(3600),
            service: Some(h()),
            declared_domain: Some(h()),
        };
        let classification = Classification {
            matched: h(),
            platform: h(),
            category: Category::Marketing,
            typical_lifetime: Some(h()),
            description: Some(h()),
            source: h(),
        };
        let finding = |kind: FindingKind| Finding {
            kind,
            severity: kind.severity(),
            scenario: Some(Scenario::BeforeConsent),
            scenarios: vec![Scenario::BeforeConsent],
            subject: Subject::Cookie,
            name: h(),
            domain: Some(h()),
            page: Some(h()),
            message: format!("Cookie `{HOSTILE}` on {HOSTILE}."),
            set_by: vec![source.clone()],
            lifetime_seconds: Some(86_400),
            declared: Some(declared.clone()),
            classification: Some(classification.clone()),
            url: Some(h()),
            count: Some(1),
        };
        let cookie = CookieRecord {
            name: h(),
            domain: h(),
            path: h(),
            first_party: false,
            http_only: true,
            secure: true,
            same_site: Some(h()),
            session: false,
            expires_at_ms: Some(1),
            stored_lifetime_seconds: Some(60),
            requested_lifetime_seconds: Some(86_400),
            phases: vec![Phase::BeforeChoice],
            first_seen_on: h(),
            set_by: vec![source.clone()],
            declared: Some(declared.clone()),
            classification: Some(classification.clone()),
            needs_consent: true,
        };
        let scenario = ScenarioReport {
            scenario: Scenario::BeforeConsent,
            duration_ms: 1500,
            banner: BannerOutcome {
                found: true,
                clicked: vec![h()],
                note: Some(h()),
            },
            pages: vec![PageVisit {
                url: h(),
                phase: Phase::BeforeChoice,
                status: None,
                error: Some(h()),
            }],
            cookies: vec![cookie],
            storage: vec![StorageRecord {
                kind: Subject::LocalStorage,
                name: h(),
                host: h(),
                first_party: true,
                phases: vec![Phase::BeforeChoice],
                first_seen_on: h(),
                set_by: vec![source.clone()],
                declared: None,
                classification: Some(classification.clone()),
                needs_consent: true,
            }],
            blocked_cookies: vec![BlockedCookie {
                name: h(),
                domain: h(),
                reasons: vec![h()],
                url: h(),
                page: h(),
                phase: Phase::BeforeChoice,
            }],
            third_party_requests: vec![ThirdPartyHost {
                host: h(),
                first_phase: Phase::BeforeChoice,
                phases: vec![Phase::BeforeChoice],
                count: 2,
                first_url: h(),
                first_page: h(),
                types: vec![h()],
                allowed_before_consent: false,
            }],
            notes: vec![h()],
        };
        Report {
            schema: h(),
            url: h(),
            started_at_ms: 0,
            duration_ms: 2500,
            browser: h(),
            options: ReportOptions {
                max_pages: 1,
                scenarios: vec![Scenario::BeforeConsent],
                accept_selectors: vec![h()],
                reject_selectors: vec![h()],
                manage_selectors: vec![h()],
                catalog_entries: 0,
            },
            summary: Summary {
                clean: false,
                violations: 1,
                info: 1,
                by_kind: [("set_before_consent".to_owned(), 1)].into(),
                pages_visited: 1,
                distinct_cookies: 1,
                third_party_hosts: vec![h()],
                banner_found: true,
            },
            notes: vec![h(), format!("note with `{HOSTILE}`")],
            findings: vec![
                finding(FindingKind::SetBeforeConsent),
                finding(FindingKind::DeclaredNotSeen),
            ],
            scenarios: vec![scenario],
        }
    }

    #[test]
    fn hostile_values_are_escaped_everywhere() {
        let html = hostile_report().to_html();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert('x')"));
        assert!(!html.contains("\"&"));
        // Every field shows up, escaped: the title, the meta line, two findings with their
        // name, domain, page, message, source, declaration and catalog entry, the notes, and
        // every column of the inventory.
        let escaped = "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#34;&#38;";
        assert!(html.matches(escaped).count() >= 40, "{html}");
        // Backticks in messages and notes are code, with the code escaped too.
        assert!(html.contains(&format!("Cookie <code>{escaped}</code> on {escaped}.")));
        assert!(html.contains(&format!("note with <code>{escaped}</code>")));
        // Numbers and fixed texts are as before.
        assert!(html.contains("1 violation found."));
        assert!(html.contains("2.5 s &middot; 1 page loads"));
        assert!(html.contains("60 seconds <span class=\"small\">(asked 24 hours)</span>"));
    }

    #[test]
    fn backticks_split_into_code() {
        let s = |code, text: &str| Span {
            code,
            text: text.to_owned(),
        };
        assert_eq!(
            spans("Cookie `_ga` on x"),
            [s(false, "Cookie "), s(true, "_ga"), s(false, " on x")]
        );
        assert_eq!(spans("`a``b`"), [s(true, "a"), s(true, "b")]);
        assert_eq!(spans("odd `one"), [s(false, "odd "), s(false, "`one")]);
        assert_eq!(
            spans("a `b` c `d"),
            [
                s(false, "a "),
                s(true, "b"),
                s(false, " c "),
                s(false, "`d")
            ]
        );
        assert_eq!(spans(""), []);
        assert_eq!(spans("`"), [s(false, "`")]);
    }
}
