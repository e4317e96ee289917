//! End-to-end scans of fixture sites in Debian's Chromium. These tests fail (never skip) when
//! Chromium is missing.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod fixtures;

use std::collections::BTreeSet;
use std::time::Duration;

use assent_scan::{Declared, FindingKind, Report, ScanOptions, Scenario, Severity, Subject, scan};
use assent_testkit::require_chromium;
use fixtures::{Kind, PAGES};

/// Scans run one at a time: each already drives four pages in parallel, and the timing
/// assertion must not measure the other tests.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn options(site: &fixtures::Site) -> ScanOptions {
    ScanOptions {
        host_resolver_rules: Some(site.rules.clone()),
        banner_timeout: Duration::from_secs(3),
        ..ScanOptions::default()
    }
}

fn triples(r: &Report) -> BTreeSet<(String, String, String)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.kind.as_str().to_owned(),
                f.scenario
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                f.name.clone(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

/// Starts a scanning test: Chromium must be there (else the test fails), and scans run one at a
/// time.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    require_chromium();
    ONE_AT_A_TIME.lock().await
}

/// Starts a scanning test of the fixture site of `kind` (see [`exclusive`]).
async fn exclusive_site(kind: Kind) -> (tokio::sync::MutexGuard<'static, ()>, fixtures::Site) {
    let one = exclusive().await;
    (one, fixtures::serve_site(kind).await)
}

/// Scans a fixture site, which must give a report, and keeps the report as `name`.
async fn scan_saved(
    name: &str,
    site: &fixtures::Site,
    declared: &Declared,
    opts: ScanOptions,
) -> Report {
    let report = scan(&site.url, declared, opts).await.unwrap();
    save(name, &report);
    report
}

