//! The rules: from every scenario's inventory to findings (violations, then information).
//!
//! Invariant: findings come sorted by kind (in `FindingKind::ALL` order), then scenario,
//! subject, name and domain, so that two scans of the same site compare line by line.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyze::Context;
use crate::dates::human_duration;
use crate::report::{
    Classification, DeclaredRef, Finding, FindingKind, Phase, Scenario, ScenarioReport, Source,
    Subject,
};

/// 13 months at most: the longest 13 consecutive calendar months last 397 days.
pub const THIRTEEN_MONTHS_SECONDS: i64 = 397 * 86_400;

/// An observed item (cookie or storage key) seen through one scenario's report.
struct Item<'a> {
    subject: Subject,
    name: &'a str,
    domain: String,
    phases: &'a [Phase],
    first_seen_on: &'a str,
    set_by: &'a [Source],
    lifetime: Option<i64>,
    declared: &'a Option<DeclaredRef>,
    classification: &'a Option<Classification>,
    needs_consent: bool,
}

fn items(s: &ScenarioReport) -> Vec<Item<'_>> {
    let mut v: Vec<Item<'_>> = s
        .cookies
        .iter()
        .map(|c| Item {
            subject: Subject::Cookie,
            name: &c.name,
            domain: c.domain.trim_start_matches('.').to_ascii_lowercase(),
            phases: &c.phases,
            first_seen_on: &c.first_seen_on,
            set_by: &c.set_by,
            lifetime: match (c.stored_lifetime_seconds, c.requested_lifetime_seconds) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            declared: &c.declared,
            classification: &c.classification,
            needs_consent: c.needs_consent,
        })
        .collect();
    v.extend(s.storage.iter().map(|st| Item {
        subject: st.kind,
        name: &st.name,
        domain: st.host.clone(),
        phases: &st.phases,
        first_seen_on: &st.first_seen_on,
        set_by: &st.set_by,
        lifetime: None,
        declared: &st.declared,
        classification: &st.classification,
        needs_consent: st.needs_consent,
    }));
    v
}

/// A finding with only what every finding has; the rule adds its evidence.
fn finding(kind: FindingKind, subject: Subject, name: &str, message: String) -> Finding {
    Finding {
        kind,
        severity: kind.severity(),
        scenario: None,
        scenarios: Vec::new(),
        subject,
        name: name.to_owned(),
        domain: None,
        page: None,
        message,
        set_by: Vec::new(),
        lifetime_seconds: None,
        declared: None,
        classification: None,
        url: None,
        count: None,
    }
}

impl Item<'_> {
    /// A finding about this item with its evidence: where it was first seen, its writers,
    /// lifetime, declaration and classification.
    fn finding(&self, kind: FindingKind, message: String) -> Finding {
        Finding {
            domain: Some(self.domain.clone()),
            page: Some(self.first_seen_on.to_owned()),
            set_by: self.set_by.to_vec(),
            lifetime_seconds: self.lifetime,
            declared: self.declared.clone(),
            classification: self.classification.clone(),
            ..finding(kind, self.subject, self.name, message)
        }
    }
}

fn describe(subject: Subject, name: &str, domain: &str) -> String {
    match subject {
        Subject::Cookie => format!("Cookie `{name}` on {domain}"),
        Subject::LocalStorage => format!("localStorage key `{name}` of {domain}"),
        Subject::SessionStorage => format!("sessionStorage key `{name}` of {domain}"),
        Subject::Request => format!("Host {name}"),
        Subject::Declaration => format!("Declaration `{name}`"),
    }
}

fn why_consent(declared: &Option<DeclaredRef>, class: &Option<Classification>) -> String {
    match (declared, class) {
        (Some(d), _) => format!("declared for purpose `{}`, which needs consent", d.purpose),
        (None, Some(c)) => format!(
            "undeclared; known as {} ({})",
            c.platform,
            c.category.as_str()
        ),
        (None, None) => {
            "undeclared and unknown to the catalog, so treated as needing consent".into()
        }
    }
}

