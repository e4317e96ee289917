//! Signed checkpoints, the ledger key and its published form.

use crate::hexser::{b64sig, hex32};
use crate::merkle::EMPTY_ROOT;
use crate::{GENESIS, Hash, LedgerError, b64url, parse_b64url};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use std::io::{Read as _, Write as _};
use std::path::Path;

/// Domain-separation prefix of [`Checkpoint::signing_bytes`].
pub const TAG_CHECKPOINT: &[u8] = b"assent.ledger.v1.checkpoint\0";

/// The algorithm name in the published key document.
pub const KEY_ALG: &str = "Ed25519";

/// The state of one chain at checkpoint time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainCheckpoint {
    /// The chain number.
    pub chain: u32,
    /// Number of entries covered: seqs `0 .. size`.
    pub size: u64,
    /// Merkle root over the entry hashes of seqs `0 .. size` ([`crate::EMPTY_ROOT`] for 0).
    #[serde(with = "hex32")]
    pub root: Hash,
    /// Hash of entry `size - 1` ([`GENESIS`] for 0).
    #[serde(with = "hex32")]
    pub head_hash: Hash,
}

/// The heads of all chains at one moment, signed together.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Signing time, epoch milliseconds.
    pub ts_ms: i64,
    /// One head per chain, sorted by chain number, no duplicates.
    pub heads: Vec<ChainCheckpoint>,
    /// [`key_id`] of the signing key.
    pub key_id: String,
}

impl Checkpoint {
    /// The bytes that are signed:
    /// `"assent.ledger.v1.checkpoint\0" || i64be(ts_ms) || u64be(len(key_id)) || key_id
    /// || u64be(number of heads) || for each head: u32be(chain) || u64be(size) || root
    /// || head_hash`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TAG_CHECKPOINT.len() + 32 + 76 * self.heads.len());
        out.extend_from_slice(TAG_CHECKPOINT);
        out.extend_from_slice(&self.ts_ms.to_be_bytes());
        out.extend_from_slice(&(self.key_id.len() as u64).to_be_bytes());
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&(self.heads.len() as u64).to_be_bytes());
        for h in &self.heads {
            out.extend_from_slice(&h.chain.to_be_bytes());
            out.extend_from_slice(&h.size.to_be_bytes());
            out.extend_from_slice(&h.root);
            out.extend_from_slice(&h.head_hash);
        }
        out
    }

    /// The head of `chain`, if the checkpoint covers it.
    pub fn head(&self, chain: u32) -> Option<&ChainCheckpoint> {
        self.heads
            .binary_search_by_key(&chain, |h| h.chain)
            .ok()
            .and_then(|i| self.heads.get(i))
    }

    /// Checks the shape: chains strictly ascending, empty chains with the empty root
    /// and [`GENESIS`] as head.
    pub fn check_well_formed(&self) -> Result<(), LedgerError> {
        for (a, b) in self.heads.iter().zip(self.heads.iter().skip(1)) {
            if a.chain >= b.chain {
                return Err(LedgerError::MalformedCheckpoint(format!(
                    "chains not strictly ascending ({} then {})",
                    a.chain, b.chain
                )));
            }
        }
        for h in &self.heads {
            if h.size == 0 && (h.root != EMPTY_ROOT || h.head_hash != GENESIS) {
                return Err(LedgerError::MalformedCheckpoint(format!(
                    "empty chain {} must have the empty root and the genesis head",
                    h.chain
                )));
            }
        }
        Ok(())
    }
}

/// A checkpoint with its Ed25519 signature over [`Checkpoint::signing_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedCheckpoint {
    /// What is signed.
    pub checkpoint: Checkpoint,
    /// Ed25519 signature, unpadded base64url in JSON.
    #[serde(with = "b64sig")]
    pub signature: [u8; 64],
}

impl SignedCheckpoint {
    /// Checks key id, shape and signature (strict Ed25519 verification).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        let expected = key_id(key);
        if self.checkpoint.key_id != expected {
            return Err(LedgerError::KeyIdMismatch {
                expected,
                found: self.checkpoint.key_id.clone(),
            });
        }
        self.checkpoint.check_well_formed()?;
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.verify_strict(&self.checkpoint.signing_bytes(), &sig)
            .map_err(|_| LedgerError::BadSignature)
    }
}

/// Key id: the first 16 hex digits of `SHA-256(public key bytes)`.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut id = hex::encode(digest);
    id.truncate(16);
    id
}

