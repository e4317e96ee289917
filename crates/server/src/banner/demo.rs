//! The demo site served by `assent demo` under `/demo/`: two pages of a Callkom-like marketing
//! site that use the banner the way a real site does, and a local stand-in for the Calendly
//! widget. It is also what the browser tests and the scanner exercise:
//! - the banner script first in `<head>`, synchronously (Consent Mode defaults come first);
//! - one blocked analytics script (`performance`) that sets `_ga` and `_ga_CALLKOM` when it runs
//!   (both declared by the Callkom registry, 13 months at most);
//! - one blocked iframe (`functional`, `/demo/embed`, which sets no cookie);
//! - a "Manage my cookies" link in the footer, and links between the two pages.
//!
//! `?lang=fr` serves the French page, `?lang=de` the German one: each loads the banner with its
//! language (`/assent.js?site=ID&lang=LANG`); `?site=ID` uses another site of the registry
//! (tests).

use super::config::esc;

/// Page language: `en`, `fr` or `de` (the languages of the Callkom registry).
pub fn lang(q: Option<&str>) -> &'static str {
    match q {
        Some("fr") => "fr",
        Some("de") => "de",
        _ => "en",
    }
}

/// A site id from the query, restricted to safe characters (default `callkom`).
pub fn site(q: Option<&str>) -> String {
    match q {
        Some(s)
            if !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            s.to_string()
        }
        _ => "callkom".into(),
    }
}

