//! Checkpoints as C2SP signed notes (`tlog-checkpoint` over `signed-note`), the text form
//! that Certificate Transparency witnesses exchange: one note per chain,
//!
//! ```text
//! <origin>\n            e.g. consent.example.com/ledger/chain/0
//! <tree size>\n         decimal, no leading zeros
//! <root hash>\n         standard base64 (RFC 4648 section 4, padded)
//! \n
//! — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>\n
//! ```
//!
//! The signature is over the note text (the three lines, final newline included), with the
//! ledger key; the key id is `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`. These
//! bytes never contain a NUL, while every other signed message of the ledger starts with a
//! NUL-terminated tag, so a note signature can never stand for a JSON checkpoint's or back.
//!
//! Invariants: a parsed [`NoteCheckpoint`] has an origin whose last two segments are
//! `chain/<u32>`, a size without leading zeros and a 32-byte root; [`verify_note`] accepts a
//! note only when a signature line names a key id derived from the given key and verifies.

use crate::{Hash, LedgerError, LedgerKey};
use base64::Engine as _;
use ed25519_dalek::{Signer as _, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// The em dash and space that start a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Signature type byte of plain Ed25519 in C2SP signed-note.
const SIG_TYPE_ED25519: u8 = 0x01;

/// Largest note accepted (a checkpoint note is under 300 bytes).
pub const MAX_NOTE_LEN: usize = 16 * 1024;

/// One chain's signed tree head in note form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteCheckpoint {
    /// Identifies the log: `<host and path>/chain/<chain>`.
    pub origin: String,
    /// The chain the origin names.
    pub chain: u32,
    /// Number of entries covered.
    pub size: u64,
    /// RFC 9162 Merkle root of the first `size` entry hashes.
    pub root: Hash,
}

/// The origin of `chain`'s log for a server whose public base URL is `base`: the URL
/// without its scheme and trailing slash, then `/ledger/chain/<chain>`.
pub fn note_origin(base: &str, chain: u32) -> String {
    let host = base.split_once("://").map_or(base, |(_, rest)| rest);
    format!("{}/ledger/chain/{chain}", host.trim_end_matches('/'))
}

/// The key name the ledger signs notes under: the origin without its `/chain/<n>`.
fn key_name(origin: &str) -> &str {
    origin
        .rsplit_once("/chain/")
        .map_or(origin, |(name, _)| name)
}

/// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`.
pub fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', SIG_TYPE_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn b64std(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn parse_b64std(what: &'static str, text: &str) -> Result<Vec<u8>, LedgerError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| LedgerError::encoding(what, e))
}

impl NoteCheckpoint {
    /// The note text (what is signed).
    pub fn text(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, b64std(&self.root))
    }

    /// Signs the note with the ledger key: the text, a blank line, one signature line.
    pub fn sign(&self, key: &LedgerKey) -> String {
        let text = self.text();
        let name = key_name(&self.origin);
        let sig = key.signing_key().sign(text.as_bytes()).to_bytes();
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&note_key_id(name, &key.public_key()));
        blob.extend_from_slice(&sig);
        format!("{text}\n{SIG_PREFIX}{name} {}\n", b64std(&blob))
    }

    fn parse_text(text: &str) -> Result<Self, LedgerError> {
        let bad = |why: &str| LedgerError::MalformedNote(why.to_owned());
        let mut lines = text.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(bad("no origin"))?;
        let chain = origin
            .rsplit_once("/chain/")
            .and_then(|(_, c)| c.parse::<u32>().ok())
            .filter(|c| origin.ends_with(&format!("/chain/{c}")))
            .ok_or(bad("the origin does not end with /chain/<number>"))?;
        let size_text = lines.next().ok_or(bad("no tree size"))?;
        let size = size_text
            .parse::<u64>()
            .ok()
            .filter(|s| s.to_string() == size_text)
            .ok_or(bad("the tree size is not a decimal number"))?;
        let root_bytes = parse_b64std("root hash", lines.next().ok_or(bad("no root hash"))?)?;
        let root =
            Hash::try_from(root_bytes.as_slice()).map_err(|_| bad("root is not 32 bytes"))?;
        // Extension lines are allowed by tlog-checkpoint and ignored.
        Ok(NoteCheckpoint {
            origin: origin.to_owned(),
            chain,
            size,
            root,
        })
    }
}

