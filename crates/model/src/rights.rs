//! Data-subject rights requests: the request types, the status machine and the legal
//! deadlines. Pure functions of their inputs (times are epoch milliseconds passed in), so the
//! server, the store and the tests agree on every date.
//!
//! # Deadline rules (documented in `docs/rights-requests.md`)
//!
//! * **Received** at submission (not at identity verification): the one-month period of
//!   GDPR Art. 12(3) starts when the request reaches the controller.
//! * **Due** = the same day of the next month, in the controller's time zone, or that month's
//!   last day when it has none (31 January -> 28/29 February), per Regulation 1182/71 Art.
//!   3(2)(c). The period ends "with the expiry of the last hour" of that day, so `due_at` is
//!   the last millisecond of that day in the controller's zone (23:59:59.999 local time).
//!   Assent does not push a deadline falling on a weekend or public holiday to the next
//!   working day (Art. 3(4)): holidays differ by country and an earlier deadline is the safe
//!   side.
//! * **Extension**: once, by two months counted from the original due date (same clamping:
//!   28 February + 2 months = 28 April), end of that day; only before the original due date
//!   has passed, only with a written reason, and only after the requester has been told.
//! * **Reminders** to the DPO 7 days and 1 day (calendar days, controller's zone) before the
//!   effective due date.
//! * **Retention** of the request record is a retention rule like any other
//!   (`applies_to = "rights_requests"`, `crate::retention`); Assent's default is the calendar
//!   year of the request plus two years (seed 004: received in 2026 -> erased from 1 January
//!   2029, controller's zone).

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

crate::codes::worded_enum! {
    /// The rights a request can exercise (GDPR Arts. 15-22, French post-mortem instructions).
    /// `as_str` is the code used in the API, the forms and the store; `label` the request in
    /// words, for the rights form and the answers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RequestType {
        Access => "access", ["Access to my data (a copy)", "Accès à mes données (copie)", "Auskunft über meine Daten (Kopie)"],
        Rectification => "rectification", ["Rectification of inaccurate data", "Rectification de données inexactes", "Berichtigung unrichtiger Daten"],
        Erasure => "erasure", ["Erasure of my data", "Effacement de mes données", "Löschung meiner Daten"],
        Restriction => "restriction", ["Restriction of processing", "Limitation du traitement", "Einschränkung der Verarbeitung"],
        Objection => "objection", ["Objection to processing (including direct marketing)", "Opposition au traitement (dont la prospection)", "Widerspruch gegen die Verarbeitung (auch gegen Direktwerbung)"],
        Portability => "portability", ["Portability (JSON/CSV export)", "Portabilité (export JSON/CSV)", "Datenübertragbarkeit (Export als JSON/CSV)"],
        WithdrawConsent => "withdraw_consent", ["Withdrawal of my consent", "Retrait de mon consentement", "Widerruf meiner Einwilligung"],
        ObjectProfiling => "object_profiling", ["Objection to profiling", "Opposition au profilage", "Widerspruch gegen Profiling"],
        PostMortem => "post_mortem", ["Post-mortem instructions (French law, art. 85)", "Directives post mortem (art. 85 loi Informatique et Libertés)", "Verfügungen für den Todesfall (Art. 85 des französischen Datenschutzgesetzes)"],
    }
}

impl RequestType {
    /// Requests that also change the subject's consent state when the subject can be
    /// linked (by a consent receipt id): every consent-requiring purpose is refused.
    pub fn withdraws_consent(self) -> bool {
        matches!(
            self,
            RequestType::WithdrawConsent | RequestType::Objection | RequestType::ObjectProfiling
        )
    }

    /// Requests whose answer is a copy of the data (a JSON or CSV export attached).
    pub fn expects_export(self) -> bool {
        matches!(self, RequestType::Access | RequestType::Portability)
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::codes::coded_enum! {
    /// Where a request stands. `received -> verified -> in_progress -> (extended) -> completed |
    /// rejected`; see [`Status::can_go`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Status {
        /// Submitted; the requester has not yet confirmed their email address.
        Received => "received",
        /// The requester confirmed their email address.
        Verified => "verified",
        /// The DPO is working on it.
        InProgress => "in_progress",
        /// The deadline was extended by two months (the work continues).
        Extended => "extended",
        Completed => "completed",
        Rejected => "rejected",
    }
}

impl Status {
    /// Completed or rejected: nothing more happens but retention.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Completed | Status::Rejected)
    }

