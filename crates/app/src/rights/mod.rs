//! The data-subject rights workflow: intake, identity verification by email, the DPO's
//! transitions, emails, ledger events, and the consent withdrawal of linked subjects.
//! Deadlines and the status machine live in `assent_model::rights`; persistence in
//! `assent_store` (`rights_*` methods); HTTP in `assent_server::routes::rights`. `request`
//! holds intake validation and what every step needs; `workflow` the requester's steps and
//! the transitions, `dpo` the DPO's actions, `mails` the emails, `jobs` the reminders and
//! retention that run every minute. No file imports this one: it only re-exports.
//!
//! Ledger events (`rights.*`) carry no personal data: ids, site, type, status, times and
//! template names only.

pub mod dpo;
pub mod fulfilment;
pub mod identity;
pub mod intake;
pub mod jobs;
pub mod limit;
pub mod mailer;
pub mod mails;
pub mod notify;
pub mod outbox;
pub mod rectify;
mod request;
pub mod restrict;
pub mod runs;
pub mod view;
mod workflow;

pub use request::*;
pub use workflow::{
    Pending, Verified, send_and_record, submit, transition, verify_code, verify_link,
};
