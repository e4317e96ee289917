//! The catalogs of the server's own pages (the demo site, the receipt page): one JSON file
//! per language, `assets/<page>/<lang>.json`, embedded at build time and parsed once.
//!
//! Invariant: a page's words are a struct that denies unknown fields and has no optional
//! one, so a catalog that lacks a key or has a stray one fails to parse (each page's tests
//! parse every catalog). At run time a catalog that did not parse reads as empty words
//! rather than a panic, and a language without a catalog reads as English.

use std::sync::OnceLock;

use serde::de::DeserializeOwned;

/// The `(language, JSON)` catalogs of the page whose files are `assets/$page/<lang>.json`:
/// English first, then French and German.
macro_rules! catalogs {
    ($page:literal) => {
        [
            (
                "en",
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/assets/",
                    $page,
                    "/en.json"
                )),
            ),
            (
                "fr",
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/assets/",
                    $page,
                    "/fr.json"
                )),
            ),
            (
                "de",
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/assets/",
                    $page,
                    "/de.json"
                )),
            ),
        ]
    };
}
pub(crate) use catalogs;

/// One page's words in every language, parsed on first use.
pub struct Catalogs<W: 'static> {
    sources: &'static [(&'static str, &'static str)],
    parsed: OnceLock<(Vec<(&'static str, W)>, W)>,
}

impl<W: DeserializeOwned + Default> Catalogs<W> {
    pub const fn new(sources: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            sources,
            parsed: OnceLock::new(),
        }
    }

    /// The words of `lang` (English for a language without a catalog).
    pub fn words(&'static self, lang: &str) -> &'static W {
        let (all, empty) = self.parsed.get_or_init(|| {
            let all = self
                .sources
                .iter()
                .map(|(l, json)| (*l, serde_json::from_str(json).unwrap_or_default()))
                .collect();
            (all, W::default())
        });
        all.iter()
            .find(|(l, _)| *l == lang)
            .or_else(|| all.iter().find(|(l, _)| *l == "en"))
            .map_or(empty, |(_, w)| w)
    }
}
