//! `assent check`: parse a registry and report every problem with its place in the file
//! (`FILE:LINE:COL: error|warning: message`). Parsing errors and semantic lints share one
//! [`Diagnostic`] type; a diagnostic points into the document by a path (`cookies[3].lifetime`)
//! that is resolved to a line and column against the spanned TOML tree.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use toml::de::{DeTable, DeValue};

use crate::registry::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A problem found in a registry, with its 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub line: usize,
    pub col: usize,
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    /// `FILE:LINE:COL: error: message`
    pub fn render(&self, file: &str) -> String {
        format!(
            "{file}:{}:{}: {}: {}",
            self.line, self.col, self.severity, self.message
        )
    }
}

/// Parses and validates a registry. Returns the registry when it has no error (warnings may
/// remain) and every diagnostic, sorted by position.
pub fn check(src: &str) -> (Option<Registry>, Vec<Diagnostic>) {
    let index = LineIndex::new(src);
    let registry: Registry = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            let (line, col) = e.span().map(|s| index.line_col(s.start)).unwrap_or((1, 1));
            let msg = e.message().trim().to_string();
            return (
                None,
                vec![Diagnostic {
                    severity: Severity::Error,
                    line,
                    col,
                    path: String::new(),
                    message: msg,
                }],
            );
        }
    };
    let tree = DeTable::parse(src).ok();
    let mut lints = Lints::default();
    lint(&registry, &mut lints);
    let mut out: Vec<Diagnostic> = lints
        .0
        .into_iter()
        .map(|(severity, path, message)| {
            let offset = tree
                .as_ref()
                .and_then(|t| locate(t.get_ref(), &path))
                .unwrap_or(0);
            let (line, col) = index.line_col(offset);
            Diagnostic {
                severity,
                line,
                col,
                path: path_string(&path),
                message,
            }
        })
        .collect();
    out.sort_by_key(|d| (d.line, d.col, d.severity));
    let ok = !out.iter().any(|d| d.severity == Severity::Error);
    (ok.then_some(registry), out)
}

/// Parses a registry and fails on any error diagnostic (warnings are returned alongside).
pub fn parse(src: &str) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (reg, diags) = check(src);
    match reg {
        Some(r) => Ok((r, diags)),
        None => Err(diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()),
    }
}

fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Finds the byte offset of the deepest existing element along `path`.
fn locate(table: &DeTable<'_>, path: &[Seg]) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut current: Option<&DeValue<'_>> = None;
    for (i, seg) in path.iter().enumerate() {
        let next = match (i, seg, current) {
            (0, Seg::Key(k), _) => lookup(table, k),
            (_, Seg::Key(k), Some(DeValue::Table(t))) => lookup(t, k),
            (_, Seg::Index(n), Some(DeValue::Array(a))) => a.get(*n),
            _ => None,
        };
        match next {
            Some(v) => {
                best = Some(v.span().start);
                current = Some(v.get_ref());
            }
            None => break,
        }
    }
    best
}

fn lookup<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a toml::Spanned<DeValue<'i>>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

struct LineIndex {
    starts: Vec<usize>,
    src: String,
}

impl LineIndex {
    fn new(src: &str) -> Self {
        let mut starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        Self {
            starts,
            src: src.to_string(),
        }
    }
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let end = offset.min(self.src.len());
        let col = self
            .src
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line + 1, col)
    }
}

#[derive(Default)]
struct Lints(Vec<(Severity, Vec<Seg>, String)>);

macro_rules! p {
    ($($seg:expr),* $(,)?) => { vec![$(Seg::from($seg)),*] };
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

impl Lints {
    fn error(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Error, path, msg.into()));
    }
    fn warn(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Warning, path, msg.into()));
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn valid_lang(l: &str) -> bool {
    let ok_len = (2..=3).contains(&l.len()) || (l.len() == 5 && l.as_bytes().get(2) == Some(&b'-'));
    ok_len && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
}

/// Only http(s) URLs are allowed: a `javascript:` or `data:` URL in a policy page is an attack.
fn valid_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://"))
        && u.len() > 8
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c.is_control())
}

