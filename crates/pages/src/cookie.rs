//! The cookie policy: what trackers are, the purposes, every tracker of the registry in seed
//! 002's table layout (category, name, domain / provider, purpose, legal basis, lifetime), the
//! third parties, transfers outside the EEA, how to change one's choice, refusal impacts, the
//! consent lifetime, contact and the policy version.

use std::fmt::Write as _;

use assent_model::clock::rfc3339;
use assent_model::registry::{
    Cookie, Exemption, LegalBasis, Purpose, Role, Service, StorageKind, in_eea,
};
use serde_json::{Value, json};

use crate::PolicyPage;
use crate::html::{self, Nav, Shell, esc, ext_link, loc, mailto, plain, txt};
use crate::i18n::texts;
use crate::words;

/// One row of the cookie table, in the page's language (plain text, not escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRow {
    pub category: String,
    pub purpose_id: String,
    pub name: String,
    pub kind: StorageKind,
    pub domain: Option<String>,
    pub service_id: Option<String>,
    /// The service's name, for third-party trackers.
    pub provider: Option<String>,
    pub description: String,
    pub legal_basis: LegalBasis,
    pub consent_required: bool,
    pub exemption_reason: Option<String>,
    pub lifetime: String,
    pub lifetime_seconds: i64,
}

/// Every tracker of the version, grouped by purpose in the registry's order.
pub fn cookie_rows(page: &PolicyPage<'_>) -> Vec<CookieRow> {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let order = |c: &Cookie| {
        snap.purposes
            .iter()
            .position(|p| p.id == c.purpose)
            .unwrap_or(usize::MAX)
    };
    let mut cookies: Vec<&Cookie> = snap.cookies.iter().collect();
    cookies.sort_by_key(|c| order(c));
    cookies
        .into_iter()
        .map(|c| {
            let purpose = snap.purpose(&c.purpose);
            let service = c.service.as_deref().and_then(|s| page.service(s));
            let description = match (&c.description, purpose) {
                (Some(d), _) => plain(d, lang, def),
                (None, Some(p)) => plain(&p.name, lang, def),
                (None, None) => String::new(),
            };
            CookieRow {
                category: purpose
                    .map(|p| plain(&p.name, lang, def))
                    .unwrap_or_else(|| c.purpose.clone()),
                purpose_id: c.purpose.clone(),
                name: c.name.clone(),
                kind: c.kind,
                domain: c.domain.clone(),
                service_id: c.service.clone(),
                provider: service
                    .map(|s| s.name.clone())
                    .or_else(|| c.service.clone()),
                description,
                legal_basis: c
                    .legal_basis
                    .or(purpose.map(|p| p.legal_basis))
                    .unwrap_or(LegalBasis::Consent),
                consent_required: purpose.is_none_or(|p| p.consent_required),
                exemption_reason: c.exemption_reason.as_ref().map(|r| plain(r, lang, def)),
                lifetime: words::lifetime(c.lifetime, lang),
                lifetime_seconds: c.lifetime.seconds(),
            }
        })
        .collect()
}

/// A long tracker name, escaped, with line-break opportunities after `_` and `-` so that it
/// does not widen the table's name column (`wp-wpml_current_language`).
fn breakable(name: &str) -> String {
    if name.chars().count() <= 16 {
        return esc(name);
    }
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        out.push_str(&esc(c.encode_utf8(&mut [0; 4])));
        if matches!(c, '_' | '-')
            && !out.ends_with("<wbr>")
            && chars.peek().is_some()
            && out.len() > 1
        {
            out.push_str("<wbr>");
        }
    }
    out
}

/// Label of a storage kind.
pub fn kind_label(k: StorageKind, lang: &str) -> &'static str {
    match k {
        StorageKind::Cookie => "Cookie",
        StorageKind::LocalStorage => txt(lang, "cookie.local_storage"),
        StorageKind::SessionStorage => txt(lang, "cookie.session_storage"),
        StorageKind::IndexedDb => "IndexedDB",
        StorageKind::Pixel => txt(lang, "cookie.pixel"),
    }
}

