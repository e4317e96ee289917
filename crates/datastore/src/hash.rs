//! HMAC-SHA256 (RFC 2104), for `erase = "hash"` and for naming the subject of an erasure
//! receipt without naming the person. One implementation, in `assent_model::marketing`.

/// HMAC-SHA256 of `msg` under `key` (the model's one implementation).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    assent_model::marketing::hmac_sha256(key, &[msg])
}

/// The keyed hash written in place of an erased value: 64 hex digits.
pub fn keyed_hash(key: &[u8], value: &str) -> String {
    hex::encode(hmac_sha256(key, value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1 and 6 (a key longer than a block).
    #[test]
    fn rfc4231_vectors() {
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
