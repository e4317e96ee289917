//! The five example registries in `examples/`, one per seed policy, must pass `assent check`
//! and keep the facts of their policy: ids, purposes, the whole Callkom cookie table, the capped
//! Kaltiot lifetimes, Klivar's retention rules.

use std::path::PathBuf;

use assent_model::Registry;
use assent_model::check::{Severity, check};
use assent_model::registry::{
    ConsentModeSignal, Cookie, Exemption, LegalBasis, Lifetime, MAX_TRACKER_LIFETIME_SECS,
    MONTH_SECS, RetentionRule, Safeguard, Trigger, in_eea,
};

const STEMS: [&str; 5] = ["kaliop", "kalido", "callkom", "kaltiot", "klivar"];

fn path(stem: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(format!("{stem}.toml"))
}

/// Loads and checks an example: no error allowed; warnings are printed.
fn load(stem: &str) -> Registry {
    let p = path(stem);
    let src = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let (reg, diags) = check(&src);
    let name = format!("examples/{stem}.toml");
    for d in &diags {
        eprintln!("{}", d.render(&name));
    }
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.render(&name))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} has errors:\n{}",
        errors.join("\n")
    );
    reg.unwrap_or_else(|| panic!("{name}: no registry despite no error"))
}

fn secs(s: &str) -> i64 {
    s.parse::<Lifetime>()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .seconds()
}

fn cookie<'a>(r: &'a Registry, name: &str, domain: &str) -> &'a Cookie {
    r.cookies
        .iter()
        .find(|c| c.name == name && c.domain.as_deref() == Some(domain))
        .unwrap_or_else(|| panic!("no cookie {name} on {domain}"))
}

fn rule<'a>(r: &'a Registry, id: &str) -> &'a RetentionRule {
    r.retention_rule(id)
        .unwrap_or_else(|| panic!("no retention rule {id}"))
}

#[test]
fn every_example_checks_clean_and_declares_one_site_named_after_its_file() {
    for stem in STEMS {
        let r = load(stem);
        assert_eq!(r.sites.len(), 1, "{stem}: exactly one site");
        let site = &r.sites[0];
        assert_eq!(site.id, stem, "{stem}: the site id is the file's stem");
        assert_eq!(
            site.languages.first().map(String::as_str),
            Some("en"),
            "{stem}"
        );
        assert_eq!(site.consent_lifetime_days, 182, "{stem}: CNIL's 6 months");
        // Every tracker within the 13-month cap, every purpose on the site described, every
        // non-EEA service with a safeguard: the lints say so, restated here as the contract.
        for c in &r.cookies {
            assert!(
                c.lifetime.seconds() <= MAX_TRACKER_LIFETIME_SECS,
                "{stem}: {}",
                c.name
            );
        }
        for s in &r.services {
            if let Some(cc) = &s.country {
                assert!(in_eea(cc) || s.safeguard.is_some(), "{stem}: {}", s.id);
            }
        }
        assert!(!r.activities.is_empty(), "{stem}: activities");
        assert!(!r.retention.is_empty(), "{stem}: retention rules");
        let necessary = r.site_purposes(site).find(|p| !p.consent_required);
        assert!(
            necessary.is_some(),
            "{stem}: an exempt purpose for the consent cookie"
        );
    }
}

#[test]
fn french_companies_speak_english_and_french() {
    assert_eq!(load("callkom").sites[0].languages, ["en", "fr", "de"]);
    for stem in ["kaliop", "kalido", "callkom", "klivar"] {
        let r = load(stem);
        assert_eq!(r.sites[0].languages[..2], ["en", "fr"], "{stem}");
        assert_eq!(r.controller.country, "FR", "{stem}");
        assert!(
            r.controller.supervisory_authority.name.contains("CNIL"),
            "{stem}"
        );
    }
}

/// Seed 002's table, row by row: (name, domain, service, purpose, basis, duration).
type Row = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    LegalBasis,
    &'static str,
);

