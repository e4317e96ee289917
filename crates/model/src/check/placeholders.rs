//! Warnings on values that stand for something unknown ([`crate::placeholder`]): "not stated",
//! "TBD", addresses at documentation domains (`example.com`, `*.example`), the country `ZZ`,
//! empty strings, and one name given to distinct entities (two services called the same, two
//! purposes or activities with the same name in a language). The pages never publish such a
//! value as a fact; the warning says so and asks for the real one.
//!
//! Invariant: warnings only (a registry with placeholders still applies: the pages leave the
//! values out), each at the placeholder's own path.

use std::collections::HashMap;

use super::diag::{Lints, Seg, join, p};
use super::texts::inventory;
use crate::placeholder::{is_placeholder, is_placeholder_address, is_placeholder_country};
use crate::registry::{Contact, Registry, Text};

/// How the warning ends: what the pages do with the value.
const LEFT_OUT: &str = "pages leave it out until the real value is stated";

fn text(l: &mut Lints, path: Vec<Seg>, what: &str, v: Option<&String>) {
    if let Some(v) = v
        && is_placeholder(v)
    {
        l.warn(path, format!("{what} `{v}` is a placeholder: {LEFT_OUT}"));
    }
}

fn address(l: &mut Lints, path: Vec<Seg>, what: &str, v: Option<&String>) {
    if let Some(v) = v
        && is_placeholder_address(v)
    {
        l.warn(
            path,
            format!("{what} `{v}` is a placeholder (a documentation address): {LEFT_OUT}"),
        );
    }
}

fn country(l: &mut Lints, path: Vec<Seg>, v: Option<&String>) {
    if let Some(v) = v
        && is_placeholder_country(v)
    {
        l.warn(
            path,
            format!("country `{v}` stands for an unknown country: pages say \"country not named\""),
        );
    }
}

fn contact(l: &mut Lints, base: Vec<Seg>, who: &str, c: &Contact) {
    text(
        l,
        join(&base, "name"),
        &format!("{who} name"),
        c.name.as_ref(),
    );
    address(
        l,
        join(&base, "email"),
        &format!("{who} email"),
        c.email.as_ref(),
    );
    text(
        l,
        join(&base, "address"),
        &format!("{who} address"),
        c.address.as_ref(),
    );
    text(
        l,
        join(&base, "phone"),
        &format!("{who} phone"),
        c.phone.as_ref(),
    );
}

pub(crate) fn lint(r: &Registry, l: &mut Lints) {
    let c = &r.controller;
    let ctl = |k: &str| p!["controller", k];
    text(l, ctl("name"), "controller name", Some(&c.name));
    text(l, ctl("legal_form"), "legal form", c.legal_form.as_ref());
    text(
        l,
        ctl("registration"),
        "registration",
        c.registration.as_ref(),
    );
    text(l, ctl("address"), "controller address", Some(&c.address));
    text(
        l,
        ctl("rights_address"),
        "rights address",
        c.rights_address.as_ref(),
    );
    text(l, ctl("phone"), "controller phone", c.phone.as_ref());
    address(l, ctl("email"), "controller email", Some(&c.email));
    address(
        l,
        ctl("rights_email"),
        "rights email",
        c.rights_email.as_ref(),
    );
    address(l, ctl("website"), "controller website", c.website.as_ref());
    country(l, ctl("country"), Some(&c.country));
    if let Some(d) = &c.dpo {
        contact(l, ctl("dpo"), "DPO", d);
    }
    if let Some(d) = &c.representative {
        contact(l, ctl("representative"), "representative", d);
    }
    let auth = p!["controller", "supervisory_authority"];
    let a = &c.supervisory_authority;
    text(l, join(&auth, "name"), "authority name", Some(&a.name));
    text(
        l,
        join(&auth, "address"),
        "authority address",
        a.address.as_ref(),
    );
    address(l, join(&auth, "url"), "authority URL", a.url.as_ref());
    for (i, s) in r.sites.iter().enumerate() {
        text(l, p!["sites", i, "name"], "site name", Some(&s.name));
        address(l, p!["sites", i, "url"], "site URL", s.url.as_ref());
    }
    for (i, s) in r.services.iter().enumerate() {
        text(l, p!["services", i, "name"], "service name", Some(&s.name));
        text(
            l,
            p!["services", i, "provider"],
            "provider",
            Some(&s.provider),
        );
        let pp = s.privacy_policy.as_ref();
        address(l, p!["services", i, "privacy_policy"], "privacy policy", pp);
        country(l, p!["services", i, "country"], s.country.as_ref());
    }
    for (i, a) in r.activities.iter().enumerate() {
        for (j, t) in a.transfers.iter().enumerate() {
            let at = p!["activities", i, "transfers", j];
            country(l, join(&at, "country"), Some(&t.country));
            text(l, join(&at, "recipient"), "recipient", t.recipient.as_ref());
        }
    }
    for u in inventory(r) {
        if let Some(v) = u.text.all().into_iter().find(|v| is_placeholder(v)) {
            l.warn(
                u.path,
                format!("{} `{v}` is a placeholder: {LEFT_OUT}", u.what),
            );
        }
    }
    duplicates(r, l);
}

/// One name given to distinct entities: readers cannot tell them apart.
fn duplicates(r: &Registry, l: &mut Lints) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (i, s) in r.services.iter().enumerate() {
        match seen.get(s.name.trim()) {
            Some(first) => l.warn(
                p!["services", i, "name"],
                format!(
                    "services `{first}` and `{}` have the same name `{}`: readers cannot tell them apart",
                    s.id, s.name
                ),
            ),
            None => {
                seen.insert(s.name.trim(), &s.id);
            }
        }
    }
    let named = |list: Vec<(&str, &Text)>, table: &str, what: &str, l: &mut Lints| {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (i, (id, name)) in list.into_iter().enumerate() {
            let mut clash = None;
            for v in name.all() {
                let key = v.trim().to_lowercase();
                match seen.get(&key) {
                    Some(first) if *first != id => clash = Some((*first, v)),
                    Some(_) => {}
                    None => {
                        seen.insert(key, id);
                    }
                }
            }
            if let Some((first, v)) = clash {
                l.warn(
                    p![table, i, "name"],
                    format!(
                        "{what} `{first}` and `{id}` have the same name `{v}`: readers cannot tell them apart"
                    ),
                );
            }
        }
    };
    let purposes = r
        .purposes
        .iter()
        .map(|x| (x.id.as_str(), &x.name))
        .collect();
    named(purposes, "purposes", "purposes", l);
    let activities = r
        .activities
        .iter()
        .map(|x| (x.id.as_str(), &x.name))
        .collect();
    named(activities, "activities", "activities", l);
}
