//! Marketing consent (issue 17): the registry's `[[marketing]]` purposes (newsletter, offers)
//! with their channels (email, SMS) and whether soft opt-in is allowed; the canonical form of
//! an address (a lower-cased email, an E.164 phone number read in the controller's country);
//! the keyed hash that stands for an address in the ledger and the store; and the signed
//! one-click unsubscribe token.
//!
//! Marketing purposes never reach the banner: they are not cookie purposes and are kept in a
//! table of their own. They are stated in the privacy policy, so a change to them is a
//! (non-material) change of the site's policy version, never a reason to ask visitors again.
//!
//! Invariants: the same person's address always canonicalises to the same string, whatever
//! its spacing or case; a token verifies only with the key that signed it and only for the
//! exact site, channel, address hash and purpose it names.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::registry::{MarketingChannel, MarketingPurpose};

crate::codes::coded_enum! {
    /// Why a person may be contacted: their consent, or ePrivacy Art. 13(2)'s exception for a
    /// customer offered the seller's own similar products ("soft opt-in").
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Basis {
        Consent => "consent",
        SoftOptIn => "soft_opt_in",
    }
}

crate::codes::coded_enum! {
    /// The state of a (site, address, channel, purpose) subscription. `unconfirmed` is a
    /// double opt-in waiting for its link; only `confirmed` may be contacted.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SubscriptionStatus {
        Unconfirmed => "unconfirmed",
        Confirmed => "confirmed",
        OptedOut => "opted_out",
    }
}

/// The purpose id that stands for "every marketing purpose" in a suppression (an objection,
/// a withdrawal, an erasure, "leave them all"): it outranks older choices of every purpose.
pub const ALL_PURPOSES: &str = "*";

/// Why an address was refused (the message names what is expected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AddressError(pub String);

/// The canonical form of an email address: trimmed and lower-cased; refused unless it has
/// one `@`, a local part and a dotted domain, and no space or control character.
pub fn canonical_email(s: &str) -> Result<String, AddressError> {
    let e = s.trim().to_lowercase();
    let bad = || AddressError(format!("`{}` is not an email address", s.trim()));
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && e.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c));
    if ok { Ok(e) } else { Err(bad()) }
}

/// Calling code and national trunk prefixes of the EU/EEA countries, Switzerland and the
/// United Kingdom. A national number is dialled with its trunk prefix (`0` in France: `06 12
/// 34 56 78`), which E.164 drops; Italy has none (the leading 0 of a landline is kept),
/// Hungary's is `06`, Lithuania's `8` (and `0` since 2025).
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    ("AT", "43", &["0"]),
    ("BE", "32", &["0"]),
    ("BG", "359", &["0"]),
    ("HR", "385", &["0"]),
    ("CY", "357", &[]),
    ("CZ", "420", &[]),
    ("DK", "45", &[]),
    ("EE", "372", &[]),
    ("FI", "358", &["0"]),
    ("FR", "33", &["0"]),
    ("DE", "49", &["0"]),
    ("GR", "30", &[]),
    ("HU", "36", &["06"]),
    ("IE", "353", &["0"]),
    ("IT", "39", &[]),
    ("LV", "371", &[]),
    ("LT", "370", &["8", "0"]),
    ("LU", "352", &[]),
    ("MT", "356", &[]),
    ("NL", "31", &["0"]),
    ("PL", "48", &[]),
    ("PT", "351", &[]),
    ("RO", "40", &["0"]),
    ("SK", "421", &["0"]),
    ("SI", "386", &["0"]),
    ("ES", "34", &[]),
    ("SE", "46", &["0"]),
    ("IS", "354", &[]),
    ("LI", "423", &[]),
    ("NO", "47", &[]),
    ("CH", "41", &["0"]),
    ("GB", "44", &["0"]),
];

/// A phone number in E.164 (`+33612345678`). `+` or `00` starts an international number;
/// anything else is a national number of `country` (the controller's, ISO 3166 alpha-2),
/// whose trunk prefix is dropped. Spaces, dots, dashes, slashes and brackets are ignored.
pub fn normalize_phone(s: &str, country: &str) -> Result<String, AddressError> {
    let raw = s.trim();
    let bad = |why: &str| AddressError(format!("`{raw}` is not a phone number: {why}"));
    let mut digits = String::with_capacity(raw.len());
    let mut plus = false;
    for (k, c) in raw.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if k == 0 => plus = true,
            ' ' | '.' | '-' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(bad("only digits, spaces and + are expected")),
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let cc = country.trim().to_ascii_uppercase();
        let (_, code, trunks) = COUNTRIES
            .iter()
            .find(|(c, _, _)| *c == cc)
            .ok_or_else(|| {
                bad(&format!(
                    "national numbers are not supported for country {cc}: write it with + and the country code"
                ))
            })?;
        let national = trunks
            .iter()
            .find_map(|t| digits.strip_prefix(t))
            .unwrap_or(&digits);
        if national.len() < 6 {
            return Err(bad("too short"));
        }
        format!("{code}{national}")
    };
    if international.starts_with('0') {
        return Err(bad("a country code cannot start with 0"));
    }
    if !(8..=15).contains(&international.len()) {
        return Err(bad("E.164 numbers have 8 to 15 digits"));
    }
    Ok(format!("+{international}"))
}

