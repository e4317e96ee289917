//! Words that are not a plain catalog lookup: dates, durations with their plurals, country
//! names, and the labels of the registry's enums (legal bases, transfer safeguards, retention
//! triggers). All come from the message catalogs ([`crate::i18n`]), so a new language gets
//! them by adding its file; the English and French words are those the model crate uses
//! (`LegalBasis::label`, `Duration::display`, ...), so the pages and the stored texts agree.

use assent_model::registry::{
    Duration, LegalBasis, Lifetime, RetentionAction, RetentionRule, Safeguard, Trigger, Unit,
};

use crate::i18n::texts;

/// The label of a legal basis of Art. 6(1).
pub fn basis(b: LegalBasis, lang: &str) -> &'static str {
    let t = texts(lang);
    match b {
        LegalBasis::Consent => t.get("basis.consent"),
        LegalBasis::Contract => t.get("basis.contract"),
        LegalBasis::LegalObligation => t.get("basis.legal_obligation"),
        LegalBasis::VitalInterests => t.get("basis.vital_interests"),
        LegalBasis::PublicTask => t.get("basis.public_task"),
        LegalBasis::LegitimateInterest => t.get("basis.legitimate_interest"),
    }
}

/// The label of a transfer safeguard of Chapter V.
pub fn safeguard(g: Safeguard, lang: &str) -> &'static str {
    let t = texts(lang);
    match g {
        Safeguard::Adequacy => t.get("safeguard.adequacy"),
        Safeguard::Dpf => t.get("safeguard.dpf"),
        Safeguard::Scc => t.get("safeguard.scc"),
        Safeguard::Bcr => t.get("safeguard.bcr"),
        Safeguard::Derogation => t.get("safeguard.derogation"),
    }
}

/// When a retention period starts, in words ("from collection").
pub fn trigger(tr: Trigger, lang: &str) -> &'static str {
    let t = texts(lang);
    match tr {
        Trigger::Collection => t.get("trigger.collection"),
        Trigger::LastContact => t.get("trigger.last_contact"),
        Trigger::LastActivity => t.get("trigger.last_activity"),
        Trigger::ContractEnd => t.get("trigger.contract_end"),
        Trigger::AccountClosure => t.get("trigger.account_closure"),
        Trigger::ConsentWithdrawal => t.get("trigger.consent_withdrawal"),
        Trigger::EndOfCalendarYear => t.get("trigger.end_of_calendar_year"),
        Trigger::ChoiceExpiry => t.get("trigger.choice_expiry"),
    }
}

/// "6 months", "1 hour", "6 mois", "6 Monate": the amount and the unit, singular for 1.
pub fn duration(d: Duration, lang: &str) -> String {
    let t = texts(lang);
    let one = d.amount == 1;
    let key = match (d.unit, one) {
        (Unit::Minutes, true) => "duration.minutes.one",
        (Unit::Minutes, false) => "duration.minutes.other",
        (Unit::Hours, true) => "duration.hours.one",
        (Unit::Hours, false) => "duration.hours.other",
        (Unit::Days, true) => "duration.days.one",
        (Unit::Days, false) => "duration.days.other",
        (Unit::Weeks, true) => "duration.weeks.one",
        (Unit::Weeks, false) => "duration.weeks.other",
        (Unit::Months, true) => "duration.months.one",
        (Unit::Months, false) => "duration.months.other",
        (Unit::Years, true) => "duration.years.one",
        (Unit::Years, false) => "duration.years.other",
    };
    t.fill(key, &[("n", &d.amount)])
}

/// A tracker's lifetime: "Session" or a duration.
pub fn lifetime(l: Lifetime, lang: &str) -> String {
    match l {
        Lifetime::Session => texts(lang).get("duration.session").to_string(),
        Lifetime::For(d) => duration(d, lang),
    }
}

