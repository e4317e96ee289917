//! Placeholders: values that stand for something unknown ("not stated", "TBD", an address at
//! `example.com`, the country `ZZ`, an empty string). `assent check` warns about each one, and
//! the pages never publish one as a fact: they leave the value out and keep the fact ("Standard
//! Contractual Clauses; country not named"), and the Art. 30 record marks the gap "to complete".
//!
//! Invariants: the predicates are pure and conservative: a real value (a company name, a real
//! address, a country code) is never taken for a placeholder; what they catch is the phrases a
//! person writes when the value is not known, in English, French and German.

/// Phrases that, at the start of a value, say that it is unknown.
const UNKNOWN_PREFIXES: [&str; 18] = [
    "not stated",
    "not named",
    "not known",
    "not given",
    "not specified",
    "unknown",
    "unspecified",
    "tbd",
    "tbc",
    "todo",
    "to be confirmed",
    "to be completed",
    "non précisé",
    "non communiqué",
    "non désigné",
    "inconnu",
    "nicht angegeben",
    "unbekannt",
];

/// Whole values that say nothing.
const EMPTY_WORDS: [&str; 5] = ["n/a", "-", "–", "?", "xxx"];

/// Whether a free-text value (a name, an address, a phone number) is a placeholder.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().to_lowercase();
    if v.is_empty() || EMPTY_WORDS.contains(&v.as_str()) {
        return true;
    }
    UNKNOWN_PREFIXES.iter().any(|p| {
        v.strip_prefix(p)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    }) || has_placeholder_domain(&v)
}

/// Whether a host name is reserved for documentation (RFC 2606, RFC 6761): `example.com`,
/// `example.org`, `example.net`, anything under `.example`, `.invalid`, `.test` or
/// `.localhost`.
pub fn is_placeholder_host(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let h = h.strip_prefix('.').unwrap_or(&h);
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| h == *d || h.ends_with(&format!(".{d}")))
        || ["example", "invalid", "test", "localhost"]
            .iter()
            .any(|tld| h == *tld || h.ends_with(&format!(".{tld}")))
}

/// Whether an e-mail address or URL points at a documentation domain (or is a placeholder).
pub fn is_placeholder_address(value: &str) -> bool {
    let v = value.trim();
    let host = match v.split_once('@') {
        Some((_, domain)) => domain,
        None => {
            let rest = v.split_once("://").map_or(v, |(_, r)| r);
            rest.split(['/', '?', '#', ':']).next().unwrap_or("")
        }
    };
    v.is_empty() || is_placeholder_host(host) || is_placeholder(v)
}

/// Whether a country code stands for an unknown country (`ZZ`, CLDR's "unknown region") or is
/// empty.
pub fn is_placeholder_country(code: &str) -> bool {
    let c = code.trim();
    c.is_empty() || c.eq_ignore_ascii_case("ZZ")
}

/// A value as it may be published: `None` for a placeholder.
pub fn known(value: &str) -> Option<&str> {
    (!is_placeholder(value)).then_some(value)
}

/// Whether a text mentions an address at a documentation domain (`privacy@callkom.example`).
fn has_placeholder_domain(v: &str) -> bool {
    v.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '<' | '>'))
        .filter(|w| w.contains('@') || w.contains("://"))
        .any(|w| {
            let w = w.trim_end_matches(['.', ',']);
            let host = match w.split_once('@') {
                Some((_, d)) => d,
                None => {
                    let r = w.split_once("://").map_or(w, |(_, r)| r);
                    r.split(['/', '?', '#', ':']).next().unwrap_or("")
                }
            };
            is_placeholder_host(host)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_placeholders() {
        for v in [
            "",
            "  ",
            "Not stated in the cookie policy (see the Callkom privacy policy)",
            "Not named in the policy",
            "unknown",
            "TBD",
            "TBD.",
            "n/a",
            "Non précisé",
            "nicht angegeben",
            "write to privacy@callkom.example",
        ] {
            assert!(is_placeholder(v), "{v:?}");
        }
        for v in [
            "KALIDO",
            "Unknownsoft GmbH",
            "97 Rue Parmentier, 59650 Villeneuve-d'Ascq",
            "Google Ireland Limited",
            "Tbdx Ltd",
            "Nana SAS",
        ] {
            assert!(!is_placeholder(v), "{v:?}");
        }
    }

    #[test]
    fn documentation_domains() {
        for v in [
            "privacy@callkom.example",
            "dpo@example.com",
            "https://www.example.org/privacy",
            "http://shop.example.net",
            "a@b.test",
            "https://x.invalid",
        ] {
            assert!(is_placeholder_address(v), "{v:?}");
        }
        for v in [
            "dpo@kalido-pro.com",
            "https://www.cnil.fr",
            "https://example-shop.com",
            "a@myexample.com",
        ] {
            assert!(!is_placeholder_address(v), "{v:?}");
        }
    }

    #[test]
    fn countries() {
        assert!(is_placeholder_country("ZZ"));
        assert!(is_placeholder_country("zz"));
        assert!(is_placeholder_country(""));
        assert!(!is_placeholder_country("US"));
        assert!(!is_placeholder_country("EU"));
    }
}
