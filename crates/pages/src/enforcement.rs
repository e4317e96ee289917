//! How each retention rule is enforced, as the privacy policy states it: automatically by
//! Assent (with the date of its last run), or by the controller's own means when Assent
//! applies the rule to nothing. The caller (the application) decides; the pages only say it.
//!
//! Invariant: a rule the caller says nothing about is the controller's. The policy never
//! claims an automatic deletion the configuration does not perform.

use std::collections::BTreeMap;

use assent_model::enforced::{OwnRecords, enforced_by_assent};
use assent_model::registry::RetentionRule;

use crate::html::time_el;
use crate::i18n::{Markup, texts};

/// Who enforces one retention rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Assent deletes or anonymises the data itself; `last_run_ms` is when its purge last
    /// ran (epoch ms), `None` when it has not run yet or the time is not known.
    Assent { last_run_ms: Option<i64> },
    /// Nothing in Assent applies the rule: the controller does, by its own means.
    Controller,
}

/// Rule id → how it is enforced. Rules absent from the map are the controller's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcements(BTreeMap<String, Enforcement>);

impl Enforcements {
    pub fn new() -> Self {
        Self::default()
    }
    /// Says how rule `id` is enforced (replacing what was said before).
    pub fn set(&mut self, id: &str, e: Enforcement) {
        self.0.insert(id.to_string(), e);
    }
    /// How rule `id` is enforced: [`Enforcement::Controller`] unless the caller said otherwise.
    pub fn of(&self, id: &str) -> Enforcement {
        self.0.get(id).copied().unwrap_or(Enforcement::Controller)
    }
    /// The enforcement of each of `rules` as Assent's configuration makes it: the rules Assent
    /// purges itself ([`enforced_by_assent`]) with `last_run` of their records, every other
    /// one the controller's.
    pub fn of_rules<'a>(
        rules: impl IntoIterator<Item = &'a RetentionRule>,
        last_run: impl Fn(OwnRecords) -> Option<i64>,
    ) -> Self {
        let mut out = Self::new();
        for r in rules {
            if let Some(kind) = enforced_by_assent(r) {
                let last_run_ms = last_run(kind);
                out.set(&r.id, Enforcement::Assent { last_run_ms });
            }
        }
        out
    }
    /// Every rule the caller spoke of, with its enforcement.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Enforcement)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// The sentence of the policy for one rule, in `lang`: "Automatically, by Assent (last run
/// on 3 December 2026)" or "By KALIDO, outside Assent" (`controller` is the controller's name;
/// `tz` its time zone, for the date).
pub fn statement(e: Enforcement, controller: &str, tz: &str, lang: &str) -> Markup {
    let t = texts(lang);
    match e {
        Enforcement::Assent {
            last_run_ms: Some(ms),
        } => t.markup_with(
            "truth.by_assent_last_run_html",
            &[("date", &time_el(ms, tz, lang))],
        ),
        Enforcement::Assent { last_run_ms: None } => Markup::text(t.get("truth.by_assent_not_run")),
        Enforcement::Controller => {
            Markup::text(&t.fill("truth.by_controller", &[("controller", &controller)]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_nobody_spoke_of_is_the_controllers() {
        let mut e = Enforcements::new();
        e.set("rights", Enforcement::Assent { last_run_ms: None });
        assert_eq!(e.of("rights"), Enforcement::Assent { last_run_ms: None });
        assert_eq!(e.of("prospects"), Enforcement::Controller);
    }

    #[test]
    fn statements_in_three_languages() {
        let ms = 1_790_000_000_000; // 21 September 2026
        let assent = Enforcement::Assent {
            last_run_ms: Some(ms),
        };
        let s = statement(assent, "KALIDO", "Europe/Paris", "fr").into_string();
        assert!(s.contains("21 septembre 2026"), "{s}");
        let s = statement(Enforcement::Controller, "KALIDO", "Europe/Paris", "de").into_string();
        assert!(s.contains("KALIDO"), "{s}");
        for lang in ["en", "fr", "de"] {
            let s = statement(assent, "X", "UTC", lang).into_string();
            assert!(!s.contains("scheduled job"), "{s}");
        }
    }
}