fn kind_code(k: StorageKind) -> &'static str {
    match k {
        StorageKind::Cookie => "cookie",
        StorageKind::LocalStorage => "local_storage",
        StorageKind::SessionStorage => "session_storage",
        StorageKind::IndexedDb => "indexed_db",
        StorageKind::Pixel => "pixel",
    }
}

/// Role of a provider towards the controller, in words.
pub fn role_label(r: Role, lang: &str) -> &'static str {
    match r {
        Role::Processor => txt(lang, "cookie.processor_acts_instructions"),
        Role::Controller => txt(lang, "cookie.independent_controller"),
        Role::JointController => txt(lang, "cookie.joint_controller"),
    }
}

fn role_code(r: Role) -> &'static str {
    match r {
        Role::Processor => "processor",
        Role::Controller => "controller",
        Role::JointController => "joint_controller",
    }
}

/// Why a purpose does or does not need consent, in words.
pub fn consent_status(p: &Purpose, lang: &str) -> String {
    if p.consent_required {
        return txt(lang, "cookie.placed_only_consent_you").to_string();
    }
    match p.exemption {
        Some(Exemption::StrictlyNecessary) => {
            txt(lang, "cookie.exempt_from_consent_strictly").to_string()
        }
        Some(Exemption::AudienceMeasurement) => {
            let mut s = txt(lang, "cookie.exempt_from_consent_audience").to_string();
            if let Some(d) = p.data_retention {
                s.push(' ');
                s.push_str(&texts(lang).fill(
                    "cookie.collected_data_kept",
                    &[("period", &words::duration(d, lang))],
                ));
            }
            s
        }
        None => txt(lang, "cookie.exempt_from_consent").to_string(),
    }
}

fn exemption_code(p: &Purpose) -> Value {
    match p.exemption {
        Some(Exemption::StrictlyNecessary) => json!("strictly_necessary"),
        Some(Exemption::AudienceMeasurement) => json!("audience_measurement"),
        None => Value::Null,
    }
}

/// Default words when a purpose does not say what refusing changes.
fn default_refusal(p: &Purpose, lang: &str) -> &'static str {
    if p.consent_required {
        txt(lang, "cookie.these_trackers_not_placed")
    } else {
        txt(lang, "cookie.these_trackers_cannot_refused")
    }
}

/// Services processing data outside the EEA.
fn transfers<'a>(page: &'a PolicyPage<'_>) -> Vec<&'a Service> {
    page.snap
        .services
        .iter()
        .filter(|s| s.country.as_deref().is_some_and(|c| !in_eea(c)))
        .collect()
}

