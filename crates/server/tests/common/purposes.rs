//! The purposes the decoder fuzz tests decide with, shared by `tests/fuzz.rs` (through
//! `common`) and the cargo-fuzz target `fuzz/fuzz_targets/consent_request.rs` (by path).

/// `necessary` (no consent needed), `functional`, and `ads` (refused under GPC).
pub fn purposes() -> Vec<assent_model::registry::Purpose> {
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
