//! The banner's configuration `C`, generated from a site's policy version.
//!
//! One document per (site, version, language), compact JSON whose schema is the contract with
//! `assets/banner/assent.js` (documented in `docs/dev/banner-config.md`). It is the `C` argument
//! of the script in every page's `/assent.js` response and holds everything both layers need:
//! the first layer, prior blocking, Consent Mode, and the second layer's details (legal bases,
//! services, providers, cookies and lifetimes, in the visitor's language: one language per
//! response keeps it within budget however many languages a site has). It is as small as
//! we can make it: data, not markup; each service once, referenced by index; legal bases and
//! lifetimes as codes that the script turns into words. The purposes' descriptions and refusal
//! impacts travel in a second response ([`details`], fetched once the first layer is shown);
//! the descriptions of services and cookies, domains, countries and privacy policies are on the
//! cookie policy page, which both layers link to: with them the response would exceed its 6 KB
//! budget (`docs/dev/banner-config.md`).
//!
//! A "Text" in `C` is one string when every language of `l` reads the same (always, with one
//! language), else an array with one string per language of `l`, in that order (missing translations are filled the way
//! [`Text::get`] does).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use assent_model::registry::{
    ConsentModeSignal, Cookie, Duration, LegalBasis, Lifetime, Purpose, Text, Unit,
};
use assent_model::version::SiteSnapshot;
use serde_json::{Value, json};

/// UI strings sent to the script, in the order of its index constants (`TITLE = 0` ...). Each
/// dialog uses four in a row: its title, its text, the label of its × and its third button.
pub const UI_KEYS: [&str; 22] = [
    "title",
    "body",
    "close",
    "customize",
    "prefsTitle",
    "prefsBody",
    "closePrefs",
    "save",
    "accept",
    "reject",
    "always",
    "current",
    "receipt",
    "blocked",
    "allow",
    "open",
    "policy",
    "manage",
    "gpc",
    "basis",
    "services",
    "session",
];

/// Flag bits of a purpose in `C.p[i][1]`.
pub const FLAG_EXEMPT: u8 = 1;
pub const FLAG_GPC: u8 = 2;

type Texts = BTreeMap<String, BTreeMap<String, String>>;

/// The built-in UI texts (`assets/banner/texts.json`: English, French and German).
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

fn text(snap: &SiteSnapshot, langs: &[String], t: &Text) -> Value {
    let def = default_lang(snap);
    text_value(langs.iter().map(|l| t.get(l, def).to_string()).collect())
}

/// The consent lifetime in words: "6 months", "13 mois", "6 Monate", else "200 days" (the
/// model's duration words).
pub fn period(days: u32, lang: &str) -> String {
    let months = (f64::from(days) / 30.436_875).round();
    let (amount, unit) = if months >= 1.0 && (months * 30.436_875 - f64::from(days)).abs() <= 3.0 {
        (months as u32, Unit::Months)
    } else {
        (days, Unit::Days)
    };
    Duration { amount, unit }.display(lang)
}

/// "If you refuse:" in `lang` (English for other languages): the label of a purpose's refusal
/// impact in the preferences. Kept out of `UI_KEYS`: it travels in the details, not in `C`.
fn refusal_label(lang: &str) -> &'static str {
    match lang {
        "fr" => "Si vous refusez :",
        "de" => "Wenn Sie ablehnen:",
        _ => "If you refuse:",
    }
}

