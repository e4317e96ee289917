//! The languages the model itself has words in (legal bases, safeguards, retention triggers,
//! duration units, rights-request types): English, French and German. Registry texts may be in
//! any language; these fixed words are picked here.
//!
//! Invariant: a language the model has no words in gets English, the same fallback as a
//! registry text ([`crate::registry::Text::get`]).

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
