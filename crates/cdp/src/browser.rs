//! The browser process, its connection and its browser contexts.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Child;

use crate::connection::{Connection, EventFilter, EventStream};
use crate::cookie::{Cookie, get_cookies};
use crate::error::{CdpError, Result};
use crate::launch::{self, LaunchOptions, ProfileDir, StderrTail};
use crate::page::Page;
use crate::session::Session;

/// A running Chromium, driven over one DevTools WebSocket.
///
/// The process and its temporary profile belong to this value: [`Browser::close`] shuts it down
/// cleanly; dropping it kills the process and removes the profile.
pub struct Browser {
    session: Session,
    child: Option<Child>,
    stderr: StderrTail,
    navigation_timeout: Duration,
    // Declared last: removed after the process is gone.
    profile: Option<ProfileDir>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts Chromium with a fresh temporary profile and connects to it.
    ///
    /// Fails with a message including Chromium's stderr if it does not come up within
    /// `opts.launch_timeout`.
    pub async fn launch(opts: LaunchOptions) -> Result<Browser> {
        let launch::Launched {
            mut child,
            profile,
            stderr,
            ws_url,
        } = launch::launch(&opts).await?;
        let conn = match Connection::connect(&ws_url, opts.call_timeout).await {
            Ok(c) => c,
            Err(e) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(CdpError::Launch {
                    reason: format!("cannot connect to {ws_url}: {e}"),
                    stderr_tail: stderr.text(),
                });
            }
        };
        Ok(Browser {
            session: Session { conn, id: None },
            child: Some(child),
            stderr,
            navigation_timeout: opts.navigation_timeout,
            profile: Some(profile),
        })
    }

    /// The browser-level session, for raw commands (`Target.*`, `Browser.*`, `Storage.*`).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends a browser-level command.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.session.call(method, params).await
    }

    /// Every event of every session (browser-level events included).
    pub fn events(&self) -> EventStream {
        self.session.conn.subscribe(EventFilter::All)
    }

    /// The temporary profile directory (`--user-data-dir`), removed when the browser goes.
    pub fn profile_dir(&self) -> Option<&std::path::Path> {
        self.profile.as_ref().map(ProfileDir::path)
    }

    /// The last lines Chromium printed on stderr (for diagnostics).
    pub fn stderr_tail(&self) -> String {
        self.stderr.text()
    }

    /// `Browser.getVersion`'s `product`, e.g. `Chrome/126.0.6478.126`.
    pub async fn version(&self) -> Result<String> {
        let v = self.call("Browser.getVersion", json!({})).await?;
        Ok(v.get("product")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Opens a page (tab) in the default browser context.
    pub async fn new_page(&self) -> Result<Page> {
        Page::create(self.session.clone(), None, self.navigation_timeout).await
    }

    /// Creates an isolated browser context: its own cookie jar, storage and cache, like a fresh
    /// incognito window, without relaunching the browser.
    pub async fn new_context(&self) -> Result<BrowserContext> {
        let v = self
            .call(
                "Target.createBrowserContext",
                json!({ "disposeOnDetach": true }),
            )
            .await?;
        let id = v
            .get("browserContextId")
            .and_then(Value::as_str)
            .ok_or_else(|| CdpError::UnexpectedResponse {
                method: "Target.createBrowserContext".into(),
                detail: "no browserContextId".into(),
            })?
            .to_owned();
        Ok(BrowserContext {
            session: self.session.clone(),
            id,
            navigation_timeout: self.navigation_timeout,
        })
    }

    /// All cookies of the default browser context (HttpOnly and third-party included).
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        get_cookies(&self.session, None).await
    }

    /// Closes the browser: `Browser.close`, then kills the process if it has not exited within
    /// five seconds, then removes the profile.
    pub async fn close(mut self) -> Result<()> {
        let _ = self
            .session
            .call_with_timeout("Browser.close", json!({}), Duration::from_secs(5))
            .await;
        if let Some(mut child) = self.child.take() {
            match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
                Ok(_) => {}
                Err(_) => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
            }
        }
        self.profile.take();
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            // Wait briefly so that the profile can be removed; the kill is immediate.
            for _ in 0..100 {
                if !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.profile.take();
    }
}

/// An isolated browser context (own cookie jar and storage). Disposed by
/// [`BrowserContext::close`], or with the browser.
#[derive(Debug, Clone)]
pub struct BrowserContext {
    session: Session,
    id: String,
    navigation_timeout: Duration,
}

impl BrowserContext {
    /// The `browserContextId`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Opens a page in this context.
    pub async fn new_page(&self) -> Result<Page> {
        Page::create(
            self.session.clone(),
            Some(self.id.clone()),
            self.navigation_timeout,
        )
        .await
    }

    /// All cookies of this context (HttpOnly and third-party included), via `Storage.getCookies`.
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        get_cookies(&self.session, Some(&self.id)).await
    }

    /// Deletes every cookie of this context.
    pub async fn clear_cookies(&self) -> Result<()> {
        self.command("Storage.clearCookies").await
    }

    /// Disposes of the context and its pages.
    pub async fn close(self) -> Result<()> {
        self.command("Target.disposeBrowserContext").await
    }

    /// A browser-level command whose only parameter is this context's id.
    async fn command(&self, method: &str) -> Result<()> {
        self.session
            .call(method, json!({ "browserContextId": self.id }))
            .await
            .map(|_| ())
    }
}