/// The canonical address for `channel`; see [`canonical_email`] and [`normalize_phone`].
pub fn canonical_address(
    channel: MarketingChannel,
    s: &str,
    country: &str,
) -> Result<String, AddressError> {
    match channel {
        MarketingChannel::Email => canonical_email(s),
        MarketingChannel::Sms => normalize_phone(s, country),
    }
}

/// HMAC-SHA256 (RFC 2104), ten lines rather than a crate.
pub fn hmac_sha256(key: &[u8], msg: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.map(|x| x ^ b);
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    for m in msg {
        inner.update(m);
    }
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The keyed hash that stands for a canonical address in the ledger and the store. The
/// channel separates an email from a phone number; the key (kept in the data directory)
/// makes the hash useless to whoever lacks it, unlike a plain SHA-256 of an address.
pub fn address_hash(key: &[u8], channel: MarketingChannel, canonical: &str) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            b"assent-marketing-address/1\0",
            channel.as_str().as_bytes(),
            b"\0",
            canonical.as_bytes(),
        ],
    )
}

/// The plain SHA-256 of a canonical address, hex: what emailing processors match
/// suppression lists on.
pub fn sha256_hex(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// What a one-click unsubscribe link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeToken {
    pub site: String,
    pub channel: MarketingChannel,
    pub addr_hash: [u8; 32],
    /// The purpose of the message; `None`: every purpose.
    pub purpose: Option<String>,
}

const TOKEN_VERSION: u8 = 1;
/// Bytes of the HMAC tag kept in a token (128 bits).
const TAG_LEN: usize = 16;

