//! The consent record format (`assent-consent/2`) and its canonical bytes: what a visitor's
//! choice is stored as in the ledger. The bytes written by [`RecordTemplate::encode`] are
//! those of `canonical_json(&record_value(..))`, tested below; a change here changes what
//! every future receipt proves, so the version string changes with it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use assent_model::version::SiteSnapshot;
use assent_store::PolicyVersionRow;

/// 128 bits: a 48-bit millisecond time prefix and 80 random bits (UUIDv7-like). Time-ordered
/// ids keep the receipt index append-mostly, which is markedly faster on SQLite; the random
/// part keeps them unguessable.
pub fn new_receipt_id(now_ms: i64) -> AppResult<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b[6..]).map_err(|e| AppError::internal(&e))?;
    let t = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&t[2..]);
    Ok(hex::encode(b))
}

/// Bytes from the operating system's CSPRNG, fetched 256 at a time per thread: one
/// `getrandom` call per 25 receipt ids instead of one each (a system call costs about as
/// much as the rest of the id). Each byte is handed out once and wiped from the pool.
fn fill_random(out: &mut [u8]) -> Result<(), getrandom::Error> {
    thread_local! {
        static POOL: std::cell::RefCell<(usize, [u8; 256])> =
            const { std::cell::RefCell::new((256, [0; 256])) };
    }
    POOL.with_borrow_mut(|(pos, pool)| {
        for b in out {
            if *pos == pool.len() {
                getrandom::fill(pool)?;
                *pos = 0;
            }
            *b = std::mem::take(&mut pool[*pos]);
            *pos += 1;
        }
        Ok(())
    })
}

/// Value of `version` in the consent records written now.
pub const RECORD_VERSION: &str = "assent-consent/2";

/// The per-request fields of a consent record.
#[derive(Debug, Clone, Copy)]
pub struct RecordFields<'a> {
    pub receipt_id: &'a str,
    pub subject: &'a str,
    pub choices: &'a BTreeMap<String, bool>,
    pub action: &'a str,
    pub method: &'a str,
    pub channel: &'a str,
    pub language: &'a str,
    pub fingerprint: &'a str,
    pub now: i64,
    pub expires: i64,
}

/// The consent record: ISO/IEC TS 27560 and Kantara Consent Receipt v1.1 field names where
/// they apply, plus what proof of consent needs (policy version and hash, text fingerprint).
///
/// The record holds what is particular to this choice; what only depends on the policy
/// version (the controller, the services and their providers, the policy URL) is bound by
/// `policyHash` (the SHA-256 of that version's snapshot, itself a ledger event) and added to
/// receipts as their `context` by [`receipt_context`]. Records of format `assent-consent/1`
/// carried those parts inline: about 1.9 KB per consent instead of about 0.5 KB, which cost
/// most of the write path's disk traffic. Receipts of both formats are served and verified.
pub fn record_value(row: &PolicyVersionRow, snap: &SiteSnapshot, f: &RecordFields<'_>) -> Value {
    json!({
        "version": RECORD_VERSION,
        "jurisdiction": snap.controller.country,
        "consentTimestamp": f.now,
        "collectionMethod": f.channel,
        "consentReceiptID": f.receipt_id,
        "language": f.language,
        "piiPrincipalId": f.subject,
        "site": snap.site.id,
        "policyVersion": row.version,
        "policyHash": row.content_hash,
        "textFingerprint": f.fingerprint,
        "action": f.action,
        "method": f.method,
        "purposes": f.choices,
        "expiresAt": f.expires,
    })
}

/// The consent record of a policy version, pre-encoded in canonical JSON (RFC 8785 subset,
/// see `assent_ledger::canonical_json`) around the per-request fields, so that a consent
/// costs a few buffer appends instead of building and sorting a `serde_json::Value` tree.
/// The bytes are identical to `canonical_json(&record_value(..))` (tested below).
#[derive(Debug, Clone)]
pub struct RecordTemplate {
    /// Text fingerprint of each offered language.
    pub fingerprints: HashMap<String, String>,
    /// `,"jurisdiction":"..","language":`
    jurisdiction: Vec<u8>,
    /// `,"policyHash":"..","policyVersion":N,"purposes":`
    policy: Vec<u8>,
    /// `,"site":"..","textFingerprint":`
    site: Vec<u8>,
}

/// Largest integer the canonical encoding accepts (`2^53 - 1`).
const MAX_SAFE: i64 = (1 << 53) - 1;