/// Applies the rules over every scenario. Findings come sorted: violations by kind, then
/// information.
pub(crate) fn findings(reports: &[ScenarioReport], cx: &Context<'_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();

    // Per-scenario presence rules.
    for s in reports {
        let (kind, phase, when) = match s.scenario {
            Scenario::BeforeConsent => (
                FindingKind::SetBeforeConsent,
                Phase::BeforeChoice,
                "was present before any choice",
            ),
            Scenario::RejectAll => (
                FindingKind::SetAfterRefusal,
                Phase::AfterChoice,
                "was present after \"refuse all\"",
            ),
            Scenario::Withdrawal => (
                FindingKind::KeptAfterWithdrawal,
                Phase::AfterWithdrawal,
                "was still present after consent was withdrawn",
            ),
            Scenario::AcceptAll => continue,
        };
        for it in items(s) {
            if !it.needs_consent || !it.phases.contains(&phase) {
                continue;
            }
            let mut f = it.finding(
                kind,
                format!(
                    "{} {when}; it is {}.",
                    describe(it.subject, it.name, &it.domain),
                    why_consent(it.declared, it.classification)
                ),
            );
            f.scenario = Some(s.scenario);
            f.scenarios = vec![s.scenario];
            f.page = Some(page_for(s, &it, phase));
            out.push(f);
        }
        if s.scenario == Scenario::BeforeConsent {
            for h in &s.third_party_requests {
                if h.allowed_before_consent || !h.phases.contains(&Phase::BeforeChoice) {
                    continue;
                }
                let mut f = finding(
                    FindingKind::ThirdPartyRequestBeforeConsent,
                    Subject::Request,
                    &h.host,
                    format!(
                        "{} request(s) to the third-party host {} before any choice ({}); first: {}.",
                        h.count,
                        h.host,
                        h.types.join(", "),
                        h.first_url
                    ),
                );
                f.scenario = Some(s.scenario);
                f.scenarios = vec![s.scenario];
                f.domain = Some(h.host.clone());
                f.page = Some(h.first_page.clone());
                f.url = Some(h.first_url.clone());
                f.count = Some(h.count);
                out.push(f);
            }
        }
    }

    // Scenario-independent rules, once per item, with every scenario it was seen in.
    let mut ordered: Vec<&ScenarioReport> = reports.iter().collect();
    ordered.sort_by_key(|s| s.scenario);
    let mut undeclared: BTreeMap<(Subject, String, String), Finding> = BTreeMap::new();
    let mut elsewhere: BTreeMap<(Subject, String, String), Finding> = BTreeMap::new();
    let mut lifetimes: BTreeMap<(String, String), Finding> = BTreeMap::new();
    for s in &ordered {
        for it in items(s) {
            let key = (it.subject, it.name.to_owned(), it.domain.clone());
            if let Some(d) = it.declared
                && let Some(declared_on) = &d.declared_domain
            {
                let entry = elsewhere.entry(key.clone()).or_insert_with(|| {
                    let mut f = it.finding(
                        FindingKind::DeclaredOnOtherDomain,
                        format!(
                            "{} is declared on {} only: it was matched by its name (purpose `{}`). Expected on a test or staging host; if the site really sets it on {}, declare that domain too.",
                            describe(it.subject, it.name, &it.domain),
                            declared_on.trim_start_matches('.'),
                            d.purpose,
                            it.domain
                        ),
                    );
                    f.scenario = Some(s.scenario);
                    f
                });
                if !entry.scenarios.contains(&s.scenario) {
                    entry.scenarios.push(s.scenario);
                }
            }
            if it.declared.is_none() {
                let entry = undeclared.entry(key).or_insert_with(|| {
                    let class = match it.classification {
                        Some(c) => format!(
                            "The catalog knows it as {} ({}{}).",
                            c.platform,
                            c.category.as_str(),
                            c.typical_lifetime
                                .as_deref()
                                .map(|l| format!(", usually {l}"))
                                .unwrap_or_default()
                        ),
                        None => "It is unknown to the catalog.".into(),
                    };
                    // Here `it.declared` is `None`, and so is the finding's.
                    let mut f = it.finding(
                        FindingKind::Undeclared,
                        format!(
                            "{} is not in the declared inventory. {class}",
                            describe(it.subject, it.name, &it.domain)
                        ),
                    );
                    f.scenario = Some(s.scenario);
                    f
                });
                if !entry.scenarios.contains(&s.scenario) {
                    entry.scenarios.push(s.scenario);
                }
            }
            if it.subject != Subject::Cookie {
                continue;
            }
            let Some(life) = it.lifetime else { continue };
            let exceeds_declared = it
                .declared
                .as_ref()
                .is_some_and(|d| match d.lifetime_seconds {
                    None => life > 60,
                    Some(decl) => life > decl + (decl / 100).max(60),
                });
            for (applies, tag, kind) in [
                (
                    life > THIRTEEN_MONTHS_SECONDS,
                    "13",
                    FindingKind::LifetimeOver13Months,
                ),
                (
                    exceeds_declared,
                    "decl",
                    FindingKind::LifetimeExceedsDeclared,
                ),
            ] {
                if applies {
                    record_lifetime(
                        &mut lifetimes,
                        (format!("{tag}|{}", it.name), it.domain.clone()),
                        s.scenario,
                        life,
                        || it.finding(kind, String::new()),
                    );
                }
            }
        }
    }
    out.extend(undeclared.into_values());
    out.extend(elsewhere.into_values());
    for mut f in lifetimes.into_values() {
        let life = human_duration(f.lifetime_seconds);
        let domain = f.domain.clone().unwrap_or_default();
        f.message = match f.kind {
            FindingKind::LifetimeOver13Months => format!(
                "Cookie `{}` on {domain} lives {life}, more than 13 months (397 days).",
                f.name
            ),
            _ => format!(
                "Cookie `{}` on {domain} lives {life}, longer than the declared {}.",
                f.name,
                human_duration(f.declared.as_ref().and_then(|d| d.lifetime_seconds))
            ),
        };
        out.push(f);
    }

    // Declarations never observed (information): one finding per name, with the domains of
    // its unseen declarations. A declaration matched by name only (seen on another domain) was
    // seen.
    let observed: Vec<(String, String)> = reports
        .iter()
        .flat_map(|s| {
            s.cookies
                .iter()
                .map(|c| (c.name.clone(), c.domain.trim_start_matches('.').to_owned()))
                .chain(s.storage.iter().map(|st| (st.name.clone(), String::new())))
                .collect::<Vec<_>>()
        })
        .collect();
    let matched_elsewhere: Vec<(String, Option<String>)> = reports
        .iter()
        .flat_map(|s| s.cookies.iter().filter_map(|c| c.declared.as_ref()))
        .filter(|d| d.declared_domain.is_some())
        .map(|d| (d.pattern.clone(), d.declared_domain.clone()))
        .collect();
    let any_page = reports
        .iter()
        .any(|s| s.pages.iter().any(|p| p.error.is_none()));
    if any_page {
        let mut unseen: BTreeMap<&str, Vec<&crate::declared::DeclaredCookie>> = BTreeMap::new();
        for d in &cx.declared.cookies {
            let seen = observed.iter().any(|(n, dom)| d.matches(n, dom))
                || matched_elsewhere
                    .iter()
                    .any(|(p, dom)| *p == d.name && *dom == d.domain);
            if !seen {
                unseen.entry(d.name.as_str()).or_default().push(d);
            }
        }
        for (name, decls) in unseen {
            let Some(first) = decls.first() else { continue };
            let mut purposes: Vec<&str> = decls.iter().map(|d| d.purpose.as_str()).collect();
            purposes.dedup();
            let mut services: Vec<&str> =
                decls.iter().filter_map(|d| d.service.as_deref()).collect();
            services.dedup();
            let domains: Vec<&str> = decls
                .iter()
                .filter_map(|d| d.domain.as_deref())
                .map(|d| d.trim_start_matches('.'))
                .collect();
            let on = if domains.is_empty() || domains.len() < decls.len() {
                // a declaration without a domain covers every domain
                String::new()
            } else {
                format!(" on {}", domains.join(", "))
            };
            let mut f = finding(
                FindingKind::DeclaredNotSeen,
                Subject::Declaration,
                name,
                format!(
                    "`{name}` (purpose `{}`{}) was declared{on} but not observed in any scenario: the inventory may be out of date, or the pages that set it were not crawled.",
                    purposes.join("`, `"),
                    if services.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", services.join(", "))
                    }
                ),
            );
            f.domain = (!on.is_empty()).then(|| domains.join(", "));
            f.declared = Some(cx.reference(first));
            out.push(f);
        }
    }

    let order = |k: FindingKind| {
        FindingKind::ALL
            .iter()
            .position(|x| *x == k)
            .unwrap_or(usize::MAX)
    };
    out.sort_by(|a, b| {
        order(a.kind)
            .cmp(&order(b.kind))
            .then(a.scenario.cmp(&b.scenario))
            .then(a.subject.cmp(&b.subject))
            .then(a.name.cmp(&b.name))
            .then(a.domain.cmp(&b.domain))
    });
    out
}

