//! Assent's domain model: the registry ("privacy as code") and its lints, policy versions and
//! material-change detection, consent decisions, rights-request deadlines, and the clock.
//! No IO, no HTTP, no SQL: every other crate builds on these types.

pub mod applies_to;
pub mod changes;
pub mod check;
pub mod clock;
mod codes;
pub mod consent;
pub mod dashboard;
pub mod datastore;
pub mod enforced;
pub mod lang;
pub mod marketing;
pub mod placeholder;
pub mod registry;
pub mod retention;
pub mod rights;
pub mod stats;
pub mod version;

pub use registry::Registry;