fn valid_country(c: &str) -> bool {
    c == "EU" || (c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.splitn(2, '@');
    let (Some(local), Some(domain)) = (parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

fn valid_host(h: &str) -> bool {
    let h = h.strip_prefix('.').unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && h == h.to_ascii_lowercase()
}

fn dupes<'a>(
    lints: &mut Lints,
    what: &str,
    table: &str,
    ids: impl Iterator<Item = &'a str>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if !valid_id(id) {
            lints.error(
                p![table, i, "id"],
                format!(
                    "invalid {what} id `{id}`: use lowercase letters, digits, `-` and `_` (at most 64)"
                ),
            );
        }
        if !seen.insert(id) {
            lints.error(p![table, i, "id"], format!("duplicate {what} id `{id}`"));
        }
    }
    seen
}

fn text_langs(lints: &mut Lints, path: Vec<Seg>, text: &Text, langs: &[String], what: &str) {
    let missing = text.missing(langs);
    if !missing.is_empty() {
        lints.error(
            path.clone(),
            format!(
                "{what} has no translation for site language{} {}",
                if missing.len() > 1 { "s" } else { "" },
                missing
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for s in text.all() {
        if s.trim().is_empty() {
            lints.error(path.clone(), format!("{what} is empty"));
            break;
        }
    }
}

fn opt_text(lints: &mut Lints, path: Vec<Seg>, text: &Option<Text>, langs: &[String], what: &str) {
    if let Some(t) = text {
        text_langs(lints, path, t, langs, what);
    }
}

fn lint(r: &Registry, l: &mut Lints) {
    // Controller
    let c = &r.controller;
    if c.name.trim().is_empty() {
        l.error(p!["controller", "name"], "controller name is empty");
    }
    if !valid_email(&c.email) {
        l.error(
            p!["controller", "email"],
            format!("invalid email address `{}`", c.email),
        );
    }
    if let Some(e) = &c.rights_email
        && !valid_email(e)
    {
        l.error(
            p!["controller", "rights_email"],
            format!("invalid email address `{e}`"),
        );
    }
    if !valid_country(&c.country) {
        l.error(
            p!["controller", "country"],
            format!(
                "invalid country `{}`: use an ISO 3166-1 alpha-2 code like \"FR\"",
                c.country
            ),
        );
    }
    if jiff::tz::TimeZone::get(&c.timezone).is_err() {
        l.error(
            p!["controller", "timezone"],
            format!(
                "unknown time zone `{}`: use an IANA name like \"Europe/Paris\"",
                c.timezone
            ),
        );
    }
    for (key, u) in [("website", &c.website)] {
        if let Some(u) = u
            && !valid_url(u)
        {
            l.error(
                p!["controller", key],
                format!("`{u}` is not an http(s) URL"),
            );
        }
    }
    if let Some(u) = &c.supervisory_authority.url
        && !valid_url(u)
    {
        l.error(
            p!["controller", "supervisory_authority", "url"],
            format!("`{u}` is not an http(s) URL"),
        );
    }
    for (key, contact) in [("dpo", &c.dpo), ("representative", &c.representative)] {
        if let Some(ct) = contact {
            if let Some(e) = &ct.email
                && !valid_email(e)
            {
                l.error(
                    p!["controller", key, "email"],
                    format!("invalid email address `{e}`"),
                );
            }
            if ct.email.is_none() && ct.address.is_none() && ct.phone.is_none() {
                l.error(
                    p!["controller", key],
                    format!("the {key} needs an email, address or phone"),
                );
            }
        }
    }
    if !in_eea(&c.country) && c.representative.is_none() {
        l.warn(
            p!["controller", "country"],
            "a controller established outside the EEA usually needs a representative in the Union (GDPR Art. 27)",
        );
    }

    // Ids
    let purposes = dupes(
        l,
        "purpose",
        "purposes",
        r.purposes.iter().map(|x| x.id.as_str()),
    );
    let services = dupes(
        l,
        "service",
        "services",
        r.services.iter().map(|x| x.id.as_str()),
    );
    let sites = dupes(l, "site", "sites", r.sites.iter().map(|x| x.id.as_str()));
    let rules = dupes(
        l,
        "retention rule",
        "retention",
        r.retention.iter().map(|x| x.id.as_str()),
    );
    dupes(
        l,
        "activity",
        "activities",
        r.activities.iter().map(|x| x.id.as_str()),
    );

    if r.sites.is_empty() {
        l.error(
            p!["sites"],
            "the registry declares no site: add a [[sites]] table",
        );
    }

    // Languages needed by texts: every language of every site.
    let mut all_langs: Vec<String> = vec![];
    for s in &r.sites {
        for lang in &s.languages {
            if !all_langs.contains(lang) {
                all_langs.push(lang.clone());
            }
        }
    }

    // Sites
    let mut domains_seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, s) in r.sites.iter().enumerate() {
        if s.domains.is_empty() {
            l.error(
                p!["sites", i, "domains"],
                format!("site `{}` lists no domain", s.id),
            );
        }
        for (j, d) in s.domains.iter().enumerate() {
            if !valid_host(d) || d.starts_with('.') {
                l.error(
                    p!["sites", i, "domains", j],
                    format!("invalid host name `{d}` (lowercase, no scheme, no path)"),
                );
            }
            if let Some(other) = domains_seen.insert(d.as_str(), s.id.as_str())
                && other != s.id
            {
                l.error(
                    p!["sites", i, "domains", j],
                    format!("domain `{d}` is already used by site `{other}`"),
                );
            }
        }
        if let Some(cd) = &s.cookie_domain {
            let bare = cd.strip_prefix('.').unwrap_or(cd);
            if !valid_host(cd) {
                l.error(
                    p!["sites", i, "cookie_domain"],
                    format!("invalid cookie domain `{cd}`"),
                );
            } else if !s
                .domains
                .iter()
                .any(|d| d == bare || d.ends_with(&format!(".{bare}")))
            {
                l.error(
                    p!["sites", i, "cookie_domain"],
                    format!("cookie domain `{cd}` does not cover any of the site's domains"),
                );
            }
        }
        if s.languages.is_empty() {
            l.error(
                p!["sites", i, "languages"],
                format!("site `{}` lists no language", s.id),
            );
        }
        let mut seen_lang = HashSet::new();
        for (j, lang) in s.languages.iter().enumerate() {
            if !valid_lang(lang) {
                l.error(
                    p!["sites", i, "languages", j],
                    format!("invalid language code `{lang}`"),
                );
            }
            if !seen_lang.insert(lang) {
                l.error(
                    p!["sites", i, "languages", j],
                    format!("duplicate language `{lang}`"),
                );
            }
        }
        if s.consent_lifetime_days == 0 || s.consent_lifetime_days > MAX_CONSENT_LIFETIME_DAYS {
            l.error(
                p!["sites", i, "consent_lifetime_days"],
                format!(
                    "consent lifetime of {} days is out of range: 1 to {MAX_CONSENT_LIFETIME_DAYS} days (13 months); CNIL recommends {DEFAULT_CONSENT_LIFETIME_DAYS} (6 months)",
                    s.consent_lifetime_days
                ),
            );
        }
        if let Some(ps) = &s.purposes {
            for (j, id) in ps.iter().enumerate() {
                if !purposes.contains(id.as_str()) {
                    l.error(
                        p!["sites", i, "purposes", j],
                        format!("unknown purpose `{id}`"),
                    );
                }
            }
        }
        if let Some(ss) = &s.services {
            for (j, id) in ss.iter().enumerate() {
                if !services.contains(id.as_str()) {
                    l.error(
                        p!["sites", i, "services", j],
                        format!("unknown service `{id}`"),
                    );
                }
            }
        }
        if let Some(u) = &s.url
            && !valid_url(u)
        {
            l.error(
                p!["sites", i, "url"],
                format!("`{u}` is not an http(s) URL"),
            );
        }
        if let Some(b) = &s.banner {
            opt_text(
                l,
                p!["sites", i, "banner", "title"],
                &b.title,
                &s.languages,
                "banner title",
            );
            opt_text(
                l,
                p!["sites", i, "banner", "body"],
                &b.body,
                &s.languages,
                "banner body",
            );
        }
        if !r.site_purposes(s).any(|p| !p.consent_required) {
            l.warn(
                p!["sites", i, "purposes"],
                format!(
                    "site `{}` has no exempt purpose: the consent cookie itself is strictly necessary, declare a `necessary` purpose",
                    s.id
                ),
            );
        }
    }

    // Purposes
    for (i, pu) in r.purposes.iter().enumerate() {
        let langs = langs_for_purpose(r, &pu.id);
        text_langs(
            l,
            p!["purposes", i, "name"],
            &pu.name,
            &langs,
            "purpose name",
        );
        text_langs(
            l,
            p!["purposes", i, "description"],
            &pu.description,
            &langs,
            "purpose description",
        );
        opt_text(
            l,
            p!["purposes", i, "refusal_impact"],
            &pu.refusal_impact,
            &langs,
            "refusal impact",
        );
        if pu.consent_required {
            if pu.exemption.is_some() {
                l.error(
                    p!["purposes", i, "exemption"],
                    format!("purpose `{}` requires consent but declares an exemption: set consent_required = false or remove the exemption", pu.id),
                );
            }
            if pu.legal_basis == LegalBasis::LegitimateInterest {
                l.warn(
                    p!["purposes", i, "legal_basis"],
                    format!("purpose `{}` needs consent for its trackers: legitimate interest is not a valid basis for reading or writing on the device (ePrivacy Art. 5(3))", pu.id),
                );
            }
        } else {
            match pu.exemption {
                None => l.error(
                    p!["purposes", i, "consent_required"],
                    format!("purpose `{}` is exempt from consent but gives no ground: add exemption = \"strictly_necessary\" or \"audience_measurement\"", pu.id),
                ),
                Some(Exemption::AudienceMeasurement) => {
                    if pu.gpc {
                        l.error(p!["purposes", i, "gpc"], "an exempt audience-measurement purpose cannot be an advertising/sharing purpose");
                    }
                    match pu.data_retention {
                        None => l.warn(
                            p!["purposes", i],
                            format!("exempt audience measurement `{}`: declare data_retention (at most 25 months)", pu.id),
                        ),
                        Some(d) if d.seconds() > 25 * MONTH_SECS => l.error(
                            p!["purposes", i, "data_retention"],
                            format!("exempt audience measurement keeps data at most 25 months, not {d}"),
                        ),
                        _ => {}
                    }
                }
                Some(Exemption::StrictlyNecessary) => {}
            }
            if pu.gpc {
                l.error(
                    p!["purposes", i, "gpc"],
                    format!(
                        "purpose `{}` is exempt from consent, so a GPC refusal cannot apply to it",
                        pu.id
                    ),
                );
            }
        }
        if pu.legal_basis == LegalBasis::Consent && !pu.consent_required {
            l.error(
                p!["purposes", i, "legal_basis"],
                format!(
                    "purpose `{}` relies on consent but is marked exempt from consent",
                    pu.id
                ),
            );
        }
        let mut seen = HashSet::new();
        for (j, s) in pu.consent_mode.iter().enumerate() {
            if !seen.insert(s) {
                l.warn(
                    p!["purposes", i, "consent_mode", j],
                    format!("duplicate consent mode signal `{}`", s.as_str()),
                );
            }
        }
    }

    // Services
    for (i, s) in r.services.iter().enumerate() {
        if s.purposes.is_empty() {
            l.error(
                p!["services", i, "purposes"],
                format!("service `{}` serves no purpose", s.id),
            );
        }
        for (j, pid) in s.purposes.iter().enumerate() {
            if !purposes.contains(pid.as_str()) {
                l.error(
                    p!["services", i, "purposes", j],
                    format!("unknown purpose `{pid}`"),
                );
            }
        }
        if let Some(u) = &s.privacy_policy
            && !valid_url(u)
        {
            l.error(
                p!["services", i, "privacy_policy"],
                format!("`{u}` is not an http(s) URL"),
            );
        }
        if s.privacy_policy.is_none() {
            l.warn(
                p!["services", i],
                format!("service `{}` has no privacy_policy link", s.id),
            );
        }
        for (j, h) in s.hosts.iter().enumerate() {
            if !valid_host(h) {
                l.error(
                    p!["services", i, "hosts", j],
                    format!("invalid host name `{h}`"),
                );
            }
        }
        match &s.country {
            Some(cc) if !valid_country(cc) => l.error(
                p!["services", i, "country"],
                format!("invalid country `{cc}`: use an ISO 3166-1 alpha-2 code like \"US\""),
            ),
            Some(cc) if !in_eea(cc) && s.safeguard.is_none() => l.error(
                p!["services", i, "safeguard"],
                format!("service `{}` transfers data to {cc}, outside the EEA: declare its safeguard (adequacy, dpf, scc, bcr or derogation)", s.id),
            ),
            None => l.warn(p!["services", i], format!("service `{}` has no country: transfers outside the EEA cannot be shown", s.id)),
            _ => {}
        }
        let langs = all_langs.clone();
        opt_text(
            l,
            p!["services", i, "description"],
            &s.description,
            &langs,
            "service description",
        );
    }

    // Cookies
    let mut seen_cookie = HashSet::new();
    for (i, ck) in r.cookies.iter().enumerate() {
        let name_ok = !ck.name.is_empty()
            && !ck
                .name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "=;,\"<>".contains(c))
            && ck
                .name
                .find('*')
                .is_none_or(|pos| pos == ck.name.len() - 1 && pos > 0);
        if !name_ok {
            l.error(
                p!["cookies", i, "name"],
                format!("invalid tracker name `{}` (a wildcard `*` is allowed only at the end, after a prefix)", ck.name),
            );
        }
        if let Some(d) = &ck.domain
            && !valid_host(d)
        {
            l.error(p!["cookies", i, "domain"], format!("invalid domain `{d}`"));
        }
        if !seen_cookie.insert((
            ck.name.as_str(),
            ck.domain.as_deref(),
            ck.service.as_deref(),
        )) {
            l.error(
                p!["cookies", i, "name"],
                format!(
                    "tracker `{}` is declared twice for the same domain and service",
                    ck.name
                ),
            );
        }
        let purpose = r.purpose(&ck.purpose);
        if purpose.is_none() {
            l.error(
                p!["cookies", i, "purpose"],
                format!("unknown purpose `{}`", ck.purpose),
            );
        }
        let service = ck.service.as_ref().map(|s| (s, r.service(s)));
        match service {
            Some((sid, None)) => {
                l.error(
                    p!["cookies", i, "service"],
                    format!("unknown service `{sid}`"),
                );
            }
            Some((sid, Some(svc))) if !svc.purposes.contains(&ck.purpose) && purpose.is_some() => {
                l.error(
                    p!["cookies", i, "purpose"],
                    format!(
                        "tracker `{}` serves purpose `{}`, which its service `{sid}` does not list",
                        ck.name, ck.purpose
                    ),
                );
            }
            _ => {}
        }
        if let Some(ss) = &ck.sites {
            for (j, sid) in ss.iter().enumerate() {
                if !sites.contains(sid.as_str()) {
                    l.error(
                        p!["cookies", i, "sites", j],
                        format!("unknown site `{sid}`"),
                    );
                }
            }
        }
        let secs = ck.lifetime.seconds();
        if secs > MAX_TRACKER_LIFETIME_SECS {
            l.error(
                p!["cookies", i, "lifetime"],
                format!(
                    "tracker `{}` lives {}: trackers may live at most 13 months (CNIL)",
                    ck.name, ck.lifetime
                ),
            );
        }
        if ck.kind == StorageKind::Cookie
            && matches!(ck.lifetime, Lifetime::For(d) if d.seconds() == 0)
        {
            l.error(
                p!["cookies", i, "lifetime"],
                "a lifetime of 0 is meaningless: write \"session\"",
            );
        }
        let langs = langs_for_purpose(r, &ck.purpose);
        opt_text(
            l,
            p!["cookies", i, "description"],
            &ck.description,
            &langs,
            "tracker description",
        );
        opt_text(
            l,
            p!["cookies", i, "exemption_reason"],
            &ck.exemption_reason,
            &langs,
            "exemption reason",
        );
        if let Some(pu) = purpose {
            let basis = ck.legal_basis.unwrap_or(pu.legal_basis);
            if pu.consent_required {
                if basis == LegalBasis::LegitimateInterest {
                    l.warn(
                        p!["cookies", i, "legal_basis"],
                        format!("tracker `{}` is not strictly necessary (purpose `{}` needs consent): legitimate interest is not a valid basis for it", ck.name, pu.id),
                    );
                }
                if ck.exemption_reason.is_some() {
                    l.error(
                        p!["cookies", i, "exemption_reason"],
                        format!("tracker `{}` is marked exempt, but its purpose `{}` is neither strictly necessary nor exempt audience measurement", ck.name, pu.id),
                    );
                }
            } else {
                if ck.exemption_reason.is_none() {
                    l.error(
                        p!["cookies", i],
                        format!("tracker `{}` is exempt from consent (purpose `{}`): say why in exemption_reason", ck.name, pu.id),
                    );
                }
                if pu.exemption == Some(Exemption::AudienceMeasurement)
                    && secs > MAX_TRACKER_LIFETIME_SECS
                {
                    l.error(
                        p!["cookies", i, "lifetime"],
                        format!("exempt audience-measurement tracker `{}` lives {}: at most 13 months, not extended on later visits", ck.name, ck.lifetime),
                    );
                }
                if basis == LegalBasis::Consent {
                    l.error(
                        p!["cookies", i, "legal_basis"],
                        format!(
                            "tracker `{}` relies on consent but its purpose `{}` is exempt",
                            ck.name, pu.id
                        ),
                    );
                }
            }
        }
    }

    // Activities
    for (i, a) in r.activities.iter().enumerate() {
        let langs = match &a.sites {
            Some(ids) => langs_of_sites(r, ids),
            None => all_langs.clone(),
        };
        text_langs(
            l,
            p!["activities", i, "name"],
            &a.name,
            &langs,
            "activity name",
        );
        text_langs(
            l,
            p!["activities", i, "description"],
            &a.description,
            &langs,
            "activity description",
        );
        if a.legal_basis == LegalBasis::LegitimateInterest && a.legitimate_interest.is_none() {
            l.warn(
                p!["activities", i, "legitimate_interest"],
                format!(
                    "activity `{}` relies on legitimate interest: state the interest pursued",
                    a.id
                ),
            );
        }
        opt_text(
            l,
            p!["activities", i, "legitimate_interest"],
            &a.legitimate_interest,
            &langs,
            "legitimate interest",
        );
        for (key, list) in [
            ("data_subjects", &a.data_subjects),
            ("data_categories", &a.data_categories),
            ("recipients", &a.recipients),
            ("security_measures", &a.security_measures),
        ] {
            for (j, t) in list.iter().enumerate() {
                text_langs(l, p!["activities", i, key, j], t, &langs, key);
            }
        }
        if a.data_subjects.is_empty() {
            l.warn(
                p!["activities", i],
                format!(
                    "activity `{}`: the Art. 30 record needs the categories of data subjects",
                    a.id
                ),
            );
        }
        if a.data_categories.is_empty() {
            l.warn(
                p!["activities", i],
                format!(
                    "activity `{}`: the Art. 30 record needs the categories of personal data",
                    a.id
                ),
            );
        }
        if a.retention.is_empty() {
            l.warn(
                p!["activities", i],
                format!(
                    "activity `{}`: the Art. 30 record needs time limits for erasure (retention)",
                    a.id
                ),
            );
        }
        for (j, sid) in a.processors.iter().enumerate() {
            if !services.contains(sid.as_str()) {
                l.error(
                    p!["activities", i, "processors", j],
                    format!("unknown service `{sid}`"),
                );
            }
        }
        for (j, rid) in a.retention.iter().enumerate() {
            if !rules.contains(rid.as_str()) {
                l.error(
                    p!["activities", i, "retention", j],
                    format!("unknown retention rule `{rid}`"),
                );
            }
        }
        for (j, t) in a.transfers.iter().enumerate() {
            if !valid_country(&t.country) {
                l.error(
                    p!["activities", i, "transfers", j, "country"],
                    format!("invalid country `{}`", t.country),
                );
            } else if in_eea(&t.country) {
                l.warn(
                    p!["activities", i, "transfers", j, "country"],
                    format!("{} is inside the EEA: not a transfer", t.country),
                );
            }
        }
        if let Some(ids) = &a.sites {
            for (j, sid) in ids.iter().enumerate() {
                if !sites.contains(sid.as_str()) {
                    l.error(
                        p!["activities", i, "sites", j],
                        format!("unknown site `{sid}`"),
                    );
                }
            }
        }
    }

    // Retention
    for (i, rr) in r.retention.iter().enumerate() {
        text_langs(
            l,
            p!["retention", i, "data_category"],
            &rr.data_category,
            &all_langs,
            "data category",
        );
        opt_text(
            l,
            p!["retention", i, "description"],
            &rr.description,
            &all_langs,
            "retention description",
        );
        if let Some(a) = rr.archive
            && a.seconds() > rr.period.seconds()
        {
            l.error(
                p!["retention", i, "archive"],
                "the archive period cannot exceed the whole retention period",
            );
        }
    }

    // Hostile strings: registry text ends up in HTML pages and the banner. Escaping makes markup
    // harmless, but markup in a policy text is almost always a mistake or an attack.
    for (path, s) in all_strings(r) {
        if s.contains('<') && (s.contains("script") || s.contains("on") && s.contains('=')) {
            l.warn(
                path,
                "text contains markup; it will be shown escaped, as plain text",
            );
        }
    }
}

fn langs_of_sites(r: &Registry, ids: &[String]) -> Vec<String> {
    let mut langs: Vec<String> = vec![];
    for s in r.sites.iter().filter(|s| ids.contains(&s.id)) {
        for lang in &s.languages {
            if !langs.contains(lang) {
                langs.push(lang.clone());
            }
        }
    }
    langs
}

/// Languages of the sites that use a purpose.
fn langs_for_purpose(r: &Registry, purpose: &str) -> Vec<String> {
    let ids: Vec<String> = r
        .sites
        .iter()
        .filter(|s| {
            s.purposes
                .as_ref()
                .is_none_or(|p| p.iter().any(|x| x == purpose))
        })
        .map(|s| s.id.clone())
        .collect();
    langs_of_sites(r, &ids)
}

fn all_strings(r: &Registry) -> Vec<(Vec<Seg>, &str)> {
    let mut out: Vec<(Vec<Seg>, &str)> = vec![];
    fn push_text<'a>(out: &mut Vec<(Vec<Seg>, &'a str)>, path: Vec<Seg>, t: &'a Text) {
        for s in t.all() {
            out.push((path.clone(), s));
        }
    }
    for (i, pu) in r.purposes.iter().enumerate() {
        push_text(&mut out, p!["purposes", i, "name"], &pu.name);
        push_text(&mut out, p!["purposes", i, "description"], &pu.description);
    }
    for (i, a) in r.activities.iter().enumerate() {
        push_text(&mut out, p!["activities", i, "name"], &a.name);
        push_text(&mut out, p!["activities", i, "description"], &a.description);
    }
    for (i, c) in r.cookies.iter().enumerate() {
        if let Some(d) = &c.description {
            push_text(&mut out, p!["cookies", i, "description"], d);
        }
    }
    let mut out2: Vec<(Vec<Seg>, &str)> = out;
    for (i, s) in r.services.iter().enumerate() {
        out2.push((p!["services", i, "name"], s.name.as_str()));
        out2.push((p!["services", i, "provider"], s.provider.as_str()));
    }
    out2.push((p!["controller", "name"], r.controller.name.as_str()));
    out2
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[controller]
name = "Example SAS"
address = "1 rue de la Paix, 75002 Paris"
country = "FR"
email = "privacy@example.com"
[controller.supervisory_authority]
name = "CNIL"
url = "https://www.cnil.fr"

