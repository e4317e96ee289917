//! The consent banner: `GET /assent.js?site=ID`, one response with the script, its CSS and the
//! site's whole banner configuration (both layers) in the visitor's language, built once per
//! (site, policy version, language) and kept in memory with its gzip form and ETag. The language
//! is the `lang` parameter, else the best match of `Accept-Language`, else the site's default
//! ([`visitor_lang`]). The minified assets
//! are embedded in the binary; `scripts/build-banner.sh` makes them and CI checks that they are
//! current (see [`freshness`]).

pub mod config;
pub mod demo;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use assent_model::version::SiteSnapshot;
use sha2::{Digest, Sha256};

/// Readable sources and their committed minified copies (line 1: `/*! <name> src-sha256:<hex> */`).
pub const JS_SRC: &str = include_str!("../../assets/banner/assent.js");
pub const JS_MIN: &str = include_str!("../../assets/banner/assent.min.js");
pub const CSS_SRC: &str = include_str!("../../assets/banner/assent.css");
pub const CSS_MIN: &str = include_str!("../../assets/banner/assent.min.css");

/// The minified files with the header line removed (80 bytes of incompressible hex).
fn body_of(min: &str) -> &str {
    let rest = min.split_once('\n').map_or(min, |(_, rest)| rest);
    rest.trim_end()
}

/// JSON for embedding in JavaScript: `</` escaped so that the text is also safe inline.
fn js_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace("</", "<\\/")
}

/// The `/assent.js` body for a site's version:
/// `((S,C,f)=>f(C,S))(<css>,<config>,function(C,S){<assent.min.js>\n});`. The data comes first
/// and the code last: Zopfli compresses this order about 30 bytes better than code first.
/// `epoch` is the site's revalidation epoch (`C.e`, see `assent_app::sites::SiteCache::epoch`).
pub fn script(
    snap: &SiteSnapshot,
    version: i64,
    floor: i64,
    epoch: i64,
    public_base: &str,
    langs: &[String],
) -> String {
    let mut cfg = config::config(snap, version, floor, public_base, langs);
    cfg["e"] = epoch.into();
    format!(
        "((S,C,f)=>f(C,S))({},{},function(C,S){{{}\n}});\n",
        js_json(&body_of(CSS_MIN)),
        js_json(&cfg),
        body_of(JS_MIN),
    )
}

/// The `/assent-details.json` body: the second layer's details in `lang` ([`config::details`]).
pub fn details(snap: &SiteSnapshot, lang: &str) -> String {
    serde_json::to_string(&config::details(snap, lang)).unwrap_or_else(|_| "{}".into())
}

/// A response body, its gzip form and their strong ETags.
#[derive(Debug)]
pub struct Built {
    pub body: Vec<u8>,
    pub gzip: Vec<u8>,
    pub etag: String,
    pub etag_gzip: String,
}

impl Built {
    pub fn new(body: String) -> Built {
        let hash = hex::encode(&Sha256::digest(body.as_bytes())[..16]);
        let gzip = gzip(body.as_bytes());
        Built {
            body: body.into_bytes(),
            gzip,
            etag: format!("\"{hash}\""),
            etag_gzip: format!("\"{hash}-gz\""),
        }
    }
}

/// gzip with Zopfli (done once per policy version and site: about 50 ms for `/assent.js` in a
/// release build).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2);
    match zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        data,
        &mut out,
    ) {
        Ok(()) => out,
        // Writing into a Vec cannot fail; an empty gzip form means "serve the plain body".
        Err(_) => vec![],
    }
}

/// The language of a site that a visitor gets: the `lang` parameter of the script's URL (set by
/// a page that knows its language), else the best match of the `Accept-Language` header, else
/// the site's default. The response carries that language only: a visitor needs one, and each
/// further language of a site would cost about 450 bytes of the 6 KB budget.
pub fn visitor_lang<'a>(
    snap: &'a SiteSnapshot,
    param: Option<&str>,
    accept_language: Option<&str>,
) -> &'a str {
    let offered = &snap.site.languages;
    param
        .and_then(|p| assent_model::lang::negotiate(p, offered))
        .or_else(|| accept_language.and_then(|a| assent_model::lang::negotiate(a, offered)))
        .unwrap_or_else(|| snap.site.default_language())
}

