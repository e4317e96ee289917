//! Retention bound to data: what a `[[retention]]` rule applies to (`applies_to`), which
//! record time its trigger reads (the anchor), when a record falls due (the period in calendar
//! terms, in the controller's time zone, like the rights deadlines), Assent's default rules
//! for its own records when no rule binds them, and DPO holds. Pure functions: the clock and
//! the records are parameters; the app crate runs the plan and the purge.
//!
//! Invariants: a record anchored at `a` is due at `due_at(a)`, which never decreases when `a`
//! grows; [`anchor_cutoff`] is the largest anchor due at a given instant, so "due now" is one
//! range query on the anchor column. Every own kind has exactly one effective rule (the
//! registry's, else the default); rules bound to nothing Assent holds are stated as the
//! controller's or the operator's, never reported as enforced.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

pub use crate::applies_to::{AppliesTo, AppliesToError, Enforcer, OWN_KINDS};
use crate::registry::{Duration, Registry, RetentionAction, RetentionRule, Trigger, Unit};

/// The record time an own kind's rule counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// When the record was made (a consent's `created_at_ms`, a request's `received_at_ms`).
    Created,
    /// When a consent choice expires (`expires_at_ms`): a proof outlives the choice it proves.
    ChoiceExpiry,
}

/// The anchor an own kind's rule reads for `trigger`, or why that trigger cannot be bound.
pub fn own_anchor(kind: &AppliesTo, trigger: Trigger) -> Result<Anchor, String> {
    use Trigger::*;
    match (kind, trigger) {
        (AppliesTo::Consents, Collection) => Ok(Anchor::Created),
        (AppliesTo::Consents, ChoiceExpiry) => Ok(Anchor::ChoiceExpiry),
        (AppliesTo::RightsRequests, Collection | EndOfCalendarYear) => Ok(Anchor::Created),
        (AppliesTo::Consents, _) => Err(format!(
            "consent proofs are anchored at `collection` or `choice_expiry`, not `{}`",
            trigger.as_str()
        )),
        (AppliesTo::RightsRequests, _) => Err(format!(
            "rights requests are anchored at `collection` or `end_of_calendar_year` (of the \
             request), not `{}`",
            trigger.as_str()
        )),
        _ => Ok(Anchor::Created),
    }
}

/// A rule as Assent applies it: the registry's, or a documented default for an own kind.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRule {
    pub id: String,
    pub applies_to: Option<AppliesTo>,
    pub period: Duration,
    pub trigger: Trigger,
    pub action: RetentionAction,
    /// For a datastore table: the anchor column(s), the latest counting.
    pub anchor: Vec<String>,
    pub reconfirm_days_before: Option<u32>,
    /// Assent's default for an own kind no registry rule binds.
    pub default: bool,
}

impl EffectiveRule {
    fn from_rule(r: &RetentionRule) -> Self {
        EffectiveRule {
            id: r.id.clone(),
            applies_to: r.applies_to.clone(),
            period: r.period,
            trigger: r.trigger,
            action: r.action,
            anchor: r.anchor.clone(),
            reconfirm_days_before: r.reconfirm_days_before,
            default: false,
        }
    }
    /// Who enforces it (a rule bound to nothing is the controller's).
    pub fn enforcer(&self) -> (Enforcer, &'static str) {
        match &self.applies_to {
            Some(a) => a.enforcer(),
            None => (
                Enforcer::Controller,
                "bound to no data Assent holds: the controller enforces it",
            ),
        }
    }
    /// `applies_to` as printed, `None` for a rule bound to nothing.
    pub fn applies_to_code(&self) -> Option<String> {
        self.applies_to.as_ref().map(AppliesTo::code)
    }
}

/// Assent's default rule for an own kind (documented in `docs/registry.md`), `None` for the
/// kinds that have no records in Assent.
///
/// * `consents`: 5 years after the choice expires. The proof must outlive the choice it
///   proves; 5 years is the general limitation period of civil claims in France (Code civil
///   art. 2224) and within which a supervisory authority's inquiry usually falls.
/// * `rights_requests`: the calendar year of the request + 2 years (seed 004).
/// * `marketing`: 3 years after the last contact from the person (CNIL).
/// * `scan_reports`: 3 years after the scan. They hold no personal data; they are the
///   operator's evidence that the site was audited (accountability, GDPR Art. 5(2)), kept as
///   long as a supervisory authority's inquiry about the period usually reaches back.
pub fn default_rule(kind: &AppliesTo) -> Option<EffectiveRule> {
    let (period, trigger) = match kind {
        AppliesTo::Consents => (years(5), Trigger::ChoiceExpiry),
        AppliesTo::RightsRequests => (years(2), Trigger::EndOfCalendarYear),
        AppliesTo::Marketing => (years(3), Trigger::LastContact),
        AppliesTo::ScanReports => (years(3), Trigger::Collection),
        _ => return None,
    };
    Some(EffectiveRule {
        id: format!("default:{}", kind.code()),
        applies_to: Some(kind.clone()),
        period,
        trigger,
        action: RetentionAction::Delete,
        anchor: vec![],
        reconfirm_days_before: None,
        default: true,
    })
}

