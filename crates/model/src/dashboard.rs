//! The dashboard of a site over a period, computed from its counters (pure: the application
//! reads the counters and the rights deadlines, [`build`] does the arithmetic): the counts
//! summed by day, by policy version and by language, with Didomi's rates (opt-in rate =
//! opt-ins ÷ banners shown, consent rate = opt-ins ÷ choices made, no-choice rate) and the
//! GPC share. Parts whose data other features keep (retention runs, scans, marketing) say
//! honestly that they are not configured.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{ACTIONS, GPC, PURPOSE_PREFIX, SHOWN, StatRow, day_date, rate};

/// Counts of one group of consents (a day, a version, a language, or the whole period).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub shown: i64,
    pub choices: i64,
    pub accept_all: i64,
    pub reject_all: i64,
    pub custom: i64,
    pub withdraw: i64,
    pub gpc: i64,
    /// Shares of the choices made.
    pub accept_all_share: Option<f64>,
    pub reject_all_share: Option<f64>,
    pub custom_share: Option<f64>,
    pub withdraw_share: Option<f64>,
    pub gpc_share: Option<f64>,
    /// Banners shown without a choice ÷ banners shown (displays of the day that a choice of
    /// another day answered make it approximate).
    pub no_choice_rate: Option<f64>,
    pub purposes: Vec<PurposeCounts>,
}

