//! Test support shared by Assent's browser tests (a dev-dependency only, never published).
//!
//! - [`chromium`]: Debian's Chromium or a failing test. A missing browser fails the test with
//!   the install hint, everywhere and in particular under `CI=true`: browser tests never skip.
//! - [`http`]: a tiny HTTP/1.1 server for fixture sites, raw responses over a tokio
//!   `TcpListener` bound to the address the test chooses (port 0, loopback aliases such as
//!   `127.0.0.2` for third-party hosts).
//! - [`temp`]: a temporary directory removed on drop.
//! - [`axe`]: axe-core (npm, pinned, cached outside the repository) run in a Chromium page.
//! - [`fuzz`]: a time-boxed mutation fuzzer on stable Rust, so that the fuzz targets run in
//!   every CI build.
//!
//! Module order (dependencies point one way): `http`, `fuzz` and `chromium` are independent leaves;
//! `lib.rs` only re-exports them.

pub mod axe;
pub mod chromium;
pub mod fuzz;
pub mod http;
pub mod temp;

pub use chromium::{launch, require_chromium};
pub use http::{Handler, Request, Response, serve};
pub use temp::{TempDir, random_hex, random_uuid};