impl UnsubscribeToken {
    /// `base64url(payload || tag)`, where the payload is the version, the length-prefixed
    /// site, the channel, the address hash and the length-prefixed purpose, and the tag the
    /// first 16 bytes of HMAC-SHA256(key, payload). Compact enough for a `List-Unsubscribe`
    /// header (about 100 characters).
    pub fn encode(&self, key: &[u8]) -> String {
        use base64::Engine;
        let purpose = self.purpose.as_deref().unwrap_or("");
        let mut b = Vec::with_capacity(40 + self.site.len() + purpose.len() + TAG_LEN);
        b.push(TOKEN_VERSION);
        push_short(&mut b, &self.site);
        b.push(match self.channel {
            MarketingChannel::Email => b'e',
            MarketingChannel::Sms => b's',
        });
        b.extend_from_slice(&self.addr_hash);
        push_short(&mut b, purpose);
        let tag = hmac_sha256(key, &[b"assent-unsubscribe/1\0", &b]);
        b.extend_from_slice(&tag[..TAG_LEN]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    /// The token's content if it was signed with `key` and not altered; `None` otherwise
    /// (the caller answers a forged token without saying why).
    pub fn decode(token: &str, key: &[u8]) -> Option<Self> {
        use base64::Engine;
        if token.len() > 400 {
            return None;
        }
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        let (body, tag) = b.split_at(b.len().checked_sub(TAG_LEN)?);
        let want = hmac_sha256(key, &[b"assent-unsubscribe/1\0", body]);
        // Constant time: the difference is folded over every byte.
        if want[..TAG_LEN]
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
        {
            return None;
        }
        let (&version, rest) = body.split_first()?;
        if version != TOKEN_VERSION {
            return None;
        }
        let (site, rest) = take_short(rest)?;
        let (&ch, rest) = rest.split_first()?;
        let channel = match ch {
            b'e' => MarketingChannel::Email,
            b's' => MarketingChannel::Sms,
            _ => return None,
        };
        let addr_hash: [u8; 32] = rest.get(..32)?.try_into().ok()?;
        let (purpose, rest) = take_short(rest.get(32..)?)?;
        if !rest.is_empty() {
            return None;
        }
        Some(UnsubscribeToken {
            site,
            channel,
            addr_hash,
            purpose: (!purpose.is_empty()).then_some(purpose),
        })
    }
}

fn push_short(b: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(255)];
    b.push(bytes.len() as u8);
    b.extend_from_slice(bytes);
}

fn take_short(b: &[u8]) -> Option<(String, &[u8])> {
    let (&n, rest) = b.split_first()?;
    let s = rest.get(..usize::from(n))?;
    Some((String::from_utf8(s.to_vec()).ok()?, &rest[usize::from(n)..]))
}

/// Whether an inbound SMS asks to stop: STOP, ARRET, ARRÊT, STOP SMS, UNSUBSCRIBE (and
/// STOPSMS, DESABONNER) in any case, with or without accents, as a word anywhere in a short
/// message (at most 160 characters: a long message is a conversation, not a keyword).
pub fn is_stop_sms(text: &str) -> bool {
    if text.chars().count() > 160 {
        return false;
    }
    let folded: String = text
        .chars()
        .map(|c| match c {
            'Ê' | 'ê' | 'É' | 'é' | 'È' | 'è' | 'Ë' | 'ë' => 'e',
            'À' | 'à' | 'Â' | 'â' => 'a',
            'Ô' | 'ô' => 'o',
            c if c.is_alphanumeric() => c.to_ascii_lowercase(),
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().any(|w| {
        matches!(
            w,
            "stop" | "arret" | "stopsms" | "unsubscribe" | "desabonner" | "desinscription"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_canonical() {
        assert_eq!(
            canonical_email("  Zoe.Martin@Example.FR ").unwrap(),
            "zoe.martin@example.fr"
        );
        for bad in [
            "",
            "zoe",
            "@example.fr",
            "zoe@",
            "zoe@localhost",
            "a b@example.fr",
            "a@b@example.fr",
            "Zoe <z@example.fr>",
            "z@example.fr\r\nBcc: x@y.z",
        ] {
            assert!(canonical_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones_e164() {
        let fr = |s| normalize_phone(s, "FR");
        assert_eq!(fr("06 12 34 56 78").unwrap(), "+33612345678");
        assert_eq!(fr("06.12.34.56.78").unwrap(), "+33612345678");
        assert_eq!(fr("+33 6 12 34 56 78").unwrap(), "+33612345678");
        assert_eq!(fr("0033612345678").unwrap(), "+33612345678");
        // Germany and the UK drop the trunk 0; Italy keeps the leading 0; Hungary's trunk
        // prefix is 06; Spain has none.
        for (national, country, e164) in [
            ("0151 23456789", "DE", "+4915123456789"),
            ("07700 900123", "gb", "+447700900123"),
            ("06 1234 5678", "IT", "+390612345678"),
            ("06 30 123 4567", "HU", "+36301234567"),
            ("612 345 678", "ES", "+34612345678"),
        ] {
            assert_eq!(normalize_phone(national, country).unwrap(), e164);
        }
        for bad in [
            "",
            "06 12",
            "06-12-AB-56-78",
            "+0612345678",
            "+3361234567812345",
        ] {
            assert!(fr(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_phone("0612345678", "US").is_err());
        assert!(normalize_phone("+1 202 555 0143", "US").is_ok());
    }

    /// RFC 4231, test case 2.
    #[test]
    fn hmac_vector() {
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than the block is hashed first (RFC 4231, test case 6).
        let tag = hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex::encode(tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn tokens_round_trip_and_refuse_alteration() {
        let key = [7u8; 32];
        let t = UnsubscribeToken {
            site: "kalido".into(),
            channel: MarketingChannel::Email,
            addr_hash: address_hash(&key, MarketingChannel::Email, "zoe@example.fr"),
            purpose: Some("newsletter".into()),
        };
        let s = t.encode(&key);
        assert!(s.len() < 120, "{}", s.len());
        assert_eq!(UnsubscribeToken::decode(&s, &key), Some(t.clone()));
        assert_eq!(UnsubscribeToken::decode(&s, &[8u8; 32]), None);
        // Every single-character alteration is refused.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for k in 0..s.len() {
            for c in alphabet.chars().step_by(7) {
                let mut b = s.clone().into_bytes();
                if b[k] == c as u8 {
                    continue;
                }
                b[k] = c as u8;
                let altered = String::from_utf8(b).unwrap();
                let got = UnsubscribeToken::decode(&altered, &key);
                assert!(got.is_none() || got == Some(t.clone()), "{altered}");
            }
        }
        for junk in ["", "x", "!!!", &"A".repeat(500)] {
            assert_eq!(UnsubscribeToken::decode(junk, &key), None);
        }
        let all = UnsubscribeToken { purpose: None, ..t };
        assert_eq!(UnsubscribeToken::decode(&all.encode(&key), &key), Some(all));
    }

    #[test]
    fn stop_words() {
        for yes in [
            "STOP",
            "stop",
            "Stop SMS",
            "ARRET",
            "arrêt",
            "ARRÊT svp",
            "merci, stop!",
            "Unsubscribe",
            "STOPSMS",
        ] {
            assert!(is_stop_sms(yes), "{yes:?}");
        }
        for no in [
            "stopper",
            "bonjour",
            "arrete de m'ecrire",
            "",
            &"stop ".repeat(40),
        ] {
            assert!(!is_stop_sms(no), "{no:?}");
        }
    }
}