fn purpose_names(page: &PolicyPage<'_>, ids: &[String]) -> String {
    ids.iter()
        .map(|id| match page.snap.purpose(id) {
            Some(p) => loc(&p.name, page.lang, page.default_lang()),
            None => esc(id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const BROWSERS: [(&str, &str); 4] = [
    (
        "Google Chrome",
        "https://support.google.com/chrome/answer/95647",
    ),
    (
        "Mozilla Firefox",
        "https://support.mozilla.org/kb/clear-cookies-and-site-data-firefox",
    ),
    (
        "Apple Safari",
        "https://support.apple.com/guide/safari/manage-cookies-sfri11471/mac",
    ),
    (
        "Microsoft Edge",
        "https://support.microsoft.com/microsoft-edge/delete-cookies-in-microsoft-edge-63947406-40ac-c3b8-57b9-2a946a29ae09",
    ),
];

/// The cookie policy as a complete HTML document.
pub fn html(page: &PolicyPage<'_>) -> String {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let site = &snap.site;
    let ctl = &snap.controller;
    let links = page.links;
    let site_name = esc(&site.name);
    let mut b = String::new();

    let sections: Vec<(&str, String)> = vec![
        ("what", txt(lang, "cookie.what_cookies_trackers").into()),
        (
            "purposes",
            txt(lang, "cookie.why_use_them_categories").into(),
        ),
        ("list", txt(lang, "cookie.every_cookie_tracker_use").into()),
        ("third-parties", txt(lang, "cookie.third_parties").into()),
        (
            "transfers",
            txt(lang, "common.transfers_outside_eea").into(),
        ),
        (
            "choices",
            txt(lang, "cookie.choices_how_change_them").into(),
        ),
        ("refusal", txt(lang, "cookie.what_refusing_changes").into()),
        ("browser", txt(lang, "cookie.browser_settings").into()),
        ("contact", txt(lang, "cookie.contact_rights").into()),
        ("version", txt(lang, "common.version_policy").into()),
    ];

    // Introduction
    let _ = write!(
        b,
        "<p class=\"lead\">{}</p>",
        html::fill_raw(
            lang,
            "cookie.intro_html",
            &[("controller", &esc(&ctl.name)), ("site_name", &site_name)]
        )
    );
    b.push_str(&html::toc(lang, &sections));

    // What
    let _ = write!(b, "<h2 id=\"what\">{}</h2>", esc(&sections[0].1));
    b.push_str(txt(lang, "cookie.cookie_small_text_file_html"));

    // Purposes
    let _ = write!(b, "<h2 id=\"purposes\">{}</h2>", esc(&sections[1].1));
    for p in &snap.purposes {
        let n = snap.cookies.iter().filter(|c| c.purpose == p.id).count();
        let services: Vec<&Service> = snap
            .services
            .iter()
            .filter(|s| s.purposes.iter().any(|x| x == &p.id))
            .collect();
        let badge = if p.consent_required {
            format!(
                "<span class=\"badge consent\">{}</span>",
                txt(lang, "cookie.consent_required")
            )
        } else {
            format!(
                "<span class=\"badge exempt\">{}</span>",
                txt(lang, "cookie.exempt_from_consent2")
            )
        };
        let _ = write!(
            b,
            "<section class=\"card\" aria-labelledby=\"p-{id}\"><h3 id=\"p-{id}\">{name} {badge}</h3><p>{desc}</p><dl class=\"facts\">\
<dt>{l_consent}</dt><dd>{consent}</dd><dt>{l_basis}</dt><dd>{basis}</dd>",
            id = esc(&p.id),
            name = loc(&p.name, lang, def),
            desc = loc(&p.description, lang, def),
            l_consent = txt(lang, "cookie.consent"),
            consent = esc(&consent_status(p, lang)),
            l_basis = txt(lang, "common.legal_basis"),
            basis = esc(words::basis(p.legal_basis, lang)),
        );
        if !services.is_empty() {
            let names: Vec<String> = services.iter().map(|s| esc(&s.name)).collect();
            html::fact(&mut b, txt(lang, "cookie.providers"), &names.join(", "));
        }
        let _ = write!(b, "<dt>{}</dt><dd>{n}</dd>", txt(lang, "cookie.trackers"));
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}</dd></dl></section>",
            txt(lang, "cookie.if_you_refuse"),
            match &p.refusal_impact {
                Some(r) => loc(r, lang, def),
                None => esc(default_refusal(p, lang)),
            }
        );
    }

    // Table
    let rows = cookie_rows(page);
    let _ = write!(
        b,
        "<h2 id=\"list\">{}</h2><p>{}</p>",
        esc(&sections[2].1),
        html::fill_raw(lang, "cookie.list_intro_html", &[("n", &rows.len())])
    );
    let _ = write!(
        b,
        "<div class=\"table-wrap\"><table id=\"cookie-table\"><caption>{cap}</caption><thead><tr>\
<th scope=\"col\">{c1}</th><th scope=\"col\">{c2}</th><th scope=\"col\">{c3}</th><th scope=\"col\">{c4}</th><th scope=\"col\">{c5}</th><th scope=\"col\">{c6}</th></tr></thead><tbody>",
        cap = txt(lang, "cookie.cookies_other_trackers"),
        c1 = txt(lang, "cookie.category"),
        c2 = txt(lang, "cookie.cookie_name"),
        c3 = txt(lang, "cookie.domain_provider"),
        c4 = txt(lang, "common.purpose"),
        c5 = txt(lang, "common.legal_basis"),
        c6 = txt(lang, "cookie.lifetime"),
    );
    for r in &rows {
        let domain = r.domain.as_deref().map(esc).unwrap_or_default();
        let provider = match &r.provider {
            Some(p) => esc(p),
            None => format!(
                "{} <span class=\"small\">({})</span>",
                esc(&ctl.name),
                txt(lang, "cookie.first_party")
            ),
        };
        let dp = if domain.is_empty() {
            provider
        } else {
            format!("{domain} / {provider}")
        };
        let kind = if r.kind == StorageKind::Cookie {
            String::new()
        } else {
            format!(
                "<br><span class=\"small\">{}</span>",
                kind_label(r.kind, lang)
            )
        };
        let exempt = match (&r.exemption_reason, r.consent_required) {
            (Some(why), false) => format!(
                "<br><span class=\"small\">{} {}</span>",
                txt(lang, "cookie.exempt_from_consent3"),
                esc(why)
            ),
            _ => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td>{cat}</td><th scope=\"row\"><code>{name}</code>{kind}</th><td>{dp}</td><td>{desc}{exempt}</td><td>{basis}</td><td>{life}</td></tr>",
            cat = esc(&r.category),
            name = breakable(&r.name),
            desc = esc(&r.description),
            basis = esc(words::basis(r.legal_basis, lang)),
            life = esc(&r.lifetime),
        );
    }
    b.push_str("</tbody></table></div>");

    // Third parties
    let _ = write!(b, "<h2 id=\"third-parties\">{}</h2>", esc(&sections[3].1));
    if snap.services.is_empty() {
        b.push_str(&format!(
            "<p>{}</p>",
            txt(lang, "cookie.no_third_party_service")
        ));
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            txt(lang, "cookie.these_providers_place_trackers"),
            txt(lang, "cookie.third_party_services"),
            txt(lang, "cookie.service"),
            txt(lang, "common.purposes"),
            txt(lang, "cookie.role"),
            txt(lang, "cookie.where_data_processed"),
            txt(lang, "common.privacy_policy"),
        );
        for s in &snap.services {
            let desc = s
                .description
                .as_ref()
                .map(|d| format!("<br><span class=\"small\">{}</span>", loc(d, lang, def)))
                .unwrap_or_default();
            let policy = match &s.privacy_policy {
                Some(u) => html::policy_link(u),
                None => format!(
                    "<span class=\"small\">{}</span>",
                    txt(lang, "cookie.not_provided")
                ),
            };
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{name}<br><span class=\"small\">{provider}</span>{desc}</th><td>{purposes}</td><td>{role}</td><td>{country}</td><td>{policy}</td></tr>",
                name = esc(&s.name),
                provider = esc(&s.provider),
                purposes = purpose_names(page, &s.purposes),
                role = role_label(s.role, lang),
                country = s
                    .country
                    .as_deref()
                    .map(|c| esc(&words::country_with_code(c, lang)))
                    .unwrap_or_else(|| txt(lang, "cookie.not_stated").to_string()),
            );
        }
        b.push_str("</tbody></table></div>");
    }

    // Transfers
    let _ = write!(b, "<h2 id=\"transfers\">{}</h2>", esc(&sections[4].1));
    let tr = transfers(page);
    if tr.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            txt(lang, "cookie.none_providers_above_processes")
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>",
            txt(lang, "cookie.following_providers_process_data")
        );
        for s in tr {
            let _ = write!(
                b,
                "<li><strong>{}</strong> ({}) – {} – {}</li>",
                esc(&s.name),
                esc(&s.provider),
                esc(&words::country_with_code(
                    s.country.as_deref().unwrap_or(""),
                    lang
                )),
                match s.safeguard {
                    Some(g) => esc(words::safeguard(g, lang)),
                    None => txt(lang, "common.safeguard_not_stated").to_string(),
                }
            );
        }
        b.push_str("</ul>");
    }

    // Choices
    let life = words::lifetime_days(site.consent_lifetime_days, lang);
    let _ = write!(b, "<h2 id=\"choices\">{}</h2>", esc(&sections[5].1));
    let _ = write!(
        b,
        "<p>{}</p><p class=\"noprint\"><button type=\"button\" data-assent-manage class=\"manage\">{}</button></p><p class=\"small\">{}</p>",
        txt(lang, "cookie.when_you_first_visit"),
        txt(lang, "cookie.manage_my_cookies"),
        html::fill_raw(lang, "cookie.no_js_html", &[("site_name", &site_name)])
    );
    let _ = write!(
        b,
        "<h3>{}</h3><p>{}</p>",
        txt(lang, "cookie.how_long_choice_kept"),
        html::fill_raw(
            lang,
            "cookie.choice_kept_html",
            &[("life", &esc(&life)), ("days", &site.consent_lifetime_days)]
        )
    );
    let _ = write!(
        b,
        "<h3>{}</h3><p>{}</p>",
        txt(lang, "cookie.proof_choice"),
        txt(lang, "cookie.each_choice_recorded_its")
    );
    let gpc: Vec<String> = snap
        .purposes
        .iter()
        .filter(|p| p.gpc)
        .map(|p| loc(&p.name, lang, def))
        .collect();
    if !gpc.is_empty() {
        let _ = write!(
            b,
            "<h3>{}</h3><p>{} <strong>{}</strong>.</p>",
            txt(lang, "cookie.global_privacy_control"),
            txt(lang, "cookie.if_browser_sends_global"),
            gpc.join(", ")
        );
    }

    // Refusal impact
    let _ = write!(b, "<h2 id=\"refusal\">{}</h2><ul>", esc(&sections[6].1));
    for p in &snap.purposes {
        let _ = write!(
            b,
            "<li><strong>{}</strong> – {}</li>",
            loc(&p.name, lang, def),
            match &p.refusal_impact {
                Some(r) => loc(r, lang, def),
                None => esc(default_refusal(p, lang)),
            }
        );
    }
    b.push_str("</ul>");

    // Browser
    let _ = write!(
        b,
        "<h2 id=\"browser\">{}</h2><p>{}</p><ul>",
        esc(&sections[7].1),
        txt(lang, "cookie.you_can_also_see")
    );
    for (name, url) in BROWSERS {
        let _ = write!(b, "<li>{}</li>", ext_link(url, name));
    }
    // The supervisory authority's own guide, for the languages whose catalog names one.
    let guide = txt(lang, "cookie.browser_guide_url");
    if !guide.is_empty() {
        let label = esc(txt(lang, "cookie.browser_guide_label"));
        let _ = write!(b, "<li>{}</li>", ext_link(guide, &label));
    }
    b.push_str("</ul>");

    // Contact
    let _ = write!(b, "<h2 id=\"contact\">{}</h2>", esc(&sections[8].1));
    let _ = write!(
        b,
        "<p>{}</p><dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
        txt(lang, "cookie.you_have_rights_access"),
        txt(lang, "common.controller"),
        esc(&ctl.name),
        txt(lang, "common.email"),
        mailto(ctl.rights_email.as_deref().unwrap_or(&ctl.email)),
    );
    if let Some(dpo) = &ctl.dpo
        && let Some(e) = &dpo.email
    {
        html::fact(
            &mut b,
            txt(lang, "common.data_protection_officer"),
            &mailto(e),
        );
    }
    let _ = write!(
        b,
        "<dt>{}</dt><dd><a href=\"{}\">{}</a></dd></dl><p>{} <a href=\"{}\">{}</a>.</p>",
        txt(lang, "cookie.online_form"),
        esc(&links.rights(lang)),
        txt(lang, "common.exercise_rights"),
        txt(lang, "cookie.other_processing_personal_data"),
        esc(&links.privacy_policy(lang)),
        txt(lang, "common.privacy_policy2"),
    );

    // Version
    let _ = write!(
        b,
        "<h2 id=\"version\">{}</h2><p>{}</p>",
        esc(&sections[9].1),
        html::fill_raw(
            lang,
            "cookie.version_text_html",
            &[
                ("version", &page.version),
                ("date", &html::time_el(page.created_at_ms, page.tz(), lang)),
                ("href", &esc(&links.versions(lang)))
            ]
        )
    );

    let script = format!(
        "<script src=\"{}\" defer></script>",
        esc(&links.banner_script())
    );
    html::shell(&Shell {
        lang,
        title: txt(lang, "common.cookie_policy").to_string(),
        site_name: &site.name,
        nav: Nav::Cookies,
        links: links.nav(lang),
        alternates: page.alternates(|l| links.cookie_policy(l)),
        meta_html: page.version_line(&links.cookie_policy(lang)),
        body_html: b,
        tail_html: script,
        canonical: None,
    })
}

