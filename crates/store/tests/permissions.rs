#![allow(clippy::unwrap_used)]
//! Issue 20, finding 5: a data directory Assent created was 0755 and the database, its WAL
//! and shared-memory files and backups were 0644, readable by every account of the machine.
//! Now what Assent creates is private: the directory 0700, the files 0600.
#![cfg(unix)]

#[allow(unused_macros)]
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assent_store::{AppendItem, Location, OpenOptions, Store, loose_mode};
use common::TempDir;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_assent_creates_is_private() {
    let tmp = TempDir::new("store-test");
    let data = tmp.path().join("new-data-dir").join("nested");
    let store = Store::open(
        &Location::parse(None, &data).unwrap(),
        OpenOptions::create(),
    )
    .await
    .unwrap();
    store
        .append(vec![AppendItem {
            ts_ms: 1,
            kind: "test".into(),
            payload: b"{}".to_vec(),
            consent: None,
        }])
        .await
        .unwrap();
    let db = data.join(assent_store::SQLITE_FILE_NAME);
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(
        mode(tmp.path().join("new-data-dir").as_path()),
        0o700,
        "its parent"
    );
    assert_eq!(mode(&db), 0o600, "database");
    for suffix in ["-wal", "-shm"] {
        let f = data.join(format!("{}{suffix}", assent_store::SQLITE_FILE_NAME));
        assert!(f.exists(), "{suffix}");
        assert_eq!(mode(&f), 0o600, "{suffix}");
    }
    let backup = tmp.path().join("backup.db");
    store.backup_to(&backup).await.unwrap();
    assert_eq!(mode(&backup), 0o600, "backup");
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
    store.close().await;
    assert_eq!(loose_mode(&db), None);

    // A directory the operator made is left as it is (the server warns about it).
    let open = tmp.path().join("operator-made");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = Store::open(
        &Location::parse(None, &open).unwrap(),
        OpenOptions::create(),
    )
    .await
    .unwrap();
    s.close().await;
    assert_eq!(loose_mode(&open), Some(0o755));
    assert_eq!(mode(&open.join(assent_store::SQLITE_FILE_NAME)), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_backup_leaves_no_file() {
    let tmp = TempDir::new("store-test");
    let store = Store::open(
        &Location::parse(None, tmp.path()).unwrap(),
        OpenOptions::create(),
    )
    .await
    .unwrap();
    let target = tmp.path().join("no-such-dir").join("backup.db");
    assert!(store.backup_to(&target).await.is_err());
    assert!(!target.exists());
    store.close().await;
}
