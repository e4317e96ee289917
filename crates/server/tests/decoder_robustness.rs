//! A bounded, deterministic stand-in for the cargo-fuzz target `consent_request` that runs in
//! every CI build: thousands of mutated and random bodies go through the consent request
//! decoder and the consent rules; each must give a value or a clean error, never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use assent_app::consent::ConsentRequest;
use assent_model::consent::decide;
use assent_model::registry::Purpose;
use assent_server::json::parse_json;
use common::purposes;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_bodies_never_panic() {
    let seeds: [&[u8]; 4] = [
        br#"{"subject":"0b6c4a3e-5d1f-4c6b-9a57-3f1e2d4c5b6a","policy_version":1,"action":"custom","choices":{"functional":true,"ads":false},"language":"fr","gpc":true}"#,
        br#"{"subject":"x","policy_version":-9223372036854775808,"action":"accept_all","language":""}"#,
        br#"{"choices":{"":true,"necessary":false},"action":"withdraw"}"#,
        br#"[1,2,{"a":[[[[[[[[[]]]]]]]]]}]"#,
    ];
    let ps = purposes();
    let refs: Vec<&Purpose> = ps.iter().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet = b"{}[]\":,0123456789-eE.truefalsn\\u00ff \t\n";
    let mut ok = 0;
    for i in 0..20_000 {
        let mut b = seeds[i % seeds.len()].to_vec();
        for _ in 0..1 + rng.below(8) {
            match rng.below(4) {
                0 if !b.is_empty() => {
                    let p = rng.below(b.len());
                    b[p] = (rng.next() & 0xff) as u8;
                }
                1 if !b.is_empty() => {
                    let p = rng.below(b.len());
                    b.remove(p);
                }
                2 => {
                    let p = rng.below(b.len() + 1);
                    b.insert(p, alphabet[rng.below(alphabet.len())]);
                }
                _ => {
                    let p = rng.below(b.len() + 1);
                    let q = p + rng.below(b.len() - p + 1);
                    let dup = b[p..q].to_vec();
                    b.splice(p..p, dup);
                }
            }
        }
        if let Ok(req) = parse_json::<ConsentRequest>(&b) {
            ok += 1;
            let _ = assent_app::consent::valid_subject(&req.subject);
            let _ = decide(&refs, req.action, &req.choices, req.gpc);
        }
    }
    assert!(ok > 0, "some mutations stay valid");
}
