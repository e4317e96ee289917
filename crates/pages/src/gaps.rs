//! Values the pages may publish: a placeholder ([`assent_model::placeholder`]: "not stated",
//! an address at `example.com`, the country `ZZ`, an empty string) is never shown as a fact.
//! Policies leave the value out and keep the fact ("provider not named"); the Art. 30 record,
//! a working document, marks the gap "[to complete]".

use assent_model::placeholder::{is_placeholder, is_placeholder_address};
use assent_model::registry::{Controller, Service};

use crate::html::txt;
use crate::words;

/// `value`, unless it is a placeholder.
pub fn known(value: &str) -> Option<&str> {
    (!is_placeholder(value)).then_some(value)
}

/// An e-mail address or URL, unless it is a placeholder or at a documentation domain.
pub fn known_address(value: &str) -> Option<&str> {
    (!is_placeholder_address(value)).then_some(value)
}

/// Where rights are exercised by e-mail: the rights address, else the controller's, when one
/// of them is real.
pub fn rights_email(c: &Controller) -> Option<&str> {
    c.rights_email
        .as_deref()
        .and_then(known_address)
        .or_else(|| known_address(&c.email))
}

/// The postal address for rights requests ("NAME, ADDRESS"), when a real one is stated.
pub fn rights_post(c: &Controller) -> Option<String> {
    let address = c
        .rights_address
        .as_deref()
        .and_then(known)
        .or_else(|| known(&c.address))?;
    Some(format!("{}, {address}", c.name))
}

/// A service's provider, or "provider not named" in `lang`.
pub fn provider(s: &Service, lang: &str) -> String {
    match known(&s.provider) {
        Some(p) => p.to_string(),
        None => txt(lang, "truth.provider_not_named").to_string(),
    }
}

/// A country in words; the unknown country (`ZZ`) as "a country outside the EU not named by
/// the controller" (the catalog's `country.ZZ`), no country at all as "country not named".
pub fn country(code: &str, lang: &str) -> String {
    if code.trim().is_empty() {
        txt(lang, "truth.country_not_named").to_string()
    } else {
        words::country_with_code(code, lang)
    }
}

/// A value of the Art. 30 record: itself, or "[to complete]" in `lang`.
pub fn or_gap(value: &str, lang: &str) -> String {
    match known(value) {
        Some(v) => v.to_string(),
        None => txt(lang, "truth.to_complete").to_string(),
    }
}

/// An address of the Art. 30 record: itself, or "[to complete]" in `lang`.
pub fn address_or_gap(value: &str, lang: &str) -> String {
    match known_address(value) {
        Some(v) => v.to_string(),
        None => txt(lang, "truth.to_complete").to_string(),
    }
}