#[rustfmt::skip]
const CALLKOM_TABLE: [Row; 15] = [
    ("__cf_bm", ".callkom.io", Some("cloudflare"), "necessary", LegalBasis::LegitimateInterest, "30 minutes"),
    ("__cf_bm", ".hubspot.com", Some("cloudflare"), "necessary", LegalBasis::LegitimateInterest, "30 minutes"),
    ("__cf_bm", ".calendly.com", Some("cloudflare"), "necessary", LegalBasis::LegitimateInterest, "30 minutes"),
    ("m", "m.stripe.com", Some("stripe"), "necessary", LegalBasis::LegitimateInterest, "1 year"),
    ("hubspotutk", ".callkom.io", Some("hubspot"), "functional", LegalBasis::Consent, "6 months"),
    ("_cfuvid", ".calendly.com", Some("calendly"), "functional", LegalBasis::Consent, "session"),
    ("_cfuvid", ".hubspot.com", Some("hubspot"), "functional", LegalBasis::Consent, "session"),
    ("_cfuvid", ".hsforms.com", Some("hubspot"), "functional", LegalBasis::Consent, "session"),
    ("wp-wpml_current_language", "callkom.io", None, "functional", LegalBasis::Consent, "session"),
    ("ai_user", "app.callkom.io", Some("app-insights"), "performance", LegalBasis::Consent, "11 months"),
    ("ai_session", "app.callkom.io", Some("app-insights"), "performance", LegalBasis::Consent, "30 minutes"),
    ("__hstc", ".callkom.io", Some("hubspot"), "performance", LegalBasis::Consent, "6 months"),
    ("__hssc", ".callkom.io", Some("hubspot"), "performance", LegalBasis::Consent, "30 minutes"),
    ("__hssrc", ".callkom.io", Some("hubspot"), "performance", LegalBasis::Consent, "session"),
    ("_ga", ".callkom.io", Some("ga4"), "performance", LegalBasis::Consent, "13 months"),
];

#[test]
fn callkom_is_seed_002() {
    let r = load("callkom");
    let site = &r.sites[0];
    let ids: Vec<&str> = r.purposes.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["necessary", "functional", "performance"]);
    assert_eq!(r.site_purposes(site).count(), 3);

    let necessary = r.purpose("necessary").unwrap();
    assert!(!necessary.consent_required);
    assert_eq!(necessary.exemption, Some(Exemption::StrictlyNecessary));
    assert_eq!(necessary.consent_mode, [ConsentModeSignal::SecurityStorage]);
    assert_eq!(
        r.purpose("functional").unwrap().consent_mode,
        [
            ConsentModeSignal::FunctionalityStorage,
            ConsentModeSignal::PersonalizationStorage
        ]
    );
    assert_eq!(
        r.purpose("performance").unwrap().consent_mode,
        [ConsentModeSignal::AnalyticsStorage]
    );
    for p in &r.purposes {
        assert!(!p.gpc, "Callkom has no advertising purpose");
        assert!(
            p.refusal_impact.is_some(),
            "seed 002 gives the impact of refusal for {}",
            p.id
        );
    }

    for (name, domain, service, purpose, basis, duration) in CALLKOM_TABLE {
        let c = cookie(&r, name, domain);
        assert_eq!(c.service.as_deref(), service, "{name} on {domain}");
        assert_eq!(c.purpose, purpose, "{name} on {domain}");
        assert_eq!(c.legal_basis, Some(basis), "{name} on {domain}");
        assert_eq!(c.lifetime.seconds(), secs(duration), "{name} on {domain}");
    }
    // The rows that name two domains or two cookies are split into one entry each.
    assert_eq!(
        cookie(&r, "ai_session", "integration.callkom.io")
            .lifetime
            .seconds(),
        1800
    );
    let ga_star = cookie(&r, "_ga_*", ".callkom.io");
    assert!(ga_star.matches("_ga_CALLKOM1") && !ga_star.matches("_ga"));
    // 15 rows give 17 entries, plus Assent's own consent cookie.
    assert_eq!(r.cookies.len(), 18);
    assert!(!cookie(&r, "assent_consent", ".callkom.io").matches("x"));
    assert_eq!(r.site_cookies(site).count(), 18);

    // The six providers, all US with SCC as the policy says.
    let mut svc: Vec<&str> = r.services.iter().map(|s| s.name.as_str()).collect();
    svc.sort_unstable();
    assert_eq!(
        svc,
        [
            "Calendly",
            "Cloudflare",
            "Google Analytics 4",
            "HubSpot",
            "Microsoft Application Insights",
            "Stripe"
        ]
    );
    for s in &r.services {
        assert_eq!(
            (s.country.as_deref(), s.safeguard),
            (Some("US"), Some(Safeguard::Scc)),
            "{}",
            s.id
        );
        assert!(
            s.privacy_policy
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            "{}",
            s.id
        );
    }
    assert_eq!(site.cookie_domain.as_deref(), Some(".callkom.io"));
    for d in [
        "callkom.io",
        "www.callkom.io",
        "app.callkom.io",
        "integration.callkom.io",
    ] {
        assert!(site.domains.iter().any(|x| x == d), "{d}");
    }
}

