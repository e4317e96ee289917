//! The banner's configuration, generated from a site's policy version.
//!
//! Two documents per (site, version), both compact JSON whose schema is the contract with
//! `assets/banner/assent.js` (documented in `docs/dev/banner-config.md`):
//! - [`first_layer`]: the `C` argument of the script: what the first layer, prior blocking,
//!   Consent Mode and the controls of the preferences need. It travels in every page's
//!   `/assent.js` response, so it is as small as we can make it.
//! - [`second_layer`]: `GET /assent.json`: the preferences' details (descriptions, refusal
//!   impacts, legal bases, services, cookies, lifetimes), already rendered as escaped HTML per
//!   language, with the preferences' CSS. Fetched at idle once the first layer is shown.
//!
//! A "Text" in `C` is one string when every language of the site reads the same, else an array
//! with one string per language of `l`, in that order (missing translations are filled the way
//! [`Text::get`] does).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use assent_model::registry::{ConsentModeSignal, Cookie, Purpose, Text};
use assent_model::version::SiteSnapshot;
use serde_json::{Value, json};

/// Name of the first-party cookie that keeps the visitor's choice.
pub const CHOICE_COOKIE: &str = "assent_consent";

/// UI strings sent to the script, in the order of its index constants (`TITLE = 0` ...).
pub const UI_KEYS: [&str; 19] = [
    "title",
    "body",
    "accept",
    "reject",
    "customize",
    "save",
    "close",
    "closePrefs",
    "always",
    "prefsTitle",
    "prefsBody",
    "current",
    "receipt",
    "blocked",
    "allow",
    "open",
    "policy",
    "manage",
    "gpc",
];

/// Labels used only in the server-rendered details of the second layer.
pub const DETAIL_KEYS: [&str; 5] = ["services", "cookies", "domain", "lifetime", "basis"];

/// Flag bits of a purpose in `C.p[i][1]`.
pub const FLAG_EXEMPT: u8 = 1;
pub const FLAG_GPC: u8 = 2;

type Texts = BTreeMap<String, BTreeMap<String, String>>;

/// The built-in UI texts (`assets/banner/texts.json`: English and French).
pub fn builtin_texts() -> &'static Texts {
    static T: OnceLock<Texts> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str(include_str!("../../assets/banner/texts.json")).unwrap_or_default()
    })
}

/// A built-in UI string in `lang`, falling back to English (every key exists in English; a
/// test checks it).
pub fn ui(lang: &str, key: &str) -> String {
    let t = builtin_texts();
    t.get(lang)
        .and_then(|m| m.get(key))
        .or_else(|| t.get("en").and_then(|m| m.get(key)))
        .cloned()
        .unwrap_or_default()
}

fn default_lang(snap: &SiteSnapshot) -> &str {
    snap.site.default_language()
}

/// One string if every language agrees, else one per language.
fn text_value(values: Vec<String>) -> Value {
    match values.first() {
        Some(first) if values.iter().all(|v| v == first) => json!(first),
        _ => json!(values),
    }
}

fn text(snap: &SiteSnapshot, t: &Text) -> Value {
    let def = default_lang(snap);
    text_value(
        snap.site
            .languages
            .iter()
            .map(|l| t.get(l, def).to_string())
            .collect(),
    )
}

/// The consent lifetime in words: "6 months", "13 mois", else "200 days".
pub fn period(days: u32, lang: &str) -> String {
    let months = (f64::from(days) / 30.436_875).round();
    let fr = lang == "fr";
    if months >= 1.0 && (months * 30.436_875 - f64::from(days)).abs() <= 3.0 {
        let m = months as u32;
        if fr {
            format!("{m} mois")
        } else if m == 1 {
            "1 month".into()
        } else {
            format!("{m} months")
        }
    } else if fr {
        format!("{days} jour{}", if days == 1 { "" } else { "s" })
    } else {
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    }
}