impl RecordTemplate {
    pub fn new(row: &PolicyVersionRow, snap: &SiteSnapshot) -> Self {
        let mut jurisdiction = b",\"jurisdiction\":".to_vec();
        put_str(&mut jurisdiction, &snap.controller.country);
        jurisdiction.extend_from_slice(b",\"language\":");
        let mut policy = b",\"policyHash\":".to_vec();
        put_str(&mut policy, &row.content_hash);
        policy.extend_from_slice(b",\"policyVersion\":");
        put_int(&mut policy, row.version);
        policy.extend_from_slice(b",\"purposes\":");
        let mut site = b",\"site\":".to_vec();
        put_str(&mut site, &snap.site.id);
        site.extend_from_slice(b",\"textFingerprint\":");
        let fingerprints = snap
            .site
            .languages
            .iter()
            .map(|l| (l.clone(), snap.text_fingerprint(l)))
            .collect();
        RecordTemplate {
            fingerprints,
            jurisdiction,
            policy,
            site,
        }
    }

    /// The canonical bytes of the record, or `None` when a field is outside what this encoder
    /// handles exactly like `canonical_json` (non-ASCII purpose ids, whose order would need
    /// UTF-16 comparison; integers beyond `2^53 - 1`).
    pub fn encode(&self, f: &RecordFields<'_>) -> Option<Vec<u8>> {
        let ints_ok = [f.now, f.expires]
            .iter()
            .all(|n| n.unsigned_abs() <= MAX_SAFE.unsigned_abs());
        if !ints_ok || !f.choices.keys().all(|k| k.is_ascii()) {
            return None;
        }
        let mut out = Vec::with_capacity(640);
        out.extend_from_slice(b"{\"action\":");
        put_str(&mut out, f.action);
        out.extend_from_slice(b",\"collectionMethod\":");
        put_str(&mut out, f.channel);
        out.extend_from_slice(b",\"consentReceiptID\":");
        put_str(&mut out, f.receipt_id);
        out.extend_from_slice(b",\"consentTimestamp\":");
        put_int(&mut out, f.now);
        out.extend_from_slice(b",\"expiresAt\":");
        put_int(&mut out, f.expires);
        out.extend_from_slice(&self.jurisdiction);
        put_str(&mut out, f.language);
        out.extend_from_slice(b",\"method\":");
        put_str(&mut out, f.method);
        out.extend_from_slice(b",\"piiPrincipalId\":");
        put_str(&mut out, f.subject);
        out.extend_from_slice(&self.policy);
        out.push(b'{');
        for (i, (k, v)) in f.choices.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_str(&mut out, k);
            out.extend_from_slice(if *v { b":true" } else { b":false" });
        }
        out.push(b'}');
        out.extend_from_slice(&self.site);
        put_str(&mut out, f.fingerprint);
        out.extend_from_slice(b",\"version\":");
        put_str(&mut out, RECORD_VERSION);
        out.push(b'}');
        Some(out)
    }
}

