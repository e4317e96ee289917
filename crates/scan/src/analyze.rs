//! From observations to findings: aggregate what each scenario saw, match it against the
//! declared inventory and the catalog, and apply the rules.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::collect::{ScenarioRun, ScriptWrite};
use crate::declared::Declared;
use crate::report::{
    BlockedCookie, Classification, CookieRecord, DeclaredRef, Finding, FindingKind, Phase,
    Scenario, ScenarioReport, Source, StorageRecord, Subject, ThirdPartyHost,
};
use crate::url::{SiteScope, Url};

/// 13 months at most: the longest 13 consecutive calendar months last 397 days.
pub const THIRTEEN_MONTHS_SECONDS: i64 = 397 * 86_400;

/// The attributes of a `Set-Cookie` line (or a `document.cookie` assignment) that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieLine {
    /// Cookie name.
    pub name: String,
    /// `Domain` attribute, without its leading dot.
    pub domain: Option<String>,
    /// `Max-Age`, seconds.
    pub max_age: Option<i64>,
    /// `Expires`, epoch milliseconds.
    pub expires_ms: Option<i64>,
}

impl CookieLine {
    /// Lifetime asked for, relative to `now_ms`: `Some(None)` for a session cookie, `None` for
    /// a deletion (zero or negative lifetime).
    pub fn lifetime_seconds(&self, now_ms: i64) -> Option<Option<i64>> {
        let secs = match (self.max_age, self.expires_ms) {
            (Some(m), _) => m,
            (None, Some(e)) => (e - now_ms).div_euclid(1000),
            (None, None) => return Some(None),
        };
        if secs <= 0 { None } else { Some(Some(secs)) }
    }
}

/// Parses `name=value; Attr=...; ...`. `None` when there is no name.
pub fn parse_cookie_line(line: &str) -> Option<CookieLine> {
    let mut parts = line.split(';');
    let first = parts.next()?.trim();
    let name = match first.split_once('=') {
        Some((n, _)) => n.trim(),
        None => first,
    };
    if name.is_empty() {
        return None;
    }
    let mut out = CookieLine {
        name: name.to_owned(),
        domain: None,
        max_age: None,
        expires_ms: None,
    };
    for attr in parts {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match k.to_ascii_lowercase().as_str() {
            "domain" => {
                let d = v.trim_start_matches('.').to_ascii_lowercase();
                if !d.is_empty() {
                    out.domain = Some(d);
                }
            }
            "max-age" => out.max_age = v.parse::<i64>().ok(),
            "expires" => out.expires_ms = parse_http_date(v),
            _ => {}
        }
    }
    Some(out)
}

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

/// Inputs of the analysis.
pub(crate) struct Context<'a> {
    pub declared: &'a Declared,
    pub catalog: &'a Catalog,
    pub scope: &'a SiteScope,
}

impl Context<'_> {
    fn declared_ref(&self, name: &str, domain: &str) -> Option<DeclaredRef> {
        self.declared.find(name, domain).map(|c| DeclaredRef {
            pattern: c.name.clone(),
            purpose: c.purpose.clone(),
            consent_required: self.declared.consent_required(&c.purpose),
            lifetime_seconds: c.lifetime_seconds,
            service: c.service.clone(),
        })
    }

    fn classify(&self, name: &str, domain: &str) -> Option<Classification> {
        self.catalog.lookup(name, domain).map(|e| Classification {
            matched: e.name.clone(),
            platform: e.platform.clone(),
            category: e.category,
            typical_lifetime: e.typical_lifetime.clone(),
            description: e.description.clone(),
            source: e.source.clone(),
        })
    }
}

/// Whether an item needs consent: its declaration decides; else its catalog category; an
/// unknown item does (the protective reading).
fn needs_consent(declared: &Option<DeclaredRef>, class: &Option<Classification>) -> bool {
    match (declared, class) {
        (Some(d), _) => d.consent_required,
        (None, Some(c)) => !c.category.is_strictly_necessary(),
        (None, None) => true,
    }
}

fn source_of_write(w: &ScriptWrite) -> Source {
    match &w.script {
        Some(s) if *s != w.frame => Source {
            kind: "script".into(),
            url: s.clone(),
        },
        _ => Source {
            kind: "inline".into(),
            url: w.frame.clone(),
        },
    }
}

/// Sources kept per item: enough as evidence, short enough to read.
pub const MAX_SOURCES: usize = 5;

