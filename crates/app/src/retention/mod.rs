//! Retention enforced: the plan (what is due, held, next due), the run (chunked purges,
//! one `retention.run` ledger entry per rule), DPO holds, and who enforces each rule (for
//! the policies). The rules and the date arithmetic are `assent_model::retention`; the
//! records and the lock `assent_store`. `rules` holds the rule set and the plan, `purge` the
//! run, `holds` the holds. No file imports this one: it only re-exports.

pub mod counters;
pub mod holds;
pub mod purge;
pub mod rules;

pub use counters::RetentionCounters;
pub use holds::{lift_hold, list_holds, set_hold};
pub use purge::{DEFAULT_CHUNK, RuleRun, RunOptions, RunReport, run, scheduled_run};
pub use rules::{
    Plan, RuleEnforcement, RulePlan, RuleSet, RuleStatus, enforcement, overview, plan,
};
