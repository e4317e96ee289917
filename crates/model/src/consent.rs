//! Consent decisions: what a visitor's choice means once the rules are applied. Strictly
//! necessary purposes are always on; a Global Privacy Control signal refuses the
//! advertising/sharing purposes whatever the request says; a custom choice must name every
//! purpose that needs consent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::Purpose;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    AcceptAll,
    RejectAll,
    Custom,
    Withdraw,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AcceptAll => "accept_all",
            Action::RejectAll => "reject_all",
            Action::Custom => "custom",
            Action::Withdraw => "withdraw",
        }
    }
}

/// Where the choice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Banner,
    /// The "Manage my cookies" preferences.
    Preferences,
    Api,
    /// A rights request (withdrawal or objection) linked to the subject.
    RightsRequest,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Banner => "banner",
            Channel::Preferences => "preferences",
            Channel::Api => "api",
            Channel::RightsRequest => "rights_request",
        }
    }
}

/// How the choice was expressed: an explicit action, or a Global Privacy Control signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Explicit,
    Gpc,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Explicit => "explicit",
            Method::Gpc => "gpc",
        }
    }
}

/// A refused request, naming the field at fault (`choices.analytics`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConsentError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConsentError {
    ConsentError {
        field: field.into(),
        message: message.into(),
    }
}

/// The choice once the rules are applied: one boolean per purpose of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub choices: BTreeMap<String, bool>,
    pub method: Method,
    /// Purposes refused because of the GPC signal.
    pub gpc_refused: Vec<String>,
}

/// Applies the rules to a visitor's request.
pub fn decide(
    purposes: &[&Purpose],
    action: Action,
    choices: &BTreeMap<String, bool>,
    gpc: bool,
) -> Result<Decision, ConsentError> {
    for id in choices.keys() {
        if !purposes.iter().any(|p| &p.id == id) {
            return Err(err(
                format!("choices.{id}"),
                format!("unknown purpose `{id}` for this site"),
            ));
        }
    }
    let mut out = BTreeMap::new();
    let mut gpc_refused = vec![];
    for p in purposes {
        let given = choices.get(&p.id).copied();
        let value = if !p.consent_required {
            if given == Some(false) {
                return Err(err(
                    format!("choices.{}", p.id),
                    format!(
                        "purpose `{}` is strictly necessary and cannot be refused",
                        p.id
                    ),
                ));
            }
            true
        } else {
            match action {
                Action::AcceptAll => {
                    if given == Some(false) && !(gpc && p.gpc) {
                        return Err(err(
                            format!("choices.{}", p.id),
                            "a refusal contradicts action accept_all: use action custom",
                        ));
                    }
                    true
                }
                Action::RejectAll | Action::Withdraw => {
                    if given == Some(true) {
                        return Err(err(
                            format!("choices.{}", p.id),
                            format!(
                                "a grant contradicts action {}: use action custom",
                                action.as_str()
                            ),
                        ));
                    }
                    false
                }
                Action::Custom => match given {
                    Some(v) => v,
                    None => {
                        return Err(err(
                            format!("choices.{}", p.id),
                            format!(
                                "missing choice for purpose `{}`: a custom choice names every purpose",
                                p.id
                            ),
                        ));
                    }
                },
            }
        };
        let value = if gpc && p.gpc && p.consent_required {
            gpc_refused.push(p.id.clone());
            false
        } else {
            value
        };
        out.insert(p.id.clone(), value);
    }
    Ok(Decision {
        choices: out,
        method: if gpc { Method::Gpc } else { Method::Explicit },
        gpc_refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{LegalBasis, Text};

    fn purpose(id: &str, consent: bool, gpc: bool) -> Purpose {
        Purpose {
            id: id.into(),
            name: Text::Plain(id.into()),
            description: Text::Plain(id.into()),
            consent_required: consent,
            exemption: None,
            legal_basis: LegalBasis::Consent,
            gpc,
            consent_mode: vec![],
            refusal_impact: None,
            data_retention: None,
        }
    }

    #[test]
    fn rules() {
        let n = purpose("necessary", false, false);
        let a = purpose("analytics", true, false);
        let ads = purpose("ads", true, true);
        let ps = [&n, &a, &ads];
        let none = BTreeMap::new();

        let d = decide(&ps, Action::AcceptAll, &none, false).unwrap();
        assert!(d.choices.values().all(|v| *v));
        assert_eq!(d.method, Method::Explicit);

        let d = decide(&ps, Action::AcceptAll, &none, true).unwrap();
        assert!(!d.choices["ads"]);
        assert!(d.choices["analytics"]);
        assert_eq!(d.method, Method::Gpc);
        assert_eq!(d.gpc_refused, vec!["ads".to_string()]);

        let d = decide(&ps, Action::RejectAll, &none, false).unwrap();
        assert!(d.choices["necessary"]);
        assert!(!d.choices["analytics"]);

        let mut c = BTreeMap::new();
        c.insert("analytics".to_string(), true);
        let e = decide(&ps, Action::Custom, &c, false).unwrap_err();
        assert_eq!(e.field, "choices.ads");
        c.insert("ads".to_string(), true);
        let d = decide(&ps, Action::Custom, &c, true).unwrap();
        assert!(!d.choices["ads"], "GPC wins over a grant in the body");

        c.insert("nope".to_string(), true);
        assert_eq!(
            decide(&ps, Action::Custom, &c, false).unwrap_err().field,
            "choices.nope"
        );

        let mut c = BTreeMap::new();
        c.insert("necessary".to_string(), false);
        assert_eq!(
            decide(&ps, Action::RejectAll, &c, false).unwrap_err().field,
            "choices.necessary"
        );
    }
}