/// One purpose in a group.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PurposeCounts {
    pub id: String,
    pub name: String,
    /// Choices that granted the purpose.
    pub opt_ins: i64,
    /// opt-ins ÷ banners shown.
    pub opt_in_rate: Option<f64>,
    /// opt-ins ÷ choices made.
    pub consent_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub version: i64,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct Language {
    pub language: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The site's open rights requests by effective due date.
#[derive(Debug, Clone, Serialize)]
pub struct RightsDue {
    pub open: i64,
    pub due_within_10_days: i64,
    pub due_within_5_days: i64,
    pub overdue: i64,
}

/// A part of the dashboard whose feature keeps no data yet.
#[derive(Debug, Clone, Serialize)]
pub struct NotConfigured {
    pub configured: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub site: String,
    /// Every site, for the page's site picker.
    pub sites: Vec<String>,
    /// First and last day, in the controller's time zone.
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// Where the numbers come from.
    pub source: &'static str,
    pub totals: Counts,
    pub days: Vec<Day>,
    pub versions: Vec<Version>,
    pub languages: Vec<Language>,
    pub rights_requests: RightsDue,
    pub retention: NotConfigured,
    pub last_scan: NotConfigured,
    pub marketing: NotConfigured,
}

/// Sums of counters, by kind.
#[derive(Debug, Default, Clone)]
struct Sums {
    shown: i64,
    actions: [i64; 4],
    gpc: i64,
    purposes: BTreeMap<String, i64>,
}

impl Sums {
    fn add(&mut self, r: &StatRow) {
        if r.kind == SHOWN {
            self.shown += r.n;
        } else if r.kind == GPC {
            self.gpc += r.n;
        } else if let Some(a) = ACTIONS.iter().position(|a| *a == r.kind) {
            self.actions[a] += r.n;
        } else if let Some(p) = r.kind.strip_prefix(PURPOSE_PREFIX) {
            *self.purposes.entry(p.to_owned()).or_insert(0) += r.n;
        }
    }

    /// The group's counts; `purposes` lists the purposes to show, in order, with names.
    fn counts(&self, purposes: &[(String, String)]) -> Counts {
        let choices: i64 = self.actions.iter().sum();
        let share = |n| rate(n, choices);
        let [accept_all, reject_all, custom, withdraw] = self.actions;
        let mut ids: Vec<(String, String)> = purposes.to_vec();
        for id in self.purposes.keys() {
            if !ids.iter().any(|(i, _)| i == id) {
                ids.push((id.clone(), id.clone()));
            }
        }
        Counts {
            shown: self.shown,
            choices,
            accept_all,
            reject_all,
            custom,
            withdraw,
            gpc: self.gpc,
            accept_all_share: share(accept_all),
            reject_all_share: share(reject_all),
            custom_share: share(custom),
            withdraw_share: share(withdraw),
            gpc_share: share(self.gpc),
            no_choice_rate: rate((self.shown - choices).max(0), self.shown),
            purposes: ids
                .into_iter()
                .map(|(id, name)| {
                    let opt_ins = self.purposes.get(&id).copied().unwrap_or(0);
                    PurposeCounts {
                        opt_in_rate: rate(opt_ins, self.shown),
                        consent_rate: rate(opt_ins, choices),
                        id,
                        name,
                        opt_ins,
                    }
                })
                .collect(),
        }
    }
}

/// What [`build`] needs besides the counters.
#[derive(Debug, Clone)]
pub struct Input {
    pub site: String,
    pub sites: Vec<String>,
    /// First and last day (inclusive).
    pub from: i32,
    pub to: i32,
    pub time_zone: String,
    /// The purposes that need consent, `(id, name)`, in the registry's order.
    pub purposes: Vec<(String, String)>,
    pub rights: RightsDue,
}

/// The dashboard from the counters of `input.site` between its days.
pub fn build(input: Input, rows: &[StatRow]) -> Dashboard {
    let Input {
        site,
        sites,
        from,
        to,
        time_zone,
        purposes,
        rights,
    } = input;
    let mut total = Sums::default();
    let mut by_day: BTreeMap<i32, Sums> = (from..=to).map(|d| (d, Sums::default())).collect();
    let mut by_version: BTreeMap<i64, Sums> = BTreeMap::new();
    let mut by_lang: BTreeMap<String, Sums> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.day >= from && r.day <= to) {
        total.add(r);
        by_day.entry(r.day).or_default().add(r);
        by_version.entry(r.version).or_default().add(r);
        by_lang.entry(r.lang.clone()).or_default().add(r);
    }
    Dashboard {
        site,
        sites,
        from: day_date(from).to_string(),
        to: day_date(to).to_string(),
        time_zone,
        source: "ledger",
        totals: total.counts(&purposes),
        days: by_day
            .into_iter()
            .map(|(d, s)| Day {
                date: day_date(d).to_string(),
                counts: s.counts(&purposes),
            })
            .collect(),
        versions: by_version
            .into_iter()
            .map(|(version, s)| Version {
                version,
                counts: s.counts(&purposes),
            })
            .collect(),
        languages: by_lang
            .into_iter()
            .map(|(language, s)| Language {
                language,
                counts: s.counts(&purposes),
            })
            .collect(),
        rights_requests: rights,
        retention: NotConfigured { configured: false },
        last_scan: NotConfigured { configured: false },
        marketing: NotConfigured { configured: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: i32, version: i64, lang: &str, kind: &str, n: i64) -> StatRow {
        StatRow {
            site: "s".into(),
            day,
            version,
            lang: lang.into(),
            kind: kind.into(),
            n,
        }
    }

    #[test]
    fn rates_follow_didomis_definitions() {
        let rows = [
            row(10, 1, "fr", "shown", 10),
            row(10, 1, "fr", "accept_all", 3),
            row(10, 1, "fr", "reject_all", 1),
            row(10, 1, "fr", "purpose:ads", 3),
            row(11, 2, "en", "shown", 10),
            row(11, 2, "en", "custom", 4),
            row(11, 2, "en", "gpc", 2),
            row(11, 2, "en", "purpose:ads", 1),
            row(11, 2, "en", "purpose:gone", 1),
            row(12, 2, "en", "shown", 99),
        ];
        let input = Input {
            site: "s".into(),
            sites: vec!["s".into()],
            from: 9,
            to: 11,
            time_zone: "UTC".into(),
            purposes: vec![
                ("ads".into(), "Advertising".into()),
                ("stats".into(), "Stats".into()),
            ],
            rights: RightsDue {
                open: 0,
                due_within_10_days: 0,
                due_within_5_days: 0,
                overdue: 0,
            },
        };
        let d = build(input, &rows);
        let t = &d.totals;
        assert_eq!(
            (t.shown, t.choices, t.accept_all, t.custom, t.gpc),
            (20, 8, 3, 4, 2)
        );
        assert_eq!(t.accept_all_share, Some(3.0 / 8.0));
        assert_eq!(t.gpc_share, Some(0.25));
        assert_eq!(t.no_choice_rate, Some(12.0 / 20.0));
        let ads = &t.purposes[0];
        assert_eq!(
            (ads.id.as_str(), ads.name.as_str(), ads.opt_ins),
            ("ads", "Advertising", 4)
        );
        assert_eq!(ads.opt_in_rate, Some(0.2));
        assert_eq!(ads.consent_rate, Some(0.5));
        // A purpose without counts is listed with zero; one no longer in the registry too.
        assert_eq!(t.purposes[1].opt_ins, 0);
        assert_eq!(t.purposes[2].id, "gone");
        assert_eq!(d.days.len(), 3);
        assert_eq!(d.days[0].counts.purposes[0].opt_in_rate, None);
        assert_eq!(d.days[1].date, "1970-01-11");
        assert_eq!(d.versions.len(), 2);
        assert_eq!(d.languages[0].language, "en");
        assert_eq!(d.languages[1].counts.purposes[0].consent_rate, Some(0.75));
    }
}
