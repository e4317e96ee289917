//! The ledger key on disk.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns unwrap too

use assent_ledger::*;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "assent-ledger-{name}-{}-{}",
        std::process::id(),
        hex::encode(nonce)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn created_once_then_loaded() {
    let dir = temp_dir("create");
    let path = dir.join("ledger.key");
    let k1 = LedgerKey::load_or_create(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let k2 = LedgerKey::load_or_create(&path).unwrap();
    assert_eq!(k1.public_key(), k2.public_key());
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "never rewritten");
    assert_eq!(LedgerKey::load(&path).unwrap().key_id(), k1.key_id());
    // No temporary file left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A different file gives a different key.
    let k3 = LedgerKey::load_or_create(&dir.join("other.key")).unwrap();
    assert_ne!(k3.key_id(), k1.key_id());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_file_is_an_error_and_left_alone() {
    let dir = temp_dir("corrupt");
    for len in [0usize, 31, 33, 64] {
        let path = dir.join(format!("k{len}"));
        let content = vec![0xA5u8; len];
        std::fs::write(&path, &content).unwrap();
        let err = LedgerKey::load_or_create(&path).unwrap_err();
        assert!(
            matches!(err, LedgerError::CorruptKeyFile { len: l, .. } if l == len as u64),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), content);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_file_or_directory() {
    let dir = temp_dir("missing");
    let err = LedgerKey::load(&dir.join("none")).unwrap_err();
    assert!(
        matches!(err, LedgerError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    let err = LedgerKey::load_or_create(&dir.join("no-such-dir").join("k")).unwrap_err();
    assert!(matches!(err, LedgerError::Io { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_never_shows_the_secret() {
    let secret = [0x5Au8; 32];
    let key = LedgerKey::from_bytes(&secret);
    let shown = format!("{key:?} {key:#?}");
    assert!(shown.contains(key.key_id()), "{shown}");
    assert!(!shown.contains(&hex::encode(secret)));
    assert!(!shown.contains("90, 90"), "{shown}");
    assert!(!shown.contains("5a5a"));
    assert!(!shown.to_lowercase().contains("signing"), "{shown}");
}

#[test]
fn generated_keys_differ_and_sign() {
    let a = LedgerKey::generate().unwrap();
    let b = LedgerKey::generate().unwrap();
    assert_ne!(a.key_id(), b.key_id());
    assert_eq!(a.key_id().len(), 16);
    let cp = a
        .sign_checkpoint(0, vec![ChainWriter::new(0).checkpoint_head()])
        .unwrap();
    cp.verify(&a.public_key()).unwrap();
    assert!(cp.verify(&b.public_key()).is_err());
    // Two heads for one chain cannot be signed.
    let h = ChainWriter::new(1).checkpoint_head();
    assert!(matches!(
        a.sign_checkpoint(0, vec![h.clone(), h]),
        Err(LedgerError::MalformedCheckpoint(_))
    ));
}