fn years(n: u32) -> Duration {
    Duration {
        amount: n,
        unit: Unit::Years,
    }
}

/// The registry's rules in order, then the defaults of the own kinds no rule binds.
pub fn effective_rules(r: &Registry) -> Vec<EffectiveRule> {
    let mut out: Vec<EffectiveRule> = r.retention.iter().map(EffectiveRule::from_rule).collect();
    for kind in OWN_KINDS.iter() {
        if !r
            .retention
            .iter()
            .any(|rr| rr.applies_to.as_ref() == Some(kind))
            && let Some(d) = default_rule(kind)
        {
            out.push(d);
        }
    }
    out
}

fn zoned(ms: i64, tz: &TimeZone) -> Option<jiff::ZonedDateTime> {
    Some(
        Timestamp::from_millisecond(ms)
            .ok()?
            .to_zoned_datetime(tz.clone()),
    )
}

/// When a record anchored at `anchor_ms` falls due: the anchor (or, for
/// `end_of_calendar_year`, 1 January 00:00 after the anchor's calendar year) plus the period
/// in calendar terms, in the controller's zone (a date clamped to a shorter month's last day
/// falls due at the end of that day). `None` out of range.
pub fn due_at(anchor_ms: i64, period: Duration, trigger: Trigger, tz: &TimeZone) -> Option<i64> {
    let mut z = zoned(anchor_ms, tz)?;
    if trigger == Trigger::EndOfCalendarYear {
        let d: Date = z.date();
        let next = Date::new(d.year().checked_add(1)?, 1, 1).ok()?;
        z = next.to_zoned_datetime(tz.clone()).ok()?;
    }
    let out = period.add_to(&z)?;
    if !matches!(period.unit, Unit::Months | Unit::Years) || out.day() == z.day() {
        return Some(out.timestamp().as_millisecond());
    }
    // Clamped to a shorter month's last day (31 January + 1 month = 28 February): due at the
    // end of that day, so that `due_at` never decreases as the anchor grows.
    let next = out.date().checked_add(jiff::Span::new().days(1)).ok()?;
    Some(
        next.to_zoned_datetime(tz.clone())
            .ok()?
            .timestamp()
            .as_millisecond()
            - 1,
    )
}

/// The largest anchor whose record is due at `now_ms` (records with an anchor at or before
/// it are due), `None` when none can be. Found by bisection on [`due_at`], which never
/// decreases as the anchor grows (a date clamped to a month's end is due at the end of that
/// day), so the cutoff is exact.
pub fn anchor_cutoff(
    now_ms: i64,
    period: Duration,
    trigger: Trigger,
    tz: &TimeZone,
) -> Option<i64> {
    let due = |a: i64| due_at(a, period, trigger, tz);
    let slack = 400 * 86_400_000_i64;
    let mut lo = now_ms
        .checked_sub(period.seconds().checked_mul(1000)?)?
        .checked_sub(slack)?;
    if due(lo)? > now_ms {
        return None;
    }
    // Invariant: due(lo) <= now; hi is past the answer (due(now + 1) > now for a period >= 0
    // except "0 days" where the answer is now itself).
    let mut hi = now_ms.checked_add(1)?;
    if due(hi).is_some_and(|d| d <= now_ms) {
        return Some(hi);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match due(mid) {
            Some(d) if d <= now_ms => lo = mid,
            _ => hi = mid,
        }
    }
    Some(lo)
}

/// A hold set by the DPO: the person's records are not purged while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: String,
    /// Who: a consent subject id, a requester's email or a rights request id.
    pub person: String,
    pub reason: String,
    /// The hold ends at this instant (`None`: until lifted).
    pub until_ms: Option<i64>,
    pub created_at_ms: i64,
    pub lifted_at_ms: Option<i64>,
}