/// The ledger's Ed25519 signing key. `Debug` shows only the key id.
#[derive(Clone)]
pub struct LedgerKey {
    signing: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl LedgerKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, LedgerError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| LedgerError::Random(e.to_string()))?;
        let key = Self::from_bytes(&secret);
        wipe(&mut secret);
        Ok(key)
    }

    /// The key with this 32-byte Ed25519 secret.
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(secret);
        let key_id = key_id(&signing.verifying_key());
        LedgerKey { signing, key_id }
    }

    /// Loads the 32-byte secret at `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        let io = |source| LedgerError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len != 32 {
            return Err(LedgerError::CorruptKeyFile {
                path: path.to_owned(),
                len,
            });
        }
        let mut secret = [0u8; 32];
        // Reads at most 33 bytes, so a file that grew meanwhile is still caught.
        let mut buf = Vec::with_capacity(33);
        file.take(33).read_to_end(&mut buf).map_err(io)?;
        if buf.len() != 32 {
            wipe(&mut buf);
            return Err(LedgerError::CorruptKeyFile {
                path: path.to_owned(),
                len: buf.len() as u64,
            });
        }
        secret.copy_from_slice(&buf);
        wipe(&mut buf);
        let key = Self::from_bytes(&secret);
        wipe(&mut secret);
        Ok(key)
    }

    /// Loads the key at `path`, or creates it there (mode 0600) if there is no file.
    /// An existing file is never overwritten, and one that is not exactly 32 bytes is
    /// an error ([`LedgerError::CorruptKeyFile`]), not a reason to make a new key.
    /// The parent directory must exist.
    pub fn load_or_create(path: &Path) -> Result<Self, LedgerError> {
        match Self::load(path) {
            Err(LedgerError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        let key = Self::generate()?;
        match write_new_secret(path, &key.signing.to_bytes()) {
            Ok(()) => Ok(key),
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(source) => Err(LedgerError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The secret half, for the note signatures of [`crate::NoteCheckpoint::sign`].
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public half.
    pub fn public_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// [`key_id`] of the public key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The document to publish at `/.well-known/assent-ledger-key`.
    pub fn public_key_info(&self) -> PublicKeyInfo {
        PublicKeyInfo::new(self.public_key())
    }

    /// Signs the given chain heads as of `ts_ms`. Heads are sorted by chain; two heads
    /// for the same chain are an error.
    pub fn sign_checkpoint(
        &self,
        ts_ms: i64,
        mut heads: Vec<ChainCheckpoint>,
    ) -> Result<SignedCheckpoint, LedgerError> {
        heads.sort_by_key(|h| h.chain);
        let checkpoint = Checkpoint {
            ts_ms,
            heads,
            key_id: self.key_id.clone(),
        };
        checkpoint.check_well_formed()?;
        let signature = self.signing.sign(&checkpoint.signing_bytes()).to_bytes();
        Ok(SignedCheckpoint {
            checkpoint,
            signature,
        })
    }
}

/// Best-effort overwrite of secret material that is not zeroized on drop by its type.
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(bytes);
}

/// Writes `secret` to a new file at `path` with mode 0600: to a temporary file in the
/// same directory first, then hard-linked into place (which never replaces an existing
/// file), so a crash never leaves a half-written key under the real name.
fn write_new_secret(path: &Path, secret: &[u8; 32]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_owned());
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(nonce)));
    write_file_0600(&tmp, secret)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
        // File systems without hard links: create the file in place, exclusively.
        Err(_) => write_file_0600(path, secret)?,
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_file_0600(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// A verified public key with its id: what an offline verifier trusts. Its JSON form,
/// served at `/.well-known/assent-ledger-key`, is
/// `{"alg":"Ed25519","key_id":"<16 hex>","public_key":"<base64url, 32 bytes>"}`;
/// parsing checks the algorithm, the key and that `key_id` matches it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PublicKeyDoc", into = "PublicKeyDoc")]
pub struct PublicKeyInfo {
    key: VerifyingKey,
    key_id: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PublicKeyDoc {
    alg: String,
    key_id: String,
    public_key: String,
}

impl TryFrom<PublicKeyDoc> for PublicKeyInfo {
    type Error = LedgerError;
    fn try_from(doc: PublicKeyDoc) -> Result<Self, LedgerError> {
        if doc.alg != KEY_ALG {
            return Err(LedgerError::UnsupportedAlgorithm(doc.alg));
        }
        let bytes = parse_b64url::<32>("public key", &doc.public_key)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| LedgerError::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(LedgerError::InvalidPublicKey);
        }
        let info = PublicKeyInfo::new(key);
        if info.key_id != doc.key_id {
            return Err(LedgerError::KeyIdMismatch {
                expected: info.key_id,
                found: doc.key_id,
            });
        }
        Ok(info)
    }
}

impl From<PublicKeyInfo> for PublicKeyDoc {
    fn from(info: PublicKeyInfo) -> Self {
        PublicKeyDoc {
            alg: KEY_ALG.to_owned(),
            public_key: b64url(info.key.as_bytes()),
            key_id: info.key_id,
        }
    }
}

impl PublicKeyInfo {
    /// Wraps a public key.
    pub fn new(key: VerifyingKey) -> Self {
        let key_id = key_id(&key);
        PublicKeyInfo { key, key_id }
    }

    /// Parses and checks the published JSON document.
    pub fn parse(json: &str) -> Result<Self, LedgerError> {
        let doc: PublicKeyDoc = serde_json::from_value(crate::parse_json_strict(json)?)?;
        Self::try_from(doc)
    }

    /// The JSON document to publish.
    pub fn to_json(&self) -> String {
        let doc = PublicKeyDoc::from(self.clone());
        // Three strings: serialization cannot fail.
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// The key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}
