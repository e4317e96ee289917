//! Errors of the DevTools client.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while launching or driving Chromium.
///
/// Protocol input is never trusted: a malformed message from the browser becomes one of these
/// variants (or is ignored when it cannot be attributed to a call), never a panic.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// No Chromium executable could be found.
    #[error(
        "no Chromium executable found (looked at {looked_at}); install it with \
         `apt-get install -y chromium` or set ASSENT_CHROMIUM to its path"
    )]
    ChromiumNotFound {
        /// The places that were tried, for the message.
        looked_at: String,
    },

    /// Creating the temporary profile or writing into it failed.
    #[error("cannot prepare the browser profile at {path}: {source}")]
    Profile {
        /// The path that could not be written.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },

    /// Spawning the browser process failed.
    #[error("cannot start {executable}: {source}")]
    Spawn {
        /// The executable that was started.
        executable: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },

    /// The browser exited, or never announced its DevTools endpoint, during start-up.
    #[error(
        "Chromium did not start: {reason}\n--- last lines of Chromium's stderr ---\n{stderr_tail}"
    )]
    Launch {
        /// What happened (exit status, timeout).
        reason: String,
        /// The last lines Chromium printed on stderr.
        stderr_tail: String,
    },

    /// The WebSocket connection failed.
    #[error("DevTools WebSocket error: {0}")]
    WebSocket(String),

    /// The connection to the browser is gone (the browser exited or closed the socket).
    #[error("the DevTools connection is closed")]
    ConnectionClosed,

    /// A call got no answer in time.
    #[error("`{method}` got no answer within {timeout:?}")]
    Timeout {
        /// The protocol method (or the waited-for event).
        method: String,
        /// The timeout that elapsed.
        timeout: Duration,
    },

    /// The browser answered a call with an error.
    #[error("`{method}` failed: {message} (code {code})")]
    Protocol {
        /// The protocol method.
        method: String,
        /// The error code from the browser.
        code: i64,
        /// The error message from the browser.
        message: String,
    },

    /// The browser's answer did not have the expected shape.
    #[error("unexpected answer to `{method}`: {detail}")]
    UnexpectedResponse {
        /// The protocol method.
        method: String,
        /// What was missing or wrong.
        detail: String,
    },

    /// A navigation failed (DNS, connection refused, aborted...).
    #[error("navigation to {url} failed: {error}")]
    Navigation {
        /// The requested URL.
        url: String,
        /// Chromium's error text, e.g. `net::ERR_CONNECTION_REFUSED`.
        error: String,
    },

    /// A script evaluated in the page threw.
    #[error("JavaScript exception: {0}")]
    JavaScript(String),

    /// No element matched a selector.
    #[error("no element matches `{0}`")]
    ElementNotFound(String),

    /// A key name that `Page::press_key` does not know.
    #[error("unknown key `{0}`")]
    UnknownKey(String),

    /// Base64 data from the browser could not be decoded.
    #[error("invalid base64 from the browser: {0}")]
    Base64(#[from] base64::DecodeError),
}

/// Result alias of this crate.
pub type Result<T, E = CdpError> = std::result::Result<T, E>;
