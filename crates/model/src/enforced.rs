//! Which retention rules Assent itself enforces with its current configuration, so that a
//! policy never claims an automatic purge that does not happen.
//!
//! Today Assent purges one kind of its own records: rights requests, at the end of the
//! calendar year of their closure (or receipt, for requests never verified) + 2 years
//! ([`crate::rights::erase_at`]). A registry rule is recognised as that rule when its id names
//! rights requests (`rights-requests` or `rights_requests`) and its period is the one Assent
//! applies (2 years after the end of the calendar year); any other rule is the controller's.
//! When rules name what they apply to (`applies_to`), this recognition is replaced by it.

use crate::registry::{Duration, RetentionRule, Trigger, Unit};

/// One of Assent's own record kinds that Assent purges itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnRecords {
    RightsRequests,
}

impl OwnRecords {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnRecords::RightsRequests => "rights_requests",
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
    let names_rights = matches!(rule.id.as_str(), "rights-requests" | "rights_requests");
    let same_period = rule.trigger == Trigger::EndOfCalendarYear
        && rule.period.seconds() == RIGHTS_REQUESTS_PERIOD.seconds();
    (names_rights && same_period).then_some(OwnRecords::RightsRequests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RetentionAction;

    fn rule(id: &str, period: &str, trigger: Trigger) -> RetentionRule {
        RetentionRule {
            id: id.into(),
            data_category: crate::registry::Text::Plain("x".into()),
            period: period.parse().unwrap_or(RIGHTS_REQUESTS_PERIOD),
            trigger,
            archive: None,
            action: RetentionAction::Delete,
            description: None,
        }
    }

    #[test]
    fn only_the_rights_rule_with_assents_period_is_assents() {
        let r = rule("rights-requests", "2 years", Trigger::EndOfCalendarYear);
        assert_eq!(enforced_by_assent(&r), Some(OwnRecords::RightsRequests));
        // Another period than the one Assent applies: not claimed.
        let r = rule("rights-requests", "5 years", Trigger::EndOfCalendarYear);
        assert_eq!(enforced_by_assent(&r), None);
        let r = rule("rights-requests", "2 years", Trigger::Collection);
        assert_eq!(enforced_by_assent(&r), None);
        let r = rule("prospects", "2 years", Trigger::EndOfCalendarYear);
        assert_eq!(enforced_by_assent(&r), None);
    }
}