/// A JSON string exactly as `assent_ledger::canonical_json` writes it.
fn put_str(out: &mut Vec<u8>, s: &str) {
    assent_ledger::write_canonical_string(s, out);
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    use std::io::Write as _;
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::receipt_context;
    use crate::sites::SiteVersion;
    use assent_model::version::SiteSnapshot;
    use assent_store::PolicyVersionRow;

    fn versions() -> Vec<SiteVersion> {
        let src = include_str!("../../../../examples/callkom.toml");
        let (reg, _) = assent_model::check::parse(src).unwrap();
        let mut out = Vec::new();
        for site in &reg.sites {
            let snap = SiteSnapshot::from_registry(&reg, &site.id).unwrap();
            let row = PolicyVersionRow {
                site: site.id.clone(),
                version: 3,
                content_hash: "ab\"cd\\ef".into(),
                requires_fresh_consent: false,
                changes_json: "[]".into(),
                registry_json: String::new(),
                source_toml: String::new(),
                created_at_ms: 0,
                consent_floor: 1,
            };
            // As configured, then with awkward strings everywhere the template copies text.
            let mut odd = snap.clone();
            odd.controller.name = "Caf\u{e9} \"Chez \\ Nous\"\u{1}\t\n\u{7f}\u{1F600}".into();
            odd.controller.phone = Some("+33 1\u{8}\u{c}\r".into());
            odd.controller.country = "F\u{1f}R".into();
            for s in &mut odd.services {
                s.name.push_str(" \u{2028}\"x\"");
                s.provider.push('\0');
            }
            let mut no_phone = snap.clone();
            no_phone.controller.phone = None;
            out.push(SiteVersion::new(row.clone(), snap));
            out.push(SiteVersion::new(row.clone(), odd));
            out.push(SiteVersion::new(row, no_phone));
        }
        out
    }

    #[test]
    fn template_bytes_equal_canonical_json_of_the_record() {
        let mut checked = 0;
        for v in versions() {
            let t = RecordTemplate::new(&v.row, &v.snapshot);
            let ids: Vec<String> = v.snapshot.purposes.iter().map(|p| p.id.clone()).collect();
            let mut choice_sets: Vec<BTreeMap<String, bool>> = vec![BTreeMap::new()];
            choice_sets.push(ids.iter().map(|i| (i.clone(), true)).collect());
            choice_sets.push(
                ids.iter()
                    .enumerate()
                    .map(|(n, i)| (i.clone(), n % 2 == 0))
                    .collect(),
            );
            choice_sets.push(
                ids.iter()
                    .map(|i| (i.clone(), false))
                    .chain([("zz\"\u{1}".to_owned(), true)])
                    .collect(),
            );
            for choices in &choice_sets {
                for (lang, subject) in [
                    ("fr", "0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a"),
                    ("e\u{e9}\n", "\"\\"),
                ] {
                    let f = RecordFields {
                        receipt_id: "0190c0ffee0000000000000000000001",
                        subject,
                        choices,
                        action: "custom",
                        method: "gpc",
                        channel: "banner",
                        language: lang,
                        fingerprint: "f1\u{3}",
                        now: 1_732_530_000_123,
                        expires: 1_748_082_000_123,
                    };
                    let fast = t.encode(&f).unwrap();
                    let slow =
                        assent_ledger::canonical_json(&record_value(&v.row, &v.snapshot, &f))
                            .unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&slow)
                    );
                    assert_eq!(fast, slow);
                    // Small enough to stay inside a SQLite b-tree page (no overflow page).
                    assert!(fast.len() < 900, "{} bytes", fast.len());
                    checked += 1;
                }
            }
            for l in &v.snapshot.site.languages {
                assert_eq!(t.fingerprints.get(l), Some(&v.snapshot.text_fingerprint(l)));
            }
        }
        assert!(checked >= 24);
    }

    #[test]
    fn context_lists_services_with_the_records_grants() {
        let v = versions().remove(0);
        let choices: BTreeMap<String, bool> = [
            ("necessary".to_owned(), true),
            ("functional".to_owned(), false),
            ("performance".to_owned(), true),
        ]
        .into();
        let f = RecordFields {
            receipt_id: "r",
            subject: "s",
            choices: &choices,
            action: "custom",
            method: "explicit",
            channel: "banner",
            language: "fr",
            fingerprint: "f",
            now: 1_732_530_000_123,
            expires: 1_748_082_000_123,
        };
        let record = record_value(&v.row, &v.snapshot, &f);
        let ctx = receipt_context("https://c.example", &v, &record);
        assert_eq!(ctx["policyHash"], record["policyHash"]);
        assert_eq!(
            ctx["policyUrl"],
            "https://c.example/sites/callkom/cookie-policy?version=3"
        );
        assert_eq!(ctx["piiControllers"][0]["piiController"], "CALLKOM");
        let hubspot = ctx["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "HubSpot")
            .unwrap();
        assert_eq!(hubspot["purposes"][0]["purpose"], "functional");
        assert_eq!(hubspot["purposes"][0]["granted"], false);
        assert_eq!(hubspot["purposes"][1]["granted"], true);
        assert!(ctx["termination"].as_str().unwrap().contains("2025-05-24"));
    }

    #[test]
    fn template_declines_what_it_cannot_encode_exactly() {
        let v = versions().remove(0);
        let t = RecordTemplate::new(&v.row, &v.snapshot);
        let non_ascii: BTreeMap<String, bool> = [("\u{e9}t\u{e9}".to_owned(), true)].into();
        let empty = BTreeMap::new();
        let mut f = RecordFields {
            receipt_id: "r",
            subject: "s",
            choices: &non_ascii,
            action: "a",
            method: "m",
            channel: "c",
            language: "fr",
            fingerprint: "f",
            now: 1,
            expires: 2,
        };
        assert!(t.encode(&f).is_none());
        f.choices = &empty;
        assert!(t.encode(&f).is_some());
        f.expires = 1 << 53;
        assert!(t.encode(&f).is_none());
    }

    #[test]
    fn receipt_ids_are_time_prefixed_and_distinct_across_pool_refills() {
        let now = 1_764_000_000_123_i64;
        // 10 random bytes each: 100 ids drain the 256-byte pool several times.
        let ids: Vec<String> = (0..100).map(|_| new_receipt_id(now).unwrap()).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            assert_eq!(id.len(), 32);
            assert_eq!(&id[..12], format!("{now:012x}"));
        }
        // The random parts are not all alike either (no stuck or zeroed pool).
        let tails: std::collections::HashSet<&str> = ids.iter().map(|i| &i[12..14]).collect();
        assert!(tails.len() > 20, "{tails:?}");
    }
}
