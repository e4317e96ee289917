#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile registry text is escaped everywhere, and non-http(s) URLs are never linked, even
//! for a registry that bypassed `assent check` (which refuses `javascript:` URLs: see
//! `check_refuses_javascript_urls`).

mod common;

use assent_model::Registry;
use assent_model::registry::{Text, Transfer};
use assent_model::version::{SiteSnapshot, diff};
use assent_pages::enforcement::Enforcements;
use assent_pages::register::{self, Format};
use assent_pages::versions::{self, HistoryPage, VersionEntry};
use assent_pages::{Links, PolicyPage, cookie, privacy};

const SCRIPT: &str = "<script>alert(1)</script>";
const ATTR: &str = "\"><img src=x onerror=alert(1)>";
const JS_URL: &str = "javascript:alert(1)";

fn hostile(t: &str) -> Text {
    Text::Localized(
        [
            ("en".to_string(), format!("EN {t}")),
            ("fr".to_string(), format!("FR {t}")),
        ]
        .into_iter()
        .collect(),
    )
}

/// Callkom with hostile strings in every kind of field the pages show.
fn poisoned() -> Registry {
    let mut r = common::callkom();
    r.controller.name = format!("ACME {SCRIPT}");
    r.controller.address = ATTR.into();
    r.controller.email = format!("x{ATTR}@example.com");
    r.controller.website = Some(JS_URL.into());
    r.controller.legal_form = Some(SCRIPT.into());
    r.controller.registration = Some(ATTR.into());
    r.controller.phone = Some(SCRIPT.into());
    r.controller.supervisory_authority.url = Some(JS_URL.into());
    r.controller.supervisory_authority.name = ATTR.into();
    r.controller.dpo = Some(assent_model::registry::Contact {
        name: Some(SCRIPT.into()),
        email: Some(JS_URL.into()),
        address: Some(ATTR.into()),
        phone: None,
    });
    r.sites[0].name = format!("Site {SCRIPT}");
    r.sites[0].url = Some(JS_URL.into());
    let p = &mut r.purposes[1];
    p.name = hostile(SCRIPT);
    p.description = hostile(ATTR);
    p.refusal_impact = Some(hostile(SCRIPT));
    let s = &mut r.services[0];
    s.name = format!("Svc {ATTR}");
    s.provider = SCRIPT.into();
    s.privacy_policy = Some(JS_URL.into());
    s.description = Some(hostile(SCRIPT));
    s.country = Some(format!("U{SCRIPT}"));
    r.services[1].privacy_policy = Some(format!("https://x.example/\" onmouseover=\"{JS_URL}"));
    let c = &mut r.cookies[1];
    c.name = SCRIPT.into();
    c.domain = Some(ATTR.into());
    c.description = Some(hostile(ATTR));
    c.exemption_reason = Some(hostile(SCRIPT));
    let a = &mut r.activities[0];
    a.name = hostile(SCRIPT);
    a.description = hostile(ATTR);
    a.legitimate_interest = Some(hostile(SCRIPT));
    a.data_categories.push(hostile(ATTR));
    a.data_subjects.push(hostile(SCRIPT));
    a.recipients.push(hostile(ATTR));
    a.security_measures.push(hostile(SCRIPT));
    a.source = Some(hostile(ATTR));
    a.automated_decisions = Some(hostile(SCRIPT));
    a.transfers.push(Transfer {
        country: ATTR.into(),
        recipient: Some(SCRIPT.into()),
        safeguard: assent_model::registry::Safeguard::Scc,
    });
    r.retention[0].data_category = hostile(SCRIPT);
    r.retention[0].description = Some(hostile(ATTR));
    r
}

/// No markup from the registry survived: no injected element, attribute or link.
fn assert_clean(ctx: &str, html: &str, scripts_allowed: usize) {
    assert!(!html.contains("<script>"), "{ctx}: raw <script>");
    assert_eq!(
        html.matches("<script").count(),
        scripts_allowed,
        "{ctx}: script tags"
    );
    assert!(!html.contains("<img"), "{ctx}: injected <img>");
    assert!(
        !html.contains("onerror=alert(1)>"),
        "{ctx}: unescaped attribute break"
    );
    assert!(
        !html.contains("\" onmouseover"),
        "{ctx}: attribute injection in href"
    );
    assert!(
        !html.to_ascii_lowercase().contains("href=\"javascript:"),
        "{ctx}: javascript: link"
    );
    assert!(!html.contains("href=\"mailto:javascript"), "{ctx}");
    // The text is shown, escaped.
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{ctx}: escaped text missing"
    );
}

