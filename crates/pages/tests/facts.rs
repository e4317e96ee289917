#![allow(clippy::unwrap_used, clippy::expect_used)]
//! For each of the five example registries, in English and French, the generated pages state
//! every fact of the registry: each tracker row (category, name, domain, provider, purpose,
//! legal basis, lifetime), each purpose and its legal basis, each service, transfer and
//! safeguard, each processing activity and its legal basis, each retention period, each
//! subprocessor, the controller, DPO and authority, and the ways to exercise rights.

mod common;

use assent_model::registry::{LegalBasis, Role, Service, Trigger, in_eea};
use assent_pages::words::{country, lifetime_days};
use common::esc;
use common::{assert_contains_all, between, cases, some_row_has, table_rows};

const LANGS: [&str; 2] = ["en", "fr"];

/// `html` names the service and its provider, and links its privacy policy when it has one.
#[track_caller]
fn assert_lists_service(html: &str, s: &Service, ctx: &str) {
    let link = s
        .privacy_policy
        .as_ref()
        .map(|u| format!("href=\"{}\"", esc(u)));
    // A placeholder provider ("Not named in the policy") is not published as a name.
    let provider = assent_pages::gaps::known(&s.provider).map(esc);
    assert_contains_all(
        html,
        [esc(&s.name)].into_iter().chain(provider).chain(link),
        &format!("{ctx}: service {}", s.id),
    );
    if assent_pages::gaps::known(&s.provider).is_none() {
        assert!(
            !html.contains(&esc(&s.provider)),
            "{ctx}: placeholder provider"
        );
    }
}

