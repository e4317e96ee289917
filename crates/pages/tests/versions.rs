#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The version history and the diff page: dates, whether fresh consent was required, and
//! every change in plain words, material ones highlighted.

mod common;

use assent_model::changes::diff;
use assent_model::registry::{Lifetime, Safeguard, Service};
use assent_model::version::SiteSnapshot;
use assent_pages::Links;
use assent_pages::versions::{self, HistoryPage};
use common::esc;

fn changed() -> (SiteSnapshot, SiteSnapshot) {
    let old = common::callkom();
    let mut new = old.clone();
    new.services.push(Service {
        id: "hotjar".into(),
        name: "Hotjar".into(),
        provider: "Hotjar Ltd".into(),
        purposes: vec!["performance".into()],
        description: None,
        privacy_policy: Some("https://www.hotjar.com/legal/policies/privacy/".into()),
        country: Some("US".into()),
        safeguard: Some(Safeguard::Dpf),
        role: assent_model::registry::Role::Processor,
        hosts: vec![],
    });
    let hssc = new.cookies.iter_mut().find(|c| c.name == "__hssc").unwrap();
    hssc.lifetime = Lifetime::For("6 months".parse().unwrap());
    let ga = new
        .cookies
        .iter_mut()
        .find(|c| c.name == "ai_user")
        .unwrap();
    ga.lifetime = Lifetime::For("6 months".parse().unwrap());
    new.retention[0].period = "1 hour".parse().unwrap();
    (
        SiteSnapshot::from_registry(&old, "callkom").unwrap(),
        SiteSnapshot::from_registry(&new, "callkom").unwrap(),
    )
}

#[test]
fn diff_page_names_every_change_material_first() {
    let (old, new) = changed();
    let changes = diff(&old, &new);
    let material: Vec<_> = changes.iter().filter(|c| c.material).collect();
    assert!(material.iter().any(|c| c.kind == "service_added"));
    assert!(material.iter().any(|c| c.kind == "cookie_lifetime_longer"));
    assert!(changes.iter().any(|c| !c.material));
    let links = Links::new("", "callkom");
    let e = common::version_entries(changes.clone());
    for lang in ["en", "fr", "de"] {
        let hp = HistoryPage {
            site: &new.site,
            timezone: "Europe/Paris",
            lang,
            links: &links,
        };
        let html = versions::diff_html(&hp, &e[0], &e[1], &changes, &[1, 2]);
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        let m = common::between(&html, "id=\"material\"", "</ul>");
        for c in &changes {
            let text = esc(c.text(lang));
            if c.material {
                assert!(
                    m.contains(&format!("<li class=\"material\" data-kind=\"{}\">", c.kind)),
                    "{lang}: {}",
                    c.kind
                );
                assert!(
                    m.contains(&text),
                    "{lang}: material change {text} not in the highlighted list"
                );
            } else if c.policy_material {
                // A material privacy-policy change: its own section, flagged, no re-asking.
                let p = common::between(&html, "id=\"policy\"", "</ul>");
                assert!(
                    p.contains(&format!("<li class=\"policy\" data-kind=\"{}\">", c.kind)),
                    "{lang}: {}",
                    c.kind
                );
                assert!(p.contains(&text), "{lang}: {text}");
            } else {
                let o = common::between(&html, "id=\"other\"", "</ul>");
                assert!(o.contains(&text), "{lang}: {text}");
            }
        }
        // The longer retention of the first rule is a material privacy-policy change.
        assert!(
            changes
                .iter()
                .any(|c| c.kind == "retention_longer" && c.policy_material && !c.material)
        );
        if lang == "en" {
            assert!(
                html.contains(
                    "Lifetime of __hssc on .callkom.io changed from 30 minutes to 6 months"
                )
            );
            assert!(html.contains("Added service Hotjar (Hotjar Ltd) for purpose Performance"));
        }
        assert!(
            html.contains("<select name=\"from\">"),
            "comparison form, no JavaScript"
        );
        assert!(!html.contains("<script"));
        let j = versions::diff_json(&hp, &e[0], &e[1], &changes);
        assert_eq!(j["requires_fresh_consent"], true);
        assert_eq!(j["changes"].as_array().unwrap().len(), changes.len());
    }
    // The same version twice: no difference.
    let hp = HistoryPage {
        site: &new.site,
        timezone: "Europe/Paris",
        lang: "en",
        links: &links,
    };
    let same = versions::diff_html(&hp, &e[1], &e[1], &[], &[1, 2]);
    assert!(same.contains("same content"));
}

#[test]
fn history_lists_versions_with_dates_and_fresh_consent() {
    let (old, new) = changed();
    let changes = diff(&old, &new);
    let links = Links::new("", "callkom");
    let e = common::version_entries(changes.clone());
    let hp = HistoryPage {
        site: &new.site,
        timezone: "Europe/Paris",
        lang: "en",
        links: &links,
    };
    let html = versions::history_html(&hp, &e);
    let v2 = html.find("id=\"v2\"").unwrap();
    let v1 = html.find("id=\"v1\"").unwrap();
    assert!(v2 < v1, "newest first");
    assert!(html.contains("<time datetime=\"2026-09-21\">21 September 2026</time>"));
    assert!(html.contains("<time datetime=\"2026-10-31\">31 October 2026</time>"));
    assert!(html.contains("Visitors were asked for their choice again"));
    assert!(
        html.contains("href=\"/sites/callkom/policy-versions/diff?from=1&#38;to=2&#38;lang=en\"")
    );
    assert!(html.contains("href=\"/sites/callkom/cookie-policy?lang=en&#38;version=1\""));
    for c in &changes {
        assert!(html.contains(&esc(&c.en)), "{}", c.en);
    }
    let fr = versions::history_html(&HistoryPage { lang: "fr", ..hp }, &e);
    assert!(fr.contains("31 octobre 2026"));
    for c in &changes {
        assert!(fr.contains(&esc(&c.fr)), "{}", c.fr);
    }
    let j = versions::history_json(&hp, &e);
    assert_eq!(j["current_version"], 2);
    assert_eq!(j["items"][0]["version"], 2);
    assert_eq!(j["items"][0]["requires_fresh_consent"], true);
    assert_eq!(j["items"][0]["created_at"], "2026-10-31T14:13:20Z");
}