fn save(name: &str, r: &Report) {
    // Keep the reports for inspection: target/scan-reports/NAME.{json,html}.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/scan-reports");
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| std::path::PathBuf::from(d).join("scan-reports"))
        .unwrap_or(dir);
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{name}.json")), r.to_json());
    let _ = std::fs::write(dir.join(format!("{name}.html")), r.to_html());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliant_site_is_clean_and_fast() {
    let (_one, site) = exclusive_site(Kind::Compliant).await;
    let declared = fixtures::compliant_declared();
    let report = scan_saved("compliant", &site, &declared, options(&site)).await;
    eprintln!(
        "full audit (4 scenarios, {PAGES}-page site): {} ms, {} page loads",
        report.duration_ms, report.summary.pages_visited
    );
    assert!(
        report.findings.is_empty(),
        "unexpected findings: {:#?}",
        report.findings
    );
    assert!(!report.has_violations());
    assert_eq!(report.exit_code(), 0);
    assert!(report.summary.clean && report.summary.banner_found);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    // Performance: the whole audit in under 20 seconds.
    assert!(
        report.duration_ms < 20_000,
        "took {} ms",
        report.duration_ms
    );

    let by = |s: Scenario| report.scenarios.iter().find(|r| r.scenario == s).unwrap();
    // The crawl found every page (and only pages of the site).
    let before = by(Scenario::BeforeConsent);
    assert_eq!(before.pages.len(), PAGES, "{:#?}", before.pages);
    assert!(
        before
            .pages
            .iter()
            .all(|p| p.url.starts_with(&site.url) && p.status == Some(200))
    );
    assert!(!before.pages.iter().any(|p| p.url.ends_with(".pdf")));
    // Before consent: only the necessary HttpOnly session cookie, no third party.
    let names: Vec<_> = before.cookies.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["session_id"]);
    assert!(before.cookies[0].http_only);
    assert_eq!(before.cookies[0].set_by[0].kind, "response");
    assert!(before.third_party_requests.is_empty());
    assert!(before.banner.found);

    // After accepting: consent cookie and analytics cookie, pixel to the third party.
    let accept = by(Scenario::AcceptAll);
    assert_eq!(accept.banner.clicked, [assent_scan::ASSENT_ACCEPT]);
    let sa = accept
        .cookies
        .iter()
        .find(|c| c.name == "_sa_id")
        .expect("_sa_id");
    assert_eq!(sa.set_by[0].kind, "script");
    assert!(
        sa.set_by[0].url.ends_with("/analytics.js"),
        "{:?}",
        sa.set_by
    );
    // The inline snippet the banner released is blamed on the page that holds it, never on
    // the banner's script.
    let inl = accept
        .cookies
        .iter()
        .find(|c| c.name == "_inl")
        .expect("_inl");
    assert!(
        inl.set_by.iter().all(|s| s.kind == "inline"
            && s.url.starts_with(&site.url)
            && !s.url.contains("assent.js")),
        "{:?}",
        inl.set_by
    );
    assert_eq!(sa.requested_lifetime_seconds, Some(31_536_000));
    assert!(sa.stored_lifetime_seconds.unwrap() > 31_536_000 - 60);
    assert_eq!(accept.third_party_requests[0].host, "thirdparty.test");
    assert_eq!(accept.pages.len(), PAGES + 2);

    // After refusing: the consent cookie only (the refusal is remembered).
    let reject = by(Scenario::RejectAll);
    let names: BTreeSet<_> = reject.cookies.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["assent_consent", "session_id"]));

    // Withdrawal: accepted (so _sa_id existed), then refused and purged.
    let w = by(Scenario::Withdrawal);
    assert_eq!(w.banner.clicked.len(), 3, "{:?}", w.banner);
    let sa = w
        .cookies
        .iter()
        .find(|c| c.name == "_sa_id")
        .expect("_sa_id seen after accepting");
    assert!(!sa.phases.contains(&assent_scan::Phase::AfterWithdrawal));

    // The HTML report is self-contained and says it is clean.
    let html = report.to_html();
    assert!(html.contains("No violations found."));
    assert!(!html.contains("<script"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_violations_are_each_reported_with_kind_and_scenario() {
    let (_one, site) = exclusive_site(Kind::Violating).await;
    let declared = fixtures::violating_declared();
    let report = scan_saved("violating", &site, &declared, options(&site)).await;
    assert!(report.has_violations());
    assert_eq!(report.exit_code(), 1);
    let expected = set(&[
        ("set_before_consent", "before_consent", "chat_visitor"),
        (
            "third_party_request_before_consent",
            "before_consent",
            "thirdparty.test",
        ),
        ("set_after_refusal", "reject_all", "chat_visitor"),
        ("set_after_refusal", "reject_all", "ads_id"),
        ("set_after_refusal", "reject_all", "_fbp"),
        ("kept_after_withdrawal", "withdrawal", "chat_visitor"),
        ("kept_after_withdrawal", "withdrawal", "ads_id"),
        ("kept_after_withdrawal", "withdrawal", "_fbp"),
        ("undeclared", "accept_all", "_fbp"),
        ("lifetime_exceeds_declared", "accept_all", "_sa_id"),
        ("lifetime_over_13_months", "accept_all", "_sa_id"),
    ]);
    assert_eq!(triples(&report), expected, "{:#?}", report.findings);

    // Evidence.
    let f = report
        .findings_of(FindingKind::SetBeforeConsent)
        .next()
        .unwrap();
    assert_eq!(f.subject, Subject::Cookie);
    assert_eq!(f.domain.as_deref(), Some("shop.test"));
    assert!(
        f.set_by
            .iter()
            .any(|s| s.kind == "script" && s.url.ends_with("/chat.js")),
        "{f:?}"
    );
    assert_eq!(f.declared.as_ref().unwrap().purpose, "functional");
    assert_eq!(f.page.as_deref(), Some(site.url.as_str()));

    let f = report
        .findings_of(FindingKind::ThirdPartyRequestBeforeConsent)
        .next()
        .unwrap();
    assert!(
        f.url
            .as_deref()
            .unwrap()
            .starts_with(&format!("{}/beacon", site.third_party))
    );
    assert_eq!(f.count, Some(PAGES));

    let f = report.findings_of(FindingKind::Undeclared).next().unwrap();
    let c = f.classification.as_ref().unwrap();
    assert_eq!(c.platform, "Meta Pixel");
    assert_eq!(c.category, assent_scan::Category::Marketing);
    assert_eq!(
        f.scenarios,
        [
            Scenario::AcceptAll,
            Scenario::RejectAll,
            Scenario::Withdrawal
        ]
    );

    let f = report
        .findings_of(FindingKind::LifetimeOver13Months)
        .next()
        .unwrap();
    // Asked for two years (Chromium stores at most 400 days).
    assert_eq!(f.lifetime_seconds, Some(63_072_000));
    assert!(f.message.contains("730 days"), "{}", f.message);
    let f = report
        .findings_of(FindingKind::LifetimeExceedsDeclared)
        .next()
        .unwrap();
    assert!(f.message.contains("395 days"), "{}", f.message);

    // The third party's cookie was refused by the browser, and that is recorded.
    let before = report
        .scenarios
        .iter()
        .find(|s| s.scenario == Scenario::BeforeConsent)
        .unwrap();
    let blocked = before
        .blocked_cookies
        .iter()
        .find(|b| b.name == "tp_uid")
        .expect("blocked tp_uid recorded");
    assert_eq!(blocked.domain, "thirdparty.test");
    assert!(!blocked.reasons.is_empty());
    // The partner link was not crawled.
    assert!(before.pages.iter().all(|p| p.url.starts_with(&site.url)));

    // Reports: JSON round-trips; HTML lists every violation, escaped.
    let back = Report::from_json(&report.to_json()).unwrap();
    assert_eq!(back, report);
    let html = report.to_html();
    assert!(html.contains("11 violations found."));
    for kind in [
        "set_before_consent",
        "set_after_refusal",
        "kept_after_withdrawal",
        "undeclared",
        "lifetime_exceeds_declared",
        "lifetime_over_13_months",
        "third_party_request_before_consent",
    ] {
        assert!(html.contains(kind), "{kind} missing from the HTML");
    }
    assert!(!html.contains("<script"));

    // The report renders in the browser too (and the documentation screenshot comes from it).
    screenshot_report(&html).await;
}

/// Renders the HTML report in Chromium and checks the screenshot; with
/// `ASSENT_SCAN_SCREENSHOT=path` the PNG is also written there (docs/images/scan-report.png).
async fn screenshot_report(html: &str) {
    let dir = std::env::temp_dir().join(format!("assent-scan-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.html");
    std::fs::write(&file, html).unwrap();
    let browser = assent_testkit::launch(assent_cdp::LaunchOptions::default()).await;
    let page = browser.new_page().await.unwrap();
    page.set_viewport(1200, 1400).await.unwrap();
    page.navigate(&format!("file://{}", file.display()))
        .await
        .unwrap();
    let title = page.evaluate("document.title").await.unwrap();
    assert!(title.as_str().unwrap().starts_with("Cookie audit"));
    let png = page.screenshot_png().await.unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    if let Some(out) = std::env::var_os("ASSENT_SCAN_SCREENSHOT") {
        std::fs::write(out, &png).unwrap();
    }
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_banner_is_still_audited() {
    let (_one, site) = exclusive_site(Kind::NoBanner).await;
    let opts = ScanOptions {
        max_pages: 3,
        banner_timeout: Duration::from_millis(800),
        ..options(&site)
    };
    let report = scan_saved("no-banner", &site, &Declared::default(), opts).await;
    assert!(report.has_violations());
    let t = triples(&report);
    for expected in [
        ("set_before_consent", "before_consent", "_ga"),
        ("set_before_consent", "before_consent", "ga_client"),
        ("undeclared", "before_consent", "_ga"),
        ("undeclared", "before_consent", "session_id"),
        ("lifetime_over_13_months", "before_consent", "_ga"),
    ] {
        let e = (
            expected.0.to_owned(),
            expected.1.to_owned(),
            expected.2.to_owned(),
        );
        assert!(t.contains(&e), "{e:?} missing from {t:#?}");
    }
    // Google Analytics' cookie is classified; an unknown server cookie needs consent too.
    let ga = report
        .findings_of(FindingKind::SetBeforeConsent)
        .find(|f| f.name == "_ga")
        .unwrap();
    assert_eq!(
        ga.classification.as_ref().unwrap().platform,
        "Google Analytics"
    );
    assert!(
        report
            .findings_of(FindingKind::SetBeforeConsent)
            .any(|f| f.name == "session_id")
    );
    let storage = report
        .findings_of(FindingKind::SetBeforeConsent)
        .find(|f| f.name == "ga_client")
        .unwrap();
    assert_eq!(storage.subject, Subject::LocalStorage);
    // The cross-site iframe (another process, followed through auto-attach) is audited too:
    // its script's request and its storage write.
    let embed = report
        .findings_of(FindingKind::SetBeforeConsent)
        .find(|f| f.name == "embed_seen")
        .expect("storage written in the cross-site iframe");
    assert_eq!(embed.subject, Subject::LocalStorage);
    assert_eq!(embed.domain.as_deref(), Some("thirdparty.test"));
    assert!(embed.set_by[0].url.ends_with("/embed.js"), "{embed:?}");
    let tp = report
        .findings_of(FindingKind::ThirdPartyRequestBeforeConsent)
        .next()
        .unwrap();
    assert_eq!(tp.name, "thirdparty.test");
    let before = &report.scenarios[0];
    let types = &before.third_party_requests[0].types;
    assert!(types.iter().any(|t| t == "Script"), "{types:?}");
    // Nothing after a choice could be tested, and the report says so.
    assert!(!report.summary.banner_found);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("No consent banner was found")),
        "{:?}",
        report.notes
    );
    for s in &report.scenarios {
        if s.scenario != Scenario::BeforeConsent {
            assert_eq!(s.pages.len(), 1, "{:?}", s.scenario);
            assert!(s.banner.note.is_some());
        }
    }
    assert!(!report.findings.iter().any(|f| matches!(
        f.kind,
        FindingKind::SetAfterRefusal | FindingKind::KeptAfterWithdrawal
    )));
    assert!(report.to_html().contains("No consent banner was found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_sites_and_bad_urls_are_errors() {
    let _one = exclusive().await;
    let err = scan(
        "ftp://example.com/",
        &Declared::default(),
        ScanOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("not an absolute http(s) URL"));
    let opts = ScanOptions {
        scenarios: vec![Scenario::BeforeConsent],
        ..ScanOptions::default()
    };
    let err = scan("http://127.0.0.1:9/", &Declared::default(), opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ERR_"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_of_declared_but_unseen_is_information() {
    let (_one, site) = exclusive_site(Kind::Compliant).await;
    let mut declared = fixtures::compliant_declared();
    declared.cookies.push(assent_scan::DeclaredCookie {
        name: "_legacy_*".into(),
        domain: None,
        purpose: "analytics".into(),
        lifetime_seconds: Some(3600),
        service: None,
    });
    let opts = ScanOptions {
        max_pages: 2,
        scenarios: vec![Scenario::BeforeConsent, Scenario::AcceptAll],
        ..options(&site)
    };
    let report = scan(&site.url, &declared, opts).await.unwrap();
    assert_eq!(
        triples(&report),
        set(&[("declared_not_seen", "", "_legacy_*")])
    );
    assert_eq!(report.findings[0].severity, Severity::Info);
    assert!(!report.has_violations());
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_banners_are_clicked_through_selectors_and_progress_is_reported() {
    let (_one, site) = exclusive_site(Kind::OtherBanner).await;
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let opts = ScanOptions {
        max_pages: 2,
        scenarios: vec![Scenario::AcceptAll, Scenario::RejectAll],
        accept_selector: Some("#cmp-ok".into()),
        reject_selector: Some("#cmp-no".into()),
        progress: Some(std::sync::Arc::new(
            move |e: &assent_scan::ProgressEvent| {
                sink.lock().unwrap().push(e.clone());
            },
        )),
        ..options(&site)
    };
    let mut declared = fixtures::compliant_declared();
    declared.cookies.push(assent_scan::DeclaredCookie {
        name: "cmp".into(),
        domain: Some("shop.test".into()),
        purpose: "necessary".into(),
        lifetime_seconds: Some(60),
        service: None,
    });
    declared
        .cookies
        .retain(|c| c.name != "_sa_id" && c.name != "assent_consent" && c.name != "_inl");
    let report = scan(&site.url, &declared, opts).await.unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let clicked: Vec<_> = report
        .scenarios
        .iter()
        .map(|s| s.banner.clicked.clone())
        .collect();
    assert_eq!(
        clicked,
        [vec!["#cmp-ok".to_owned()], vec!["#cmp-no".to_owned()]]
    );
    let cmp = |i: usize| {
        report.scenarios[i]
            .cookies
            .iter()
            .find(|c| c.name == "cmp")
            .map(|c| c.set_by[0].kind.clone())
    };
    assert_eq!(cmp(0).as_deref(), Some("inline"));
    assert_eq!(cmp(1).as_deref(), Some("inline"));

    let events = events.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.done, last.total);
    assert_eq!(last.total, 2 * (2 + 1));
    assert!(
        events
            .iter()
            .any(|e| e.scenario == Some(Scenario::RejectAll) && e.message.contains(&site.url))
    );
    let bar = assent_scan::progress::bar_line(last, 10);
    assert!(bar.starts_with("[##########]"), "{bar}");
}

/// The before-consent scenario never clicks: a banner it sees is reported as found, not as a
/// banner that "could not be clicked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banner_seen_before_consent_is_reported_as_found() {
    let (_one, site) = exclusive_site(Kind::Compliant).await;
    let opts = ScanOptions {
        max_pages: 1,
        scenarios: vec![Scenario::BeforeConsent],
        ..options(&site)
    };
    let report = scan(&site.url, &fixtures::compliant_declared(), opts)
        .await
        .unwrap();
    assert!(report.scenarios[0].banner.found);
    assert!(report.scenarios[0].banner.clicked.is_empty());
    assert!(report.summary.banner_found);
    assert!(
        !report.notes.iter().any(|n| n.contains("No consent banner")),
        "{:?}",
        report.notes
    );
    let html = report.to_html();
    assert!(html.contains("Consent banner found (this scenario never clicks it)."));
    assert!(!html.contains("could be clicked"));
}

/// A page served from a host that is not the declared cookie domain (a local test host): the
/// declared cookies are matched by name, never "undeclared", and each gets one information
/// finding saying where it was declared; a cookie declared on several domains and never seen is
/// one finding listing its domains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_cookies_on_another_host_match_by_name() {
    let (_one, site) = exclusive_site(Kind::Compliant).await;
    let mut declared = fixtures::compliant_declared();
    for c in &mut declared.cookies {
        c.domain = Some(".shop.example".into());
    }
    for domain in ["shop.example", "www.shop.example"] {
        declared.cookies.push(assent_scan::DeclaredCookie {
            name: "_old".into(),
            domain: Some(domain.into()),
            purpose: "analytics".into(),
            lifetime_seconds: Some(3600),
            service: Some("Old analytics".into()),
        });
    }
    let opts = ScanOptions {
        max_pages: 2,
        scenarios: vec![Scenario::BeforeConsent, Scenario::AcceptAll],
        ..options(&site)
    };
    let report = scan(&site.url, &declared, opts).await.unwrap();
    assert!(!report.has_violations(), "{:#?}", report.findings);
    assert_eq!(
        triples(&report),
        set(&[
            ("declared_on_other_domain", "accept_all", "_inl"),
            ("declared_on_other_domain", "accept_all", "_sa_id"),
            ("declared_on_other_domain", "accept_all", "assent_consent"),
            ("declared_on_other_domain", "before_consent", "session_id"),
            ("declared_not_seen", "", "_old"),
        ])
    );
    let other = report
        .findings_of(FindingKind::DeclaredOnOtherDomain)
        .find(|f| f.name == "_sa_id")
        .unwrap();
    assert_eq!(other.severity, Severity::Info);
    assert!(
        other.message.contains("declared on shop.example only"),
        "{}",
        other.message
    );
    assert_eq!(
        other.declared.as_ref().unwrap().declared_domain.as_deref(),
        Some(".shop.example")
    );
    let old: Vec<_> = report.findings_of(FindingKind::DeclaredNotSeen).collect();
    assert_eq!(old.len(), 1, "{old:#?}");
    assert_eq!(
        old[0].domain.as_deref(),
        Some("shop.example, www.shop.example")
    );
    assert!(
        old[0]
            .message
            .contains("was declared on shop.example, www.shop.example but not observed"),
        "{}",
        old[0].message
    );
}