#[test]
fn kaliop_is_seed_000() {
    let r = load("kaliop");
    let ids: Vec<&str> = r.purposes.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["necessary", "audience", "personalisation", "third_party"]
    );
    // "These cookies require your explicit consent."
    let audience = r.purpose("audience").unwrap();
    assert!(audience.consent_required && audience.legal_basis == LegalBasis::Consent);
    assert!(r.purpose("third_party").unwrap().gpc);
    for name in [
        "_ga",
        "_ga_*",
        "_pk_id*",
        "_pk_ses*",
        "_hjSessionUser_*",
        "_hjSession_*",
    ] {
        assert!(r.cookies.iter().any(|c| c.name == name), "{name}");
    }
    assert!(
        r.cookies
            .iter()
            .all(|c| c.lifetime.seconds() <= 13 * MONTH_SECS)
    );
    assert_eq!(r.controller.email, "rgpd@kaliop.com");
}

#[test]
fn kalido_is_seed_001() {
    let r = load("kalido");
    let site = &r.sites[0];
    let on_site: Vec<&str> = r.site_purposes(site).map(|p| p.id.as_str()).collect();
    assert_eq!(on_site, ["necessary", "audience"]);
    assert_eq!(
        r.controller.registration.as_deref(),
        Some("RCS Lille Métropole 513 700 898")
    );
    assert_eq!(
        r.controller.dpo.as_ref().and_then(|d| d.email.as_deref()),
        Some("dpo@kalido-pro.com")
    );
    // Prospecting: consent, with the soft opt-in for customers on legitimate interest.
    let basis = |id: &str| {
        r.activities
            .iter()
            .find(|a| a.id == id)
            .unwrap()
            .legal_basis
    };
    assert_eq!(basis("prospecting"), LegalBasis::Consent);
    assert_eq!(
        basis("customer-soft-opt-in"),
        LegalBasis::LegitimateInterest
    );
    assert_eq!(basis("rights-requests"), LegalBasis::LegalObligation);
    // Marketing (issue 17): newsletter by email on consent only; offers by email and SMS, soft
    // opt-in allowed. Neither reaches the banner.
    use assent_model::marketing::MarketingChannel::{Email, Sms};
    let m: Vec<_> = r
        .marketing
        .iter()
        .map(|m| (m.id.as_str(), m.channels.clone(), m.soft_opt_in))
        .collect();
    assert_eq!(
        m,
        [
            ("newsletter", vec![Email], false),
            ("offers", vec![Email, Sms], true)
        ]
    );
    let prospects = rule(&r, "prospects");
    assert_eq!(
        (prospects.period.seconds(), prospects.trigger),
        (secs("3 years"), Trigger::LastContact)
    );
    assert_eq!(
        rule(&r, "audience-cookies").period.seconds(),
        13 * MONTH_SECS
    );
    // "KALIDO does not transfer personal data outside the European Union."
    assert!(r.activities.iter().all(|a| a.transfers.is_empty()));
    assert!(
        r.services
            .iter()
            .all(|s| s.country.as_deref().is_some_and(in_eea))
    );
    // The three kinds of subcontractors.
    for id in ["maintenance", "messaging", "advertising-agency"] {
        assert!(r.service(id).is_some(), "{id}");
    }
}

#[test]
fn kaltiot_is_seed_003_with_lifetimes_capped() {
    let r = load("kaltiot");
    assert_eq!(r.controller.timezone, "Europe/Helsinki");
    assert_eq!(r.controller.country, "FI");
    assert!(
        r.controller
            .supervisory_authority
            .name
            .contains("Tietosuojavaltuutetun toimisto")
    );
    // Seed 003 says 2 years; the registry caps them at 13 months.
    for name in ["_ga", "_ga_*", "_lfa"] {
        let c = r.cookies.iter().find(|c| c.name == name).unwrap();
        assert_eq!(c.lifetime.seconds(), 13 * MONTH_SECS, "{name}");
        assert_eq!(c.purpose, "statistics", "{name}");
    }
    let marketing = r.purpose("marketing").unwrap();
    assert!(marketing.gpc && marketing.consent_required);
    let functional = r.purpose("functional").unwrap();
    assert!(
        !functional.consent_required,
        "seed 003: placed without consent"
    );
    let gtm = r.service("gtm").unwrap();
    assert!(
        r.cookies
            .iter()
            .all(|c| c.service.as_deref() != Some(gtm.id.as_str())),
        "GTM sets no cookie"
    );
}