#[test]
fn policy_pages_escape_everything() {
    let reg = poisoned();
    let snap = SiteSnapshot::from_registry(&reg, "callkom").unwrap();
    let links = Links::new("", "callkom");
    for lang in ["en", "fr"] {
        let page = PolicyPage {
            snap: &snap,
            lang,
            version: 2,
            created_at_ms: common::CREATED_MS,
            current_version: 3,
            links: &links,
            extra_services: &[],
            enforcement: &Enforcements::default(),
        };
        let c = cookie::html(&page);
        assert_clean(&format!("cookie {lang}"), &c, 1);
        assert!(
            c.contains(&format!(
                "&#34;&#62;&#60;img src=x onerror=alert(1)&#62; / {}",
                "Svc"
            )),
            "domain / provider escaped"
        );
        assert!(c.contains(JS_URL), "the bad URL is shown as text");
        let p = privacy::html(&page);
        assert_clean(&format!("privacy {lang}"), &p, 0);
        // JSON never offers a non-http(s) URL as a link either.
        let j = cookie::json(&page);
        assert!(j["services"][0]["privacy_policy"].is_null());
        assert!(j["site"]["url"].is_null());
        assert_eq!(
            j["cookies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["name"] == SCRIPT)
                .count(),
            1
        );
    }
}

#[test]
fn history_diff_and_register_escape_everything() {
    let clean = common::callkom();
    let bad = poisoned();
    let old = SiteSnapshot::from_registry(&clean, "callkom").unwrap();
    let new = SiteSnapshot::from_registry(&bad, "callkom").unwrap();
    let changes = diff(&old, &new);
    assert!(!changes.is_empty());
    let links = Links::new("", "callkom");
    let hp = HistoryPage {
        site: &new.site,
        timezone: "Europe/Paris",
        lang: "en",
        links: &links,
    };
    let entries = vec![
        VersionEntry {
            version: 1,
            created_at_ms: 0,
            requires_fresh_consent: true,
            consent_floor: 1,
            content_hash: "h1".into(),
            changes: vec![],
        },
        VersionEntry {
            version: 2,
            created_at_ms: 1,
            requires_fresh_consent: true,
            consent_floor: 2,
            content_hash: "h2".into(),
            changes: changes.clone(),
        },
    ];
    assert_clean("history", &versions::history_html(&hp, &entries), 0);
    assert_clean(
        "diff",
        &versions::diff_html(&hp, &entries[0], &entries[1], &changes, &[1, 2]),
        0,
    );
    for lang in ["en", "fr"] {
        let html = register::export(&bad, None, Format::Html, lang, "<now>").unwrap();
        assert_clean(&format!("register {lang}"), &html, 0);
        assert!(html.contains("&#60;now&#62;"));
    }
    let e = versions::error_html("en", SCRIPT, ATTR);
    assert!(!e.contains("<script>") && !e.contains("<img"));
}

#[test]
fn check_refuses_javascript_urls() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let src = std::fs::read_to_string(dir.join("callkom.toml")).unwrap();
    let cases = [
        (
            "privacy_policy = \"https://www.cloudflare.com/privacypolicy/\"",
            "privacy_policy = \"javascript:alert(1)\"",
        ),
        (
            "website = \"https://callkom.io\"",
            "website = \"javascript:alert(1)\"",
        ),
        (
            "url = \"https://www.cnil.fr\"",
            "url = \"JavaScript:alert(1)\"",
        ),
        (
            "url = \"https://callkom.io\"",
            "url = \"javascript:alert(document.cookie)\"",
        ),
        (
            "privacy_policy = \"https://stripe.com/privacy\"",
            "privacy_policy = \"data:text/html,<script>alert(1)</script>\"",
        ),
        (
            "privacy_policy = \"https://calendly.com/privacy\"",
            "privacy_policy = \"https://calendly.com/\\\" onmouseover=\\\"alert(1)\"",
        ),
    ];
    assert!(assent_model::check::parse(&src).is_ok());
    for (from, to) in cases {
        assert!(src.contains(from), "fixture lacks {from}");
        let bad = src.replacen(from, to, 1);
        let errs = assent_model::check::parse(&bad)
            .err()
            .unwrap_or_else(|| panic!("{to} was accepted"));
        let text: Vec<String> = errs.iter().map(|d| d.render("callkom.toml")).collect();
        assert!(
            text.iter().any(|t| t.contains("is not an http(s) URL")),
            "{to}: {text:#?}"
        );
    }
}

/// What the removed `html::esc` test checked, on rendered output: every character that could
/// open markup or close an attribute is escaped, by the template engine.
#[test]
fn text_is_escaped_in_element_content_and_attributes() {
    let html = versions::error_html("en", "T<i>'\"", "<a href=\"x\">'&");
    assert!(
        html.contains(
            "<p class=\"warn\" role=\"alert\">&#60;a href=&#34;x&#34;&#62;&#39;&#38;</p>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<title>T&#60;i&#62;&#39;&#34; – Assent</title>"),
        "{html}"
    );
    assert!(html.contains("<h1>T&#60;i&#62;&#39;&#34;</h1>"), "{html}");
    // Markup::text is the same escaper, for callers that predict rendered text.
    assert_eq!(
        assent_pages::i18n::Markup::text("<a href=\"x\">'&").as_str(),
        "&#60;a href=&#34;x&#34;&#62;&#39;&#38;"
    );
}
