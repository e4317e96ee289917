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
//!
//! The pages are askama templates (`templates/demo/*.html`): every dynamic value (site id,
//! language, texts) is escaped by the engine, and no template uses `|safe`. Their words come
//! from one JSON catalog per language, `assets/demo/<lang>.json`, with the same keys in every
//! language (checked by the tests below).

use askama::Template;
use serde::Deserialize;

use crate::catalog::{Catalogs, catalogs};

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

/// The demo's catalogs, one per language, embedded at build time.
const CATALOGS: [(&str, &str); 3] = catalogs!("demo");
static WORDS: Catalogs<Words> = Catalogs::new(&CATALOGS);

/// The words of the demo site in one language. Every field is required and no other is
/// allowed, so a catalog that lacks a key or has a stray one fails to parse (and the tests).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Words {
    nav_product: String,
    nav_integrations: String,
    nav_demo: String,
    cookie_policy: String,
    manage: String,
    rights: String,
    home: HomeWords,
    page2: Page2Words,
    embed: EmbedWords,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HomeWords {
    title: String,
    h1: String,
    lead: String,
    cta: String,
    cards: Vec<Card>,
    demo_h: String,
    demo_p: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page2Words {
    title: String,
    h1: String,
    lead: String,
    cards: Vec<Card>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbedWords {
    title: String,
    days: Vec<String>,
    note: String,
}

/// A feature card: a heading and a sentence.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Card {
    h: String,
    p: String,
}

/// The words of `lang` (English for any other language).
fn words(lang: &str) -> &'static Words {
    WORDS.words(lang)
}

/// `templates/demo/home.html` (extends `layout.html`).
#[derive(Template)]
#[template(path = "demo/home.html")]
struct HomePage<'a> {
    lang: &'a str,
    site: &'a str,
    w: &'a Words,
}

/// `templates/demo/page2.html` (extends `layout.html`).
#[derive(Template)]
#[template(path = "demo/page2.html")]
struct Page2<'a> {
    lang: &'a str,
    site: &'a str,
    w: &'a Words,
}

/// `templates/demo/embed.html`.
#[derive(Template)]
#[template(path = "demo/embed.html")]
struct EmbedPage<'a> {
    lang: &'a str,
    w: &'a Words,
}

/// `GET /demo/`: the home page, with the blocked Calendly widget.
pub fn home(site: &str, lang: &str) -> String {
    let w = words(lang);
    HomePage { lang, site, w }.render().unwrap_or_default()
}

/// `GET /demo/page2`: a second page (integrations), so that a crawler finds two pages.
pub fn page2(site: &str, lang: &str) -> String {
    let w = words(lang);
    Page2 { lang, site, w }.render().unwrap_or_default()
}

/// `GET /demo/embed`: the stand-in for the Calendly booking widget. Sets no cookie and no
/// storage key.
pub fn embed(lang: &str) -> String {
    let w = words(lang);
    EmbedPage { lang, w }.render().unwrap_or_default()
}

/// One mail of `/demo/mail`.
pub struct MailView {
    pub at: String,
    pub request: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "demo/mail.html")]
struct MailPage<'a> {
    mails: &'a [MailView],
    kept: usize,
}

/// `GET /demo/mail`: the mails the demo would have sent (every value escaped).
pub fn mail(mails: &[MailView]) -> String {
    MailPage {
        mails,
        kept: assent_app::rights::outbox::KEPT,
    }
    .render()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Words, serde_json::Error> {
        serde_json::from_str(json)
    }

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

    /// Every catalog parses strictly (every key of the demo present, none extra) and has as
    /// many cards and days as the English one.
    #[test]
    fn every_catalog_has_every_key() {
        let en = parse(CATALOGS[0].1).expect("en.json");
        for (lang, json) in CATALOGS {
            let w = parse(json).unwrap_or_else(|e| panic!("{lang}.json: {e}"));
            assert_eq!(w.home.cards.len(), en.home.cards.len(), "{lang}");
            assert_eq!(w.page2.cards.len(), en.page2.cards.len(), "{lang}");
            assert_eq!(w.embed.days.len(), en.embed.days.len(), "{lang}");
            // Plain text only: markup belongs in the templates.
            assert!(!json.contains('<'), "{lang}.json holds markup");
            assert_eq!(words(lang).nav_product, w.nav_product);
        }
        assert_eq!(words("it").nav_product, "Product");
    }

    /// The pages escape every value they print: a hostile site id or language reaching a
    /// template (past [`site`] and [`lang`], which refuse them) comes out as text.
    #[test]
    fn hostile_site_and_lang_are_escaped_on_every_page() {
        let evil = "x\"><script>alert(1)</script>";
        let evil_lang = "en\" onload=\"alert(2)";
        for page in [
            home(evil, evil_lang),
            page2(evil, evil_lang),
            embed(evil_lang),
        ] {
            assert!(!page.contains("<script>alert"), "{page}");
            assert!(!page.contains("\" onload"), "{page}");
            assert!(page.contains(r#"<html lang="en&#34; onload=&#34;alert(2)">"#));
        }
        for page in [home(evil, "en"), page2(evil, "en")] {
            assert!(page.contains(
                r#"<script src="/assent.js?site=x&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&amp;lang=en"></script>"#
            ));
            assert!(page.contains(
                r#"href="/sites/x&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;/cookie-policy?lang=en""#
            ));
        }
        // And the query values are refused before that.
        for q in [evil, "", "a b", "a/b", "x".repeat(65).as_str()] {
            assert_eq!(site(Some(q)), "callkom", "{q:?}");
        }
        for q in [evil_lang, "FR", "fr ", ""] {
            assert_eq!(lang(Some(q)), "en", "{q:?}");
        }
    }

    /// The texts are escaped too (`'` in the French texts), and the structure is unchanged.
    #[test]
    fn pages_keep_their_structure_in_every_language() {
        for l in ["en", "fr", "de"] {
            let h = home("callkom", l);
            let w = words(l);
            assert!(h.starts_with("<!doctype html>\n<html lang="), "{l}");
            assert!(h.trim_end().ends_with("</html>"), "{l}");
            assert_eq!(h.matches(r#"<div class="card">"#).count(), 3, "{l}");
            assert!(h.contains(&format!(
                r##"<a href="#" data-assent-manage>{}</a>"##,
                w.manage
            )));
            let p = page2("callkom", l);
            assert_eq!(p.matches(r#"<div class="card">"#).count(), 4, "{l}");
            assert!(p.contains(r#"<script type="text/plain" data-assent-purpose="performance">"#));
            let e = embed(l);
            assert_eq!(e.matches("<span>09:30</span>").count(), 5, "{l}");
        }
        assert!(home("callkom", "fr").contains("files d&#39;attente"));
    }
}
