//! Message catalogs: every word of Assent's own on the pages comes from one flat JSON file per
//! language, `i18n/<lang>.json` (`"common.cookie_policy": "Cookie policy"`), listed at build time by
//! `build.rs`, so adding a language is adding one file.
//!
//! Invariants (checked by `tests/catalog.rs`): every catalog has exactly the keys of `en.json`;
//! every key looked up by the code or a template exists; keys ending in `_html` hold trusted
//! markup (ours, never the registry's) and are read with [`Texts::markup`], every other value
//! is plain text without `<`, read with [`Texts::get`] or [`Texts::fill`] and escaped by
//! whoever puts it in HTML. Placeholders are `{name}`. A missing key never panics: it falls
//! back to English, then to the key itself.

use std::collections::HashMap;
use std::fmt::{self, Display, Write as _};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/catalogs.rs"));

/// The language whose catalog is complete by definition and used for any other language.
/// HTML-escapes text for element content and quoted attribute values, exactly as the
/// templates do (askama's HTML escaper: `&#60;`, `&#38;`, `&#34;`, `&#39;`, `&#62;`), so that
/// markup built in code and markup from templates agree byte for byte.
pub(crate) fn esc(s: &str) -> String {
    match askama::filters::escape(s, askama::filters::Html) {
        Ok(e) => e.to_string(),
        Err(never) => match never {},
    }
}

pub const FALLBACK: &str = "en";

/// One language's catalog.
#[derive(Debug)]
pub struct Texts {
    lang: &'static str,
    map: HashMap<String, String>,
}

fn all() -> &'static [Texts] {
    static ALL: OnceLock<Vec<Texts>> = OnceLock::new();
    ALL.get_or_init(|| {
        CATALOGS
            .iter()
            .map(|(lang, json)| Texts {
                lang,
                // A catalog that does not parse is a test failure; at run time it reads as
                // empty, so every lookup falls back to English.
                map: serde_json::from_str(json).unwrap_or_default(),
            })
            .collect()
    })
}

/// The catalog of `lang`, or the English one when there is no catalog for it (a site may
/// list a language Assent has no words for: its registry texts are shown in it, ours in
/// English, as before).
pub fn texts(lang: &str) -> &'static Texts {
    static EMPTY: OnceLock<Texts> = OnceLock::new();
    let all = all();
    all.iter()
        .find(|t| t.lang == lang)
        .or_else(|| all.iter().find(|t| t.lang == FALLBACK))
        .unwrap_or_else(|| {
            EMPTY.get_or_init(|| Texts {
                lang: FALLBACK,
                map: HashMap::new(),
            })
        })
}

/// The languages that have a catalog, sorted.
pub fn languages() -> impl Iterator<Item = &'static str> {
    all().iter().map(|t| t.lang)
}

impl Texts {
    /// The language of this catalog (`en` for a language without one).
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// Whether this catalog itself has `key` (without falling back).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Every key of this catalog, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// The text of `key`: this catalog's, else the English one, else the key itself (a missing
    /// key shows, it does not panic; the catalog test keeps it from happening).
    pub fn get<'k>(&'static self, key: &'k str) -> &'k str {
        self.lookup(key).unwrap_or(key)
    }

    /// The text of `key` in this catalog or the English one.
    fn lookup(&'static self, key: &str) -> Option<&'static str> {
        self.map
            .get(key)
            .or_else(|| {
                all()
                    .iter()
                    .find(|t| t.lang == FALLBACK)
                    .and_then(|en| en.map.get(key))
            })
            .map(String::as_str)
    }

    /// The catalog's markup for `key`; a key that is not in the catalogs is shown as escaped
    /// text, so that no string from elsewhere can become markup through a lookup.
    fn markup_of(&'static self, key: &str) -> Result<&'static str, Markup> {
        self.lookup(key).ok_or_else(|| Markup::text(key))
    }

    /// The plain text of `key` with its `{name}` placeholders filled from `args` (the result
    /// is text, to be escaped like any other).
    pub fn fill(&'static self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.get(key), args, |v, out| {
            let _ = write!(out, "{v}");
        })
    }

    /// The markup of an `_html` key without placeholders.
    pub fn html(&'static self, key: &str) -> Markup {
        match self.markup_of(key) {
            Ok(m) => Markup(m.to_string()),
            Err(missing) => missing,
        }
    }

    /// The markup of an `_html` key with its placeholders filled from `args`, each escaped:
    /// the catalog is ours, the arguments may come from the registry.
    pub fn markup(&'static self, key: &str, args: &[(&str, &dyn Display)]) -> Markup {
        match self.markup_of(key) {
            Ok(m) => Markup(fill(m, args, |v, out| {
                out.push_str(&esc(&v.to_string()));
            })),
            Err(missing) => missing,
        }
    }

    /// The markup of an `_html` key whose placeholders take markup built by the crate (links,
    /// `<time>` elements), passed as [`Markup`] so that only escaped values can go in.
    pub fn markup_with(&'static self, key: &str, args: &[(&str, &Markup)]) -> Markup {
        match self.markup_of(key) {
            Ok(m) => Markup(fill(m, args, |v, out| out.push_str(&v.0))),
            Err(missing) => missing,
        }
    }
}

/// Replaces every `{name}` of `template` by `put(arg)`; unknown placeholders stay as they are.
pub(crate) fn fill<A: ?Sized>(
    template: &str,
    args: &[(&str, &A)],
    put: impl Fn(&A, &mut String),
) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}').map(|j| (&after[..j], &after[j + 1..])) {
            Some((name, tail)) if let Some((_, v)) = args.iter().find(|(n, _)| *n == name) => {
                put(v, &mut out);
                rest = tail;
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML that the crate built from trusted parts (catalog markup, escaped values): the only
/// kind of value a template writes without escaping. It cannot be made from a `&str` outside
/// the crate, so registry text cannot become markup by mistake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markup(String);

impl Markup {
    /// Escapes `text` into markup.
    pub fn text(text: &str) -> Self {
        Self(esc(text))
    }
    /// Wraps HTML the crate built itself from escaped parts.
    pub(crate) fn trusted(html: String) -> Self {
        Self(html)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Templates write [`Markup`] as it is.
impl askama::filters::HtmlSafe for Markup {}