#[test]
fn cookie_policy_lists_every_tracker_and_purpose() {
    for c in cases(&LANGS) {
        let (reg, site, snap, lang, ctx) = (&c.reg, &c.site, &c.snap, c.lang, &c.ctx);
        let def = site.default_language();
        let r = &c.rendered;
        // Long tracker names carry line-break opportunities.
        let html = &r.cookie.replace("<wbr>", "");
        assert!(html.starts_with("<!doctype html>\n<html lang=\""), "{ctx}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{ctx}");
        assert!(
            html.contains(&format!(
                "<script src=\"/assent.js?site={}&#38;lang={lang}\"",
                site.id
            )),
            "{ctx}: banner script"
        );
        assert!(
            html.contains("<button type=\"button\" data-assent-manage"),
            "{ctx}"
        );
        assert!(html.contains("<a class=\"skip\" href=\"#main\""), "{ctx}");
        assert_eq!(html.matches("<h1>").count(), 1, "{ctx}: one h1");

        // The table: one row per tracker, each with all six columns.
        let rows = table_rows(html, "<table id=\"cookie-table\"");
        assert_eq!(
            rows.len(),
            reg.site_cookies(site).count(),
            "{ctx}: one row per tracker"
        );
        assert_eq!(rows.len(), snap.cookies.len(), "{ctx}");
        for c in &snap.cookies {
            let purpose = snap.purpose(&c.purpose).unwrap();
            let basis = c.legal_basis.unwrap_or(purpose.legal_basis);
            let mut needles = vec![
                esc(purpose.name.get(lang, def)),
                format!("<code>{}</code>", esc(&c.name)),
                esc(basis.label(lang)),
                format!(
                    "<td data-label=\"{}\">{}</td>",
                    esc(assent_pages::i18n::texts(lang).get("cookie.lifetime")),
                    esc(&c.lifetime.display(lang))
                ),
            ];
            if let Some(d) = &c.domain {
                needles.push(format!("{} / ", esc(d)));
            }
            match &c.service {
                Some(s) => needles.push(esc(&snap.service(s).unwrap().name)),
                None => needles.push(esc(&snap.controller.name)),
            }
            if let Some(d) = &c.description {
                needles.push(esc(d.get(lang, def)));
            }
            if !purpose.consent_required
                && let Some(why) = &c.exemption_reason
            {
                needles.push(esc(why.get(lang, def)));
            }
            assert!(
                some_row_has(&rows, &needles),
                "{ctx}: no row for tracker {} {:?}: {needles:#?}",
                c.name,
                c.domain
            );
        }

        // Purposes: name, description, legal basis, consent or exemption, refusal impact.
        for p in &snap.purposes {
            let card = between(
                html,
                &format!("aria-labelledby=\"p-{}\"", p.id),
                "</section>",
            );
            assert_contains_all(
                card,
                [
                    esc(p.name.get(lang, def)),
                    esc(p.description.get(lang, def)),
                    esc(p.legal_basis.label(lang)),
                ],
                &format!("{ctx}: {}", p.id),
            );
            let badge = if p.consent_required {
                if lang == "fr" {
                    "Consentement requis"
                } else {
                    "Consent required"
                }
            } else if lang == "fr" {
                "Exempté de consentement"
            } else {
                "Exempt from consent"
            };
            assert!(card.contains(badge), "{ctx}: {}", p.id);
            if let Some(ri) = &p.refusal_impact {
                assert!(card.contains(&esc(ri.get(lang, def))), "{ctx}: {}", p.id);
                let section = between(html, "id=\"refusal\"", "</ul>");
                assert!(
                    section.contains(&esc(ri.get(lang, def))),
                    "{ctx}: refusal {}",
                    p.id
                );
            }
        }

        // Third parties, their policies and countries; transfers and safeguards.
        let third = between(html, "id=\"third-parties\"", "</table>");
        for s in &snap.services {
            assert_lists_service(third, s, ctx);
            if let Some(c) = &s.country {
                assert!(
                    third.contains(&esc(&country(c, lang))),
                    "{ctx}: country {}",
                    s.id
                );
                if !in_eea(c) {
                    let tr = between(html, "id=\"transfers\"", "</ul>");
                    assert!(tr.contains(&esc(&s.name)), "{ctx}: transfer {}", s.id);
                    assert!(
                        tr.contains(&esc(s.safeguard.unwrap().label(lang))),
                        "{ctx}: safeguard {}",
                        s.id
                    );
                }
            }
        }

        // Consent lifetime, contact and version.
        assert!(
            html.contains(&lifetime_days(site.consent_lifetime_days, lang)),
            "{ctx}"
        );
        // The contact address, unless it is a placeholder (then it is not published).
        match assent_pages::gaps::rights_email(&snap.controller) {
            Some(e) => assert!(html.contains(&esc(e)), "{ctx}: contact email"),
            None => assert!(!html.contains(&esc(&snap.controller.email)), "{ctx}"),
        }
        assert!(
            html.contains(&format!(
                "href=\"/sites/{}/policy-versions?lang={lang}\"",
                site.id
            )),
            "{ctx}"
        );
        assert!(html.contains("<time datetime=\"2026-09-21\">"), "{ctx}");
        assert!(
            html.contains(&format!(
                "href=\"/sites/{}/privacy-policy?lang={lang}\"",
                site.id
            )),
            "{ctx}"
        );

        // The JSON document carries the same rows.
        let cookies = r.json["cookies"].as_array().unwrap();
        assert_eq!(cookies.len(), snap.cookies.len(), "{ctx}");
        assert_eq!(
            r.json["purposes"].as_array().unwrap().len(),
            snap.purposes.len()
        );
        assert_eq!(r.json["language"], lang);
        for c in &snap.cookies {
            assert!(
                cookies.iter().any(|j| j["name"] == c.name.as_str()
                    && j["domain"].as_str() == c.domain.as_deref()
                    && j["lifetime"] == c.lifetime.display(lang).as_str()),
                "{ctx}: JSON row for {}",
                c.name
            );
        }
    }
}