struct Words {
    nav_product: &'static str,
    nav_integrations: &'static str,
    nav_demo: &'static str,
    cookie_policy: &'static str,
    manage: &'static str,
    rights: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            nav_product: "Produit",
            nav_integrations: "Intégrations",
            nav_demo: "Réserver une démo",
            cookie_policy: "Politique cookies",
            manage: "Gérer mes cookies",
            rights: "Tous droits réservés.",
        },
        "de" => Words {
            nav_product: "Produkt",
            nav_integrations: "Integrationen",
            nav_demo: "Demo buchen",
            cookie_policy: "Cookie-Richtlinie",
            manage: "Cookie-Einstellungen",
            rights: "Alle Rechte vorbehalten.",
        },
        _ => Words {
            nav_product: "Product",
            nav_integrations: "Integrations",
            nav_demo: "Book a demo",
            cookie_policy: "Cookie policy",
            manage: "Manage my cookies",
            rights: "All rights reserved.",
        },
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f8fafc}
a{color:#0b5cad}
header{background:#0f2a4a;color:#fff}
.bar{display:flex;align-items:center;justify-content:space-between;max-width:1080px;margin:auto;padding:14px 24px}
.logo{font-weight:800;letter-spacing:.08em;font-size:20px;color:#fff;text-decoration:none}
nav a{color:#dbe7f5;margin-left:22px;text-decoration:none}
nav a:hover{color:#fff}
.hero{background:#143a63;color:#fff;padding:56px 24px 64px}
.hero div{max-width:1080px;margin:auto}
.hero h1{font-size:40px;line-height:1.15;margin:0 0 16px;max-width:720px}
.hero p{font-size:19px;max-width:640px;color:#dbe7f5;margin:0 0 24px}
.cta{display:inline-block;background:#fbbf24;color:#111827;font-weight:700;padding:12px 22px;border-radius:8px;text-decoration:none}
main{max-width:1080px;margin:auto;padding:40px 24px 64px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:20px;margin-bottom:40px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:20px 22px}
.card h3{margin:0 0 6px;font-size:18px}
.card p{margin:0;color:#475569}
h2{font-size:26px;margin:0 0 12px}
.embed{background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:20px}
iframe{display:block;border:0;width:100%}
footer{background:#0f2a4a;color:#cbd5e1;font-size:14px}
footer .bar{flex-wrap:wrap;gap:8px 24px}
footer a{color:#fff}
@media (max-width:640px){nav{display:none}.hero h1{font-size:30px}}
"#;

fn head(lang: &str, site: &str, title: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<!-- Assent first in <head>, without async: the Consent Mode defaults precede every Google tag. -->
<script src="/assent.js?site={site}&amp;lang={lang}"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
</script>
<!-- Google Analytics 4 stand-in, blocked until "performance" is granted: it sets _ga and
     _ga_CALLKOM (declared in the registry, 13 months) like gtag.js does. -->
<script type="text/plain" data-assent-purpose="performance">
  window.demoAnalytics = (window.demoAnalytics || 0) + 1;
  (function () {{
    var t = Math.floor(Date.now() / 1000), age = '; Max-Age=34000000; Path=/; SameSite=Lax';
    if (!/(^|; )_ga=/.test(document.cookie))
      document.cookie = '_ga=GA1.1.' + Math.floor(Math.random() * 2e9) + '.' + t + age;
    document.cookie = '_ga_CALLKOM=GS1.1.' + t + '.1.0.' + t + '.0.0.0' + age;
    gtag('config', 'G-CALLKOM');
  }})();
</script>
<style>{STYLE}</style>
</head>
"#,
        title = esc(title),
        site = esc(site),
    )
}

fn header(lang: &str, w: &Words) -> String {
    format!(
        r#"<header><div class="bar"><a class="logo" href="/demo/?lang={lang}">CALLKOM</a>
<nav><a href="/demo/?lang={lang}">{}</a><a href="/demo/page2?lang={lang}">{}</a><a href="/demo/?lang={lang}#demo">{}</a></nav></div></header>
"#,
        w.nav_product, w.nav_integrations, w.nav_demo
    )
}

fn footer(site: &str, lang: &str, w: &Words) -> String {
    format!(
        r##"<footer><div class="bar"><span>© 2026 CALLKOM. {}</span>
<span><a href="/sites/{site}/cookie-policy?lang={lang}">{}</a> · <a href="#" data-assent-manage>{}</a></span></div></footer>
</body>
</html>
"##,
        w.rights,
        w.cookie_policy,
        w.manage,
        site = esc(site)
    )
}

/// `GET /demo/`: the home page, with the blocked Calendly widget.
pub fn home(site: &str, lang: &str) -> String {
    let w = words(lang);
    let (title, h1, lead, cta, cards, demo_h, demo_p) = match lang {
        "fr" => (
            "Callkom : la téléphonie cloud des équipes qui grandissent",
            "La téléphonie cloud des équipes qui grandissent",
            "Callkom relie vos appels, votre CRM et votre support. Standard virtuel, SVI, enregistrement et statistiques en temps réel, sans matériel.",
            "Essai gratuit de 14 jours",
            [
                (
                    "Standard virtuel",
                    "Numéros dans 60 pays, files d'attente et horaires en quelques clics.",
                ),
                (
                    "Intégration CRM",
                    "HubSpot, Salesforce et Pipedrive : chaque appel est journalisé automatiquement.",
                ),
                (
                    "Statistiques en direct",
                    "Temps d'attente, appels manqués et charge par équipe, en temps réel.",
                ),
            ],
            "Réserver une démo",
            "Choisissez un créneau de 30 minutes avec notre équipe.",
        ),
        "de" => (
            "Callkom: Cloud-Telefonie für wachsende Teams",
            "Cloud-Telefonie für wachsende Teams",
            "Callkom verbindet Ihre Anrufe, Ihr CRM und Ihren Support. Virtuelle Telefonanlage, IVR, Gesprächsaufzeichnung und Live-Statistiken, ganz ohne Hardware.",
            "14 Tage kostenlos testen",
            [
                (
                    "Virtuelle Telefonanlage",
                    "Rufnummern in 60 Ländern, Warteschlangen und Öffnungszeiten mit wenigen Klicks.",
                ),
                (
                    "CRM-Integration",
                    "HubSpot, Salesforce und Pipedrive: Jeder Anruf wird automatisch protokolliert.",
                ),
                (
                    "Live-Statistiken",
                    "Wartezeiten, verpasste Anrufe und Auslastung je Team, in Echtzeit.",
                ),
            ],
            "Demo buchen",
            "Wählen Sie einen 30-minütigen Termin mit unserem Team.",
        ),
        _ => (
            "Callkom: cloud telephony for growing teams",
            "Cloud telephony for growing teams",
            "Callkom connects your calls, your CRM and your support desk. Virtual switchboard, IVR, call recording and live statistics, with no hardware.",
            "Start a 14-day free trial",
            [
                (
                    "Virtual switchboard",
                    "Numbers in 60 countries, queues and opening hours in a few clicks.",
                ),
                (
                    "CRM integration",
                    "HubSpot, Salesforce and Pipedrive: every call is logged automatically.",
                ),
                (
                    "Live statistics",
                    "Waiting times, missed calls and load per team, in real time.",
                ),
            ],
            "Book a demo",
            "Pick a 30-minute slot with our team.",
        ),
    };
    let cards: String = cards
        .iter()
        .map(|(h, p)| format!("<div class=\"card\"><h3>{h}</h3><p>{p}</p></div>"))
        .collect();
    format!(
        r#"{head}<body>
{header}<section class="hero"><div><h1>{h1}</h1><p>{lead}</p><a class="cta" href="/demo/page2?lang={lang}">{cta}</a></div></section>
<main>
<div class="cards">{cards}</div>
<section class="embed" id="demo"><h2>{demo_h}</h2><p>{demo_p}</p>
<!-- Calendly (stand-in), blocked until "functional" is granted: a placeholder offers to allow it or to open it. -->
<iframe data-assent-purpose="functional" data-assent-src="/demo/embed?lang={lang}" data-assent-service="Calendly" title="Calendly" width="100%" height="360"></iframe>
</section>
</main>
{footer}"#,
        head = head(lang, site, title),
        header = header(lang, &w),
        footer = footer(site, lang, &w),
    )
}

/// `GET /demo/page2`: a second page (integrations), so that a crawler finds two pages.
pub fn page2(site: &str, lang: &str) -> String {
    let w = words(lang);
    let (title, h1, lead, items) = match lang {
        "fr" => (
            "Intégrations : Callkom",
            "Intégrations",
            "Callkom s'intègre aux outils que vos équipes utilisent déjà.",
            [
                (
                    "HubSpot",
                    "Appels journalisés, fiches contact ouvertes à la sonnerie.",
                ),
                ("Salesforce", "Click-to-call et rapports d'activité."),
                (
                    "Zendesk",
                    "Un ticket par appel manqué, avec l'enregistrement.",
                ),
                ("Slack", "Alertes de files d'attente et résumés quotidiens."),
            ],
        ),
        "de" => (
            "Integrationen: Callkom",
            "Integrationen",
            "Callkom arbeitet mit den Tools, die Ihre Teams bereits nutzen.",
            [
                (
                    "HubSpot",
                    "Anrufe werden protokolliert, Kontaktdatensätze öffnen sich beim Klingeln.",
                ),
                ("Salesforce", "Click-to-Call und Aktivitätsberichte."),
                (
                    "Zendesk",
                    "Ein Ticket für jeden verpassten Anruf, mit Aufzeichnung.",
                ),
                (
                    "Slack",
                    "Warteschlangen-Alarme und tägliche Zusammenfassungen.",
                ),
            ],
        ),
        _ => (
            "Integrations: Callkom",
            "Integrations",
            "Callkom works with the tools your teams already use.",
            [
                (
                    "HubSpot",
                    "Calls logged, contact records opened as the phone rings.",
                ),
                ("Salesforce", "Click-to-call and activity reports."),
                (
                    "Zendesk",
                    "A ticket for every missed call, with its recording.",
                ),
                ("Slack", "Queue alerts and daily summaries."),
            ],
        ),
    };
    let cards: String = items
        .iter()
        .map(|(h, p)| format!("<div class=\"card\"><h3>{h}</h3><p>{p}</p></div>"))
        .collect();
    format!(
        r#"{head}<body>
{header}<section class="hero"><div><h1>{h1}</h1><p>{lead}</p></div></section>
<main><div class="cards">{cards}</div><p><a href="/demo/?lang={lang}">← Callkom</a></p></main>
{footer}"#,
        head = head(lang, site, title),
        header = header(lang, &w),
        footer = footer(site, lang, &w),
    )
}

/// `GET /demo/embed`: the stand-in for the Calendly booking widget. Sets no cookie and no
/// storage key.
pub fn embed(lang: &str) -> String {
    let (title, days, note) = match lang {
        "fr" => (
            "Choisissez un créneau",
            ["Lun.", "Mar.", "Mer.", "Jeu.", "Ven."],
            "Widget de démonstration (Calendly)",
        ),
        "de" => (
            "Wählen Sie einen Termin",
            ["Mo.", "Di.", "Mi.", "Do.", "Fr."],
            "Demo-Widget (Calendly)",
        ),
        _ => (
            "Pick a time",
            ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "Demo widget (Calendly)",
        ),
    };
    let cols: String = days
        .iter()
        .map(|d| {
            format!("<div><b>{d}</b><span>09:30</span><span>11:00</span><span>14:30</span></div>")
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Calendly</title>
<style>
body{{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1f2937;background:#f0f6ff}}
main{{padding:20px}}h1{{font-size:20px;margin:0 0 12px}}
.g{{display:grid;grid-template-columns:repeat(5,1fr);gap:10px}}
.g div{{display:grid;gap:6px;text-align:center}}
.g span{{background:#fff;border:1px solid #0b5cad;color:#0b5cad;border-radius:6px;padding:6px}}
small{{display:block;margin-top:14px;color:#64748b}}
</style></head>
<body><main id="calendly-widget"><h1>{title}</h1><div class="g">{cols}</div><small>{note}</small></main></body></html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_to_each_other_and_block_their_trackers() {
        let h = home("callkom", "en");
        assert!(h.contains(r#"<html lang="en">"#));
        assert!(h.contains(r#"<script src="/assent.js?site=callkom&amp;lang=en"></script>"#));
        assert!(h.contains(r#"href="/demo/page2?lang=en""#));
        assert!(h.contains(r#"<script type="text/plain" data-assent-purpose="performance">"#));
        assert!(h.contains(r#"data-assent-src="/demo/embed?lang=en""#));
        assert!(
            !h.contains("<iframe src"),
            "the iframe has no src before consent"
        );
        assert!(h.contains("data-assent-manage"));
        let p = page2("callkom", "fr");
        assert!(p.contains(r#"<html lang="fr">"#) && p.contains(r#"href="/demo/?lang=fr""#));
        assert_eq!(site(Some("x\"><script>")), "callkom");
        assert_eq!(site(Some("gpc-test")), "gpc-test");
        assert_eq!(lang(Some("de")), "de");
        assert_eq!(lang(Some("it")), "en");
        let g = home("callkom", "de");
        assert!(g.contains(r#"<html lang="de">"#) && g.contains(r#"href="/demo/page2?lang=de""#));
        assert!(g.contains("Cookie-Einstellungen") && embed("de").contains("Mo."));
        assert!(!embed("en").contains("cookie"));
    }
}
