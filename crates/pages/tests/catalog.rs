#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The message catalogs are complete and consistent: every language has exactly the English
//! keys with the same placeholders, plain-text values carry no markup, and every key the code
//! or a template looks up exists.

use std::collections::BTreeSet;
use std::path::Path;

use assent_pages::i18n::{self, FALLBACK, texts};

fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                out.insert(after[..j].to_string());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

#[test]
fn every_language_has_every_key_with_the_same_placeholders() {
    let langs: Vec<&str> = i18n::languages().collect();
    for l in ["en", "fr", "de"] {
        assert!(langs.contains(&l), "{l} catalog missing: {langs:?}");
    }
    let en = texts(FALLBACK);
    let en_keys: BTreeSet<&str> = en.keys().collect();
    assert!(en_keys.len() > 200, "the English catalog parsed");
    for l in langs {
        let t = texts(l);
        assert_eq!(t.lang(), l);
        let keys: BTreeSet<&str> = t.keys().collect();
        let missing: Vec<_> = en_keys.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&en_keys).collect();
        assert!(missing.is_empty(), "{l}.json lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{l}.json has keys English lacks: {extra:?}"
        );
        for k in &en_keys {
            assert_eq!(
                placeholders(t.get(k)),
                placeholders(en.get(k)),
                "{l}: placeholders of {k}"
            );
            if !k.ends_with("_html") {
                assert!(
                    !t.get(k).contains('<'),
                    "{l}: {k} is plain text but has markup"
                );
            }
        }
    }
}

/// Every string literal of the crate's sources and templates that looks like a catalog key
/// (`namespace.rest`, with a namespace of the English catalog).
fn used_keys() -> BTreeSet<(String, String)> {
    let namespaces: BTreeSet<String> = texts(FALLBACK)
        .keys()
        .filter_map(|k| k.split('.').next())
        .map(str::to_string)
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src"), root.join("templates")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for (i, lit) in src.split('"').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let ok_shape = lit.contains('.')
                && lit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            let ns = lit.split('.').next().unwrap_or("");
            // Template paths ("cookie.html") share the namespaces' names.
            let template_path = [".html", ".txt"].iter().any(|e| lit.ends_with(e));
            if ok_shape && namespaces.contains(ns) && !lit.ends_with('.') && !template_path {
                out.insert((lit.to_string(), f.display().to_string()));
            }
        }
    }
    out
}

#[test]
fn every_key_used_exists() {
    let used = used_keys();
    assert!(
        used.len() > 150,
        "the scan finds the lookups: {}",
        used.len()
    );
    let en = texts(FALLBACK);
    let missing: Vec<_> = used.iter().filter(|(k, _)| !en.has(k)).collect();
    assert!(
        missing.is_empty(),
        "keys used but not in en.json: {missing:?}"
    );
}

#[test]
fn fallbacks() {
    // A language without a catalog gets English; a missing key shows itself, never panics.
    assert_eq!(texts("xx").lang(), "en");
    assert_eq!(texts("de").get("no.such.key"), "no.such.key");
    let m = texts("en").markup("cookie.list_intro_html", &[("n", &"<b>")]);
    assert!(m.as_str().contains("&lt;b&gt;") || m.as_str().contains("&#60;b&#62;"));
    // A string that is not a key never becomes markup.
    assert_eq!(texts("en").html("<script>").as_str(), "&#60;script&#62;");
    assert_eq!(
        texts("en").fill("versions.diff_title", &[("from", &1), ("to", &2)]),
        "Changes from version 1 to version 2"
    );
}