#[test]
fn privacy_policy_states_every_activity_period_and_subprocessor() {
    for c in cases(&LANGS) {
        let (reg, site, snap, lang, ctx) = (&c.reg, &c.site, &c.snap, c.lang, &c.ctx);
        let def = site.default_language();
        let ctl = &reg.controller;
        let html = &c.rendered.privacy;
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{ctx}");
        assert_eq!(html.matches("<h1>").count(), 1, "{ctx}");
        assert!(
            !html.contains("<script"),
            "{ctx}: no script on the privacy policy"
        );

        // Controller identity and contact.
        for v in [
            Some(&ctl.name),
            ctl.legal_form.as_ref(),
            ctl.registration.as_ref(),
            Some(&ctl.address),
            Some(&ctl.email),
            ctl.phone.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            // A placeholder ("Not stated...", an address at a documentation domain) is never
            // published; every real value is.
            if assent_model::placeholder::is_placeholder_address(v) {
                assert!(!html.contains(&esc(v)), "{ctx}: placeholder {v} published");
            } else {
                assert!(html.contains(&esc(v)), "{ctx}: controller {v}");
            }
        }
        if let Some(d) = &ctl.dpo {
            let sec = between(html, "id=\"dpo\"", "<h2");
            for v in [&d.name, &d.email, &d.address, &d.phone]
                .into_iter()
                .flatten()
            {
                assert!(sec.contains(&esc(v)), "{ctx}: DPO {v}");
            }
        }
        let auth = &ctl.supervisory_authority;
        let sec = between(html, "id=\"complaint\"", "</dl>");
        assert!(sec.contains(&esc(&auth.name)), "{ctx}");
        for v in [&auth.url, &auth.address].into_iter().flatten() {
            assert!(sec.contains(&esc(v)), "{ctx}: authority {v}");
        }

        // The table seed 001 left empty: every activity, its purpose and legal basis.
        let rows = table_rows(html, "<table id=\"purposes-table\"");
        assert_eq!(rows.len(), snap.activities.len(), "{ctx}");
        for a in &snap.activities {
            let needles = vec![
                esc(a.name.get(lang, def)),
                esc(a.description.get(lang, def)),
                esc(a.legal_basis.label(lang)),
            ];
            assert!(some_row_has(&rows, &needles), "{ctx}: activity {}", a.id);
            let card = between(
                html,
                &format!("aria-labelledby=\"a-{}\"", a.id),
                "</section>",
            );
            for t in a
                .data_subjects
                .iter()
                .chain(&a.data_categories)
                .chain(&a.recipients)
                .chain(&a.security_measures)
            {
                assert!(
                    card.contains(&esc(t.get(lang, def))),
                    "{ctx}: {} lacks {:?}",
                    a.id,
                    t.get(lang, def)
                );
            }
            if let Some(li) = &a.legitimate_interest {
                assert!(card.contains(&esc(li.get(lang, def))), "{ctx}: {}", a.id);
                let sec = between(html, "id=\"interests\"", "<h2");
                assert!(sec.contains(&esc(li.get(lang, def))), "{ctx}: {}", a.id);
            }
            for t in &a.transfers {
                assert_contains_all(
                    card,
                    [
                        esc(&country(&t.country, lang)),
                        esc(t.safeguard.label(lang)),
                    ],
                    &format!("{ctx}: {} transfer", a.id),
                );
                let sec = between(html, "id=\"transfers\"", "</table>");
                assert!(sec.contains(&esc(t.safeguard.label(lang))), "{ctx}");
                if let Some(r) = &t.recipient {
                    assert!(sec.contains(&esc(r)), "{ctx}: transfer recipient {r}");
                }
            }
            if a.legal_basis == LegalBasis::Consent {
                assert!(
                    card.contains(if lang == "fr" {
                        "retirer votre consentement"
                    } else {
                        "withdraw your consent"
                    }),
                    "{ctx}"
                );
            }
        }

        // Every retention period.
        let rows = table_rows(html, "<table id=\"retention\"");
        assert_eq!(rows.len(), snap.retention.len(), "{ctx}");
        for r in &snap.retention {
            let mut needles = vec![esc(r.data_category.get(lang, def))];
            if r.period.amount > 0 {
                needles.push(esc(&r.period.display(lang)));
                if matches!(
                    r.trigger,
                    Trigger::Collection
                        | Trigger::LastContact
                        | Trigger::LastActivity
                        | Trigger::ConsentWithdrawal
                ) {
                    needles.push(esc(r.trigger.label(lang)));
                }
            } else if r.trigger == Trigger::ContractEnd {
                needles.push(if lang == "fr" {
                    "durée du contrat".into()
                } else {
                    "duration of the contract".into()
                });
            }
            if let Some(a) = r.archive {
                needles.push(if lang == "fr" {
                    "archives intermédiaires".into()
                } else {
                    "intermediate archives".into()
                });
                if a != r.period {
                    needles.push(esc(&a.display(lang)));
                }
            }
            if let Some(d) = &r.description {
                needles.push(esc(d.get(lang, def)));
            }
            assert!(
                some_row_has(&rows, &needles),
                "{ctx}: retention {}: {needles:?}",
                r.id
            );
        }

        // Every subprocessor: the site's processors and those its activities name.
        let subs = between(html, "<table id=\"subprocessors\"", "</table>");
        for s in &reg.services {
            let on_site = snap.service(&s.id).is_some();
            let named = snap.activities.iter().any(|a| a.processors.contains(&s.id));
            if s.role == Role::Processor && (on_site || named) {
                assert_lists_service(subs, s, &format!("{ctx}: subprocessor"));
            }
            if s.role != Role::Processor && on_site {
                assert!(
                    !subs.contains(&format!(">{}<", esc(&s.name))),
                    "{ctx}: {} is not a processor",
                    s.id
                );
                let sec = between(html, "id=\"recipients\"", "<h2");
                assert!(sec.contains(&esc(&s.name)), "{ctx}: controller {}", s.id);
            }
        }

        // Rights, the one-month answer, how to exercise them, complaint.
        let rights = between(html, "id=\"rights\"", "id=\"complaint\"");
        let want: &[&str] = if lang == "fr" {
            &[
                "accéder",
                "rectifier",
                "effacement",
                "limitation",
                "portabilité",
                "opposer",
                "retirer votre consentement",
                "un mois",
                "deux mois",
                "art. 22",
            ]
        } else {
            &[
                "access",
                "rectified",
                "erased",
                "restrict",
                "portability",
                "object",
                "withdraw your consent",
                "one month",
                "two further months",
                "Art. 22",
            ]
        };
        for w in want {
            assert!(rights.contains(w), "{ctx}: rights lack {w}");
        }
        assert!(
            rights.contains(&format!("href=\"/sites/{}/rights?lang={lang}\"", site.id)),
            "{ctx}: link to the form"
        );
        // The e-mail and postal addresses, when they are real (placeholders are left out).
        for v in [
            assent_pages::gaps::rights_email(ctl).map(str::to_string),
            assent_pages::gaps::rights_post(ctl),
        ]
        .into_iter()
        .flatten()
        {
            assert!(rights.contains(&esc(&v)), "{ctx}: {v}");
        }
        assert!(!rights.contains("callkom.example"), "{ctx}");
        let fr_law = ctl.country == "FR";
        assert_eq!(
            html.contains("id=\"post-mortem\""),
            fr_law,
            "{ctx}: post-mortem where French law applies"
        );
        if fr_law {
            let sec = between(html, "id=\"post-mortem\"", "<h2");
            assert!(
                sec.contains(if lang == "fr" { "84 à 86" } else { "84 to 86" }),
                "{ctx}"
            );
        }
        assert!(html.contains("id=\"automated\""), "{ctx}");
    }
}

#[test]
fn unknown_language_falls_back_to_the_default() {
    let reg = common::callkom();
    let site = reg.site("callkom").unwrap();
    assert_eq!(assent_pages::resolve_lang(Some("fr"), site), "fr");
    assert_eq!(assent_pages::resolve_lang(Some("it"), site), "en");
    assert_eq!(assent_pages::resolve_lang(Some("\"><x"), site), "en");
    assert_eq!(assent_pages::resolve_lang(None, site), "en");
}
