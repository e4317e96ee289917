//! From observations to the report's inventory: aggregate what each scenario saw (cookies,
//! storage keys, third-party hosts, refused cookies), and match every item against the
//! declared inventory and the catalog. The rules that turn the inventory into findings are in
//! `rules`.
//!
//! Invariant: an item that matches no declaration and no catalog entry needs consent (the
//! protective reading).

use crate::catalog::Catalog;
use crate::cookie_line::{CookieLine, parse_cookie_line};
use crate::declared::{Declared, DeclaredCookie};
use crate::observed::{ScenarioRun, ScriptWrite};
use crate::report::{
    BlockedCookie, Classification, CookieRecord, DeclaredRef, Phase, ScenarioReport, Source,
    StorageRecord, Subject, ThirdPartyHost,
};
use crate::url::{SiteScope, Url};

/// Inputs of the analysis.
pub(crate) struct Context<'a> {
    pub declared: &'a Declared,
    pub catalog: &'a Catalog,
    pub scope: &'a SiteScope,
}

impl Context<'_> {
    /// The declaration of an item: the one covering its name on its domain, else one of the
    /// same name on another domain, marked with that domain (a page served from a host that
    /// is not the declared one still runs the declared cookies: they are not "undeclared").
    fn declared_ref(&self, name: &str, domain: &str) -> Option<DeclaredRef> {
        if let Some(c) = self.declared.find(name, domain) {
            return Some(self.reference(c));
        }
        self.declared.find(name, "").map(|c| DeclaredRef {
            declared_domain: c.domain.clone(),
            ..self.reference(c)
        })
    }

    /// How a report refers to a declaration (with whether its purpose needs consent).
    pub(crate) fn reference(&self, c: &DeclaredCookie) -> DeclaredRef {
        DeclaredRef {
            pattern: c.name.clone(),
            purpose: c.purpose.clone(),
            consent_required: self.declared.consent_required(&c.purpose),
            lifetime_seconds: c.lifetime_seconds,
            service: c.service.clone(),
            declared_domain: None,
        }
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
