//! The marketing key: 32 random bytes in `marketing.key` in the data directory (mode 0600),
//! created on first start. It keys the hash that stands for an address in the ledger and the
//! store, and signs the one-click unsubscribe links. Servers sharing one PostgreSQL database
//! must share the file (copy it before starting the second server): the database records a
//! fingerprint of the key and a server with another key refuses to start, rather than
//! answering "may send" for people who unsubscribed.
//!
//! Invariant: the key is never logged nor sent; only its fingerprint (an HMAC of a fixed
//! label) is stored.

use std::fmt;
use std::path::Path;

use assent_model::marketing::{MarketingChannel, address_hash, hmac_sha256};
use assent_store::Store;

/// File name of the key in the data directory.
pub const KEY_FILE: &str = "marketing.key";
const META_FINGERPRINT: &str = "marketing_key_fingerprint";

/// The key; `Debug` prints nothing of it.
#[derive(Clone)]
pub struct MarketingKey([u8; 32]);

impl fmt::Debug for MarketingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarketingKey(…)")
    }
}

impl MarketingKey {
    /// Loads the key of the data directory, creating it if missing. A key readable by others
    /// is refused, as the ledger key is.
    pub fn open(dir: &Path) -> Result<Self, String> {
        let path = dir.join(KEY_FILE);
        if let Some(mode) = assent_store::loose_mode(&path) {
            return Err(format!(
                "{} is readable by others (mode {mode:o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .map_err(|_| format!("{}: not a hex key", path.display()))?;
                let key: [u8; 32] = bytes.try_into().map_err(|_| {
                    format!("{}: expected 32 bytes (64 hex digits)", path.display())
                })?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| e.to_string())?;
                assent_store::create_private_file(&path)
                    .and_then(|()| std::fs::write(&path, hex::encode(key)))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(Self(key))
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// A key given as bytes (tests, tools).
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The keyed hash of a canonical address.
    pub fn hash(&self, channel: MarketingChannel, canonical: &str) -> [u8; 32] {
        address_hash(&self.0, channel, canonical)
    }

    fn fingerprint(&self) -> String {
        hex::encode(&hmac_sha256(&self.0, &[b"assent-marketing-key-fingerprint/1"])[..16])
    }

    /// Records the key's fingerprint in the database on first use; refuses a key that differs
    /// from the one the database was used with.
    pub async fn check_against(&self, store: &Store) -> Result<(), String> {
        let mine = self.fingerprint();
        match store
            .meta_get(META_FINGERPRINT)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(theirs) if theirs == mine => Ok(()),
            Some(_) => Err(format!(
                "{KEY_FILE} differs from the key this database's marketing records were made \
                 with: copy {KEY_FILE} from the data directory of the first server (every \
                 server sharing the database needs the same file)"
            )),
            None => store
                .meta_set(META_FINGERPRINT, &mine)
                .await
                .map_err(|e| e.to_string()),
        }
    }
}
