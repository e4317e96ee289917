//! The consent API's request decoder and rules: any bytes must give a value or a clean
//! error, never a panic. `cargo +nightly fuzz run consent_request -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/server/tests/common/purposes.rs"]
mod purposes;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = assent_server::json::parse_json::<assent_app::consent::ConsentRequest>(data) {
        let _ = assent_app::consent::valid_subject(&req.subject);
        let purposes = purposes::purposes();
        let refs: Vec<&assent_model::registry::Purpose> = purposes.iter().collect();
        let _ = assent_model::consent::decide(&refs, req.action, &req.choices, req.gpc);
    }
});