/// A consent lifetime in words: "6 months" for 182 days, "13 months" for 395, else days.
pub fn lifetime_days(days: u32, lang: &str) -> String {
    let months = (u64::from(days) * 12 + 182) / 365;
    let back = months * 365 / 12;
    let near = back.abs_diff(u64::from(days)) <= 2;
    let t = texts(lang);
    match (near && months > 0, months == 1, days == 1) {
        (true, true, _) => t.fill("duration.months.one", &[("n", &months)]),
        (true, false, _) => t.fill("duration.months.other", &[("n", &months)]),
        (false, _, true) => t.fill("duration.days.one", &[("n", &days)]),
        (false, _, false) => t.fill("duration.days.other", &[("n", &days)]),
    }
}

/// The civil date of an instant in the controller's time zone (UTC when the zone is unknown):
/// `(year, month 1-12, day)`.
pub fn civil_date(ms: i64, tz: &str) -> Option<(i16, i8, i8)> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = ts.to_zoned_datetime(zone).date();
    Some((d.year(), d.month(), d.day()))
}

const MONTHS: [&str; 12] = [
    "date.month.1",
    "date.month.2",
    "date.month.3",
    "date.month.4",
    "date.month.5",
    "date.month.6",
    "date.month.7",
    "date.month.8",
    "date.month.9",
    "date.month.10",
    "date.month.11",
    "date.month.12",
];

/// "21 September 2026", "21 septembre 2026", "21. September 2026" (the first of the month is
/// "1er" in French: the catalog's `date.day_first`).
pub fn long_date(ms: i64, tz: &str, lang: &str) -> String {
    let Some((y, m, d)) = civil_date(ms, tz) else {
        return String::from("?");
    };
    let t = texts(lang);
    let idx = usize::try_from(m - 1).unwrap_or(0).min(11);
    let month = MONTHS.get(idx).map_or("", |k| t.get(k));
    let day = if d == 1 {
        t.get("date.day_first").to_string()
    } else {
        d.to_string()
    };
    t.fill(
        "date.long",
        &[("day", &day), ("month", &month), ("year", &y)],
    )
}

/// `YYYY-MM-DD` in the controller's time zone.
pub fn iso_date(ms: i64, tz: &str) -> String {
    match civil_date(ms, tz) {
        Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
        None => String::from("?"),
    }
}

/// Country name for the ISO code (the codes of the catalogs' `country.XX` keys; otherwise the
/// code itself).
pub fn country(code: &str, lang: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    let c = if c == "UK" { "GB".to_string() } else { c };
    let key = format!("country.{c}");
    let t = texts(lang);
    let name = t.get(&key);
    if name == key {
        code.to_string()
    } else {
        name.to_string()
    }
}

/// "United States (US)": the name and, for real codes, the code.
pub fn country_with_code(code: &str, lang: &str) -> String {
    let name = country(code, lang);
    let c = code.trim().to_ascii_uppercase();
    if name == code || c == "ZZ" || c == "EU" || c == "EEA" {
        name
    } else {
        format!("{name} ({c})")
    }
}

