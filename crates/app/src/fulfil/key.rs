//! The key of keyed hashes: `erase = "hash"` columns and the subject of receipts. It comes
//! from `ASSENT_ERASURE_KEY` (hex, at least 32 bytes) or from `DATA_DIR/erasure.key`
//! (created, mode 0600, in an existing data directory), never from the registry. The same key
//! must be kept: with another, the same person hashes differently.

use std::path::Path;

use crate::error::{AppError, AppResult};

pub struct ErasureKey(Vec<u8>);

impl std::fmt::Debug for ErasureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErasureKey(..)")
    }
}

impl ErasureKey {
    /// The environment variable holding the key in hex.
    pub const ENV: &'static str = "ASSENT_ERASURE_KEY";
    /// The key's file in the data directory.
    pub const FILE: &'static str = "erasure.key";

    /// A key from bytes (at least 32).
    pub fn from_bytes(bytes: Vec<u8>) -> AppResult<Self> {
        if bytes.len() < 32 {
            return Err(AppError::invalid(
                "erasure_key",
                "the erasure key needs at least 32 bytes (64 hex digits)",
            ));
        }
        Ok(Self(bytes))
    }

    fn from_hex(s: &str, what: &str) -> AppResult<Self> {
        let bytes = hex::decode(s.trim())
            .map_err(|_| AppError::invalid("erasure_key", format!("{what} is not hex")))?;
        Self::from_bytes(bytes)
    }

    /// `ASSENT_ERASURE_KEY`, else `DATA_DIR/erasure.key` (created in an existing directory,
    /// never creating the directory), else an error saying how to provide one.
    pub fn load(data_dir: Option<&Path>) -> AppResult<Self> {
        if let Ok(v) = std::env::var(Self::ENV)
            && !v.trim().is_empty()
        {
            return Self::from_hex(&v, Self::ENV);
        }
        let Some(dir) = data_dir else {
            return Err(AppError::invalid(
                "erasure_key",
                format!(
                    "erasure needs a key: set {} (64 hex digits) or give --data DIR",
                    Self::ENV
                ),
            ));
        };
        let path = dir.join(Self::FILE);
        match std::fs::read_to_string(&path) {
            Ok(s) => Self::from_hex(&s, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !dir.is_dir() {
                    return Err(AppError::invalid(
                        "data",
                        format!("{}: no such data directory", dir.display()),
                    ));
                }
                let mut b = [0u8; 32];
                getrandom::fill(&mut b).map_err(|e| AppError::internal(&e))?;
                write_private(&path, &hex::encode(b)).map_err(|e| AppError::internal(&e))?;
                Ok(Self(b.to_vec()))
            }
            Err(e) => Err(AppError::internal(&format!("{}: {e}", path.display()))),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `hmac-sha256:<hex>` of the subject's identities: names the person in receipts without
    /// naming them; the same person gives the same hash under the same key.
    pub fn subject_hash(&self, subject: &super::subject::Subject) -> String {
        format!(
            "hmac-sha256:{}",
            assent_datastore::hash::keyed_hash(&self.0, &subject.canonical())
        )
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