/// The cookie policy as structured data, texts in the page's language.
pub fn json(page: &PolicyPage<'_>) -> Value {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let site = &snap.site;
    let ctl = &snap.controller;
    let links = page.links;
    let purposes: Vec<Value> = snap
        .purposes
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": plain(&p.name, lang, def),
                "description": plain(&p.description, lang, def),
                "consent_required": p.consent_required,
                "exemption": exemption_code(p),
                "consent": consent_status(p, lang),
                "legal_basis": p.legal_basis.as_str(),
                "legal_basis_label": words::basis(p.legal_basis, lang),
                "refusal_impact": match &p.refusal_impact {
                    Some(r) => plain(r, lang, def),
                    None => default_refusal(p, lang).to_string(),
                },
                "gpc": p.gpc,
                "data_retention": p.data_retention.map(|d| words::duration(d, lang)),
                "services": snap.services.iter().filter(|s| s.purposes.contains(&p.id)).map(|s| s.id.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let cookies: Vec<Value> = cookie_rows(page)
        .into_iter()
        .map(|r| {
            json!({
                "category": r.category,
                "purpose": r.purpose_id,
                "name": r.name,
                "kind": kind_code(r.kind),
                "domain": r.domain,
                "service": r.service_id,
                "provider": r.provider,
                "description": r.description,
                "legal_basis": r.legal_basis.as_str(),
                "legal_basis_label": words::basis(r.legal_basis, lang),
                "consent_required": r.consent_required,
                "exemption_reason": r.exemption_reason,
                "lifetime": r.lifetime,
                "lifetime_seconds": r.lifetime_seconds,
            })
        })
        .collect();
    let services: Vec<Value> = snap
        .services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "provider": s.provider,
                "description": s.description.as_ref().map(|d| plain(d, lang, def)),
                "purposes": s.purposes,
                "role": role_code(s.role),
                "country": s.country,
                "outside_eea": s.country.as_deref().is_some_and(|c| !in_eea(c)),
                "safeguard": s.safeguard.map(|g| g.as_str()),
                "safeguard_label": s.safeguard.map(|g| words::safeguard(g, lang)),
                "privacy_policy": s.privacy_policy.as_deref().and_then(html::safe_url),
            })
        })
        .collect();
    let transfers: Vec<Value> = transfers(page)
        .into_iter()
        .map(|s| {
            json!({
                "service": s.id,
                "provider": s.provider,
                "country": s.country,
                "safeguard": s.safeguard.map(|g| g.as_str()),
                "safeguard_label": s.safeguard.map(|g| words::safeguard(g, lang)),
            })
        })
        .collect();
    json!({
        "site": {"id": site.id, "name": site.name, "url": site.url.as_deref().and_then(html::safe_url)},
        "language": lang,
        "languages": site.languages,
        "policy_version": page.version,
        "current_version": page.current_version,
        "published_at": rfc3339(page.created_at_ms),
        "content_hash": snap.content_hash(),
        "controller": {
            "name": ctl.name,
            "email": ctl.rights_email.as_deref().unwrap_or(&ctl.email),
            "address": ctl.address,
            "country": ctl.country,
            "dpo_email": ctl.dpo.as_ref().and_then(|d| d.email.clone()),
        },
        "consent_lifetime_days": site.consent_lifetime_days,
        "consent_lifetime": words::lifetime_days(site.consent_lifetime_days, lang),
        "purposes": purposes,
        "cookies": cookies,
        "services": services,
        "transfers": transfers,
        "links": {
            "cookie_policy": links.cookie_policy(lang),
            "privacy_policy": links.privacy_policy(lang),
            "policy_versions": links.versions(lang),
            "rights": links.rights(lang),
            "banner_script": links.banner_script(),
        },
    })
}
