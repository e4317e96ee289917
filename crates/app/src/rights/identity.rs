//! A person's identifier as Assent keeps it where it must not keep it in clear (the
//! restriction list, ledger entries of fulfilment): normalised, then hashed with a key that
//! is generated once per database and shared by every server of it (`assent_secrets`), so
//! that a hash found in the ledger or an API answer cannot be reversed by trying addresses
//! without that key.
//!
//! Normalisation: an email is trimmed and lower-cased (emails match case-insensitively
//! everywhere in Assent); a phone keeps its digits and a leading `+` (`+33 6 12-34-56-78` and
//! `+33612345678` are the same person).

use crate::App;
use crate::error::{AppError, AppResult};

/// The name of the subject-hash key in `assent_secrets`.
const KEY_NAME: &str = "subject_hash_key";

/// The kinds of identifier the restriction list knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    Email,
    Phone,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
        }
    }
}

/// A normalised email, or `Invalid` naming `field`.
pub fn normalise_email(field: &str, s: &str) -> AppResult<String> {
    let e = s.trim().to_lowercase();
    let ok = e.len() <= super::request::MAX_EMAIL
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e)
    } else {
        Err(AppError::invalid(field, "not a valid email address"))
    }
}

/// A normalised phone number (digits, with a leading `+` if given), or `Invalid` naming
/// `field`.
pub fn normalise_phone(field: &str, s: &str) -> AppResult<String> {
    let s = s.trim();
    let plus = s.starts_with('+');
    let mut digits = String::new();
    for c in s.chars().skip(usize::from(plus)) {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(AppError::invalid(
                    field,
                    "a phone number has digits, spaces, dashes, dots, brackets and a leading +",
                ));
            }
        }
    }
    if !(6..=15).contains(&digits.len()) {
        return Err(AppError::invalid(
            field,
            "a phone number has 6 to 15 digits",
        ));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key` (the model's one implementation).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    assent_model::marketing::hmac_sha256(key, &[msg])
}

/// The database's subject-hash key (created by the first server that needs it).
pub async fn subject_key(st: &App) -> AppResult<Vec<u8>> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(|e| AppError::internal(&e))?;
    let key = st.store.shared_secret(KEY_NAME, &candidate).await?;
    if key.len() < 32 {
        return Err(AppError::internal(&"the subject-hash key is too short"));
    }
    Ok(key)
}

/// The keyed hash of a normalised identifier of `kind`.
pub fn subject_hash_with(key: &[u8], kind: IdentityKind, normalised: &str) -> [u8; 32] {
    hmac_sha256(key, format!("{}:{normalised}", kind.as_str()).as_bytes())
}

/// [`subject_hash_with`] under the database's key.
pub async fn subject_hash(st: &App, kind: IdentityKind, normalised: &str) -> AppResult<[u8; 32]> {
    Ok(subject_hash_with(&subject_key(st).await?, kind, normalised))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test cases 1 and 2.
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalise_email("email", " Zoe@Example.ORG ").unwrap(),
            "zoe@example.org"
        );
        for bad in [
            "",
            "zoe",
            "zoe@",
            "@x.org",
            "zoe@org",
            "a b@x.org",
            "zoe@x.org.",
        ] {
            let e = normalise_email("email", bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("email"), "{bad}");
        }
        assert_eq!(
            normalise_phone("phone", "+33 6 12-34-56-78").unwrap(),
            "+33612345678"
        );
        assert_eq!(
            normalise_phone("phone", "(06) 12.34.56.78").unwrap(),
            "0612345678"
        );
        for bad in ["", "12345", "+33 6 12 34 56 78 90 12 34", "06x12", "++336"] {
            assert!(normalise_phone("phone", bad).is_err(), "{bad}");
        }
        let k = [7u8; 32];
        assert_ne!(
            subject_hash_with(&k, IdentityKind::Email, "a@b.org"),
            subject_hash_with(&k, IdentityKind::Phone, "a@b.org")
        );
    }
}
