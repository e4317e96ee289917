//! Text forms: lowercase hex for hashes, unpadded base64url for keys and signatures.

use crate::LedgerError;
use base64::Engine as _;

/// A SHA-256 digest. Its text form is 64 lowercase hex digits.
pub type Hash = [u8; 32];

/// Lowercase hex of a hash: the text form of hashes everywhere.
pub fn to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// Parses the 64-hex-digit text form of a hash (upper case is accepted).
pub fn parse_hash(text: &str) -> Result<Hash, LedgerError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|e| LedgerError::encoding("hash", e))?;
    Ok(out)
}

/// Unpadded base64url (RFC 4648 section 5), used for keys and signatures.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url into exactly `N` bytes.
pub fn parse_b64url<const N: usize>(
    what: &'static str,
    text: &str,
) -> Result<[u8; N], LedgerError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| LedgerError::encoding(what, e))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        LedgerError::encoding(what, format!("expected {N} bytes, got {}", bytes.len()))
    })
}

/// `#[serde(with = "assent_ledger::hex32")]`: a [`Hash`](crate::Hash) as a lowercase hex string.
pub mod hex32 {
    use crate::Hash;
    use serde::{Deserialize as _, Deserializer, Serializer};

    /// Serializes as 64 lowercase hex digits.
    pub fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input length.
        hex::encode_to_slice(hash, &mut buf).map_err(serde::ser::Error::custom)?;
        s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
    }

    /// Deserializes 64 hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        crate::parse_hash(&text).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "assent_ledger::hex32_vec")]`: a list of hashes as hex strings.
pub mod hex32_vec {
    use crate::Hash;
    use serde::{Deserialize as _, Deserializer, Serializer, ser::SerializeSeq as _};

    /// Serializes as a JSON array of hex strings.
    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hashes.len()))?;
        for h in hashes {
            seq.serialize_element(&crate::to_hex(h))?;
        }
        seq.end()
    }

    /// Deserializes a JSON array of hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        texts
            .iter()
            .map(|t| crate::parse_hash(t).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// `#[serde(with = "assent_ledger::b64sig")]`: an Ed25519 signature as unpadded base64url.
pub mod b64sig {
    use serde::{Deserialize as _, Deserializer, Serializer};

    /// Serializes as 86 base64url characters.
    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::b64url(sig))
    }

    /// Deserializes 64 bytes of unpadded base64url.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        crate::parse_b64url::<64>("signature", &text).map_err(serde::de::Error::custom)
    }
}