/// What a built body depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: &'static str,
    pub site: String,
    pub version: i64,
    pub content_hash: String,
    /// The site's revalidation epoch (0 for bodies that do not carry it).
    pub epoch: i64,
    pub public_base: String,
    /// The language of the texts (one of the site's).
    pub lang: String,
}

/// Built bodies, kept in memory. Bounded: cleared when it exceeds [`BannerCache::MAX`]
/// entries (a new version of every site is a handful of entries). Each body is built once even
/// when many requests ask for it at the same time (Zopfli takes tens of milliseconds): the
/// others wait for it.
#[derive(Default)]
pub struct BannerCache {
    map: RwLock<HashMap<Key, Arc<OnceLock<Arc<Built>>>>>,
}

impl BannerCache {
    pub const MAX: usize = 512;

    /// The cached body for `key`, built by `make` on the first request.
    pub fn get_or_build(&self, key: Key, make: impl FnOnce() -> String) -> Arc<Built> {
        let cell = match self.map.read().ok().and_then(|m| m.get(&key).cloned()) {
            Some(cell) => cell,
            None => match self.map.write() {
                Ok(mut m) => {
                    if m.len() >= Self::MAX && !m.contains_key(&key) {
                        m.clear();
                    }
                    m.entry(key).or_default().clone()
                }
                // A poisoned lock: build without caching.
                Err(_) => Arc::default(),
            },
        };
        cell.get_or_init(|| Arc::new(Built::new(make()))).clone()
    }
}

/// Whether a minified file's header records the SHA-256 of its current source.
pub fn fresh(src_name: &str, src: &str, min: &str) -> bool {
    let want = format!(
        "/*! {src_name} src-sha256:{} */",
        hex::encode(Sha256::digest(src.as_bytes()))
    );
    min.lines().next() == Some(want.as_str())
}

/// Every (source name, source, minified) triple, for the freshness check.
pub fn freshness() -> [(&'static str, &'static str, &'static str); 2] {
    [
        ("assent.js", JS_SRC, JS_MIN),
        ("assent.css", CSS_SRC, CSS_MIN),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minified_assets_are_current() {
        for (name, src, min) in freshness() {
            assert!(
                fresh(name, src, min),
                "the minified copy of {name} is stale: run scripts/build-banner.sh"
            );
        }
    }

    #[test]
    fn script_shape() {
        let src = include_str!("../../../../examples/callkom.toml");
        let (reg, _) = assent_model::check::parse(src).unwrap();
        let snap = SiteSnapshot::from_registry(&reg, "callkom").unwrap();
        let s = script(
            &snap,
            1,
            1,
            0,
            "http://127.0.0.1:8080",
            &snap.site.languages,
        );
        assert!(
            s.starts_with("((S,C,f)=>f(C,S))(\".assent{"),
            "{}",
            &s[..40]
        );
        assert!(s.ends_with("\n});\n"));
        assert!(!s.contains("src-sha256"), "header lines are dropped");
        assert!(
            s.contains(",{\"a\":\"http://127.0.0.1:8080\"") && s.contains("},function(C,S){"),
            "CSS, then the configuration, then the code"
        );
        let b = Built::new(s.clone());
        assert_ne!(b.etag, b.etag_gzip);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&b.gzip[..]), &mut out)
            .unwrap();
        assert_eq!(out, s);
    }

    #[test]
    fn the_visitor_gets_one_language() {
        let src = include_str!("../../../../examples/callkom.toml");
        let (reg, _) = assent_model::check::parse(src).unwrap();
        let snap = SiteSnapshot::from_registry(&reg, "callkom").unwrap();
        let lang = |p, a| visitor_lang(&snap, p, a);
        assert_eq!(lang(None, None), "en");
        assert_eq!(lang(None, Some("de-DE,de;q=0.9,en;q=0.8")), "de");
        assert_eq!(lang(Some("fr"), Some("de-DE,de;q=0.9")), "fr");
        assert_eq!(lang(Some("it"), Some("de")), "de");
        assert_eq!(lang(None, Some("it, es;q=0.5")), "en");
        let de = script(&snap, 1, 1, 0, "http://x", &["de".to_string()]);
        assert!(de.contains("\"Alle akzeptieren\"") && de.contains("\"Einwilligung\""));
        for other in [
            "Accept all",
            "Tout accepter",
            "Consentement",
            "Strictly necessary",
        ] {
            assert!(!de.contains(other), "{other} in the German script");
        }
    }
}