    /// The legal transitions. A rejection is possible from any open state (e.g. the
    /// requester's identity could not be verified, Art. 12(2)); a completion needs the work
    /// to have started.
    pub fn can_go(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Received, Verified)
                | (Verified, InProgress)
                | (Verified | InProgress, Extended)
                | (InProgress | Extended, Completed)
                | (Received | Verified | InProgress | Extended, Rejected)
        )
    }

    /// `Ok(to)` if the transition is legal, else an error naming both states.
    pub fn go(self, to: Status) -> Result<Status, RightsError> {
        if self.can_go(to) {
            Ok(to)
        } else {
            Err(RightsError::Transition { from: self, to })
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rights operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RightsError {
    #[error("illegal transition from {from} to {to}")]
    Transition { from: Status, to: Status },
    #[error("unknown time zone `{0}`")]
    TimeZone(String),
    #[error("time out of range")]
    Range,
    #[error("an extension needs a written reason")]
    NoReason,
    #[error("the requester must be told of the extension and its reason before it is recorded")]
    NotNotified,
    #[error("the deadline can be extended only once")]
    AlreadyExtended,
    #[error("the deadline can only be extended before the original due date ({due})")]
    TooLate { due: String },
}

impl RightsError {
    /// A stable machine code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            RightsError::Transition { .. } => "illegal_transition",
            RightsError::TimeZone(_) => "bad_time_zone",
            RightsError::Range => "time_out_of_range",
            RightsError::NoReason => "reason_required",
            RightsError::NotNotified => "not_notified",
            RightsError::AlreadyExtended => "already_extended",
            RightsError::TooLate { .. } => "extension_too_late",
        }
    }
}

/// Resolves an IANA time zone name.
pub fn time_zone(name: &str) -> Result<TimeZone, RightsError> {
    TimeZone::get(name).map_err(|_| RightsError::TimeZone(name.to_owned()))
}

fn ts(ms: i64) -> Result<Timestamp, RightsError> {
    Timestamp::from_millisecond(ms).map_err(|_| RightsError::Range)
}

/// The calendar date of an instant in a zone.
pub fn local_date(ms: i64, tz: &TimeZone) -> Result<Date, RightsError> {
    Ok(ts(ms)?.to_zoned_datetime(tz.clone()).date())
}

/// The last millisecond of `date` in `tz` (the start of the next day minus 1 ms, so days
/// shortened or lengthened by a DST change are handled).
pub fn end_of_day(date: Date, tz: &TimeZone) -> Result<i64, RightsError> {
    let next = date
        .checked_add(Span::new().try_days(1).map_err(|_| RightsError::Range)?)
        .map_err(|_| RightsError::Range)?;
    let start = next
        .to_zoned_datetime(tz.clone())
        .map_err(|_| RightsError::Range)?;
    Ok(start.timestamp().as_millisecond() - 1)
}

fn add_months(date: Date, months: i64) -> Result<Date, RightsError> {
    // jiff constrains to the month's last day: 2027-01-31 + 1 month = 2027-02-28.
    date.checked_add(
        Span::new()
            .try_months(months)
            .map_err(|_| RightsError::Range)?,
    )
    .map_err(|_| RightsError::Range)
}

/// Due date of a request received at `received_ms`: the end of the same day one month later
/// in the controller's zone (Regulation 1182/71).
pub fn due_at(received_ms: i64, tz: &TimeZone) -> Result<i64, RightsError> {
    let d = local_date(received_ms, tz)?;
    end_of_day(add_months(d, 1)?, tz)
}

/// The extended due date: two months after the original due date's day, end of day.
pub fn extended_due_at(due_ms: i64, tz: &TimeZone) -> Result<i64, RightsError> {
    let d = local_date(due_ms, tz)?;
    end_of_day(add_months(d, 2)?, tz)
}

/// Which DPO reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reminder {
    SevenDays,
    OneDay,
}

impl Reminder {
    pub fn as_str(self) -> &'static str {
        match self {
            Reminder::SevenDays => "7d",
            Reminder::OneDay => "1d",
        }
    }
    pub fn days(self) -> i64 {
        match self {
            Reminder::SevenDays => 7,
            Reminder::OneDay => 1,
        }
    }
}

/// When a reminder is due: `days` calendar days before the due instant, in the zone.
pub fn reminder_at(due_ms: i64, reminder: Reminder, tz: &TimeZone) -> Result<i64, RightsError> {
    let z = ts(due_ms)?.to_zoned_datetime(tz.clone());
    let back = Span::new()
        .try_days(reminder.days())
        .map_err(|_| RightsError::Range)?;
    Ok(z.checked_sub(back)
        .map_err(|_| RightsError::Range)?
        .timestamp()
        .as_millisecond())
}