fn record_lifetime(
    map: &mut BTreeMap<(String, String), Finding>,
    key: (String, String),
    scenario: Scenario,
    life: i64,
    make: impl FnOnce() -> Finding,
) {
    let f = map.entry(key).or_insert_with(|| {
        let mut f = make();
        f.scenario = Some(scenario);
        f.lifetime_seconds = Some(life);
        f
    });
    if !f.scenarios.contains(&scenario) {
        f.scenarios.push(scenario);
    }
    if f.lifetime_seconds.is_none_or(|l| life > l) {
        f.lifetime_seconds = Some(life);
    }
}

/// The page to show as evidence for an item present in `phase`: where it was first seen if
/// that was in this phase, else the first page of the phase (it was still there).
fn page_for(s: &ScenarioReport, it: &Item<'_>, phase: Phase) -> String {
    if it.phases.first() == Some(&phase) {
        return it.first_seen_on.to_owned();
    }
    s.pages
        .iter()
        .find(|p| p.phase == phase && p.error.is_none())
        .map_or_else(|| it.first_seen_on.to_owned(), |p| p.url.clone())
}

/// Distinct (name, domain) cookies over all scenarios.
pub(crate) fn distinct_cookies(reports: &[ScenarioReport]) -> usize {
    reports
        .iter()
        .flat_map(|s| s.cookies.iter().map(|c| (c.name.clone(), c.domain.clone())))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Third-party hosts over all scenarios, sorted.
pub(crate) fn third_party_hosts(reports: &[ScenarioReport]) -> Vec<String> {
    reports
        .iter()
        .flat_map(|s| s.third_party_requests.iter().map(|h| h.host.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
