//! Data-subject rights requests over HTTP, one file per audience: `public` (the requester:
//! form, JSON API, verification, downloads), `api` (the admin API, `/admin/v1/requests...`)
//! and `work` (the admin API of fulfilment: offline intake, restrictions, rectification,
//! Art. 19 tasks, runs); the DPO's pages are the console's (`routes/console`). The
//! workflow itself is `assent_app::rights`.

mod api;
mod public;
pub(crate) mod reply;
mod work;

pub use api::*;
pub use public::*;
pub use work::*;
