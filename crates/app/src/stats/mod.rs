//! The dashboard's statistics (docs/dashboard.md): what a consent adds to the counters
//! ([`tally`]), banner displays counted anonymously ([`shown`]), the counting of consents
//! recorded before the counters existed ([`backfill`]), and the dashboard itself
//! ([`dashboard`]).

pub mod backfill;
pub mod counter;
pub mod dashboard;
pub mod shown;
pub mod tally;

pub use assent_model::dashboard::Dashboard;
pub use dashboard::{Query, dashboard};