/// The second layer's details in one language, fetched by the script once the first layer
/// is shown (`GET /assent-details.json`): `{"r": "If you refuse:", "p": [[description,
/// refusal impact or null], ...]}`, one entry per purpose in the order of `C.p`. A refusal
/// impact is sent for purposes that can be refused only. Kept out of `C` so that the first
/// response stays within its 6 KB budget: the preferences show these texts as soon as they have
/// arrived, and never wait for them.
pub fn details(snap: &SiteSnapshot, lang: &str) -> Value {
    let def = default_lang(snap);
    let purposes: Vec<Value> = snap
        .purposes
        .iter()
        .map(|p| {
            let impact = p
                .refusal_impact
                .as_ref()
                .filter(|_| p.consent_required)
                .map(|t| t.get(lang, def));
            json!([p.description.get(lang, def), impact])
        })
        .collect();
    json!({"r": refusal_label(lang), "p": purposes})
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

/// A lifetime as a number the script formats in the visitor's language: 0 = the browser
/// session, else `amount * 10 + unit` with unit 1 = minute, 2 = hour, 3 = day, 4 = week,
/// 5 = month, 6 = year (`Intl.NumberFormat` unit names, in the script's `UNITS`).
pub fn lifetime_code(l: Lifetime) -> u64 {
    match l {
        Lifetime::Session => 0,
        Lifetime::For(d) => {
            let unit = match d.unit {
                Unit::Minutes => 1,
                Unit::Hours => 2,
                Unit::Days => 3,
                Unit::Weeks => 4,
                Unit::Months => 5,
                Unit::Years => 6,
            };
            u64::from(d.amount) * 10 + unit
        }
    }
}

/// Index of `item` in `list`, appended when absent.
fn index_of<T: PartialEq>(list: &mut Vec<T>, item: T) -> usize {
    match list.iter().position(|x| *x == item) {
        Some(i) => i,
        None => {
            list.push(item);
            list.len() - 1
        }
    }
}

/// `C`: the whole banner configuration of a site's policy version, with its texts in `langs`
/// (languages of the site, in order: the server sends the visitor's one, see
/// [`crate::banner::visitor_lang`]; every language of the site also works).
pub fn config(
    snap: &SiteSnapshot,
    version: i64,
    floor: i64,
    public_base: &str,
    langs: &[String],
) -> Value {
    let site = &snap.site;
    let gpc_notice = snap.purposes.iter().any(|p| p.gpc);
    // Services (name, provider) and legal bases, each listed once and referenced by index.
    let mut services: Vec<(&str, &str)> = vec![];
    let mut bases: Vec<LegalBasis> = vec![];
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
            // The purpose's legal basis, then those that some of its cookies use instead.
            let mut basis = vec![index_of(&mut bases, p.legal_basis)];
            for c in purpose_cookies(snap, p) {
                if let Some(b) = c.legal_basis {
                    let i = index_of(&mut bases, b);
                    if !basis.contains(&i) {
                        basis.push(i);
                    }
                }
            }
            let basis = if basis.len() == 1 {
                json!(basis[0])
            } else {
                json!(basis)
            };
            // Rows: [service index, [cookie name, lifetime code], ...]: each service
            // serving the purpose with its cookies (one entry per name and lifetime: the domains
            // are on the cookie policy page), then the cookies without such a service, under
            // the site itself (site name, controller).
            let mut rows: Vec<Value> = vec![];
            let mut row = |svc: usize, cookies: Vec<&Cookie>| {
                let mut r = vec![json!(svc)];
                let mut seen: Vec<(&str, u64)> = vec![];
                for c in cookies {
                    let k = (c.name.as_str(), lifetime_code(c.lifetime));
                    if !seen.contains(&k) {
                        seen.push(k);
                        r.push(json!([k.0, k.1]));
                    }
                }
                rows.push(Value::Array(r));
            };
            let serving = |id: &str| {
                snap.services
                    .iter()
                    .any(|s| s.id == id && s.purposes.contains(&p.id))
            };
            for s in snap.services.iter().filter(|s| s.purposes.contains(&p.id)) {
                let i = index_of(&mut services, (s.name.as_str(), s.provider.as_str()));
                row(
                    i,
                    purpose_cookies(snap, p)
                        .filter(|c| c.service.as_deref() == Some(s.id.as_str()))
                        .collect(),
                );
            }
            let orphans: Vec<&Cookie> = purpose_cookies(snap, p)
                .filter(|c| c.service.as_deref().is_none_or(|id| !serving(id)))
                .collect();
            if !orphans.is_empty() {
                let i = index_of(
                    &mut services,
                    (site.name.as_str(), snap.controller.name.as_str()),
                );
                row(i, orphans);
            }
            json!([
                p.id,
                flags,
                consent_mode_mask(p),
                text(snap, langs, &p.name),
                basis,
                rows
            ])
        })
        .collect();
    let bases: Vec<Value> = bases
        .iter()
        .map(|b| text_value(langs.iter().map(|l| b.label(l).to_string()).collect()))
        .collect();
    json!({
        "s": site.id,
        "a": public_base,
        "v": version,
        "f": floor,
        "d": site.consent_lifetime_days.min(assent_model::registry::MAX_CONSENT_LIFETIME_DAYS),
        "k": site.cookie_domain.clone().unwrap_or_default(),
        "l": langs,
        "p": purposes,
        "r": services,
        "b": bases,
        "t": langs.iter().map(|l| ui_strings(snap, l, gpc_notice)).collect::<Vec<_>>(),
    })
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
        for lang in ["en", "fr", "de"] {
            for k in UI_KEYS {
                let s = t.get(lang).and_then(|m| m.get(k));
                assert!(s.is_some_and(|s| !s.is_empty()), "{lang}.{k}");
            }
            assert_eq!(t[lang].len(), UI_KEYS.len(), "{lang}: unknown keys");
        }
        assert_eq!(ui("de", "accept"), "Alle akzeptieren");
        assert_eq!(ui("it", "accept"), "Accept all");
    }

    #[test]
    fn periods() {
        assert_eq!(period(182, "en"), "6 months");
        assert_eq!(period(182, "fr"), "6 mois");
        assert_eq!(period(395, "en"), "13 months");
        assert_eq!(period(30, "en"), "1 month");
        assert_eq!(period(200, "en"), "200 days");
        assert_eq!(period(1, "fr"), "1 jour");
        assert_eq!(period(182, "de"), "6 Monate");
        assert_eq!(period(30, "de"), "1 Monat");
        assert_eq!(period(200, "de"), "200 Tage");
    }

    #[test]
    fn lifetime_codes() {
        let code = |s: &str| lifetime_code(s.parse().unwrap());
        assert_eq!(code("session"), 0);
        assert_eq!(code("30 minutes"), 301);
        assert_eq!(code("13 months"), 135);
        assert_eq!(code("1 year"), 16);
        assert_eq!(code("182 days"), 1823);
    }

    #[test]
    fn config_of_callkom() {
        let snap = callkom();
        let c = config(&snap, 3, 2, "https://consent.example", &snap.site.languages);
        assert_eq!(c["s"], "callkom");
        assert_eq!(c["a"], "https://consent.example");
        assert_eq!(
            (c["v"].as_i64(), c["f"].as_i64(), c["d"].as_i64()),
            (Some(3), Some(2), Some(182))
        );
        assert_eq!(c["k"], ".callkom.io");
        assert_eq!(c["l"], json!(["en", "fr", "de"]));
        let p = c["p"].as_array().unwrap();
        assert_eq!(p.len(), 3);
        // necessary: exempt, security_storage (bit 6), legitimate interest
        assert_eq!(p[0][0], "necessary");
        assert_eq!((p[0][1].as_u64(), p[0][2].as_u64()), (Some(1), Some(64)));
        assert_eq!(
            c["b"][p[0][4].as_u64().unwrap() as usize][0],
            "Legitimate interest"
        );
        // functional: functionality_storage + personalization_storage (bits 4, 5)
        assert_eq!((p[1][1].as_u64(), p[1][2].as_u64()), (Some(0), Some(48)));
        assert_eq!(p[1][3], json!(["Functional", "Fonctionnels", "Funktional"]));
        assert_eq!(
            c["b"][p[1][4].as_u64().unwrap() as usize],
            json!(["Consent", "Consentement", "Einwilligung"])
        );
        // performance: analytics_storage (bit 3)
        assert_eq!(p[2][2].as_u64(), Some(8));
        assert_eq!(p[2][3], json!(["Performance", "Performance", "Leistung"]));
        // rows: services by index, their cookies with lifetime codes; each service listed once
        let r = c["r"].as_array().unwrap();
        let svc = |row: &Value| r[row[0].as_u64().unwrap() as usize].clone();
        let perf = p[2][5].as_array().unwrap();
        let ga = perf
            .iter()
            .find(|row| svc(row)[0] == "Google Analytics 4")
            .unwrap();
        assert_eq!(
            svc(ga),
            json!(["Google Analytics 4", "Google Ireland Limited"])
        );
        assert_eq!(ga, &json!([ga[0], ["_ga", 135], ["_ga_*", 135]]));
        let ai = perf
            .iter()
            .find(|row| svc(row)[1] == "Microsoft Corporation")
            .unwrap();
        assert_eq!(
            &ai.as_array().unwrap()[1..],
            [json!(["ai_user", 115]), json!(["ai_session", 301])],
            "one entry per name and lifetime"
        );
        // HubSpot serves two purposes: one entry in r, referenced twice
        let hub: Vec<usize> = r
            .iter()
            .enumerate()
            .filter(|(_, s)| s[0] == "HubSpot")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hub.len(), 1);
        assert!(
            p[1][5]
                .as_array()
                .unwrap()
                .iter()
                .any(|row| row[0] == hub[0])
        );
        assert!(perf.iter().any(|row| row[0] == hub[0]));
        // a cookie without a service is listed under the site itself
        let func = p[1][5].as_array().unwrap();
        let own = func
            .iter()
            .find(|row| svc(row) == json!(["Callkom", "CALLKOM"]))
            .unwrap();
        assert_eq!(
            &own.as_array().unwrap()[1..],
            [json!(["wp-wpml_current_language", 0])]
        );
        let t = c["t"].as_array().unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].as_array().unwrap().len(), UI_KEYS.len());
        assert_eq!(t[0][0], "Cookies on Callkom"); // site override
        assert_eq!(t[1][0], "Les cookies sur Callkom");
        assert_eq!(t[1][8], "Tout accepter");
        assert_eq!(t[2][0], "Cookies auf Callkom");
        assert_eq!(t[2][8], "Alle akzeptieren");
        assert!(
            t[2][5].as_str().unwrap().contains("6 Monate"),
            "{}",
            t[2][5]
        );
        assert!(
            t[0][5].as_str().unwrap().contains("6 months"),
            "{}",
            t[0][5]
        );
        assert_eq!(t[0][18], "", "no GPC notice without a GPC purpose");
    }
}
