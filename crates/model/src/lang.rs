//! Languages: the ones the model itself has words in (legal bases, safeguards, retention
//! triggers, duration units, rights-request types: English, French and German; registry texts
//! may be in any language), and the choice of a site's language for a visitor.
//!
//! Invariants: a language the model has no words in gets English, the same fallback as a
//! registry text ([`crate::registry::Text::get`]); negotiation only ever answers one of the
//! offered languages, and never fails on a malformed header (bad parts are ignored).

/// Languages with built-in words, in the order of [`pick`]'s array.
pub const LANGS: [&str; 3] = ["en", "fr", "de"];

/// The word for `lang` among `[english, french, german]`.
pub fn pick<T>(lang: &str, [en, fr, de]: [T; 3]) -> T {
    match lang {
        "fr" => fr,
        "de" => de,
        _ => en,
    }
}

/// The language among `offered` (a site's languages, default first) that a visitor asked for:
/// `wanted` is an `Accept-Language` value (`de-DE,de;q=0.9,en;q=0.8`) or a single tag (`de`).
/// Tags are taken by decreasing quality (`q=0` refuses); each matches an offered language
/// exactly (case-insensitively), else by its primary subtag (`de-AT` → `de`, `fr` → `fr-CA`).
/// `None` when nothing matches: the caller falls back to the site's default language.
pub fn negotiate<'a>(wanted: &str, offered: &'a [String]) -> Option<&'a str> {
    let mut tags: Vec<(u16, &str)> = wanted
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .map(quality)
                .next()
                .unwrap_or(1000);
            (!tag.is_empty() && tag != "*" && q > 0).then_some((q, tag))
        })
        .collect();
    // Stable: equal qualities keep the visitor's order.
    tags.sort_by_key(|&(q, _)| std::cmp::Reverse(q));
    let primary = |t: &str| t.split('-').next().unwrap_or("").to_ascii_lowercase();
    tags.iter().find_map(|&(_, tag)| {
        offered
            .iter()
            .find(|o| o.eq_ignore_ascii_case(tag))
            .or_else(|| offered.iter().find(|o| primary(o) == primary(tag)))
            .map(String::as_str)
    })
}

/// A `q` value in thousandths (`0.8` → 800); malformed values count as 0 (refused).
fn quality(q: &str) -> u16 {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
    match (int, frac.parse::<u16>()) {
        ("1", Ok(0)) => 1000,
        ("0", Ok(f)) if frac.chars().all(|c| c.is_ascii_digit()) => f,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(langs: &[&str]) -> Vec<String> {
        langs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn negotiation() {
        let s = site(&["en", "fr", "de"]);
        let n = |w: &str| negotiate(w, &s);
        assert_eq!(n("de"), Some("de"));
        assert_eq!(n("de-DE,de;q=0.9,en;q=0.8"), Some("de"));
        assert_eq!(n("de-AT"), Some("de"));
        assert_eq!(n("FR-ca, en;q=0.5"), Some("fr"));
        assert_eq!(n("it, fr;q=0.3, en;q=0.7"), Some("en"));
        assert_eq!(n("fr;q=0, de;q=0.1"), Some("de"));
        assert_eq!(n("it, es"), None);
        assert_eq!(n("*"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("de;q=abc, fr;q=1.5, en;q=0.2"), Some("en"));
        assert_eq!(negotiate("fr", &site(&["en", "fr-CA"])), Some("fr-CA"));
        assert_eq!(negotiate("fr-CA", &site(&["fr", "fr-CA"])), Some("fr-CA"));
    }
}