/// The UI strings of one language, site overrides and placeholders applied.
fn ui_strings(snap: &SiteSnapshot, lang: &str, gpc_notice: bool) -> Vec<String> {
    let def = default_lang(snap);
    let days = snap.site.consent_lifetime_days;
    UI_KEYS
        .iter()
        .map(|&k| {
            let over = snap.site.banner.as_ref().and_then(|b| match k {
                "title" => b.title.as_ref(),
                "body" => b.body.as_ref(),
                _ => None,
            });
            match (k, over) {
                (_, Some(t)) => t.get(lang, def).to_string(),
                ("gpc", None) if !gpc_notice => String::new(),
                ("prefsBody", None) => ui(lang, k).replace("{period}", &period(days, lang)),
                _ => ui(lang, k),
            }
        })
        .collect()
}

/// Bit mask of a purpose's Consent Mode types, bit i = `ConsentModeSignal::ALL[i]` (the order
/// of the script's list).
fn consent_mode_mask(p: &Purpose) -> u8 {
    ConsentModeSignal::ALL
        .iter()
        .enumerate()
        .filter(|(_, s)| p.consent_mode.contains(s))
        .fold(0, |m, (i, _)| m | (1 << i))
}

fn purpose_cookies<'a>(
    snap: &'a SiteSnapshot,
    p: &Purpose,
) -> impl Iterator<Item = &'a Cookie> + 'a {
    let id = p.id.clone();
    snap.cookies.iter().filter(move |c| c.purpose == id)
}

/// The URL of the site's cookie policy page in `lang`.
fn policy_url(base: &str, site: &str, lang: &str) -> String {
    format!("{base}/sites/{site}/cookie-policy?lang={lang}")
}

/// `C`: the first layer's configuration.
pub fn first_layer(snap: &SiteSnapshot, version: i64, floor: i64, public_base: &str) -> Value {
    let site = &snap.site;
    let gpc_notice = snap.purposes.iter().any(|p| p.gpc);
    let purposes: Vec<Value> = snap
        .purposes
        .iter()
        .map(|p| {
            let mut flags = 0u8;
            if !p.consent_required {
                flags |= FLAG_EXEMPT;
            }
            if p.gpc {
                flags |= FLAG_GPC;
            }
            // Names the script deletes on refusal or withdrawal (cookies and storage keys).
            let mut names: Vec<&str> = vec![];
            for c in purpose_cookies(snap, p) {
                if !names.contains(&c.name.as_str()) {
                    names.push(&c.name);
                }
            }
            json!([
                p.id,
                flags,
                consent_mode_mask(p),
                text(snap, &p.name),
                names
            ])
        })
        .collect();
    let urls: Vec<String> = site
        .languages
        .iter()
        .map(|l| policy_url(public_base, &site.id, l))
        .collect();
    json!({
        "s": site.id,
        "a": public_base,
        "v": version,
        "f": floor,
        "d": site.consent_lifetime_days.min(assent_model::registry::MAX_CONSENT_LIFETIME_DAYS),
        "k": [CHOICE_COOKIE, site.cookie_domain.clone().unwrap_or_default()],
        "l": site.languages,
        "u": text_value(urls),
        "p": purposes,
        "t": site.languages.iter().map(|l| ui_strings(snap, l, gpc_notice)).collect::<Vec<_>>(),
    })
}

/// Minimal HTML escaping for text and attribute values (the same characters as the script's).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// One service row of the details table.
struct Row<'a> {
    name: &'a str,
    provider: &'a str,
    url: Option<&'a str>,
    country: Option<&'a str>,
    cookies: Vec<&'a Cookie>,
}

