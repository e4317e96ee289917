//! The dashboard's definitions (docs/dashboard.md): the counters a consent adds to, days in
//! the controller's time zone, the periods a dashboard covers, and the rates (Didomi's
//! definitions: opt-in rate = opt-ins ÷ banners shown, consent rate = opt-ins ÷ choices made).
//!
//! Invariant: a day is a number (days since 1970-01-01) of the controller's calendar, so a
//! consent at 23:30 in Paris counts on the Paris day, whatever the server's zone.

use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Counter of banner displays (the anonymous beacon).
pub const SHOWN: &str = "shown";
/// Counter of choices made under a Global Privacy Control signal.
pub const GPC: &str = "gpc";
/// Counters of the four actions, in the order of [`crate::consent::Action`].
pub const ACTIONS: [&str; 4] = ["accept_all", "reject_all", "custom", "withdraw"];
/// Prefix of a purpose's counter: choices that granted it.
pub const PURPOSE_PREFIX: &str = "purpose:";

const DAY_MS: i64 = 86_400_000;

/// One counter's value: (site, day, version, language, kind) and the count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatRow {
    pub site: String,
    pub day: i32,
    pub version: i64,
    pub lang: String,
    pub kind: String,
    pub n: i64,
}

/// The day number of instant `ms` in `tz`.
pub fn local_day(ms: i64, tz: &TimeZone) -> i32 {
    let offset_ms = jiff::Timestamp::from_millisecond(ms)
        .map(|ts| i64::from(tz.to_offset(ts).seconds()) * 1000)
        .unwrap_or(0);
    i32::try_from((ms + offset_ms).div_euclid(DAY_MS)).unwrap_or(i32::MAX)
}

/// The calendar date of a day number.
pub fn day_date(day: i32) -> Date {
    let epoch = jiff::civil::date(1970, 1, 1);
    epoch
        .checked_add(jiff::Span::new().days(i64::from(day)))
        .unwrap_or(epoch)
}

/// The day number of a calendar date.
pub fn date_day(d: Date) -> i32 {
    let epoch = jiff::civil::date(1970, 1, 1);
    // Days between two dates of jiff's range fit an i32.
    (d - epoch).get_days()
}

/// Longest custom period, in days.
pub const MAX_PERIOD_DAYS: i32 = 400;

/// Why a period was refused: the field at fault and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PeriodError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> PeriodError {
    PeriodError {
        field,
        message: message.into(),
    }
}

/// The days a dashboard covers, inclusive: `period` (`7`, `30`, `90` days ending `today`),
/// or `from`..`to` (`YYYY-MM-DD`, both needed, at most [`MAX_PERIOD_DAYS`]).
pub fn period(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: i32,
) -> Result<(i32, i32), PeriodError> {
    let date = |field: &'static str, s: &str| {
        s.parse::<Date>()
            .map(date_day)
            .map_err(|_| bad(field, format!("`{s}` is not a date like 2026-03-31")))
    };
    match (period, from, to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(bad(
            "period",
            "give either period (7, 30 or 90) or from and to, not both",
        )),
        (Some(p), None, None) => match p {
            "7" | "30" | "90" => {
                let n: i32 = p.parse().unwrap_or(30);
                Ok((today - n + 1, today))
            }
            _ => Err(bad("period", "period must be 7, 30 or 90 (days)")),
        },
        (None, Some(f), Some(t)) => {
            let (f, t) = (date("from", f)?, date("to", t)?);
            if t < f {
                return Err(bad("to", "to must not be before from"));
            }
            if t - f + 1 > MAX_PERIOD_DAYS {
                return Err(bad(
                    "to",
                    format!("a period covers at most {MAX_PERIOD_DAYS} days"),
                ));
            }
            Ok((f, t))
        }
        (None, Some(_), None) => Err(bad("to", "to is needed with from")),
        (None, None, Some(_)) => Err(bad("from", "from is needed with to")),
        (None, None, None) => Ok((today - 29, today)),
    }
}

/// `num ÷ den` as a share in [0, 1] (more only if the counters disagree), `None` when there
/// is nothing to divide by.
pub fn rate(num: i64, den: i64) -> Option<f64> {
    // Counts stay far below 2^53: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_controllers_calendar() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // 2026-03-31T22:30:00Z is 00:30 on 1 April in Paris (summer time).
        let ms = "2026-03-31T22:30:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let d = local_day(ms, &paris);
        assert_eq!(day_date(d), jiff::civil::date(2026, 4, 1));
        assert_eq!(local_day(ms, &TimeZone::UTC), d - 1);
        assert_eq!(date_day(jiff::civil::date(1970, 1, 2)), 1);
        assert_eq!(local_day(-1, &TimeZone::UTC), -1);
    }

    #[test]
    fn periods() {
        let today = date_day(jiff::civil::date(2026, 12, 3));
        assert_eq!(period(Some("7"), None, None, today), Ok((today - 6, today)));
        assert_eq!(period(None, None, None, today), Ok((today - 29, today)));
        assert_eq!(
            period(None, Some("2026-12-01"), Some("2026-12-03"), today),
            Ok((today - 2, today))
        );
        assert_eq!(
            period(Some("8"), None, None, today).unwrap_err().field,
            "period"
        );
        assert_eq!(
            period(None, Some("x"), Some("2026-01-01"), today)
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            period(None, Some("2026-01-02"), Some("2026-01-01"), today)
                .unwrap_err()
                .field,
            "to"
        );
        assert_eq!(
            period(None, Some("2020-01-01"), Some("2026-01-01"), today)
                .unwrap_err()
                .field,
            "to"
        );
        assert_eq!(
            period(None, None, Some("2026-01-01"), today)
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            period(Some("7"), Some("2026-01-01"), None, today)
                .unwrap_err()
                .field,
            "period"
        );
    }

    #[test]
    fn rates() {
        assert_eq!(rate(1, 4), Some(0.25));
        assert_eq!(rate(1, 0), None);
    }
}
