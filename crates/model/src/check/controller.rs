//! Lints of `[controller]`: who is responsible, how to reach them (and their DPO or
//! representative), where they are established and which authority supervises them.
//!
//! Invariant: every address, URL, country and time zone given is well formed; a contact
//! declared at all can be reached some way.

use super::diag::{Lints, p};
use super::valid::{email, url, valid_country};
use crate::registry::{Registry, in_eea};

pub(crate) fn lint(r: &Registry, l: &mut Lints) {
    let c = &r.controller;
    if c.name.trim().is_empty() {
        l.error(p!["controller", "name"], "controller name is empty");
    }
    email(l, p!["controller", "email"], Some(&c.email));
    email(l, p!["controller", "rights_email"], c.rights_email.as_ref());
    if !valid_country(&c.country) {
        l.error(
            p!["controller", "country"],
            format!(
                "invalid country `{}`: use an ISO 3166-1 alpha-2 code like \"FR\"",
                c.country
            ),
        );
    }
    if jiff::tz::TimeZone::get(&c.timezone).is_err() {
        l.error(
            p!["controller", "timezone"],
            format!(
                "unknown time zone `{}`: use an IANA name like \"Europe/Paris\"",
                c.timezone
            ),
        );
    }
    url(l, p!["controller", "website"], c.website.as_ref());
    url(
        l,
        p!["controller", "supervisory_authority", "url"],
        c.supervisory_authority.url.as_ref(),
    );
    for (key, contact) in [("dpo", &c.dpo), ("representative", &c.representative)] {
        if let Some(ct) = contact {
            email(l, p!["controller", key, "email"], ct.email.as_ref());
            if ct.email.is_none() && ct.address.is_none() && ct.phone.is_none() {
                l.error(
                    p!["controller", key],
                    format!("the {key} needs an email, address or phone"),
                );
            }
        }
    }
    if !in_eea(&c.country) && c.representative.is_none() {
        l.warn(
            p!["controller", "country"],
            "a controller established outside the EEA usually needs a representative in the Union (GDPR Art. 27)",
        );
    }
}
