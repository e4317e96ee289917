//! Retention enforced: the plan (what is due, held, next due), the run (chunked purges,
//! one `retention.run` ledger entry per rule), DPO holds, and who enforces each rule (for
//! the policies). The rules and the date arithmetic are `assent_model::retention`; the
//! records and the lock `assent_store`. `rules` holds the rule set and the plan, `purge` the
//! run, `tables` the rules bound to datastore tables, `holds` the holds. No file imports this one: it only re-exports.

pub mod counters;
pub mod holds;
pub mod marketing;
pub mod progress;
pub mod purge;
pub mod rules;
pub mod tables;

pub use counters::RetentionCounters;
pub use holds::{lift_hold, list_holds, set_hold};
pub use progress::{DEFAULT_CHUNK, RunOptions};
pub use purge::{RuleRun, RunReport, run, scheduled_run};
pub use rules::{
    Plan, RuleEnforcement, RulePlan, RuleSet, RuleStatus, enforcement, overview, plan,
};
pub use tables::TableAccess;
