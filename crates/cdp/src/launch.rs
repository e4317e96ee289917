//! Starting Chromium: executable discovery, a throw-away profile, the DevTools endpoint.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::{CdpError, Result};

/// Flags every launch gets: headless, no sandbox (we run as root in containers), and nothing
/// that talks to Google's services on its own (which would pollute network captures).
const BASE_FLAGS: &[&str] = &[
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-dev-shm-usage",
    // Every tab runs at full speed even when not focused (several contexts work in parallel).
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-ipc-flooding-protection",
    "--disable-hang-monitor",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-popup-blocking",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
];

/// How to start the browser. `LaunchOptions::default()` gives a headless Chromium with
/// Chromium's own cookie defaults.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The Chromium binary. `None`: `$ASSENT_CHROMIUM`, else `/usr/bin/chromium`, else
    /// `chromium` (or `chromium-browser`, `google-chrome`) in `PATH`.
    pub executable: Option<PathBuf>,
    /// Run without a window (default `true`; `false` needs a display).
    pub headless: bool,
    /// Value of `--host-resolver-rules`, e.g. `MAP thirdparty.test 127.0.0.2`, to give loopback
    /// servers real-looking host names.
    pub host_resolver_rules: Option<String>,
    /// Extra command-line flags, appended after ours.
    pub extra_args: Vec<String>,
    /// Let every browser context of this browser store third-party cookies (writes
    /// `Default/Preferences` into the fresh profile before launch). Needed by audits, which must
    /// see what a permissive visitor's browser would keep.
    pub allow_third_party_cookies: bool,
    /// Initial window size in CSS pixels (`--window-size`).
    pub window_size: (u32, u32),
    /// How long to wait for Chromium to announce its DevTools endpoint.
    pub launch_timeout: Duration,
    /// Default timeout of each protocol call.
    pub call_timeout: Duration,
    /// Default timeout of `Page::navigate` (until the load event).
    pub navigation_timeout: Duration,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            executable: None,
            headless: true,
            host_resolver_rules: None,
            extra_args: Vec::new(),
            allow_third_party_cookies: false,
            window_size: (1280, 800),
            launch_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(30),
            navigation_timeout: Duration::from_secs(30),
        }
    }
}

/// Finds the Chromium executable as documented on [`LaunchOptions::executable`].
pub fn find_chromium(explicit: Option<&Path>) -> Result<PathBuf> {
    let mut looked = Vec::new();
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        looked.push(p.display().to_string());
        return Err(CdpError::ChromiumNotFound {
            looked_at: looked.join(", "),
        });
    }
    if let Some(p) = std::env::var_os("ASSENT_CHROMIUM") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        looked.push(format!("$ASSENT_CHROMIUM={}", p.display()));
    }
    let usr = Path::new("/usr/bin/chromium");
    if usr.is_file() {
        return Ok(usr.to_path_buf());
    }
    looked.push(usr.display().to_string());
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            for name in names {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
    }
    looked.push(format!("{} in PATH", names.join("/")));
    Err(CdpError::ChromiumNotFound {
        looked_at: looked.join(", "),
    })
}

/// A temporary `--user-data-dir`, removed on drop.
#[derive(Debug)]
pub(crate) struct ProfileDir {
    path: PathBuf,
}