/// The deadline-bearing state of a request: what the status machine and the clock need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub status: Status,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub extended_due_at_ms: Option<i64>,
    pub extension_reason: Option<String>,
    pub closed_at_ms: Option<i64>,
}

impl Deadlines {
    /// A new request received at `received_ms`.
    pub fn new(received_ms: i64, tz: &TimeZone) -> Result<Self, RightsError> {
        Ok(Self {
            status: Status::Received,
            received_at_ms: received_ms,
            due_at_ms: due_at(received_ms, tz)?,
            extended_due_at_ms: None,
            extension_reason: None,
            closed_at_ms: None,
        })
    }

    /// The due date in force (extended or original).
    pub fn effective_due(&self) -> i64 {
        self.extended_due_at_ms.unwrap_or(self.due_at_ms)
    }

    /// Open and past its effective due date.
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        !self.status.is_closed() && now_ms > self.effective_due()
    }

    pub fn verify(&mut self) -> Result<(), RightsError> {
        self.status = self.status.go(Status::Verified)?;
        Ok(())
    }

    pub fn start(&mut self) -> Result<(), RightsError> {
        self.status = self.status.go(Status::InProgress)?;
        Ok(())
    }

    /// Checks an extension without applying it (the server emails the requester between
    /// the check and [`Deadlines::extend`]). Returns the new due date.
    pub fn check_extend(
        &self,
        reason: &str,
        now_ms: i64,
        tz: &TimeZone,
    ) -> Result<i64, RightsError> {
        if self.extended_due_at_ms.is_some() {
            return Err(RightsError::AlreadyExtended);
        }
        self.status.go(Status::Extended)?;
        if reason.trim().is_empty() {
            return Err(RightsError::NoReason);
        }
        if now_ms > self.due_at_ms {
            return Err(RightsError::TooLate {
                due: crate::clock::rfc3339(self.due_at_ms),
            });
        }
        extended_due_at(self.due_at_ms, tz)
    }

    /// Extends the deadline by two months. `notified_at_ms` is when the requester was sent
    /// the extension and its reason: it must exist and fall within the first period.
    pub fn extend(
        &mut self,
        reason: &str,
        notified_at_ms: Option<i64>,
        now_ms: i64,
        tz: &TimeZone,
    ) -> Result<(), RightsError> {
        let new_due = self.check_extend(reason, now_ms, tz)?;
        match notified_at_ms {
            Some(t) if t <= now_ms && t <= self.due_at_ms && t >= self.received_at_ms => {}
            _ => return Err(RightsError::NotNotified),
        }
        self.status = Status::Extended;
        self.extended_due_at_ms = Some(new_due);
        self.extension_reason = Some(reason.trim().to_owned());
        Ok(())
    }

    pub fn complete(&mut self, now_ms: i64) -> Result<(), RightsError> {
        self.status = self.status.go(Status::Completed)?;
        self.closed_at_ms = Some(now_ms);
        Ok(())
    }

    pub fn reject(&mut self, now_ms: i64) -> Result<(), RightsError> {
        self.status = self.status.go(Status::Rejected)?;
        self.closed_at_ms = Some(now_ms);
        Ok(())
    }

    /// Reminders that are due at `now_ms` (open requests only), most urgent last.
    pub fn reminders_due(&self, now_ms: i64, tz: &TimeZone) -> Result<Vec<Reminder>, RightsError> {
        if self.status.is_closed() {
            return Ok(vec![]);
        }
        let due = self.effective_due();
        let mut out = vec![];
        for r in [Reminder::SevenDays, Reminder::OneDay] {
            if now_ms >= reminder_at(due, r, tz)? && now_ms <= due {
                out.push(r);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{parse_time, rfc3339};

    fn t(s: &str) -> i64 {
        parse_time(s).unwrap_or_else(|| panic!("bad time {s}"))
    }
    fn tz(name: &str) -> TimeZone {
        time_zone(name).unwrap()
    }

    /// (received, zone, due) — `due` is the last millisecond of the local day, in UTC.
    const DUE: &[(&str, &str, &str)] = &[
        // Plain month.
        ("2026-03-10T09:00:00Z", "UTC", "2026-04-10T23:59:59.999Z"),
        // Month ends: 31 January -> last day of February.
        ("2027-01-31T12:00:00Z", "UTC", "2027-02-28T23:59:59.999Z"),
        ("2028-01-31T12:00:00Z", "UTC", "2028-02-29T23:59:59.999Z"),
        ("2028-01-30T12:00:00Z", "UTC", "2028-02-29T23:59:59.999Z"),
        ("2028-01-29T12:00:00Z", "UTC", "2028-02-29T23:59:59.999Z"),
        ("2028-01-28T12:00:00Z", "UTC", "2028-02-28T23:59:59.999Z"),
        ("2026-03-31T12:00:00Z", "UTC", "2026-04-30T23:59:59.999Z"),
        ("2026-08-31T12:00:00Z", "UTC", "2026-09-30T23:59:59.999Z"),
        ("2026-12-31T12:00:00Z", "UTC", "2027-01-31T23:59:59.999Z"),
        ("2026-02-28T12:00:00Z", "UTC", "2026-03-28T23:59:59.999Z"),
        // Paris in winter (UTC+1): end of day is 22:59:59.999Z.
        (
            "2027-01-31T12:00:00Z",
            "Europe/Paris",
            "2027-02-28T22:59:59.999Z",
        ),
        // 23:30 UTC on 31 January is already 1 February in Paris: due 1 March.
        (
            "2027-01-31T23:30:00Z",
            "Europe/Paris",
            "2027-03-01T22:59:59.999Z",
        ),
        // ... and still 31 January in New York.
        (
            "2027-02-01T03:00:00Z",
            "America/New_York",
            "2027-03-01T04:59:59.999Z",
        ),
        // DST: received in winter time, due in summer time (Paris switches 28 March 2027).
        (
            "2027-02-28T10:00:00Z",
            "Europe/Paris",
            "2027-03-28T21:59:59.999Z",
        ),
        // Received on the day of the switch itself, due in April (UTC+2).
        (
            "2027-03-28T10:00:00Z",
            "Europe/Paris",
            "2027-04-28T21:59:59.999Z",
        ),
        // Summer -> winter: due on 25 October 2026, the day Paris falls back (a 25 h day).
        (
            "2026-09-25T10:00:00Z",
            "Europe/Paris",
            "2026-10-25T22:59:59.999Z",
        ),
        // 22:30 UTC on 30 September is 1 October in Paris (UTC+2).
        (
            "2027-09-30T22:30:00Z",
            "Europe/Paris",
            "2027-11-01T22:59:59.999Z",
        ),
        (
            "2027-10-01T08:00:00Z",
            "Europe/Paris",
            "2027-11-01T22:59:59.999Z",
        ),
    ];

    #[test]
    fn due_dates() {
        for (received, zone, due) in DUE {
            let got = due_at(t(received), &tz(zone)).unwrap();
            assert_eq!(
                rfc3339(got),
                rfc3339(t(due)),
                "received {received} in {zone}"
            );
        }
    }

    /// (original due, zone, extended due)
    const EXTENDED: &[(&str, &str, &str)] = &[
        (
            "2027-02-28T23:59:59.999Z",
            "UTC",
            "2027-04-28T23:59:59.999Z",
        ),
        (
            "2027-12-31T23:59:59.999Z",
            "UTC",
            "2028-02-29T23:59:59.999Z",
        ),
        (
            "2026-04-10T23:59:59.999Z",
            "UTC",
            "2026-06-10T23:59:59.999Z",
        ),
        // Winter -> summer time in Paris.
        (
            "2027-02-28T22:59:59.999Z",
            "Europe/Paris",
            "2027-04-28T21:59:59.999Z",
        ),
        (
            "2027-08-31T21:59:59.999Z",
            "Europe/Paris",
            "2027-10-31T22:59:59.999Z",
        ),
    ];

    #[test]
    fn extended_due_dates() {
        for (due, zone, ext) in EXTENDED {
            let got = extended_due_at(t(due), &tz(zone)).unwrap();
            assert_eq!(rfc3339(got), rfc3339(t(ext)), "due {due} in {zone}");
        }
    }

    #[test]
    fn extension_rules() {
        let z = tz("Europe/Paris");
        let received = t("2027-01-31T12:00:00Z");
        let mut d = Deadlines::new(received, &z).unwrap();
        assert_eq!(rfc3339(d.due_at_ms), "2027-02-28T22:59:59.999Z");
        let now = t("2027-02-10T10:00:00Z");
        // Not before verification.
        assert!(matches!(
            d.extend("complex", Some(now), now, &z),
            Err(RightsError::Transition {
                from: Status::Received,
                to: Status::Extended
            })
        ));
        d.verify().unwrap();
        d.start().unwrap();
        assert_eq!(
            d.extend("  ", Some(now), now, &z),
            Err(RightsError::NoReason)
        );
        assert_eq!(
            d.extend("complex", None, now, &z),
            Err(RightsError::NotNotified)
        );
        // Notified later than now: not yet notified.
        assert_eq!(
            d.extend("complex", Some(now + 1), now, &z),
            Err(RightsError::NotNotified)
        );
        // Too late: after the first due date.
        let late = d.due_at_ms + 1;
        assert!(matches!(
            d.extend("complex", Some(late), late, &z),
            Err(RightsError::TooLate { .. })
        ));
        // The last millisecond of the period still counts.
        let mut edge = d.clone();
        edge.extend("complex", Some(d.due_at_ms), d.due_at_ms, &z)
            .unwrap();
        // OK.
        d.extend(" volume of requests ", Some(now - 1000), now, &z)
            .unwrap();
        assert_eq!(d.status, Status::Extended);
        assert_eq!(d.extension_reason.as_deref(), Some("volume of requests"));
        assert_eq!(rfc3339(d.effective_due()), "2027-04-28T21:59:59.999Z");
        // Only once.
        assert_eq!(
            d.extend("again", Some(now), now, &z),
            Err(RightsError::AlreadyExtended)
        );
        // Overdue only after the extended date.
        assert!(!d.is_overdue(t("2027-03-15T00:00:00Z")));
        assert!(d.is_overdue(t("2027-04-28T22:00:00Z")));
        d.complete(t("2027-04-01T00:00:00Z")).unwrap();
        assert!(!d.is_overdue(t("2027-05-01T00:00:00Z")));
    }

    #[test]
    fn transitions() {
        use Status::*;
        let legal = [
            (Received, Verified),
            (Verified, InProgress),
            (Verified, Extended),
            (InProgress, Extended),
            (InProgress, Completed),
            (Extended, Completed),
            (Received, Rejected),
            (Verified, Rejected),
            (InProgress, Rejected),
            (Extended, Rejected),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_go(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        let e = Received.go(Completed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "illegal transition from received to completed"
        );
        assert_eq!(e.code(), "illegal_transition");
        let mut d = Deadlines::new(0, &TimeZone::UTC).unwrap();
        assert!(d.complete(1).is_err());
        d.reject(5).unwrap();
        assert_eq!(d.closed_at_ms, Some(5));
        assert!(d.reject(6).is_err());
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for r in RequestType::ALL {
            assert_eq!(RequestType::parse(r.as_str()), Some(r));
            for lang in crate::lang::LANGS {
                assert!(!r.label(lang).is_empty(), "{lang}");
            }
            assert_ne!(r.label("de"), r.label("en"));
        }
        assert_eq!(RequestType::parse("nope"), None);
    }

    #[test]
    fn reminders_and_overdue() {
        let z = tz("Europe/Paris");
        let mut d = Deadlines::new(t("2027-01-31T12:00:00Z"), &z).unwrap();
        // Due 2027-02-28T22:59:59.999Z; 7 days before: 2027-02-21T22:59:59.999Z.
        assert_eq!(
            rfc3339(reminder_at(d.due_at_ms, Reminder::SevenDays, &z).unwrap()),
            "2027-02-21T22:59:59.999Z"
        );
        assert!(
            d.reminders_due(t("2027-02-21T22:00:00Z"), &z)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            d.reminders_due(t("2027-02-22T00:00:00Z"), &z).unwrap(),
            vec![Reminder::SevenDays]
        );
        assert_eq!(
            d.reminders_due(t("2027-02-28T00:00:00Z"), &z).unwrap(),
            vec![Reminder::SevenDays, Reminder::OneDay]
        );
        assert!(d.reminders_due(d.due_at_ms + 1, &z).unwrap().is_empty());
        assert!(!d.is_overdue(d.due_at_ms));
        assert!(d.is_overdue(d.due_at_ms + 1));
        d.reject(d.due_at_ms).unwrap();
        assert!(
            d.reminders_due(t("2027-02-28T00:00:00Z"), &z)
                .unwrap()
                .is_empty()
        );
        // Across the DST change: 1 day before a due date in summer time.
        let due = t("2027-03-28T21:59:59.999Z");
        assert_eq!(
            rfc3339(reminder_at(due, Reminder::OneDay, &z).unwrap()),
            "2027-03-27T22:59:59.999Z"
        );
    }
}