/// A retention period in words: "3 years after the last contact", "For the duration of the
/// contract", with the archived part when there is one.
pub fn retention_period(r: &RetentionRule, lang: &str) -> String {
    let main = if r.period.amount == 0 {
        match r.trigger {
            Trigger::ContractEnd => texts(lang).get("privacy.duration_contract").to_string(),
            Trigger::AccountClosure => texts(lang).get("privacy.until_account_closed").to_string(),
            Trigger::ConsentWithdrawal => texts(lang)
                .get("privacy.until_consent_withdrawn")
                .to_string(),
            Trigger::EndOfCalendarYear => texts(lang)
                .get("privacy.until_end_calendar_year")
                .to_string(),
            Trigger::ChoiceExpiry => texts(lang).get("trigger.until_choice_expires").to_string(),
            Trigger::Collection | Trigger::LastContact | Trigger::LastActivity => {
                texts(lang).get("privacy.not_kept").to_string()
            }
        }
    } else {
        let during = match r.trigger {
            Trigger::ContractEnd => texts(lang).get("privacy.duration_contract_then"),
            Trigger::AccountClosure => texts(lang).get("privacy.long_account_open_then"),
            Trigger::EndOfCalendarYear => texts(lang).get("privacy.calendar_year_collection_then"),
            _ => "",
        };
        if during.is_empty() {
            let body = format!("{} {}", duration(r.period, lang), trigger(r.trigger, lang));
            let mut c = body.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => body,
            }
        } else {
            format!("{during}{}", duration(r.period, lang))
        }
    };
    let archived = texts(lang).get("privacy.intermediate_archives_restricted_access");
    match r.archive {
        Some(a) if a.amount > 0 && a.seconds() >= r.period.seconds() => {
            format!("{main} {archived}")
        }
        Some(a) if a.amount > 0 => format!(
            "{main} ({} {} {archived})",
            texts(lang).get("privacy.which"),
            duration(a, lang),
        ),
        _ => main,
    }
}

/// What happens at the end of the period.
pub fn retention_action(a: RetentionAction, lang: &str) -> &'static str {
    match a {
        RetentionAction::Delete => texts(lang).get("privacy.deleted"),
        RetentionAction::Anonymise => texts(lang).get("privacy.anonymised"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(lifetime_days(182, "en"), "6 months");
        assert_eq!(lifetime_days(182, "fr"), "6 mois");
        assert_eq!(lifetime_days(182, "de"), "6 Monate");
        assert_eq!(lifetime_days(395, "en"), "13 months");
        assert_eq!(lifetime_days(30, "en"), "1 month");
        assert_eq!(lifetime_days(30, "de"), "1 Monat");
        assert_eq!(lifetime_days(45, "en"), "45 days");
        assert_eq!(lifetime_days(1, "de"), "1 Tag");
        assert_eq!(lifetime_days(45, "de"), "45 Tage");
        for (ms, tz, lang, want) in [
            (1_790_000_000_000, "Europe/Paris", "en", "21 September 2026"),
            (1_790_000_000_000, "Europe/Paris", "fr", "21 septembre 2026"),
            (
                1_790_000_000_000,
                "Europe/Paris",
                "de",
                "21. September 2026",
            ),
            (1_788_220_800_000, "UTC", "fr", "1er septembre 2026"),
            (1_788_220_800_000, "UTC", "de", "1. September 2026"),
        ] {
            assert_eq!(long_date(ms, tz, lang), want);
        }
        assert_eq!(country_with_code("US", "fr"), "États-Unis (US)");
        assert_eq!(country_with_code("US", "de"), "Vereinigte Staaten (US)");
        assert_eq!(country_with_code("XQ", "de"), "XQ");
    }

    /// The English and French words are exactly the model's, which the ledger stores.
    #[test]
    fn enum_labels_match_the_model() {
        for lang in ["en", "fr"] {
            for b in LegalBasis::ALL {
                assert_eq!(basis(b, lang), b.label(lang));
            }
            for g in Safeguard::ALL {
                assert_eq!(safeguard(g, lang), g.label(lang));
            }
            for tr in Trigger::ALL {
                assert_eq!(trigger(tr, lang), tr.label(lang));
            }
            for s in [
                "1 minute",
                "30 minutes",
                "1 hour",
                "2 hours",
                "1 day",
                "3 days",
                "1 week",
                "2 weeks",
                "1 month",
                "13 months",
                "1 year",
                "2 years",
            ] {
                let d: Duration = s.parse().unwrap();
                assert_eq!(duration(d, lang), d.display(lang), "{s}");
                assert_eq!(
                    lifetime(Lifetime::For(d), lang),
                    Lifetime::For(d).display(lang)
                );
            }
            assert_eq!(
                lifetime(Lifetime::Session, lang),
                Lifetime::Session.display(lang)
            );
        }
    }
}