static PROFILE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ProfileDir {
    pub(crate) fn create() -> Result<Self> {
        let base = std::env::temp_dir();
        let pid = std::process::id();
        loop {
            let n = PROFILE_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("assent-cdp-{pid}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(ProfileDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(CdpError::Profile { path, source }),
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `Default/Preferences` allowing third-party cookies in every context.
    pub(crate) fn allow_third_party_cookies(&self) -> Result<()> {
        let dir = self.path.join("Default");
        std::fs::create_dir_all(&dir).map_err(|source| CdpError::Profile {
            path: dir.clone(),
            source,
        })?;
        let prefs = serde_json::json!({
            "profile": {
                "cookie_controls_mode": 0,
                "block_third_party_cookies": false,
                "default_content_setting_values": { "cookies": 1 }
            },
            "tracking_protection": { "block_all_3pc_toggle_enabled": false }
        });
        let file = dir.join("Preferences");
        std::fs::write(&file, prefs.to_string())
            .map_err(|source| CdpError::Profile { path: file, source })
    }
}

impl Drop for ProfileDir {
    fn drop(&mut self) {
        // Chromium's helper processes may still be writing for a moment after the browser
        // process is gone: retry for up to a second.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.path).is_ok() || !self.path.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The last lines Chromium wrote on stderr, for error messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
}

const TAIL_LINES: usize = 40;

impl StderrTail {
    fn push(&self, line: String) {
        let mut l = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if l.len() == TAIL_LINES {
            l.pop_front();
        }
        l.push_back(line);
    }

    pub(crate) fn text(&self) -> String {
        let l = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if l.is_empty() {
            return "(nothing)".to_owned();
        }
        l.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// A started browser process and its DevTools endpoint.
pub(crate) struct Launched {
    pub(crate) child: Child,
    pub(crate) profile: ProfileDir,
    pub(crate) stderr: StderrTail,
    pub(crate) ws_url: String,
}

/// Builds the command line for `opts`.
pub(crate) fn command_line(opts: &LaunchOptions, profile: &Path) -> Vec<String> {
    let mut args = Vec::new();
    if opts.headless {
        args.push("--headless".to_owned());
    }
    args.extend(BASE_FLAGS.iter().map(|s| (*s).to_owned()));
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push("--remote-debugging-port=0".to_owned());
    args.push(format!(
        "--window-size={},{}",
        opts.window_size.0, opts.window_size.1
    ));
    if let Some(rules) = &opts.host_resolver_rules {
        args.push(format!("--host-resolver-rules={rules}"));
    }
    args.extend(opts.extra_args.iter().cloned());
    args.push("about:blank".to_owned());
    args
}

/// Starts Chromium and waits (bounded) for `DevToolsActivePort`.
pub(crate) async fn launch(opts: &LaunchOptions) -> Result<Launched> {
    let exe = find_chromium(opts.executable.as_deref())?;
    let profile = ProfileDir::create()?;
    if opts.allow_third_party_cookies {
        profile.allow_third_party_cookies()?;
    }
    let args = command_line(opts, profile.path());
    let mut child = Command::new(&exe)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| CdpError::Spawn {
            executable: exe.clone(),
            source,
        })?;

    let stderr = StderrTail::default();
    if let Some(err) = child.stderr.take() {
        let tail = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tail.push(line);
            }
        });
    }

    let port_file = profile.path().join("DevToolsActivePort");
    let started = Instant::now();
    loop {
        if let Some(ws_url) = read_port_file(&port_file) {
            return Ok(Launched {
                child,
                profile,
                stderr,
                ws_url,
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Give the stderr reader a moment to drain what the dying process printed.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(CdpError::Launch {
                reason: format!("{} exited during start-up ({status})", exe.display()),
                stderr_tail: stderr.text(),
            });
        }
        if started.elapsed() > opts.launch_timeout {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(CdpError::Launch {
                reason: format!(
                    "{} did not write {} within {:?}",
                    exe.display(),
                    port_file.display(),
                    opts.launch_timeout
                ),
                stderr_tail: stderr.text(),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Parses `DevToolsActivePort` (`PORT\n/devtools/browser/ID`); `None` while incomplete.
fn read_port_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let port: u16 = lines.next()?.trim().parse().ok()?;
    let ws_path = lines.next()?.trim();
    let id = ws_path.strip_prefix("/devtools/browser/")?;
    // The id is a UUID; a shorter one means the file is still being written.
    if port == 0 || id.len() < 36 {
        return None;
    }
    Some(format!("ws://127.0.0.1:{port}{ws_path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_file_parsing() {
        let dir = ProfileDir::create().unwrap();
        let f = dir.path().join("DevToolsActivePort");
        assert_eq!(read_port_file(&f), None);
        std::fs::write(&f, "9222\n/devtools/browser/").unwrap();
        assert_eq!(read_port_file(&f), None);
        std::fs::write(
            &f,
            "9222\n/devtools/browser/0f2b1c3a-1111-2222-3333-444455556666",
        )
        .unwrap();
        assert_eq!(
            read_port_file(&f).as_deref(),
            Some("ws://127.0.0.1:9222/devtools/browser/0f2b1c3a-1111-2222-3333-444455556666")
        );
        let p = dir.path().to_path_buf();
        drop(dir);
        assert!(!p.exists());
    }

    #[test]
    fn flags_include_the_required_ones() {
        let opts = LaunchOptions {
            host_resolver_rules: Some("MAP a.test 127.0.0.1".into()),
            ..LaunchOptions::default()
        };
        let args = command_line(&opts, Path::new("/tmp/x"));
        for f in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--remote-debugging-port=0",
            "--user-data-dir=/tmp/x",
            "--host-resolver-rules=MAP a.test 127.0.0.1",
        ] {
            assert!(args.iter().any(|a| a == f), "missing {f}");
        }
    }
}
