//! Dates and durations as the report needs them, without a calendar crate: cookie dates
//! (RFC 6265), UTC timestamps and lifetimes for humans.
//!
//! All arithmetic is on epoch milliseconds or seconds (`i64`); the proleptic Gregorian
//! calendar is exact over the whole range cookies use.

/// Parses cookie dates the way RFC 6265 §5.1.1 does (any order of time, day, month, year).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
    {
        if time.is_none() && token.contains(':') {
            let mut it = token.split(':').map(|p| p.parse::<i64>().ok());
            if let (Some(Some(h)), Some(Some(m)), Some(Some(sec))) =
                (it.next(), it.next(), it.next())
            {
                time = Some((h, m, sec));
                continue;
            }
        }
        if day.is_none() && token.len() <= 2 && token.chars().all(|c| c.is_ascii_digit()) {
            day = token.parse::<i64>().ok();
            continue;
        }
        if month.is_none() && token.len() >= 3 {
            let months = [
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ];
            let t = token[..3].to_ascii_lowercase();
            if let Some(i) = months.iter().position(|m| *m == t) {
                month = Some(i as i64 + 1);
                continue;
            }
        }
        if year.is_none()
            && (2..=4).contains(&token.len())
            && token.chars().all(|c| c.is_ascii_digit())
        {
            let mut y = token.parse::<i64>().ok()?;
            if (70..=99).contains(&y) {
                y += 1900;
            } else if (0..=69).contains(&y) {
                y += 2000;
            }
            year = Some(y);
        }
    }
    let ((h, mi, sec), d, mo, y) = (time?, day?, month?, year?);
    if !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 || y < 1601 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2025-01-31 12:00:00 UTC` for epoch milliseconds.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// A lifetime for humans: `730 days`, `3 hours`, `session`.
pub fn human_duration(secs: Option<i64>) -> String {
    let Some(s) = secs else {
        return "session".into();
    };
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if s >= 2 * 86_400 {
        plural((s + 43_200) / 86_400, "day")
    } else if s >= 2 * 3600 {
        plural((s + 1800) / 3600, "hour")
    } else if s >= 120 {
        plural((s + 30) / 60, "minute")
    } else {
        plural(s, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480_000)
        );
        assert_eq!(
            parse_http_date("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(1_445_412_480_000)
        );
        assert_eq!(
            parse_http_date("Wed Oct 21 07:28:00 2015"),
            Some(1_445_412_480_000)
        );
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(format_utc(1_445_412_480_000), "2015-10-21 07:28:00 UTC");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(None), "session");
        assert_eq!(human_duration(Some(63_072_000)), "730 days");
        assert_eq!(human_duration(Some(86_400)), "24 hours");
        assert_eq!(human_duration(Some(1800)), "30 minutes");
        assert_eq!(human_duration(Some(1)), "1 second");
    }
}
