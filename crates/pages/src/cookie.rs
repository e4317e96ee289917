//! The cookie policy: what trackers are, the purposes, every tracker of the registry in seed
//! 002's table layout (category, name, domain / provider, purpose, legal basis, lifetime), the
//! third parties, transfers outside the EEA, how to change one's choice, refusal impacts, the
//! consent lifetime, contact and the policy version.

use assent_model::clock::rfc3339;
use assent_model::placeholder::is_placeholder_country;
use assent_model::registry::{
    Cookie, Exemption, LegalBasis, Purpose, Role, Service, StorageKind, in_eea,
};
use serde_json::{Value, json};

use crate::html::{self, Nav, esc, ext_link, loc, mailto, plain, txt};
use crate::i18n::{Markup, Texts, texts};
use crate::{Links, PolicyPage};
use crate::{gaps, words};

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
fn breakable(name: &str) -> Markup {
    if name.chars().count() <= 16 {
        return Markup::text(name);
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
    Markup::trusted(out)
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

fn purpose_names(page: &PolicyPage<'_>, ids: &[String]) -> Vec<Markup> {
    ids.iter()
        .map(|id| match page.snap.purpose(id) {
            Some(p) => loc(&p.name, page.lang, page.default_lang()),
            None => Markup::text(id),
        })
        .collect()
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

/// One purpose card of the cookie policy.
struct PurposeCard {
    id: String,
    name: Markup,
    consent_required: bool,
    description: Markup,
    consent: String,
    basis: &'static str,
    providers: Vec<String>,
    trackers: usize,
    refusal: Markup,
}

/// One row of the cookie table, as shown.
struct RowView {
    category: String,
    name: Markup,
    kind: Option<&'static str>,
    domain: Option<String>,
    provider: Option<String>,
    description: String,
    exempt: Option<String>,
    basis: &'static str,
    lifetime: String,
}

/// One third-party service, as the cookie policy's table shows it.
struct ServiceView {
    name: String,
    provider: String,
    description: Option<Markup>,
    purposes: Vec<Markup>,
    role: &'static str,
    country: Option<String>,
    policy: Option<Markup>,
}

/// One transfer outside the EEA.
struct TransferView {
    name: String,
    provider: String,
    country: String,
    safeguard: Option<&'static str>,
}

/// `templates/cookie.html`.
#[derive(askama::Template)]
#[template(path = "cookie.html")]
struct CookieView {
    t: &'static Texts,
    toc: [(&'static str, &'static str); 10],
    intro: Markup,
    purposes: Vec<PurposeCard>,
    list_intro: Markup,
    rows: Vec<RowView>,
    controller: String,
    services: Vec<ServiceView>,
    transfers: Vec<TransferView>,
    no_js: Markup,
    choice_kept: Markup,
    gpc: Vec<Markup>,
    refusals: Vec<(Markup, Markup)>,
    browsers: Vec<Markup>,
    email: Option<Markup>,
    dpo: Option<Markup>,
    rights_href: String,
    privacy_href: String,
    version_text: Markup,
}

/// The sections of the cookie policy: anchor and catalog key of the heading.
const SECTIONS: [(&str, &str); 10] = [
    ("what", "cookie.what_cookies_trackers"),
    ("purposes", "cookie.why_use_them_categories"),
    ("list", "cookie.every_cookie_tracker_use"),
    ("third-parties", "cookie.third_parties"),
    ("transfers", "common.transfers_outside_eea"),
    ("choices", "cookie.choices_how_change_them"),
    ("refusal", "cookie.what_refusing_changes"),
    ("browser", "cookie.browser_settings"),
    ("contact", "cookie.contact_rights"),
    ("version", "common.version_policy"),
];

fn refusal(p: &Purpose, lang: &str, def: &str) -> Markup {
    match &p.refusal_impact {
        Some(r) => loc(r, lang, def),
        None => Markup::text(default_refusal(p, lang)),
    }
}

/// The cookie policy as a complete HTML document.
pub fn html(page: &PolicyPage<'_>) -> String {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let t = texts(lang);
    let site = &snap.site;
    let ctl = &snap.controller;
    let links = page.links;
    let purposes = snap
        .purposes
        .iter()
        .map(|p| PurposeCard {
            id: p.id.clone(),
            name: loc(&p.name, lang, def),
            consent_required: p.consent_required,
            description: loc(&p.description, lang, def),
            consent: consent_status(p, lang),
            basis: words::basis(p.legal_basis, lang),
            providers: snap
                .services
                .iter()
                .filter(|s| s.purposes.iter().any(|x| x == &p.id))
                .map(|s| s.name.clone())
                .collect(),
            trackers: snap.cookies.iter().filter(|c| c.purpose == p.id).count(),
            refusal: refusal(p, lang, def),
        })
        .collect();
    let rows: Vec<RowView> = cookie_rows(page)
        .into_iter()
        .map(|r| RowView {
            name: breakable(&r.name),
            kind: (r.kind != StorageKind::Cookie).then(|| kind_label(r.kind, lang)),
            domain: r.domain.filter(|d| !d.is_empty()),
            provider: r.provider,
            exempt: r.exemption_reason.filter(|_| !r.consent_required),
            basis: words::basis(r.legal_basis, lang),
            category: r.category,
            description: r.description,
            lifetime: r.lifetime,
        })
        .collect();
    let services = snap
        .services
        .iter()
        .map(|s| ServiceView {
            name: s.name.clone(),
            provider: gaps::provider(s, lang),
            description: s.description.as_ref().map(|d| loc(d, lang, def)),
            purposes: purpose_names(page, &s.purposes),
            role: role_label(s.role, lang),
            country: s.country.as_deref().map(|c| gaps::country(c, lang)),
            policy: s
                .privacy_policy
                .as_deref()
                .and_then(gaps::known_address)
                .map(html::policy_link),
        })
        .collect();
    let transfers = transfers(page)
        .into_iter()
        .map(|s| TransferView {
            name: s.name.clone(),
            provider: gaps::provider(s, lang),
            country: gaps::country(s.country.as_deref().unwrap_or(""), lang),
            safeguard: s.safeguard.map(|g| words::safeguard(g, lang)),
        })
        .collect();
    let mut browsers: Vec<Markup> = BROWSERS
        .iter()
        .map(|(name, url)| ext_link(url, &Markup::text(name)))
        .collect();
    // The supervisory authority's own guide, for the languages whose catalog names one.
    let guide = t.get("cookie.browser_guide_url");
    if !guide.is_empty() {
        browsers.push(ext_link(
            guide,
            &Markup::text(t.get("cookie.browser_guide_label")),
        ));
    }
    let life = words::lifetime_days(site.consent_lifetime_days, lang);
    let n_rows = rows.len();
    let view = CookieView {
        t,
        toc: SECTIONS,
        intro: t.markup(
            "cookie.intro_html",
            &[("controller", &ctl.name), ("site_name", &site.name)],
        ),
        purposes,
        list_intro: t.markup("cookie.list_intro_html", &[("n", &n_rows)]),
        rows,
        controller: ctl.name.clone(),
        services,
        transfers,
        no_js: t.markup("cookie.no_js_html", &[("site_name", &site.name)]),
        choice_kept: t.markup(
            "cookie.choice_kept_html",
            &[("life", &life), ("days", &site.consent_lifetime_days)],
        ),
        gpc: snap
            .purposes
            .iter()
            .filter(|p| p.gpc)
            .map(|p| loc(&p.name, lang, def))
            .collect(),
        refusals: snap
            .purposes
            .iter()
            .map(|p| (loc(&p.name, lang, def), refusal(p, lang, def)))
            .collect(),
        browsers,
        email: gaps::rights_email(ctl).map(mailto),
        dpo: ctl
            .dpo
            .as_ref()
            .and_then(|d| d.email.as_deref())
            .and_then(gaps::known_address)
            .map(mailto),
        rights_href: links.rights(lang),
        privacy_href: links.privacy_policy(lang),
        version_text: page.version_text("cookie.version_text_html"),
    };
    page.shell(
        "common.cookie_policy",
        Nav::Cookies,
        Links::cookie_policy,
        html::render(&view),
        Some(links.banner_script_in(lang)),
    )
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
                "provider": gaps::known(&s.provider),
                "description": s.description.as_ref().map(|d| plain(d, lang, def)),
                "purposes": s.purposes,
                "role": role_code(s.role),
                "country": s.country.as_deref().filter(|c| !is_placeholder_country(c)),
                "outside_eea": s.country.as_deref().is_some_and(|c| !in_eea(c)),
                "safeguard": s.safeguard.map(|g| g.as_str()),
                "safeguard_label": s.safeguard.map(|g| words::safeguard(g, lang)),
                "privacy_policy": s
                    .privacy_policy
                    .as_deref()
                    .and_then(gaps::known_address)
                    .and_then(html::safe_url),
            })
        })
        .collect();
    let transfers: Vec<Value> = transfers(page)
        .into_iter()
        .map(|s| {
            json!({
                "service": s.id,
                "provider": gaps::known(&s.provider),
                "country": s.country.as_deref().filter(|c| !is_placeholder_country(c)),
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
            "email": gaps::rights_email(ctl),
            "address": gaps::known(&ctl.address),
            "country": ctl.country,
            "dpo_email": ctl.dpo.as_ref().and_then(|d| d.email.as_deref()).and_then(gaps::known_address),
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
