pub mod admin;
pub mod consent;
pub mod health;
pub mod ledger;
pub mod wellknown;
