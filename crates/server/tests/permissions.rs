#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 20, finding 5: a `ledger.key` readable by others was loaded without a word. The
//! server now refuses to start on it, saying which file and what to do; the key it creates
//! itself, and the data directory it creates, are private.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use assent_model::clock::{ManualClock, SharedClock};
use assent_server::config::Config;

fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_others_can_read_is_refused() {
    let base = std::env::temp_dir().join(format!("assent-perm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("data");
    let clock: SharedClock = Arc::new(ManualClock::new(1_700_000_000_000));

    // First start: Assent creates the directory and the key, both private.
    let app = assent_server::build(config(&dir), clock.clone())
        .await
        .unwrap();
    app.state.store.clone().close().await;
    drop(app);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let key = dir.join("ledger.key");
    assert_eq!(mode(&key), 0o600);

    // Someone made the key world-readable: the server does not start.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = match assent_server::build(config(&dir), clock.clone()).await {
        Ok(_) => panic!("started with a world-readable key"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("ledger.key") && err.contains("chmod 600"),
        "{err}"
    );

    // Fixed: it starts again.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let app = assent_server::build(config(&dir), clock).await.unwrap();
    app.state.store.clone().close().await;
    drop(app);
    std::fs::remove_dir_all(&base).unwrap();
}