/// The details of purpose `i` in `lang`: description, refusal impact, legal basis, and a table
/// of the purpose's services (each with its provider, country and privacy policy) and cookies
/// (name, domain, lifetime). Every cookie is listed under the service that sets it; cookies
/// without a service are listed under the site itself.
pub fn purpose_details(snap: &SiteSnapshot, i: usize, p: &Purpose, lang: &str) -> String {
    let def = default_lang(snap);
    let mut h = format!(
        "<p id=\"assent-s{i}d\">{}</p>",
        esc(p.description.get(lang, def))
    );
    if let Some(t) = &p.refusal_impact {
        h += &format!("<p class=\"assent-k\">{}</p>", esc(t.get(lang, def)));
    }
    h += &format!(
        "<p class=\"assent-k\"><b>{}</b> {}</p>",
        esc(&ui(lang, "basis")),
        esc(p.legal_basis.label(lang))
    );
    let mut rows: Vec<Row> = snap
        .services
        .iter()
        .filter(|s| s.purposes.contains(&p.id))
        .map(|s| Row {
            name: &s.name,
            provider: &s.provider,
            url: s.privacy_policy.as_deref(),
            country: s.country.as_deref(),
            cookies: purpose_cookies(snap, p)
                .filter(|c| c.service.as_deref() == Some(s.id.as_str()))
                .collect(),
        })
        .collect();
    let orphans: Vec<&Cookie> = purpose_cookies(snap, p)
        .filter(|c| c.service.as_ref().is_none_or(|id| !rows_has(snap, p, id)))
        .collect();
    if !orphans.is_empty() {
        rows.push(Row {
            name: &snap.site.name,
            provider: &snap.controller.name,
            url: snap.site.url.as_deref(),
            country: Some(&snap.controller.country),
            cookies: orphans,
        });
    }
    if rows.is_empty() {
        return h;
    }
    h += &format!(
        "<details><summary>{} ({})</summary><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&ui(lang, "services")),
        rows.len(),
        esc(&ui(lang, "cookies")),
        esc(&ui(lang, "domain")),
        esc(&ui(lang, "lifetime")),
    );
    for r in &rows {
        let name = match r.url {
            Some(u) => format!(
                "<a href=\"{}\" target=\"_blank\">{}</a>",
                esc(u),
                esc(r.name)
            ),
            None => esc(r.name),
        };
        let mut head = format!("{name} · {}", esc(r.provider));
        if let Some(c) = r.country {
            head += &format!(" · {}", esc(c));
        }
        h += &format!("<tr><th colspan=\"3\">{head}</th></tr>");
        for c in &r.cookies {
            h += &format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&c.name),
                esc(c.domain.as_deref().unwrap_or("")),
                esc(&c.lifetime.display(lang)),
            );
        }
    }
    h + "</table></details>"
}

/// Whether the site has service `id` serving purpose `p` (else its cookies count as the site's).
fn rows_has(snap: &SiteSnapshot, p: &Purpose, id: &str) -> bool {
    snap.services
        .iter()
        .any(|s| s.id == id && s.purposes.contains(&p.id))
}

