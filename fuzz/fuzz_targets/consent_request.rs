//! The consent API's request decoder and rules: any bytes must give a value or a clean
//! error, never a panic. `cargo +nightly fuzz run consent_request -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = assent_server::json::parse_json::<assent_app::consent::ConsentRequest>(data) {
        let _ = assent_app::consent::valid_subject(&req.subject);
        let purposes = fuzz_purposes();
        let refs: Vec<&assent_model::registry::Purpose> = purposes.iter().collect();
        let _ = assent_model::consent::decide(&refs, req.action, &req.choices, req.gpc);
    }
});

fn fuzz_purposes() -> Vec<assent_model::registry::Purpose> {
    use assent_model::registry::{LegalBasis, Purpose, Text};
    ["necessary", "functional", "ads"]
        .iter()
        .enumerate()
        .map(|(i, id)| Purpose {
            id: (*id).into(),
            name: Text::Plain((*id).into()),
            description: Text::Plain((*id).into()),
            consent_required: i > 0,
            exemption: None,
            legal_basis: LegalBasis::Consent,
            gpc: i == 2,
            consent_mode: vec![],
            refusal_impact: None,
            data_retention: None,
        })
        .collect()
}