fn push_unique(v: &mut Vec<Source>, s: Source) {
    if v.len() < MAX_SOURCES && !v.contains(&s) {
        v.push(s);
    }
}

/// Turns one scenario's raw observations into its report section.
pub(crate) fn scenario_report(run: &ScenarioRun, cx: &Context<'_>) -> ScenarioReport {
    // Cookies, keyed by (name, domain, path), in order of first sight.
    let mut cookies: Vec<CookieRecord> = Vec::new();
    let mut first_now: Vec<i64> = Vec::new();
    for snap in &run.snapshots {
        for c in &snap.cookies {
            let idx = match cookies
                .iter()
                .position(|r| r.name == c.name && r.domain == c.domain && r.path == c.path)
            {
                Some(i) => i,
                None => {
                    let host = c.host();
                    let declared = cx.declared_ref(&c.name, &host);
                    let classification = cx.classify(&c.name, &host);
                    cookies.push(CookieRecord {
                        name: c.name.clone(),
                        domain: c.domain.clone(),
                        path: c.path.clone(),
                        first_party: cx.scope.is_first_party(&host),
                        http_only: c.http_only,
                        secure: c.secure,
                        same_site: c.same_site.clone(),
                        session: c.expires_at_ms().is_none(),
                        expires_at_ms: c.expires_at_ms(),
                        stored_lifetime_seconds: None,
                        requested_lifetime_seconds: None,
                        phases: Vec::new(),
                        first_seen_on: snap.page.clone(),
                        set_by: Vec::new(),
                        needs_consent: needs_consent(&declared, &classification),
                        declared,
                        classification,
                    });
                    first_now.push(snap.now_ms);
                    cookies.len() - 1
                }
            };
            let r = &mut cookies[idx];
            if !r.phases.contains(&snap.phase) {
                r.phases.push(snap.phase);
            }
            r.expires_at_ms = c.expires_at_ms();
            r.session = r.expires_at_ms.is_none();
            if let Some(exp) = c.expires_at_ms() {
                let left = (exp - snap.now_ms).div_euclid(1000);
                r.stored_lifetime_seconds =
                    Some(r.stored_lifetime_seconds.map_or(left, |l| l.max(left)));
            }
        }
    }
    // Who wrote them, and the lifetime they asked for.
    for (r, now) in cookies.iter_mut().zip(first_now) {
        let host = r.domain.trim_start_matches('.').to_ascii_lowercase();
        let mut requested: Option<i64> = None;
        let mut consider = |line: &CookieLine, writer_host: &str| -> bool {
            if line.name != r.name {
                return false;
            }
            let domain_ok = match &line.domain {
                Some(d) => *d == host,
                None => writer_host == host,
            };
            if !domain_ok {
                return false;
            }
            match line.lifetime_seconds(now) {
                None => false, // a deletion
                Some(l) => {
                    if let Some(l) = l {
                        requested = Some(requested.map_or(l, |r: i64| r.max(l)));
                    }
                    true
                }
            }
        };
        for h in &run.header_cookies {
            let Some(line) = parse_cookie_line(&h.line) else {
                continue;
            };
            let writer = Url::parse(&h.url).map(|u| u.host).unwrap_or_default();
            if consider(&line, &writer) {
                push_unique(
                    &mut r.set_by,
                    Source {
                        kind: "response".into(),
                        url: h.url.clone(),
                    },
                );
            }
        }
        for w in run.script_writes.iter().filter(|w| w.kind == "cookie") {
            let Some(line) = w.line.as_deref().and_then(parse_cookie_line) else {
                continue;
            };
            let writer = Url::parse(&w.frame).map(|u| u.host).unwrap_or_default();
            if consider(&line, &writer) {
                push_unique(&mut r.set_by, source_of_write(w));
            }
        }
        r.requested_lifetime_seconds = requested;
    }

    // Storage keys: from the top document's snapshots, and from writes in any frame.
    let mut storage: Vec<StorageRecord> = Vec::new();
    let mut add_storage = |kind: Subject, name: &str, host: &str, phase: Phase, page: &str| {
        let idx = match storage
            .iter()
            .position(|s| s.kind == kind && s.name == name && s.host == host)
        {
            Some(i) => i,
            None => {
                let declared = cx.declared_ref(name, "");
                let classification = cx.classify(name, host);
                storage.push(StorageRecord {
                    kind,
                    name: name.to_owned(),
                    host: host.to_owned(),
                    first_party: cx.scope.is_first_party(host),
                    phases: Vec::new(),
                    first_seen_on: page.to_owned(),
                    set_by: Vec::new(),
                    needs_consent: needs_consent(&declared, &classification),
                    declared,
                    classification,
                });
                storage.len() - 1
            }
        };
        if !storage[idx].phases.contains(&phase) {
            storage[idx].phases.push(phase);
        }
    };
    for snap in &run.snapshots {
        for k in &snap.local {
            add_storage(
                Subject::LocalStorage,
                k,
                &snap.origin_host,
                snap.phase,
                &snap.page,
            );
        }
        for k in &snap.session {
            add_storage(
                Subject::SessionStorage,
                k,
                &snap.origin_host,
                snap.phase,
                &snap.page,
            );
        }
    }
    for w in &run.script_writes {
        let kind = match w.kind.as_str() {
            "local_storage" => Subject::LocalStorage,
            "session_storage" => Subject::SessionStorage,
            _ => continue,
        };
        let (Some(name), Some(host)) = (w.name.as_deref(), Url::parse(&w.frame).map(|u| u.host))
        else {
            continue;
        };
        add_storage(kind, name, &host, w.phase, &w.page);
    }
    for s in &mut storage {
        for w in &run.script_writes {
            let same_kind = matches!(
                (s.kind, w.kind.as_str()),
                (Subject::LocalStorage, "local_storage")
                    | (Subject::SessionStorage, "session_storage")
            );
            let host = Url::parse(&w.frame).map(|u| u.host).unwrap_or_default();
            if same_kind && w.name.as_deref() == Some(s.name.as_str()) && host == s.host {
                push_unique(&mut s.set_by, source_of_write(w));
            }
        }
    }

    // Third-party hosts.
    let mut hosts: Vec<ThirdPartyHost> = Vec::new();
    for r in &run.requests {
        if cx.scope.is_first_party(&r.host) {
            continue;
        }
        match hosts.iter_mut().find(|h| h.host == r.host) {
            Some(h) => {
                h.count += 1;
                if !h.phases.contains(&r.phase) {
                    h.phases.push(r.phase);
                }
                if !h.types.contains(&r.resource_type) {
                    h.types.push(r.resource_type.clone());
                }
            }
            None => hosts.push(ThirdPartyHost {
                host: r.host.clone(),
                first_phase: r.phase,
                phases: vec![r.phase],
                count: 1,
                first_url: r.url.clone(),
                first_page: r.page.clone(),
                types: vec![r.resource_type.clone()],
                allowed_before_consent: cx.declared.third_party_allowed_before_consent(&r.host),
            }),
        }
    }

    let mut blocked: Vec<BlockedCookie> = Vec::new();
    for b in &run.blocked {
        if blocked
            .iter()
            .any(|x| x.name == b.name && x.domain == b.domain && x.reasons == b.reasons)
        {
            continue;
        }
        blocked.push(BlockedCookie {
            name: b.name.clone(),
            domain: b.domain.clone(),
            reasons: b.reasons.clone(),
            url: b.url.clone(),
            page: b.page.clone(),
            phase: b.phase,
        });
    }

    ScenarioReport {
        scenario: run.scenario,
        duration_ms: run.duration_ms,
        banner: run.banner.clone(),
        pages: run.pages.clone(),
        cookies,
        storage,
        blocked_cookies: blocked,
        third_party_requests: hosts,
        notes: run.notes.clone(),
    }
}

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
    let base = |kind: FindingKind, subject: Subject, name: &str, message: String| Finding {
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
    };

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
            let mut f = base(
                kind,
                it.subject,
                it.name,
                format!(
                    "{} {when}; it is {}.",
                    describe(it.subject, it.name, &it.domain),
                    why_consent(it.declared, it.classification)
                ),
            );
            f.scenario = Some(s.scenario);
            f.scenarios = vec![s.scenario];
            f.domain = Some(it.domain.clone());
            f.page = Some(page_for(s, &it, phase));
            f.set_by = it.set_by.to_vec();
            f.lifetime_seconds = it.lifetime;
            f.declared = it.declared.clone();
            f.classification = it.classification.clone();
            out.push(f);
        }
        if s.scenario == Scenario::BeforeConsent {
            for h in &s.third_party_requests {
                if h.allowed_before_consent || !h.phases.contains(&Phase::BeforeChoice) {
                    continue;
                }
                let mut f = base(
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
    let mut lifetimes: BTreeMap<(String, String), Finding> = BTreeMap::new();
    for s in &ordered {
        for it in items(s) {
            let key = (it.subject, it.name.to_owned(), it.domain.clone());
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
                    let mut f = base(
                        FindingKind::Undeclared,
                        it.subject,
                        it.name,
                        format!(
                            "{} is not in the declared inventory. {class}",
                            describe(it.subject, it.name, &it.domain)
                        ),
                    );
                    f.scenario = Some(s.scenario);
                    f.domain = Some(it.domain.clone());
                    f.page = Some(it.first_seen_on.to_owned());
                    f.set_by = it.set_by.to_vec();
                    f.lifetime_seconds = it.lifetime;
                    f.classification = it.classification.clone();
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
            let lkey = (it.name.to_owned(), it.domain.clone());
            if life > THIRTEEN_MONTHS_SECONDS {
                record_lifetime(
                    &mut lifetimes,
                    (format!("13|{}", lkey.0), lkey.1.clone()),
                    s.scenario,
                    life,
                    || {
                        let mut f = base(
                            FindingKind::LifetimeOver13Months,
                            Subject::Cookie,
                            it.name,
                            String::new(),
                        );
                        f.domain = Some(it.domain.clone());
                        f.page = Some(it.first_seen_on.to_owned());
                        f.set_by = it.set_by.to_vec();
                        f.declared = it.declared.clone();
                        f.classification = it.classification.clone();
                        f
                    },
                );
            }
            if let Some(d) = it.declared {
                let exceeds = match d.lifetime_seconds {
                    None => life > 60,
                    Some(decl) => life > decl + (decl / 100).max(60),
                };
                if exceeds {
                    record_lifetime(
                        &mut lifetimes,
                        (format!("decl|{}", lkey.0), lkey.1.clone()),
                        s.scenario,
                        life,
                        || {
                            let mut f = base(
                                FindingKind::LifetimeExceedsDeclared,
                                Subject::Cookie,
                                it.name,
                                String::new(),
                            );
                            f.domain = Some(it.domain.clone());
                            f.page = Some(it.first_seen_on.to_owned());
                            f.set_by = it.set_by.to_vec();
                            f.declared = it.declared.clone();
                            f.classification = it.classification.clone();
                            f
                        },
                    );
                }
            }
        }
    }
    out.extend(undeclared.into_values());
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

    // Declarations never observed (information).
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
    let any_page = reports
        .iter()
        .any(|s| s.pages.iter().any(|p| p.error.is_none()));
    if any_page {
        for d in &cx.declared.cookies {
            if observed.iter().any(|(n, dom)| d.matches(n, dom)) {
                continue;
            }
            let mut f = base(
                FindingKind::DeclaredNotSeen,
                Subject::Declaration,
                &d.name,
                format!(
                    "`{}` (purpose `{}`{}) was declared but not observed in any scenario: the inventory may be out of date, or the pages that set it were not crawled.",
                    d.name,
                    d.purpose,
                    d.service
                        .as_deref()
                        .map(|s| format!(", {s}"))
                        .unwrap_or_default()
                ),
            );
            f.domain = d.domain.clone();
            f.declared = Some(DeclaredRef {
                pattern: d.name.clone(),
                purpose: d.purpose.clone(),
                consent_required: cx.declared.consent_required(&d.purpose),
                lifetime_seconds: d.lifetime_seconds,
                service: d.service.clone(),
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_lines() {
        let l =
            parse_cookie_line("_ga=GA1.1.2; Max-Age=63072000; Domain=.Shop.test; Path=/").unwrap();
        assert_eq!(l.name, "_ga");
        assert_eq!(l.domain.as_deref(), Some("shop.test"));
        assert_eq!(l.lifetime_seconds(0), Some(Some(63_072_000)));
        let l = parse_cookie_line("sid=1; HttpOnly").unwrap();
        assert_eq!(l.lifetime_seconds(0), Some(None));
        let l = parse_cookie_line("x=; max-age=0").unwrap();
        assert_eq!(l.lifetime_seconds(0), None);
        assert!(parse_cookie_line("=v").is_none());
        let l = parse_cookie_line("a=b; expires=Thu, 01 Jan 1970 00:01:40 GMT").unwrap();
        assert_eq!(l.expires_ms, Some(100_000));
        assert_eq!(l.lifetime_seconds(40_000), Some(Some(60)));
        assert_eq!(l.lifetime_seconds(200_000), None);
    }

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
