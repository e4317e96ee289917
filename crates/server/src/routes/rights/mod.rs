//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads), `api` (the admin API, `/admin/v1/requests...`)
//! `work` (the admin API of fulfilment: offline intake, restrictions, rectification, Art. 19
//! tasks, runs) and `pages` (the DPO's server-rendered queue with a cookie login for browsers). The
//! workflow itself is `assent_app::rights`.

mod api;
mod pages;
mod public;
pub(crate) mod reply;
mod work;

pub use api::*;
pub use pages::*;
pub use public::*;
pub use work::*;
