//! A temporary directory removed on drop (even when the test panics), and random hex (and
//! UUIDs) for unique names.

use std::path::{Path, PathBuf};

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // Without randomness a test still runs: names then only depend on the process and time.
    if getrandom::fill(&mut b).is_err() {
        let seed =
            std::process::id() as u64 ^ std::time::Instant::now().elapsed().as_nanos() as u64;
        for (i, x) in b.iter_mut().enumerate() {
            *x = (seed >> ((i % 8) * 8)) as u8;
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A random version-4 UUID, lowercase (a consent subject as a banner makes one).
pub fn random_uuid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A fresh directory under the system's temporary directory, named `assent-TAG-RANDOM`.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("assent-{tag}-{}", random_hex(6)));
        if let Err(e) = std::fs::create_dir_all(&p) {
            panic!("cannot create {}: {e}", p.display());
        }
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
