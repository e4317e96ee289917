//! The language rule. A site lists the languages its banner and policies are offered in; every
//! translated text that the site shows must then have a value in each of them (German like
//! English or French: a site may list `de` only when every registry text it uses has a `de`
//! value). A missing translation is an error naming the text's path, because the visitor would
//! otherwise read another language in the middle of a German (or French) page or banner; a
//! blank translation is an error too.
//!
//! [`inventory`] lists every translated text of the registry with the languages it needs: those
//! of the sites that show it (a purpose's texts: the sites using the purpose; an activity's:
//! the sites listing it, else all; controller-wide texts: every site). Plain strings are
//! language-neutral and need nothing. Also here: the warning on markup in texts that end up in
//! HTML.

use super::diag::{Lints, Seg, join, p, path_string};
use crate::registry::{Registry, Site, Text};

/// One translated text, where it is and which languages it must cover.
pub(crate) struct TextUse<'a> {
    pub path: Vec<Seg>,
    /// How diagnostics call it ("purpose description").
    pub what: &'static str,
    pub text: &'a Text,
    pub langs: Vec<String>,
}

/// The languages of the sites matching `f`, each once, in order of first appearance.
pub(crate) fn langs_where(r: &Registry, f: impl Fn(&Site) -> bool) -> Vec<String> {
    let mut langs: Vec<String> = vec![];
    for s in r.sites.iter().filter(|s| f(s)) {
        for lang in &s.languages {
            if !langs.contains(lang) {
                langs.push(lang.clone());
            }
        }
    }
    langs
}

/// Languages of the sites that use a purpose.
fn langs_for_purpose(r: &Registry, purpose: &str) -> Vec<String> {
    langs_where(r, |s| s.uses_purpose(purpose))
}

#[derive(Default)]
struct Inventory<'a>(Vec<TextUse<'a>>);

impl<'a> Inventory<'a> {
    fn push(&mut self, path: Vec<Seg>, what: &'static str, text: &'a Text, langs: &[String]) {
        let langs = langs.to_vec();
        self.0.push(TextUse {
            path,
            what,
            text,
            langs,
        });
    }
    /// The texts `(key, what, text)` of the element at `base`, each needing `langs`.
    fn add(
        &mut self,
        base: Vec<Seg>,
        langs: &[String],
        texts: &[(&str, &'static str, Option<&'a Text>)],
    ) {
        for &(key, what, text) in texts {
            if let Some(text) = text {
                self.push(join(&base, key), what, text, langs);
            }
        }
    }
    /// Each text of the list at `at` (`data_subjects[0]`, `data_subjects[1]`...).
    fn list(&mut self, at: Vec<Seg>, langs: &[String], what: &'static str, list: &'a [Text]) {
        for (j, text) in list.iter().enumerate() {
            self.push(join(&at, j), what, text, langs);
        }
    }
}

/// Every translated text of the registry with the languages it must have, in file order of
/// the tables.
pub(crate) fn inventory(r: &Registry) -> Vec<TextUse<'_>> {
    let all = langs_where(r, |_| true);
    let mut inv = Inventory::default();
    for (i, s) in r.sites.iter().enumerate() {
        if let Some(b) = &s.banner {
            inv.add(
                p!["sites", i, "banner"],
                &s.languages,
                &[
                    ("title", "banner title", b.title.as_ref()),
                    ("body", "banner body", b.body.as_ref()),
                ],
            );
        }
    }
    for (i, pu) in r.purposes.iter().enumerate() {
        inv.add(
            p!["purposes", i],
            &langs_for_purpose(r, &pu.id),
            &[
                ("name", "purpose name", Some(&pu.name)),
                ("description", "purpose description", Some(&pu.description)),
                (
                    "refusal_impact",
                    "refusal impact",
                    pu.refusal_impact.as_ref(),
                ),
            ],
        );
    }
    for (i, s) in r.services.iter().enumerate() {
        let texts = [("description", "service description", s.description.as_ref())];
        inv.add(p!["services", i], &all, &texts);
    }
    for (i, c) in r.cookies.iter().enumerate() {
        inv.add(
            p!["cookies", i],
            &langs_for_purpose(r, &c.purpose),
            &[
                ("description", "tracker description", c.description.as_ref()),
                (
                    "exemption_reason",
                    "exemption reason",
                    c.exemption_reason.as_ref(),
                ),
            ],
        );
    }
    for (i, a) in r.activities.iter().enumerate() {
        let langs = match &a.sites {
            Some(ids) => langs_where(r, |s| ids.contains(&s.id)),
            None => all.clone(),
        };
        inv.add(
            p!["activities", i],
            &langs,
            &[
                ("name", "activity name", Some(&a.name)),
                ("description", "activity description", Some(&a.description)),
                (
                    "legitimate_interest",
                    "legitimate interest",
                    a.legitimate_interest.as_ref(),
                ),
                ("source", "data source", a.source.as_ref()),
                (
                    "automated_decisions",
                    "automated decisions",
                    a.automated_decisions.as_ref(),
                ),
            ],
        );
        for (key, list) in [
            ("data_subjects", &a.data_subjects),
            ("data_categories", &a.data_categories),
            ("recipients", &a.recipients),
            ("security_measures", &a.security_measures),
        ] {
            inv.list(p!["activities", i, key], &langs, key, list);
        }
    }
    for (i, rr) in r.retention.iter().enumerate() {
        inv.add(
            p!["retention", i],
            &all,
            &[
                ("data_category", "data category", Some(&rr.data_category)),
                (
                    "description",
                    "retention description",
                    rr.description.as_ref(),
                ),
            ],
        );
    }
    inv.0
}

/// Missing and blank translations, and markup in texts shown as HTML.
pub(crate) fn lint(r: &Registry, l: &mut Lints) {
    for u in inventory(r) {
        let missing = u.text.missing(&u.langs);
        if !missing.is_empty() {
            l.error(
                u.path.clone(),
                format!(
                    "{} has no translation for site language{} {} ({})",
                    u.what,
                    if missing.len() > 1 { "s" } else { "" },
                    missing
                        .iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    path_string(&u.path)
                ),
            );
        }
        if u.text.all().iter().any(|s| s.trim().is_empty()) {
            l.error(u.path, format!("{} is empty", u.what));
        }
    }
    // Hostile strings: registry text ends up in HTML pages and the banner. Escaping makes markup
    // harmless, but markup in a policy text is almost always a mistake or an attack.
    for (path, s) in marked_up_candidates(r) {
        if s.contains('<') && (s.contains("script") || s.contains("on") && s.contains('=')) {
            l.warn(
                path,
                "text contains markup; it will be shown escaped, as plain text",
            );
        }
    }
}

/// The strings the markup warning looks at: names and descriptions that head the banner and
/// the policies, and the names of the controller and of each service.
fn marked_up_candidates(r: &Registry) -> Vec<(Vec<Seg>, &str)> {
    const HEADINGS: [&str; 5] = [
        "purpose name",
        "purpose description",
        "activity name",
        "activity description",
        "tracker description",
    ];
    let mut out: Vec<(Vec<Seg>, &str)> = inventory(r)
        .into_iter()
        .filter(|u| HEADINGS.contains(&u.what))
        .flat_map(|u| u.text.all().into_iter().map(move |s| (u.path.clone(), s)))
        .collect();
    for (i, s) in r.services.iter().enumerate() {
        out.push((p!["services", i, "name"], s.name.as_str()));
        out.push((p!["services", i, "provider"], s.provider.as_str()));
    }
    out.push((p!["controller", "name"], r.controller.name.as_str()));
    out
}
