//! Canonical JSON: the RFC 8785 (JCS) subset used for every payload before hashing.
//!
//! * objects: members sorted by the UTF-16 code units of their names (as JCS says),
//!   no whitespace anywhere;
//! * strings: UTF-8, escaping only `"` `\` and U+0000..U+001F (`\b \t \n \f \r`, else
//!   `\u00xx` in lowercase hex), every other character written as itself;
//! * numbers: integers in `-(2^53-1) ..= 2^53-1` only, written in plain decimal; any
//!   float (even `1.0`) is rejected, so that the output is byte-identical to what a
//!   full JCS implementation would produce for the same value;
//! * `null`, `true`, `false` as such.

use crate::LedgerError;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_JSON_DEPTH: usize = 128;

/// Largest integer magnitude accepted: `2^53 - 1` (I-JSON, RFC 7493).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Canonical JSON (RFC 8785 subset) of `value`: the bytes that are hashed.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, LedgerError> {
    let mut out = Vec::with_capacity(256);
    canonical_json_into(value, &mut out)?;
    Ok(out)
}

/// Like [`canonical_json`], appending to `out` (which is left unspecified on error).
pub fn canonical_json_into(value: &Value, out: &mut Vec<u8>) -> Result<(), LedgerError> {
    write_value(value, out, 0)
}

/// Parses JSON text strictly (duplicate member names rejected, as I-JSON requires)
/// and returns its canonical form.
pub fn canonicalize_str(text: &str) -> Result<Vec<u8>, LedgerError> {
    canonical_json(&parse_json_strict(text)?)
}

/// Parses JSON text like `serde_json::from_str`, but rejects duplicate member names,
/// which `serde_json` would silently resolve to the last one. A record shown to a
/// person must not be able to say two things at once.
pub fn parse_json_strict(text: &str) -> Result<Value, LedgerError> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), LedgerError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(LedgerError::TooDeep(MAX_JSON_DEPTH));
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(LedgerError::TooDeep(MAX_JSON_DEPTH));
            }
            write_object(map, out, depth)?;
        }
    }
    Ok(())
}

fn write_object(
    map: &Map<String, Value>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), LedgerError> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| cmp_utf16(a.0, b.0));
    out.push(b'{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(k, out);
        out.push(b':');
        write_value(v, out, depth + 1)?;
    }
    out.push(b'}');
    Ok(())
}

/// Orders member names by UTF-16 code units (RFC 8785 section 3.2.3). For names
/// without characters above U+FFFF this equals byte order.
fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), LedgerError> {
    if let Some(u) = n.as_u64() {
        if u > MAX_SAFE_INTEGER {
            return Err(LedgerError::IntegerOutOfRange(n.to_string()));
        }
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(LedgerError::IntegerOutOfRange(n.to_string()));
        }
        out.extend_from_slice(i.to_string().as_bytes());
    } else {
        return Err(LedgerError::NonIntegerNumber(n.to_string()));
    }
    Ok(())
}

/// Appends `s` as a canonical JSON string (RFC 8785: only `"`, `\\` and U+0000..U+001F
/// escaped). Public so that code building canonical bytes directly cannot drift from it.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Builds a `serde_json::Value`, refusing duplicate member names.
struct StrictSeed;

impl<'de> serde::de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // Kept as a float so that canonicalization rejects it with a clear message.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate member name {key:?}"
                )));
            }
            let value = map.next_value_seed(StrictSeed)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}
