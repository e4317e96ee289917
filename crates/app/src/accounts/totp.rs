//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second
//! steps, 6 digits, one step of clock drift either way. The secret is 20 random bytes, shown
//! to the person once as base32 and as an `otpauth://` URI for their authenticator app.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const STEP_MS: i64 = 30_000;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case and spaces ignored); `None` on any other character.
pub fn unbase32(s: &str) -> Option<Vec<u8>> {
    let mut out = vec![];
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|a| char::from(*a) == c.to_ascii_uppercase())?;
        buf = (buf << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buf >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// A new secret, base32.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut raw = [0u8; 20];
    getrandom::fill(&mut raw)?;
    Ok(base32(&raw))
}

/// HOTP value of `counter` (6 digits).
pub fn hotp(key: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(key) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    bin % 1_000_000
}

/// The code shown at `now_ms` for a base32 secret.
pub fn code_at(secret: &str, now_ms: i64) -> Option<String> {
    let key = unbase32(secret)?;
    let counter = u64::try_from(now_ms.div_euclid(STEP_MS)).ok()?;
    Some(format!("{:06}", hotp(&key, counter)))
}

/// Whether `code` is valid at `now_ms` (the current step or the one before or after).
pub fn verify(secret: &str, code: &str, now_ms: i64) -> bool {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    [-STEP_MS, 0, STEP_MS]
        .iter()
        .filter_map(|d| code_at(secret, now_ms + d))
        .any(|c| super::password::constant_time_eq(c.as_bytes(), code.as_bytes()))
}

/// The URI authenticator apps read (`otpauth://totp/Assent:<email>?secret=...`).
pub fn uri(email: &str, secret: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/Assent:{}?secret={secret}&issuer=Assent&algorithm=SHA1&digits=6&period=30",
        enc(email)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B (SHA-1, the 20-byte ASCII key "12345678901234567890"), last six
    /// digits of the eight-digit values.
    #[test]
    fn rfc6238_vectors() {
        let secret = base32(b"12345678901234567890");
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&secret, t * 1000).unwrap(), code, "t={t}");
            assert!(verify(&secret, code, t * 1000 + 30_000));
            assert!(!verify(&secret, code, t * 1000 + 95_000));
        }
        assert_eq!(unbase32(&secret).unwrap(), b"12345678901234567890");
        assert!(!verify(&secret, "12345", 0) && !verify(&secret, "abcdef", 0));
        assert!(uri("a b@x.org", &secret).starts_with("otpauth://totp/Assent:a%20b%40x.org?"));
    }
}