impl Hold {
    /// Whether the hold is in force at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        self.lifted_at_ms.is_none() && self.until_ms.is_none_or(|u| now_ms < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }
    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }
    fn d(s: &str) -> Duration {
        s.parse().unwrap()
    }

    #[test]
    fn applies_to_parses() {
        assert_eq!("consents".parse::<AppliesTo>(), Ok(AppliesTo::Consents));
        assert_eq!(
            "crm.contacts".parse::<AppliesTo>(),
            Ok(AppliesTo::Table {
                datastore: "crm".into(),
                table: "contacts".into()
            })
        );
        assert_eq!(
            "crm.contacts".parse::<AppliesTo>().unwrap().code(),
            "crm.contacts"
        );
        for bad in ["consent", "a.b.c", ".x", "x.", "cr m.t", ""] {
            assert!(bad.parse::<AppliesTo>().is_err(), "{bad}");
        }
    }

    #[test]
    fn calendar_year_of_the_request_plus_two() {
        let z = paris();
        // A request of 10 May 2026: due 1 January 2029, 00:00 Paris.
        let due = due_at(
            t("2026-05-10T10:00:00Z"),
            d("2 years"),
            Trigger::EndOfCalendarYear,
            &z,
        );
        assert_eq!(due, Some(t("2028-12-31T23:00:00Z")));
        // 31 December 2026 23:30 UTC is already 2027 in Paris.
        let due = due_at(
            t("2026-12-31T23:30:00Z"),
            d("2 years"),
            Trigger::EndOfCalendarYear,
            &z,
        );
        assert_eq!(due, Some(t("2029-12-31T23:00:00Z")));
    }

    #[test]
    fn months_clamp_and_cutoff_is_exact() {
        let z = TimeZone::UTC;
        let p = d("1 month");
        let now = t("2027-02-28T12:00:00Z");
        let cut = anchor_cutoff(now, p, Trigger::Collection, &z).unwrap();
        // 29-31 January are clamped to 28 February, due at the end of that day: never earlier
        // than 28 January's records, so the due records are a prefix of the anchors.
        assert_eq!(
            due_at(t("2027-01-31T12:00:00Z"), p, Trigger::Collection, &z),
            Some(t("2027-02-28T23:59:59.999Z"))
        );
        assert_eq!(cut, t("2027-01-28T12:00:00Z"));
        let end = t("2027-02-28T23:59:59.999Z");
        assert_eq!(
            anchor_cutoff(end, p, Trigger::Collection, &z),
            Some(t("2027-01-31T23:59:59.999Z"))
        );
        // Without clamping the cutoff is exact: 15 January 12:00 is due at 15 February 12:00.
        let now = t("2027-02-15T12:00:00Z");
        assert_eq!(
            anchor_cutoff(now, p, Trigger::Collection, &z),
            Some(t("2027-01-15T12:00:00Z"))
        );
        let cut = anchor_cutoff(
            t("2029-01-01T00:00:00Z"),
            d("2 years"),
            Trigger::EndOfCalendarYear,
            &paris(),
        )
        .unwrap();
        assert_eq!(cut, t("2026-12-31T22:59:59.999Z"));
        assert_eq!(
            anchor_cutoff(5, d("0 days"), Trigger::Collection, &z),
            Some(5)
        );
    }

    #[test]
    fn defaults_fill_unbound_kinds() {
        let reg: Registry = toml::from_str(
            r#"
            [controller]
            name = "X"
            address = "1 rue"
            country = "FR"
            email = "dpo@x.fr"
            [controller.supervisory_authority]
            name = "CNIL"
            [[retention]]
            id = "rr"
            data_category = "Requests"
            period = "3 years"
            trigger = "end_of_calendar_year"
            applies_to = "rights_requests"
            "#,
        )
        .unwrap();
        let ids: Vec<String> = effective_rules(&reg).into_iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "rr",
                "default:consents",
                "default:scan_reports",
                "default:marketing"
            ]
        );
        assert!(own_anchor(&AppliesTo::Consents, Trigger::ContractEnd).is_err());
    }

    #[test]
    fn holds() {
        let mut h = Hold {
            id: "h".into(),
            person: "s".into(),
            reason: "litigation".into(),
            until_ms: Some(10),
            created_at_ms: 0,
            lifted_at_ms: None,
        };
        assert!(h.active(9) && !h.active(10));
        h.until_ms = None;
        h.lifted_at_ms = Some(3);
        assert!(!h.active(1));
    }
}
