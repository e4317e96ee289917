//! Fixed test vectors. They were computed by an independent Python implementation of
//! the format in `docs/ledger.md` (hashlib + `cryptography`), not by this crate: a
//! change here is a format change.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns unwrap too

use assent_ledger::*;
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// Asserts that a hash is the expected vector, in lowercase hex.
fn assert_hex(h: &Hash, want: &str) {
    assert_eq!(to_hex(h), want);
}

fn sha(b: &[u8]) -> Hash {
    Sha256::digest(b).into()
}

#[test]
fn genesis_and_empty_root() {
    assert_eq!(GENESIS, sha(TAG_GENESIS));
    assert_hex(
        &GENESIS,
        "7bff88eedb01c585911a614f832468e76b75bb4ac3f9b1d498581209480c5470",
    );
    assert_eq!(EMPTY_ROOT, sha(b""));
    assert_eq!(merkle_root(&[]), EMPTY_ROOT);
}

#[test]
fn payload_hash_vectors() {
    assert_hex(
        &payload_hash(b""),
        "eacc384806db367a1bb20855574a0981da58877f3fa249ceaeac1bb44b6aac8e",
    );
    assert_hex(
        &payload_hash(br#"{"a":1}"#),
        "d70de26cc3862c02e740424144ffb05c03f155b131bc49b19ad4748fcad38d7c",
    );
}

/// The hash of entry `seq` of chain 0 with `payload`.
fn chain0(seq: u64, ts_ms: i64, kind: &str, payload: &[u8], prev: &Hash) -> Hash {
    entry_hash(0, seq, ts_ms, kind, &payload_hash(payload), prev)
}

#[test]
fn entry_hash_vectors() {
    let e1 = chain0(0, 1_700_000_000_000, "consent", br#"{"a":1}"#, &GENESIS);
    assert_hex(
        &e1,
        "fa601e4cdb1054e5eb201e09ddbc8f3b57792f1f02fda3bfe91688e0a1c053e5",
    );
    let e2 = entry_hash(7, 42, -1, "", &[0x11; 32], &[0x22; 32]);
    assert_hex(
        &e2,
        "f1e30ac37d854e26b59c5100a909e5137ff4950c3f3a5a116ddc1ece726a8b7b",
    );
    let redaction = br#"{"b":[true,null]}"#;
    let e3 = chain0(1, 1_700_000_000_001, "ledger.redaction", redaction, &e1);
    assert_hex(
        &e3,
        "1049e14b0f51653b6f8ac855e4d15b8e65ed0461b66178ef2705886ad799cb29",
    );

    // The writer produces the same entries.
    let mut head = ChainHead::new(0);
    let a = head.append(1_700_000_000_000, "consent", br#"{"a":1}"#);
    let b = head.append(1_700_000_000_001, "ledger.redaction", redaction);
    assert_eq!((a.hash, b.hash, b.prev_hash, b.seq), (e1, e3, e1, 1));
    assert!(a.hash_is_valid() && b.hash_is_valid());
}

#[test]
fn entry_json_form() {
    let mut head = ChainHead::new(3);
    let e = head.append(5, "consent", b"{}");
    let text = serde_json::to_string(&e).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"chain":3,"seq":0,"ts_ms":5,"kind":"consent","payload_hash":"{}","prev_hash":"{}","hash":"{}"}}"#,
            to_hex(&e.payload_hash),
            to_hex(&GENESIS),
            to_hex(&e.hash)
        )
    );
    let back: Entry = serde_json::from_str(&text).unwrap();
    assert_eq!(back, e);
    // Upper-case hex is read, wrong lengths are not.
    let upper = text.replace(&to_hex(&e.hash), &to_hex(&e.hash).to_uppercase());
    assert_eq!(serde_json::from_str::<Entry>(&upper).unwrap(), e);
    let short = text.replace(&to_hex(&e.hash), "abcd");
    assert!(serde_json::from_str::<Entry>(&short).is_err());
}

