//! Which retention rules Assent itself enforces with its current configuration, so that a
//! policy never claims an automatic purge that does not happen.
//!
//! A rule is Assent's when it names one of the kinds Assent purges itself (`applies_to =
//! "consents"`, `"rights_requests"`, `"scan_reports"` or `"marketing"`, see [`crate::retention`]) or a datastore table
//! (`DATASTORE.TABLE`, which `assent check` accepts only when the datastore and the table are
//! declared); the retention run applies its own period and trigger. Every other rule (bound to
//! nothing, to the operator's logs) is the controller's or the operator's.

use crate::registry::{Duration, RetentionRule, Unit};
use crate::retention::AppliesTo;

/// Records Assent purges itself: one of its own kinds, or a table of a controller's
/// datastore (`DATASTORE.TABLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnRecords {
    Consents,
    RightsRequests,
    ScanReports,
    /// Prospects' marketing opt-ins.
    Marketing,
    /// `DATASTORE.TABLE`.
    Table(String),
}

impl OwnRecords {
    /// The `applies_to` code (the key of the last run in the retention counters).
    pub fn as_str(&self) -> &str {
        match self {
            OwnRecords::Consents => "consents",
            OwnRecords::RightsRequests => "rights_requests",
            OwnRecords::ScanReports => "scan_reports",
            OwnRecords::Marketing => "marketing",
            OwnRecords::Table(code) => code,
        }
    }
}

/// The period Assent applies to rights-request records.
pub const RIGHTS_REQUESTS_PERIOD: Duration = Duration {
    amount: 2,
    unit: Unit::Years,
};

/// The records of Assent's that `rule` governs and Assent purges as the rule says, if any.
pub fn enforced_by_assent(rule: &RetentionRule) -> Option<OwnRecords> {
    match &rule.applies_to {
        Some(AppliesTo::Consents) => Some(OwnRecords::Consents),
        Some(AppliesTo::RightsRequests) => Some(OwnRecords::RightsRequests),
        Some(AppliesTo::ScanReports) => Some(OwnRecords::ScanReports),
        Some(AppliesTo::Marketing) => Some(OwnRecords::Marketing),
        Some(t @ AppliesTo::Table { .. }) => Some(OwnRecords::Table(t.code())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RetentionAction;

    use crate::registry::Trigger;

    fn rule(id: &str, period: &str, trigger: Trigger) -> RetentionRule {
        RetentionRule {
            id: id.into(),
            data_category: crate::registry::Text::Plain("x".into()),
            period: period.parse().unwrap_or(RIGHTS_REQUESTS_PERIOD),
            trigger,
            archive: None,
            action: RetentionAction::Delete,
            description: None,
            applies_to: None,
            anchor: vec![],
            reconfirm_days_before: None,
        }
    }

    #[test]
    fn a_rule_is_assents_when_bound_to_a_kind_assent_purges() {
        let mut r = rule("rights-requests", "2 years", Trigger::EndOfCalendarYear);
        // Bound to nothing: the controller's, whatever its id says.
        assert_eq!(enforced_by_assent(&r), None);
        r.applies_to = Some(AppliesTo::RightsRequests);
        assert_eq!(enforced_by_assent(&r), Some(OwnRecords::RightsRequests));
        r.applies_to = Some(AppliesTo::Consents);
        assert_eq!(enforced_by_assent(&r), Some(OwnRecords::Consents));
        r.applies_to = Some(AppliesTo::ScanReports);
        assert_eq!(enforced_by_assent(&r), Some(OwnRecords::ScanReports));
        r.applies_to = Some("shop.customers".parse().unwrap());
        assert_eq!(
            enforced_by_assent(&r).map(|k| k.as_str().to_owned()),
            Some("shop.customers".to_owned())
        );
        r.applies_to = Some(AppliesTo::ServerLogs);
        assert_eq!(enforced_by_assent(&r), None);
    }
}
