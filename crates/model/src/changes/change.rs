//! One difference between two policy versions, in plain words in English, French and German,
//! with its weight: whether the banner must ask again, whether it is a material change of the
//! privacy policy only, or neither. Also the small words every section of the diff shares:
//! field names, "none", quoted values, lists.
//!
//! Invariants: each change is written once, in the three languages side by side
//! ([`change!`]); its texts name the element, the field and both values.

use serde::{Deserialize, Serialize};

use crate::lang::pick;
use crate::registry::Text;

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// It changes what the banner asks (purposes, vendors, lifetimes, a cookie purpose's
    /// legal basis): visitors are asked again.
    Banner,
    /// It changes what the privacy policy tells (an activity's legal basis, a longer
    /// retention, a new recipient, a new processing activity): flagged as a material
    /// privacy-policy change in the history, the banner does not ask again.
    Policy,
    /// Wording, contact details, shorter periods: shown, nothing more.
    Minor,
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Machine-readable kind, e.g. `service_added`, `cookie_lifetime_longer`.
    pub kind: String,
    /// Whether this change requires fresh consent (the banner asks again).
    pub material: bool,
    /// Whether this change is a material change of the privacy policy that does not concern
    /// the banner (versions stored before it existed read as `false`).
    #[serde(default)]
    pub policy_material: bool,
    pub en: String,
    pub fr: String,
    /// German (versions stored before it existed read as empty: see [`Change::text`]).
    #[serde(default)]
    pub de: String,
}

impl Change {
    pub(crate) fn new(kind: &str, weight: Weight, [en, fr, de]: [String; 3]) -> Self {
        Self {
            kind: kind.into(),
            material: weight == Weight::Banner,
            policy_material: weight == Weight::Policy,
            en,
            fr,
            de,
        }
    }
    /// The text in `lang` (English for a language the model has no words in). A change stored
    /// without German has none to give: callers re-derive such changes from the versions.
    pub fn text(&self, lang: &str) -> &str {
        match lang {
            "fr" => &self.fr,
            "de" if !self.de.is_empty() => &self.de,
            _ => &self.en,
        }
    }
}

/// A [`Change`] from its English, French and German templates, which take the same arguments
/// in the same order. In the arguments, `$l` is the language being written (`"en"`, `"fr"`,
/// then `"de"`), so that names, labels and durations follow it.
macro_rules! change {
    ($kind:expr, $weight:expr, |$l:ident| $en:literal, $fr:literal, $de:literal $(, $arg:expr)* $(,)?) => {{
        let text = |$l: &str| match $l {
            "fr" => format!($fr $(, $arg)*),
            "de" => format!($de $(, $arg)*),
            _ => format!($en $(, $arg)*),
        };
        $crate::changes::change::Change::new($kind, $weight, [text("en"), text("fr"), text("de")])
    }};
}
pub(crate) use change;

/// A translated name in `lang` (English as the fallback of the three languages).
pub(crate) fn name(t: &Text, lang: &str) -> String {
    t.get(lang, "en").to_string()
}

/// A value in quotes, in the typography of `lang`: “…”, « … », „…“.
pub(crate) fn quoted(v: &str, lang: &str) -> String {
    match lang {
        "fr" => format!("« {v} »"),
        "de" => format!("„{v}“"),
        _ => format!("“{v}”"),
    }
}

/// "none" in `lang`, for a value that was or became absent.
pub(crate) fn none(lang: &str) -> &'static str {
    pick(lang, ["none", "aucun", "keine Angabe"])
}

/// An optional plain value in words: itself, or "none".
pub(crate) fn opt(v: Option<&str>, lang: &str) -> String {
    v.map_or_else(|| none(lang).to_string(), str::to_string)
}

/// An optional translated text, quoted, or "none".
pub(crate) fn opt_text(v: Option<&Text>, lang: &str) -> String {
    v.map_or_else(|| none(lang).to_string(), |t| quoted(&name(t, lang), lang))
}

/// A list of values joined by commas, or "none".
pub(crate) fn joined(items: &[String], lang: &str) -> String {
    if items.is_empty() {
        none(lang).to_string()
    } else {
        items.join(", ")
    }
}

/// The name of a field in `lang`, from `[english, french, german]`; the French one with its
/// article ("la base légale"), as it starts a clause.
pub(crate) type Field = [&'static str; 3];

/// "{what}: {field} changed from {old} to {new}" for one field whose values differ.
pub(crate) fn field_changed(
    kind: &str,
    weight: Weight,
    what: &dyn Fn(&str) -> String,
    field: Field,
    old: &dyn Fn(&str) -> String,
    new: &dyn Fn(&str) -> String,
) -> Change {
    change!(
        kind,
        weight,
        |l| "{}: {} changed from {} to {}",
        "{} : {} passe de {} à {}",
        "{}: {} geändert von {} zu {}",
        what(l),
        pick(l, field),
        old(l),
        new(l)
    )
}

/// Items of `new` not in `old` and items of `old` not in `new`, by their text in English.
pub(crate) fn added_removed<'a>(
    old: &'a [Text],
    new: &'a [Text],
) -> (Vec<&'a Text>, Vec<&'a Text>) {
    let has = |list: &[Text], t: &Text| list.iter().any(|x| x == t);
    (
        new.iter().filter(|t| !has(old, t)).collect(),
        old.iter().filter(|t| !has(new, t)).collect(),
    )
}