#[test]
fn canonical_json_vectors() {
    let v = json!({"b": 2, "a": 1, "c": {"z": [1, "x", true, null], "y": -5}, "e": {}, "d": []});
    assert_eq!(
        canonical_json(&v).unwrap(),
        br#"{"a":1,"b":2,"c":{"y":-5,"z":[1,"x",true,null]},"d":[],"e":{}}"#
    );
    let s = json!("\u{0}\u{1f}\"\\\u{8}\t\n\u{c}\r/\u{7f}é€😀\u{2028}");
    assert_eq!(
        String::from_utf8(canonical_json(&s).unwrap()).unwrap(),
        "\"\\u0000\\u001f\\\"\\\\\\b\\t\\n\\f\\r/\u{7f}é€😀\u{2028}\""
    );
    // RFC 8785 section 3.2.3: members sorted by UTF-16 code units.
    let sorting = canonicalize_str(
        r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(sorting).unwrap(),
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
    // Whitespace and order of the input do not matter.
    assert_eq!(
        canonicalize_str(" { \"y\" : [ 1 , 2 ] ,\n \"x\" : \"\\u0041\" } ").unwrap(),
        br#"{"x":"A","y":[1,2]}"#
    );
    // Integers: the I-JSON safe range only; no floats at all.
    let max = 9_007_199_254_740_991_i64;
    assert_eq!(canonical_json(&json!(max)).unwrap(), b"9007199254740991");
    assert_eq!(canonical_json(&json!(-max)).unwrap(), b"-9007199254740991");
    assert_eq!(canonical_json(&json!(0)).unwrap(), b"0");
    assert!(matches!(
        canonical_json(&json!(max + 1)),
        Err(LedgerError::IntegerOutOfRange(_))
    ));
    assert!(matches!(
        canonical_json(&json!(-max - 1)),
        Err(LedgerError::IntegerOutOfRange(_))
    ));
    assert!(matches!(
        canonical_json(&json!(u64::MAX)),
        Err(LedgerError::IntegerOutOfRange(_))
    ));
    for float in ["1.0", "1.5", "1e3", "-0.0", "[0.1]", "{\"a\":2.5}"] {
        assert!(
            matches!(
                canonicalize_str(float),
                Err(LedgerError::NonIntegerNumber(_))
            ),
            "{float}"
        );
    }
    // Hash of a canonical record.
    assert_eq!(
        to_hex(&payload_hash(&canonical_json(&json!({"a": 1})).unwrap())),
        "d70de26cc3862c02e740424144ffb05c03f155b131bc49b19ad4748fcad38d7c"
    );
}

#[test]
fn canonical_json_rejects_bad_input() {
    assert!(parse_json_strict(r#"{"a":1,"a":2}"#).is_err());
    assert!(parse_json_strict(r#"[{"b":{"a":1,"a":1}}]"#).is_err());
    assert!(parse_json_strict(r#"{"a":1} x"#).is_err());
    assert!(parse_json_strict(r#""\ud800""#).is_err());
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    assert!(matches!(
        canonical_json(&deep),
        Err(LedgerError::TooDeep(_))
    ));
    let mut ok = json!(1);
    for _ in 0..MAX_JSON_DEPTH {
        ok = json!({ "k": ok });
    }
    assert!(canonical_json(&ok).is_ok());
}

#[test]
fn merkle_roots_1_to_7() {
    let leaves: Vec<Hash> = (0u8..7).map(|i| sha(&[i])).collect();
    let expected = [
        "d9de27625445003d8a9739a851e3ff8d41c0683630b4d63a88327a6aaa37c409",
        "604d540f09268b91672ab011394d5266ccd7d4484d0d109411a55848126a1b2c",
        "d1f13800048f5909d4043fc0c152f6643280cba608b672715e56ce159a20629f",
        "0dcc2b645c00dfa2338e1c7ac2c4b570beda5a476d58836e55e28bde55e6bee1",
        "6b313b611b40676b9e1dfd70c4503f2379f88f0f1c2740fb7e1cacc32c113465",
        "33d501ae67e6e5745c0aa49e3aff95130969b568208b07210c508caa5ff39b3c",
        "bee2275db16667589a4515f63e0d053a2fa602c1d9f9703e98920a5bdad59baf",
    ];
    for (n, want) in (1..=7).zip(expected) {
        assert_eq!(to_hex(&merkle_root(&leaves[..n])), want, "{n} leaves");
    }
}

/// RFC 6962 reference vectors (over raw leaf data) reproduce through the
/// perfect-subtree interface, which exposes the tree below the entry-hash leaves.
#[test]
fn rfc6962_reference_roots() {
    let data: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let leaf = |d: &[u8]| -> Hash {
        let mut v = vec![0u8];
        v.extend_from_slice(d);
        sha(&v)
    };
    fn perfect(leaves: &[Hash], level: u32, index: u64) -> Hash {
        if level == 0 {
            return leaves[index as usize];
        }
        node_hash(
            &perfect(leaves, level - 1, 2 * index),
            &perfect(leaves, level - 1, 2 * index + 1),
        )
    }
    let leaves: Vec<Hash> = data.iter().map(|d| leaf(d)).collect();
    let expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    for (n, want) in (1u64..=8).zip(expected) {
        let root = subtree_root(n, |level, index| {
            Ok::<_, ()>(perfect(&leaves, level, index))
        })
        .unwrap();
        assert_eq!(to_hex(&root), want, "{n} leaves");
    }
}

#[test]
fn key_and_checkpoint_vectors() {
    let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
    let key = LedgerKey::from_bytes(&secret);
    assert_eq!(
        hex::encode(key.public_key().as_bytes()),
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    );
    assert_eq!(key.key_id(), "56475aa75463474c");
    assert_eq!(
        key.public_key_info().to_json(),
        r#"{"alg":"Ed25519","key_id":"56475aa75463474c","public_key":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}"#
    );

    let mut w = ChainWriter::new(0);
    w.append(1_700_000_000_000, "consent", br#"{"a":1}"#);
    w.append(
        1_700_000_000_001,
        "ledger.redaction",
        br#"{"b":[true,null]}"#,
    );
    let heads = vec![ChainWriter::new(7).checkpoint_head(), w.checkpoint_head()];
    let signed = key.sign_checkpoint(1_700_000_005_000, heads).unwrap();
    assert_eq!(
        to_hex(&sha(&signed.checkpoint.signing_bytes())),
        "cd6956add70143682f441315e380c1088d59cb65a98e6963101a9d3cefd88fa1"
    );
    assert_eq!(
        b64url(&signed.signature),
        "1M0nprLlfD_LjnFrGkinCIQ_9jQUb8oRPkA2uYkrwSDX1_ziAWJSvMYDY-4c8hfWWkMNYocYqtXAwtCGyJ8AAQ"
    );
    signed.verify(&key.public_key()).unwrap();
}
