//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads), `api` (the admin API, `/admin/v1/requests...`)
//! and `pages` (the DPO's server-rendered queue with a cookie login for browsers). The
//! workflow itself is `assent_app::rights`.

mod api;
mod pages;
mod public;
pub(crate) mod reply;

pub use api::*;
pub use pages::*;
pub use public::*;
