//! The DPO console (`/admin/...`), one file per screen: `entry` (the home page or the login
//! form, login, logout, password setup), `requests` (the rights queue and one request with
//! its actions), `fulfil` (its fulfilment: runs, restriction, rectification, Art. 19 tasks,
//! offline intake), `people` (users and API tokens), `account` (my account) and `audit` (the
//! audit trail). `common` holds what every handler shares. Handlers stay thin: one app
//! operation each, the page rendered by `assent_pages::console`.

mod account;
mod audit;
pub(crate) mod common;
mod entry;
mod fulfil;
mod people;
mod requests;

pub use account::*;
pub use audit::*;
pub use entry::*;
pub use fulfil::*;
pub use people::*;
pub use requests::*;