/// The text of a consistency proof as `GET /ledger/consistency` serves it: one hash per
/// line in standard base64.
pub fn proof_text(proof: &[Hash]) -> String {
    proof.iter().map(|h| format!("{}\n", b64std(h))).collect()
}

/// Parses [`proof_text`]; at most 128 hashes (a proof of a tree of 2^64 leaves has fewer).
pub fn parse_proof_text(text: &str) -> Result<Vec<Hash>, LedgerError> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    if lines.len() > 128 {
        return Err(LedgerError::encoding(
            "consistency proof",
            "more than 128 hashes",
        ));
    }
    lines
        .into_iter()
        .map(|l| {
            let b = parse_b64std("consistency proof", l)?;
            Hash::try_from(b.as_slice())
                .map_err(|_| LedgerError::encoding("consistency proof", "a hash is not 32 bytes"))
        })
        .collect()
}

/// Splits the text of `GET /ledger/checkpoint` (one note per chain, one after the other)
/// into notes. Each note ends with its last signature line.
pub fn split_notes(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_sigs = false;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let is_sig = line.starts_with(SIG_PREFIX);
        if in_sigs && !is_sig {
            out.push(&text[start..pos]);
            start = pos;
            in_sigs = false;
        }
        if line == "\n" && !in_sigs {
            in_sigs = true;
        }
        pos += line.len();
    }
    if start < text.len() && !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

/// Parses a signed checkpoint note and checks it carries a valid signature of `key` (under
/// the key name the origin implies). Signatures of other keys (a witness's cosignature) are
/// ignored; a signature that claims to be `key`'s and fails rejects the note.
pub fn verify_note(note: &str, key: &VerifyingKey) -> Result<NoteCheckpoint, LedgerError> {
    let bad = |why: &str| LedgerError::MalformedNote(why.to_owned());
    if note.len() > MAX_NOTE_LEN {
        return Err(bad("longer than 16 KiB"));
    }
    if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(bad("control characters"));
    }
    let (text, sigs) = note
        .split_once("\n\n")
        .map(|(t, s)| (&note[..t.len() + 1], s))
        .ok_or(bad("no blank line before the signatures"))?;
    let cp = NoteCheckpoint::parse_text(text)?;
    let name = key_name(&cp.origin);
    let id = note_key_id(name, key);
    let mut verified = false;
    for line in sigs.lines() {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(bad("a signature line does not start with an em dash"))?;
        let (line_name, blob) = rest.rsplit_once(' ').ok_or(bad("signature line"))?;
        let blob = parse_b64std("note signature", blob)?;
        if line_name != name || blob.len() != 68 || blob[..4] != id {
            continue;
        }
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&blob[4..]);
        key.verify_strict(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| LedgerError::BadSignature)?;
        verified = true;
    }
    if verified {
        Ok(cp)
    } else {
        Err(LedgerError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> LedgerKey {
        LedgerKey::from_bytes(&std::array::from_fn(|i| i as u8))
    }

    #[test]
    fn sign_parse_round_trip_and_tamper() {
        let k = key();
        let cp = NoteCheckpoint {
            origin: note_origin("https://c.example/", 3),
            chain: 3,
            size: 42,
            root: [7; 32],
        };
        assert_eq!(cp.origin, "c.example/ledger/chain/3");
        let note = cp.sign(&k);
        assert!(note.starts_with("c.example/ledger/chain/3\n42\nBwcH"));
        assert!(note.contains("\n\n\u{2014} c.example/ledger "));
        assert_eq!(verify_note(&note, &k.public_key()).unwrap(), cp);
        let forged = note.replace("\n42\n", "\n43\n");
        assert!(verify_note(&forged, &k.public_key()).is_err());
        let other = LedgerKey::from_bytes(&[9; 32]);
        assert!(verify_note(&note, &other.public_key()).is_err());
        let two = format!("{note}{}", cp.sign(&k));
        assert_eq!(split_notes(&two).len(), 2);
        assert_eq!(split_notes(&note), vec![note.as_str()]);
    }
}