#[test]
fn klivar_is_seed_004() {
    let r = load("klivar");
    assert_eq!(
        r.controller.registration.as_deref(),
        Some("SIREN 909 093 148")
    );
    assert_eq!(
        r.controller.rights_email.as_deref(),
        Some("avotreecoute@klivar.com")
    );
    assert!(
        r.controller
            .supervisory_authority
            .address
            .as_deref()
            .unwrap()
            .contains("TSA 80715")
    );
    let expected = [
        ("platform-management", LegalBasis::Contract),
        ("commercial-prospecting", LegalBasis::Consent),
        ("service-improvement", LegalBasis::Consent),
        ("logging-system", LegalBasis::LegitimateInterest),
        ("contact-form", LegalBasis::Consent),
        ("exercising-rights", LegalBasis::LegalObligation),
    ];
    for (id, basis) in expected {
        let a = r
            .activities
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(a.legal_basis, basis, "{id}");
    }
    let logging = r
        .activities
        .iter()
        .find(|a| a.id == "logging-system")
        .unwrap();
    assert!(logging.legitimate_interest.is_some());

    // The six retention rules of the policy: (id, period, trigger, archive).
    let rules = [
        ("prospecting", "3 years", Trigger::LastContact, None),
        ("logs", "1 year", Trigger::Collection, None),
        ("user-account", "0 days", Trigger::ContractEnd, None),
        (
            "customer-file",
            "5 years",
            Trigger::ContractEnd,
            Some("5 years"),
        ),
        (
            "billing",
            "10 years",
            Trigger::ContractEnd,
            Some("10 years"),
        ),
        (
            "rights-requests",
            "2 years",
            Trigger::EndOfCalendarYear,
            Some("2 years"),
        ),
    ];
    for (id, period, trigger, archive) in rules {
        let rr = rule(&r, id);
        assert_eq!(rr.period.seconds(), secs(period), "{id}");
        assert_eq!(rr.trigger, trigger, "{id}");
        assert_eq!(rr.archive.map(|a| a.seconds()), archive.map(secs), "{id}");
    }
    // Transfers outside the EU: Standard Contractual Clauses (plus a DPA).
    let transfers: Vec<_> = r.activities.iter().flat_map(|a| &a.transfers).collect();
    assert!(!transfers.is_empty());
    assert!(
        transfers
            .iter()
            .all(|t| t.safeguard == Safeguard::Scc && !in_eea(&t.country))
    );
    let site = &r.sites[0];
    let on_site: Vec<&str> = r.site_purposes(site).map(|p| p.id.as_str()).collect();
    assert_eq!(on_site, ["necessary", "service-improvement"]);
}

/// The complete example of `docs/registry.md` (the block after the `examples-test` marker)
/// checks without error or warning, but for the two warnings that ask a reader who copies it to
/// replace its documentation addresses (`example.com`) with real ones.
#[test]
fn the_documentation_example_checks_clean() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/registry.md");
    let doc = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let after = &doc[doc.find("<!-- examples-test").expect("marker")..];
    let start = after.find("```toml\n").expect("toml block") + "```toml\n".len();
    let block = &after[start..];
    let block = &block[..block.find("\n```").expect("end of block")];
    let (reg, diags) = check(block);
    let all: Vec<String> = diags.iter().map(|d| d.render("docs/registry.md")).collect();
    let (placeholders, others): (Vec<&String>, Vec<&String>) = all
        .iter()
        .partition(|d| d.contains("warning:") && d.contains("(a documentation address)"));
    assert!(others.is_empty(), "{}", all.join("\n"));
    assert_eq!(placeholders.len(), 2, "{}", all.join("\n"));
    let reg = reg.unwrap();
    assert_eq!(reg.sites.len(), 1);
    assert_eq!(reg.cookies.len(), 3);
}

/// The demo registry shows German: every text it uses has a German value (else `load` would
/// fail), the purposes read German, and dropping one German value is an error at that text.
#[test]
fn callkom_speaks_german() {
    let r = load("callkom");
    let names: Vec<&str> = r.purposes.iter().map(|p| p.name.get("de", "en")).collect();
    assert_eq!(names, ["Unbedingt erforderlich", "Funktional", "Leistung"]);
    let src = std::fs::read_to_string(path("callkom")).unwrap();
    let bad = src.replacen("name.de = \"Funktional\"\n", "", 1);
    assert_ne!(bad, src);
    let (reg, diags) = check(&bad);
    assert!(reg.is_none());
    let d = diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d.path, "purposes[1].name");
    assert!(d.message.contains("site language `de`"), "{}", d.message);
}