/// `GET /assent.json`: `{"css": <second layer CSS>, "h": [[<details of purpose i>] per language]}`.
pub fn second_layer(snap: &SiteSnapshot, css: &str) -> Value {
    let h: Vec<Vec<String>> = snap
        .site
        .languages
        .iter()
        .map(|l| {
            snap.purposes
                .iter()
                .enumerate()
                .map(|(i, p)| purpose_details(snap, i, p, l))
                .collect()
        })
        .collect();
    json!({ "css": css, "h": h })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callkom() -> SiteSnapshot {
        let src = include_str!("../../../../examples/callkom.toml");
        let (reg, _) = assent_model::check::parse(src).unwrap();
        SiteSnapshot::from_registry(&reg, "callkom").unwrap()
    }

    #[test]
    fn builtin_texts_are_complete() {
        let t = builtin_texts();
        for lang in ["en", "fr"] {
            for k in UI_KEYS.iter().chain(DETAIL_KEYS.iter()) {
                let s = t.get(lang).and_then(|m| m.get(*k));
                assert!(s.is_some_and(|s| !s.is_empty()), "{lang}.{k}");
            }
            assert_eq!(
                t[lang].len(),
                UI_KEYS.len() + DETAIL_KEYS.len(),
                "{lang}: unknown keys"
            );
        }
        assert_eq!(ui("de", "accept"), "Accept all");
    }

    #[test]
    fn periods() {
        assert_eq!(period(182, "en"), "6 months");
        assert_eq!(period(182, "fr"), "6 mois");
        assert_eq!(period(395, "en"), "13 months");
        assert_eq!(period(30, "en"), "1 month");
        assert_eq!(period(200, "en"), "200 days");
        assert_eq!(period(1, "fr"), "1 jour");
    }

    #[test]
    fn first_layer_of_callkom() {
        let snap = callkom();
        let c = first_layer(&snap, 3, 2, "https://consent.example");
        assert_eq!(c["s"], "callkom");
        assert_eq!(c["a"], "https://consent.example");
        assert_eq!(
            (c["v"].as_i64(), c["f"].as_i64(), c["d"].as_i64()),
            (Some(3), Some(2), Some(182))
        );
        assert_eq!(c["k"], json!(["assent_consent", ".callkom.io"]));
        assert_eq!(c["l"], json!(["en", "fr"]));
        assert_eq!(
            c["u"],
            json!([
                "https://consent.example/sites/callkom/cookie-policy?lang=en",
                "https://consent.example/sites/callkom/cookie-policy?lang=fr"
            ])
        );
        let p = c["p"].as_array().unwrap();
        assert_eq!(p.len(), 3);
        // necessary: exempt, security_storage (bit 6)
        assert_eq!(p[0][0], "necessary");
        assert_eq!((p[0][1].as_u64(), p[0][2].as_u64()), (Some(1), Some(64)));
        // functional: functionality_storage + personalization_storage (bits 4, 5)
        assert_eq!((p[1][1].as_u64(), p[1][2].as_u64()), (Some(0), Some(48)));
        assert_eq!(p[1][3], json!(["Functional", "Fonctionnels"]));
        // performance: analytics_storage (bit 3); one name for both languages; cookie names
        assert_eq!(p[2][2].as_u64(), Some(8));
        assert_eq!(p[2][3], json!("Performance"));
        let names: Vec<&str> = p[2][4]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"_ga") && names.contains(&"_ga_*") && names.contains(&"ai_session")
        );
        assert_eq!(
            names.iter().filter(|n| **n == "ai_session").count(),
            1,
            "deduplicated"
        );
        let t = c["t"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].as_array().unwrap().len(), UI_KEYS.len());
        assert_eq!(t[0][0], "Cookies on Callkom"); // site override
        assert_eq!(t[1][0], "Les cookies sur Callkom");
        assert_eq!(t[1][2], "Tout accepter");
        assert_eq!(
            t[0][10],
            "Choose which cookies we may use, purpose by purpose. Your choice is kept for 6 months."
        );
        assert_eq!(t[0][18], "", "no GPC notice without a GPC purpose");
    }

    #[test]
    fn second_layer_of_callkom() {
        let snap = callkom();
        let j = second_layer(&snap, "x{}");
        assert_eq!(j["css"], "x{}");
        let en = j["h"][0].as_array().unwrap();
        let fr = j["h"][1].as_array().unwrap();
        assert_eq!(en.len(), 3);
        let perf = en[2].as_str().unwrap();
        assert!(
            perf.starts_with("<p id=\"assent-s2d\">Measure the site"),
            "{perf}"
        );
        assert!(perf.contains("<b>Legal basis</b> Consent"), "{perf}");
        assert!(
            perf.contains("Google Analytics 4</a> · Google Ireland Limited · US"),
            "{perf}"
        );
        assert!(
            perf.contains(
                "<tr><td><code>_ga_*</code></td><td>.callkom.io</td><td>13 months</td></tr>"
            ),
            "{perf}"
        );
        let fperf = fr[2].as_str().unwrap();
        assert!(
            fperf.contains("<td>13 mois</td>") && fperf.contains("Base légale"),
            "{fperf}"
        );
        // wp-wpml_current_language has no service: listed under the site itself
        let func = en[1].as_str().unwrap();
        assert!(
            func.contains("https://callkom.io\" target=\"_blank\">Callkom</a> · CALLKOM · FR"),
            "{func}"
        );
        assert!(
            func.contains("<code>wp-wpml_current_language</code>"),
            "{func}"
        );
        // escaping
        assert_eq!(esc("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
