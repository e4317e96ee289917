//! Facts shown as `<dt>`/`<dd>` pairs by several pages: the controller's identity and a
//! contact (representative, DPO). Shared by the privacy policy and the Art. 30 record, so that
//! neither page module depends on the other.

use assent_model::registry::{Contact, Controller};
use serde::Serialize;

use crate::gaps::{address_or_gap, known, known_address, or_gap};
use crate::html::{ext_link, mailto};
use crate::i18n::{Markup, texts};
use crate::words;

/// One `<dt>label</dt><dd>value</dd>` pair (`templates/macros.html`, `facts`).
pub struct Fact {
    pub label: &'static str,
    pub value: Markup,
}

impl Fact {
    pub fn new(label: &'static str, value: Markup) -> Self {
        Self { label, value }
    }
    /// A fact whose value is text (escaped).
    pub fn text(label: &'static str, value: &str) -> Self {
        Self::new(label, Markup::text(value))
    }
    /// The facts whose value is known, in order: `(catalog key, value)` rows in `lang`, a
    /// `None` value left out (optional registry fields).
    pub fn known<const N: usize>(
        lang: &str,
        rows: [(&'static str, Option<Markup>); N],
    ) -> Vec<Fact> {
        let t = texts(lang);
        rows.into_iter()
            .filter_map(|(key, value)| Some(Fact::new(t.get(key), value?)))
            .collect()
    }
}

/// A website as a fact's value: an external link showing its address.
pub(crate) fn website(url: &str) -> Markup {
    ext_link(url, &Markup::text(url))
}

impl ContactRecord {
    /// The known parts of a contact as facts.
    pub(crate) fn facts(&self, lang: &str) -> Vec<Fact> {
        Fact::known(
            lang,
            [
                (
                    "privacy.name",
                    self.name.as_deref().and_then(known).map(Markup::text),
                ),
                (
                    "common.email",
                    self.email.as_deref().and_then(known_address).map(mailto),
                ),
                (
                    "common.address",
                    self.address.as_deref().and_then(known).map(Markup::text),
                ),
                (
                    "common.phone",
                    self.phone.as_deref().and_then(known).map(Markup::text),
                ),
            ],
        )
    }
}

/// A contact of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRecord {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

impl ContactRecord {
    /// The contact as the Art. 30 record states it: placeholders marked "[to complete]".
    pub(crate) fn with_gaps(self, lang: &str) -> Self {
        let gap = |v: Option<String>| v.map(|v| or_gap(&v, lang));
        Self {
            name: gap(self.name),
            email: self.email.map(|v| address_or_gap(&v, lang)),
            address: gap(self.address),
            phone: gap(self.phone),
        }
    }

    pub(crate) fn from(c: &Contact) -> Self {
        Self {
            name: c.name.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            phone: c.phone.clone(),
        }
    }
    /// "Name, email, address, phone" (the parts that are known).
    pub fn line(&self) -> String {
        [&self.name, &self.email, &self.address, &self.phone]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerRecord {
    pub name: String,
    pub legal_form: Option<String>,
    pub registration: Option<String>,
    pub address: String,
    pub country: String,
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
}

impl ControllerRecord {
    /// The controller's identity as facts (name, legal form, registration, address and
    /// country, email, phone, website), for a `<dl class="facts">`. Placeholders are left
    /// out: an unknown address leaves the country of establishment.
    pub(crate) fn facts(&self, lang: &str) -> Vec<Fact> {
        let country = words::country(&self.country, lang);
        let address = match known(&self.address) {
            Some(a) => format!("{a} ({country})"),
            None => country,
        };
        Fact::known(
            lang,
            [
                ("register.name", Some(Markup::text(&self.name))),
                (
                    "register.legal_form",
                    self.legal_form.as_deref().and_then(known).map(Markup::text),
                ),
                (
                    "register.registration",
                    self.registration
                        .as_deref()
                        .and_then(known)
                        .map(Markup::text),
                ),
                ("common.address", Some(Markup::text(&address))),
                ("common.email", known_address(&self.email).map(mailto)),
                (
                    "common.phone",
                    self.phone.as_deref().and_then(known).map(Markup::text),
                ),
                (
                    "common.website",
                    self.website.as_deref().and_then(known_address).map(website),
                ),
            ],
        )
    }

    /// The controller as the Art. 30 record states it: placeholders marked "[to complete]".
    pub(crate) fn with_gaps(self, lang: &str) -> Self {
        let gap = |v: Option<String>| v.map(|v| or_gap(&v, lang));
        Self {
            name: or_gap(&self.name, lang),
            legal_form: gap(self.legal_form),
            registration: gap(self.registration),
            address: or_gap(&self.address, lang),
            country: self.country,
            email: address_or_gap(&self.email, lang),
            phone: gap(self.phone),
            website: self.website.map(|v| address_or_gap(&v, lang)),
        }
    }

    pub(crate) fn from(c: &Controller) -> Self {
        Self {
            name: c.name.clone(),
            legal_form: c.legal_form.clone(),
            registration: c.registration.clone(),
            address: c.address.clone(),
            country: c.country.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            website: c.website.clone(),
        }
    }
    pub fn line(&self) -> String {
        let mut parts = vec![self.name.clone()];
        parts.extend(self.legal_form.clone());
        parts.extend(self.registration.clone());
        parts.push(format!("{} ({})", self.address, self.country));
        parts.push(self.email.clone());
        parts.extend(self.phone.clone());
        parts.join(", ")
    }
}