[[sites]]
id = "ex"
name = "Example"
domains = ["example.com", "www.example.com"]
cookie_domain = ".example.com"
languages = ["en", "fr"]

[[purposes]]
id = "necessary"
name = { en = "Necessary", fr = "Nécessaires" }
description = { en = "Needed.", fr = "Indispensables." }
consent_required = false
exemption = "strictly_necessary"
legal_basis = "legitimate_interest"

[[purposes]]
id = "analytics"
name = { en = "Analytics", fr = "Mesure d'audience" }
description = { en = "Stats.", fr = "Statistiques." }
legal_basis = "consent"
consent_mode = ["analytics_storage"]

[[services]]
id = "ga"
name = "Google Analytics"
provider = "Google Ireland Ltd"
purposes = ["analytics"]
privacy_policy = "https://policies.google.com/privacy"
country = "IE"

[[cookies]]
name = "_ga"
domain = ".example.com"
service = "ga"
purpose = "analytics"
lifetime = "13 months"
"#;

    fn diags(src: &str) -> Vec<String> {
        check(src).1.iter().map(|d| d.render("f.toml")).collect()
    }

    #[test]
    fn base_is_clean() {
        let (reg, d) = check(BASE);
        assert!(reg.is_some(), "{d:?}");
        assert!(d.iter().all(|d| d.severity != Severity::Error), "{d:?}");
    }

    #[test]
    fn table_of_errors() {
        let cases: &[(&str, &str, &str)] = &[
            // (replace, with, expected substring)
            (
                "lifetime = \"13 months\"",
                "lifetime = \"2 years\"",
                "f.toml:46:12: error: tracker `_ga` lives 2 years",
            ),
            (
                "purpose = \"analytics\"\nlifetime",
                "purpose = \"analytix\"\nlifetime",
                "error: unknown purpose `analytix`",
            ),
            (
                "service = \"ga\"",
                "service = \"gaa\"",
                "error: unknown service `gaa`",
            ),
            (
                "id = \"analytics\"",
                "id = \"necessary\"",
                "error: duplicate purpose id `necessary`",
            ),
            (
                "fr = \"Statistiques.\"",
                "de = \"Statistiken.\"",
                "error: purpose description has no translation for site language `fr`",
            ),
            (
                "legal_basis = \"consent\"\nconsent_mode",
                "legal_basis = \"legitimate_interest\"\nconsent_mode",
                "warning: purpose `analytics` needs consent",
            ),
            (
                "country = \"IE\"",
                "country = \"US\"",
                "outside the EEA: declare its safeguard",
            ),
            (
                "privacy_policy = \"https://policies.google.com/privacy\"",
                "privacy_policy = \"javascript:alert(1)\"",
                "is not an http(s) URL",
            ),
            (
                "languages = [\"en\", \"fr\"]",
                "languages = [\"en\", \"fr\"]\nconsent_lifetime_days = 400",
                "consent lifetime of 400 days is out of range",
            ),
            (
                "lifetime = \"13 months\"",
                "lifetime = \"13 months\"\nexemption_reason = \"stats\"",
                "is marked exempt, but its purpose `analytics` is neither strictly necessary nor exempt audience measurement",
            ),
            (
                "lifetime = \"13 months\"",
                "lifetime = \"13 monthz\"",
                "invalid duration unit `monthz`",
            ),
            (
                "name = \"Example\"",
                "name = \"Example\"\ncolour = \"red\"",
                "unknown field `colour`",
            ),
            (
                "consent_mode = [\"analytics_storage\"]",
                "consent_mode = \"analytics_storage\"",
                "error: invalid type",
            ),
        ];
        for (from, to, want) in cases {
            assert!(BASE.contains(from), "fixture lacks {from}");
            let src = BASE.replacen(from, to, 1);
            let got = diags(&src);
            assert!(
                got.iter().any(|g| g.contains(want)),
                "case {to:?}: wanted {want:?} in {got:#?}"
            );
        }
    }

    #[test]
    fn exempt_tracker_rules() {
        let src = BASE.to_string()
            + r#"
[[purposes]]
id = "audience"
name = { en = "Audience", fr = "Audience" }
description = { en = "Anonymous stats.", fr = "Statistiques anonymes." }
consent_required = false
exemption = "audience_measurement"
legal_basis = "legitimate_interest"
data_retention = "25 months"

[[cookies]]
name = "_pk_id*"
purpose = "audience"
lifetime = "14 months"
exemption_reason = "CNIL-exempt configuration"

[[cookies]]
name = "sess"
purpose = "necessary"
lifetime = "session"
"#;
        let got = diags(&src);
        assert!(
            got.iter().any(
                |g| g.contains("exempt audience-measurement tracker `_pk_id*` lives 14 months")
            ),
            "{got:#?}"
        );
        assert!(
            got.iter().any(|g| g
                .contains("tracker `sess` is exempt from consent (purpose `necessary`): say why")),
            "{got:#?}"
        );
    }

    #[test]
    fn parse_error_has_position() {
        let got = diags("[controller]\nname = \n");
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("f.toml:2:"), "{got:?}");
    }
}
