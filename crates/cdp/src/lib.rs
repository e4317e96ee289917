//! A small Chrome DevTools Protocol client, for Assent's cookie scanner and browser tests.
//!
//! Why our own: the generated bindings of a full client cost minutes of build time on small
//! machines, and we use about fifteen commands. This crate speaks the protocol as JSON over
//! one WebSocket, with flattened sessions (one socket for every target).
//!
//! ```no_run
//! # async fn demo() -> Result<(), assent_cdp::CdpError> {
//! use assent_cdp::{Browser, LaunchOptions};
//! let browser = Browser::launch(LaunchOptions::default()).await?;
//! let context = browser.new_context().await?; // fresh cookie jar
//! let page = context.new_page().await?;
//! page.navigate("http://127.0.0.1:8080/").await?;
//! let title = page.evaluate("document.title").await?;
//! let cookies = context.cookies().await?; // HttpOnly and third-party included
//! let png = page.screenshot_png().await?;
//! # let _ = (title, cookies, png);
//! browser.close().await?;
//! # Ok(()) }
//! ```
//!
//! Chromium is found through [`LaunchOptions::executable`], `$ASSENT_CHROMIUM`,
//! `/usr/bin/chromium` or `PATH` (Debian: `apt-get install -y chromium`).
//!
//! Anything not wrapped is one [`Page::call`] / [`Session::call`] away; events arrive through
//! [`Page::events`] (one session) or [`Browser::events`] (all sessions, e.g. to follow iframes
//! attached with `Target.setAutoAttach`).
//!
//! Module order: each file uses only the ones before it, never one after (no import cycles).
//! `error` → `connection` (the WebSocket, calls and event streams) → `session` (a handle on one
//! flattened session) → `cookie` (the cookie type and `Storage.getCookies`) → `page` (a tab) →
//! `launch` (process, profile, DevTools endpoint) → `browser` (the browser and its contexts,
//! which open pages). `lib.rs` only re-exports.

mod browser;
mod connection;
mod cookie;
mod error;
mod launch;
mod page;
mod session;

pub use browser::{Browser, BrowserContext};
pub use connection::{Event, EventFilter, EventStream};
pub use cookie::Cookie;
pub use error::{CdpError, Result};
pub use launch::{LaunchOptions, find_chromium};
pub use page::{Modifiers, Navigation, Page, evaluation_result, js_string};
pub use session::Session;

/// Re-exported so that callers can build parameters without naming `serde_json` themselves.
pub use serde_json::{Value, json};
