//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads) and `api` (the admin API,
//! `/admin/v1/requests...`); the DPO's pages are the console's (`routes/console`). The
//! workflow itself is `assent_app::rights`.

mod api;
mod public;
pub(crate) mod reply;

pub use api::*;
pub use public::*;
