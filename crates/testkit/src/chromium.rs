//! Chromium for browser tests: found, or the test fails with the install hint.
//!
//! Invariant: nothing here skips a test. A machine without Chromium fails every browser test,
//! so that CI (`CI=true`) can never turn green by not running them.

use assent_cdp::{Browser, LaunchOptions, find_chromium};

/// Panics, with what was looked at and how to install it, unless Chromium can be found.
pub fn require_chromium() {
    if let Err(e) = find_chromium(None) {
        panic!("browser tests need Chromium (scripts/test.sh installs it): {e}");
    }
}

/// Launches Chromium with `opts` (a fresh temporary profile each time), or fails the test.
pub async fn launch(opts: LaunchOptions) -> Browser {
    require_chromium();
    match Browser::launch(opts).await {
        Ok(browser) => browser,
        Err(e) => panic!("Chromium does not start: {e}"),
    }
}
