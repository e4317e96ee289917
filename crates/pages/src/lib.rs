//! Policy pages generated from the registry, so that what visitors read, what the banner asks
//! and what the proof records can never disagree:
//!
//! - [`cookie`]: the cookie policy (HTML and JSON), in the layout of seed 002's table;
//! - [`privacy`]: the privacy policy (Arts. 13-14 GDPR information);
//! - [`versions`]: the version history and the differences between two versions in words;
//! - [`register`]: the record of processing activities (Art. 30) as CSV, HTML or JSON.
//!
//! Pure rendering: no IO, no clock. Pages are askama templates (`templates/`, HTML-escaped by
//! construction; [`i18n::Markup`] is the only value written unescaped, and only the crate can
//! build one from trusted parts); URLs become links only when they are http(s)
//! ([`html::safe_url`]).
//!
//! # Words: the message catalogs ([`i18n`])
//!
//! Every word of Assent's own comes from `i18n/<lang>.json` (flat `"key": "text"`; one file
//! per language, picked up by `build.rs` without code changes). The API, for the policy pages
//! and for the rights form and mails that live beside them (`templates/rights/`,
//! `templates/mail/`):
//!
//! ```
//! use assent_pages::i18n::texts;
//! let t = texts("fr"); // the catalog of `fr`, or English for a language without one
//! assert_eq!(t.get("common.privacy_policy"), "Politique de confidentialité");
//! // Placeholders `{name}` are filled by `fill` (plain text, to be escaped like any text)...
//! assert_eq!(t.fill("versions.diff_title", &[("from", &1), ("to", &2)]),
//!            "Changements de la version 1 à la version 2");
//! // ...or, for `_html` keys (trusted markup of the catalog), by `markup`, which escapes
//! // every argument and returns `Markup`, written as is by templates.
//! let m = t.markup("cookie.list_intro_html", &[("n", &"<3>")]);
//! assert!(m.as_str().contains("&#60;3&#62;"));
//! ```
//!
//! In a template, pass the catalog as a field `t: &'static Texts` and write
//! `{{ t.get("key") }}`; `tests/catalog.rs` scans `src/` and `templates/` for `"ns.key"`
//! literals and fails when one is missing from `en.json`, or when a language lacks a key or
//! changes a placeholder. Words that are not a lookup (dates, durations with plurals, country
//! names, the labels of legal bases, safeguards and retention triggers) are in [`words`].

pub mod console;
pub mod cookie;
pub mod dashboard;
pub mod enforcement;
pub mod facts;
pub mod gaps;
pub mod html;
pub mod i18n;
pub mod mail;
pub mod marketing;
pub mod package;
pub mod privacy;
pub mod register;
pub mod rights;
pub mod versions;
pub mod words;

use assent_model::registry::{Service, Site};
use assent_model::version::SiteSnapshot;

use crate::html::{Alternate, Nav, pct, txt};

/// The language a page is rendered in: the one asked for when the site offers it, else the
/// site's default language.
pub fn resolve_lang(asked: Option<&str>, site: &Site) -> String {
    match asked {
        Some(l) if site.languages.iter().any(|x| x == l) => l.to_string(),
        _ => site.default_language().to_string(),
    }
}

/// URLs of a site's pages. `base` is empty for links relative to the Assent server's root
/// (HTML pages), or the server's public URL (JSON documents, exports).
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    site: String,
}

