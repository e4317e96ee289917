pub mod admin;
pub mod banner;
pub mod consent;
pub mod health;
pub mod ledger;
pub mod pages;
pub mod rights;
pub mod wellknown;
