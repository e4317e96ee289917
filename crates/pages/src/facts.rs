//! Facts shown as `<dt>`/`<dd>` pairs by several pages: the controller's identity and a
//! contact (representative, DPO). Shared by the privacy policy and the Art. 30 record, so that
//! neither page module depends on the other.

use assent_model::registry::{Contact, Controller};
use serde::Serialize;

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
}

impl ContactRecord {
    /// The known parts of a contact as facts.
    pub(crate) fn facts(&self, lang: &str) -> Vec<Fact> {
        let t = texts(lang);
        let mut f = vec![];
        if let Some(n) = &self.name {
            f.push(Fact::text(t.get("privacy.name"), n));
        }
        if let Some(e) = &self.email {
            f.push(Fact::new(t.get("common.email"), mailto(e)));
        }
        if let Some(a) = &self.address {
            f.push(Fact::text(t.get("common.address"), a));
        }
        if let Some(p) = &self.phone {
            f.push(Fact::text(t.get("common.phone"), p));
        }
        f
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
    /// country, email, phone, website), for a `<dl class="facts">`.
    pub(crate) fn facts(&self, lang: &str) -> Vec<Fact> {
        let t = texts(lang);
        let mut f = vec![Fact::text(t.get("register.name"), &self.name)];
        if let Some(v) = &self.legal_form {
            f.push(Fact::text(t.get("register.legal_form"), v));
        }
        if let Some(v) = &self.registration {
            f.push(Fact::text(t.get("register.registration"), v));
        }
        f.push(Fact::text(
            t.get("common.address"),
            &format!("{} ({})", self.address, words::country(&self.country, lang)),
        ));
        f.push(Fact::new(t.get("common.email"), mailto(&self.email)));
        if let Some(p) = &self.phone {
            f.push(Fact::text(t.get("common.phone"), p));
        }
        if let Some(w) = &self.website {
            f.push(Fact::new(
                t.get("common.website"),
                ext_link(w, &Markup::text(w)),
            ));
        }
        f
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
