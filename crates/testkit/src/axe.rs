//! axe-core in Chromium: the accessibility checker, installed once with npm (pinned to
//! [`VERSION`]) into a cache folder outside the repository (`$ASSENT_AXE_DIR`, else
//! `<temp>/assent-axe-<version>`), then injected into a page and run with the WCAG 2.0/2.1/2.2
//! A and AA tags and the `target-size` rule turned on.
//!
//! Invariant: nothing here skips. Without npm or the network for the first install, the test
//! fails with the command that installs it.

use std::path::PathBuf;
use std::time::Duration;

use assent_cdp::{Page, Value};

/// The axe-core release the tests run.
pub const VERSION: &str = "4.10.3";

/// The tags every console page must pass.
pub const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"];

fn dir() -> PathBuf {
    std::env::var_os("ASSENT_AXE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("assent-axe-{VERSION}")))
}

/// The text of `axe.min.js`, installing it first if the cache has none. Test binaries that
/// start together wait for one install (a lock file in the cache folder).
pub fn script() -> String {
    let dir = dir();
    let file = dir.join("node_modules/axe-core/axe.min.js");
    if let Ok(s) = std::fs::read_to_string(&file) {
        return s;
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let lock = dir.join(".installing");
    let mut owner = false;
    for _ in 0..600 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => {
                owner = true;
                break;
            }
            Err(_) if file.exists() => break,
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    if owner && !file.exists() {
        let pkg = format!("axe-core@{VERSION}");
        let out = std::process::Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(&dir)
            .arg(&pkg)
            .output();
        let _ = std::fs::remove_file(&lock);
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "npm install {pkg} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => panic!("accessibility tests need npm (apt-get install npm): {e}"),
        }
    }
    std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (install it with `npm install --prefix {} axe-core@{VERSION}`)",
            file.display(),
            dir.display()
        )
    })
}

/// The violations axe finds in `page` as it is now, one line each (rule, help, the
/// offending elements); empty when the page passes.
pub async fn violations(page: &Page) -> Vec<String> {
    let loaded = page.evaluate("typeof axe === 'object'").await;
    if loaded.ok() != Some(Value::Bool(true)) {
        page.evaluate(&script())
            .await
            .unwrap_or_else(|e| panic!("injecting axe-core: {e}"));
    }
    let tags = serde_tags();
    let run = format!(
        r#"axe.run(document, {{runOnly: {{type: 'tag', values: {tags}}}, rules: {{'target-size': {{enabled: true}}}}, resultTypes: ['violations']}})
          .then(r => r.violations.map(v => `${{v.id}}: ${{v.help}} — ${{v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' (' + (n.failureSummary || '').replace(/\s+/g, ' ') + ')').join('; ')}}`))"#
    );
    match page
        .evaluate_with_timeout(&run, Duration::from_secs(60))
        .await
    {
        Ok(Value::Array(v)) => v
            .into_iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect(),
        Ok(other) => panic!("axe.run answered {other}"),
        Err(e) => panic!("axe.run failed: {e}"),
    }
}

fn serde_tags() -> String {
    let quoted: Vec<String> = TAGS.iter().map(|t| format!("'{t}'")).collect();
    format!("[{}]", quoted.join(", "))
}
