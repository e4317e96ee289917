//! Marketing consent (issue 17): Assent as the authority that records each person's
//! marketing choices with proof, answers "may I send this?" before every campaign and takes
//! the opt-outs (one-click unsubscribe, SMS STOP, rights requests). It is not the mailer.
//!
//! `choice` holds what every step shares (addresses, the writing of a choice with its ledger
//! entry, the rule that says who may be contacted); `record` the consents API, double opt-in
//! and its job; `check` the check before a campaign; `unsubscribe` the one-click link and the
//! preference page; `inbound` SMS STOP; `suppress` the suppression list, the rights hooks and
//! the import; `key` the key that hashes addresses and signs links. No file imports this one:
//! it only re-exports.

pub mod check;
pub mod choice;
pub mod inbound;
pub mod key;
pub mod record;
pub mod suppress;
pub mod unsubscribe;

pub use key::MarketingKey;
