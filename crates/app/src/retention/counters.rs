//! Retention counters for `/metrics`, per rule: records deleted, anonymised and held by this
//! process's runs, and the runs by outcome. Rule ids are the registry's (no personal data).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Per rule id: deleted, anonymised, held, runs done, runs partial, runs failed; and per kind
/// (`consents`, `rights_requests`), when this process last ran its rule.
/// What one run did to one rule, as the counters see it (no dependency on the run's types,
/// so that `metrics` stays a leaf of the crate's import graph).
#[derive(Debug, Clone, Copy)]
pub struct RuleOutcome<'a> {
    pub id: &'a str,
    pub applies_to: Option<&'a str>,
    pub status: &'a str,
    pub deleted: i64,
    pub anonymised: i64,
    pub held: i64,
}

#[derive(Debug, Default)]
pub struct RetentionCounters(
    Mutex<BTreeMap<String, [u64; 6]>>,
    Mutex<BTreeMap<String, i64>>,
);

const NAMES: [(&str, &str); 6] = [
    (
        "assent_retention_deleted_total",
        "Records deleted by retention runs, per rule.",
    ),
    (
        "assent_retention_anonymised_total",
        "Records anonymised by retention runs, per rule.",
    ),
    (
        "assent_retention_held_total",
        "Due records kept because held, per rule and run.",
    ),
    (
        "assent_retention_runs_done_total",
        "Retention runs of a rule that finished.",
    ),
    (
        "assent_retention_runs_partial_total",
        "Retention runs of a rule stopped by their budget.",
    ),
    (
        "assent_retention_runs_failed_total",
        "Retention runs of a rule that failed.",
    ),
];

impl RetentionCounters {
    /// When this process last ran the rule of `kind` (epoch ms), for the privacy policy.
    pub fn last_run_ms(&self, kind: &str) -> Option<i64> {
        self.1.lock().ok()?.get(kind).copied()
    }

    /// Adds what a run did to one rule (finished at `now_ms`): `status` is `done`,
    /// `partial` or `failed` (a skipped rule is not counted).
    pub fn add_rule(&self, rule: RuleOutcome<'_>, now_ms: i64) {
        if rule.status == "skipped" {
            return;
        }
        if let (Some(kind), Ok(mut last)) = (rule.applies_to, self.1.lock()) {
            last.insert(kind.to_string(), now_ms);
        }
        let Ok(mut m) = self.0.lock() else {
            return;
        };
        let c = m.entry(rule.id.to_string()).or_default();
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        c[0] += n(rule.deleted);
        c[1] += n(rule.anonymised);
        c[2] += n(rule.held);
        match rule.status {
            "done" => c[3] += 1,
            "partial" => c[4] += 1,
            _ => c[5] += 1,
        }
    }

    /// The counters in Prometheus' text format (nothing before the first run).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let Ok(m) = self.0.lock() else {
            return s;
        };
        if m.is_empty() {
            return s;
        }
        for (k, (name, help)) in NAMES.iter().enumerate() {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
            for (rule, c) in m.iter() {
                let rule = rule.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(s, "{name}{{rule=\"{rule}\"}} {}", c[k]);
            }
        }
        s
    }
}