impl Links {
    pub fn new(base: &str, site_id: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            site: pct(site_id),
        }
    }
    fn site_path(&self) -> String {
        format!("{}/sites/{}", self.base, self.site)
    }
    /// A page of the site in `lang`: `<base>/sites/<site>/<page>?lang=<lang>`.
    fn page(&self, page: &str, lang: &str) -> String {
        format!("{}/{page}?lang={}", self.site_path(), pct(lang))
    }
    pub fn cookie_policy(&self, lang: &str) -> String {
        self.page("cookie-policy", lang)
    }
    pub fn cookie_policy_version(&self, lang: &str, version: i64) -> String {
        format!("{}&version={version}", self.cookie_policy(lang))
    }
    pub fn cookie_policy_json(&self, lang: &str) -> String {
        self.page("cookie-policy.json", lang)
    }
    pub fn privacy_policy(&self, lang: &str) -> String {
        self.page("privacy-policy", lang)
    }
    pub fn privacy_policy_version(&self, lang: &str, version: i64) -> String {
        format!("{}&version={version}", self.privacy_policy(lang))
    }
    pub fn versions(&self, lang: &str) -> String {
        self.page("policy-versions", lang)
    }
    pub fn versions_json(&self, lang: &str) -> String {
        self.page("policy-versions.json", lang)
    }
    /// The path of the diff page, without its query (for the comparison form).
    pub fn diff_action(&self) -> String {
        format!("{}/policy-versions/diff", self.site_path())
    }
    pub fn diff(&self, from: i64, to: i64, lang: &str) -> String {
        format!(
            "{}?from={from}&to={to}&lang={}",
            self.diff_action(),
            pct(lang)
        )
    }
    /// The rights-request form.
    pub fn rights(&self, lang: &str) -> String {
        self.page("rights", lang)
    }
    /// The banner script of the site (its language negotiated from the browser's
    /// `Accept-Language`).
    pub fn banner_script(&self) -> String {
        format!("{}/assent.js?site={}", self.base, self.site)
    }
    /// The banner script of the site in `lang`, the language of the page it is put on: the
    /// banner's response carries one language only.
    pub fn banner_script_in(&self, lang: &str) -> String {
        format!("{}&lang={}", self.banner_script(), pct(lang))
    }

    /// The site navigation shown at the top of every page.
    fn nav(&self, lang: &str) -> Vec<(Nav, &'static str, String)> {
        vec![
            (
                Nav::Cookies,
                txt(lang, "common.cookie_policy"),
                self.cookie_policy(lang),
            ),
            (
                Nav::Privacy,
                txt(lang, "common.privacy_policy"),
                self.privacy_policy(lang),
            ),
            (
                Nav::Versions,
                txt(lang, "common.version_history"),
                self.versions(lang),
            ),
            (
                Nav::Rights,
                txt(lang, "common.exercise_rights"),
                self.rights(lang),
            ),
        ]
    }
}

/// What a cookie or privacy policy page is rendered from: one stored policy version.
#[derive(Debug, Clone, Copy)]
pub struct PolicyPage<'a> {
    pub snap: &'a SiteSnapshot,
    /// Resolved with [`resolve_lang`].
    pub lang: &'a str,
    pub version: i64,
    /// When the version was created (epoch ms).
    pub created_at_ms: i64,
    /// The site's current version (to tell a reader of an older one).
    pub current_version: i64,
    pub links: &'a Links,
    /// Services named by the site's processing activities that the site's banner does not use
    /// (e.g. a mailing subprocessor): the privacy policy lists them among subprocessors.
    pub extra_services: &'a [Service],
    /// How each retention rule is enforced (rules it does not name are the controller's).
    pub enforcement: &'a enforcement::Enforcements,
}

impl PolicyPage<'_> {
    fn default_lang(&self) -> &str {
        self.snap.site.default_language()
    }
    fn tz(&self) -> &str {
        &self.snap.controller.timezone
    }
    /// The service with this id, from the site's services or the extra ones.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.snap
            .service(id)
            .or_else(|| self.extra_services.iter().find(|s| s.id == id))
    }
    fn alternates(&self, href: impl Fn(&str) -> String) -> Vec<Alternate> {
        Alternate::all(&self.snap.site.languages, href)
    }
    /// "Version 3 · published on 21 September 2026 · Version history", plus a notice when an
    /// older version is shown.
    fn version_line(&self, current_href: &str) -> html::Meta {
        html::Meta::Policy {
            version: self.version,
            date: html::time_el(self.created_at_ms, self.tz(), self.lang),
            history_href: self.links.versions(self.lang),
            older: (self.version != self.current_version)
                .then(|| (current_href.to_string(), self.current_version)),
        }
    }
    /// The closing "this is version N of DATE (history)" sentence, from catalog `key`.
    fn version_text(&self, key: &str) -> i18n::Markup {
        let lang = self.lang;
        i18n::texts(lang).markup_with(
            key,
            &[
                ("version", &i18n::Markup::text(&self.version.to_string())),
                ("date", &html::time_el(self.created_at_ms, self.tz(), lang)),
                ("href", &i18n::Markup::text(&self.links.versions(lang))),
            ],
        )
    }
    /// A policy's whole page around its `body`: title (catalog `title_key`), navigation, the
    /// other languages and the version line, all pointing at the policy's own URL (`href`).
    fn shell(
        &self,
        title_key: &str,
        nav: Nav,
        href: fn(&Links, &str) -> String,
        body: i18n::Markup,
        script: Option<String>,
    ) -> String {
        let (lang, links) = (self.lang, self.links);
        html::shell(&html::Shell {
            lang,
            title: i18n::texts(lang).get(title_key).to_string(),
            site_name: &self.snap.site.name,
            nav,
            links: links.nav(lang),
            alternates: self.alternates(|l| href(links, l)),
            meta: self.version_line(&href(links, lang)),
            body,
            script,
            canonical: None,
        })
    }
}
