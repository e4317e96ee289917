//! What the site declares: the scanner's own input type, independent of the registry crate.

use serde::{Deserialize, Serialize};

use crate::url::host_within;

/// The declared inventory of one site, as the scanner needs it.
///
/// Built by hand in tests and the example, and by `Declared::from_registry` in the CLI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Declared {
    /// The site's own hosts (e.g. `www.example.com`, `shop.example.com`); their registrable
    /// domains are first party, together with the scanned URL's.
    pub site_hosts: Vec<String>,
    /// The domain first-party cookies are set on (e.g. `example.com`), if any.
    pub cookie_domain: Option<String>,
    /// The purposes cookies are declared under.
    pub purposes: Vec<DeclaredPurpose>,
    /// Every declared cookie or storage key.
    pub cookies: Vec<DeclaredCookie>,
    /// Third-party hosts that may be contacted before consent (e.g. a consent-exempt CDN).
    /// A host also allows its subdomains.
    pub third_party_hosts_allowed_before_consent: Vec<String>,
}

/// A purpose and whether it needs consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredPurpose {
    /// The purpose id cookies refer to.
    pub id: String,
    /// `false` for strictly necessary (consent-exempt) purposes.
    pub consent_required: bool,
}

/// One declared tracker (cookie, or localStorage/sessionStorage key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredCookie {
    /// The name; a trailing `*` makes it a prefix (`_ga_*`).
    pub name: String,
    /// The domain it is set on; `None` matches any domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// The purpose id.
    pub purpose: String,
    /// Declared lifetime in seconds; `None` for a session cookie.
    #[serde(default)]
    pub lifetime_seconds: Option<i64>,
    /// The service or vendor that sets it.
    #[serde(default)]
    pub service: Option<String>,
}

impl DeclaredCookie {
    /// Whether this declaration covers a cookie `name` on `domain`.
    pub fn matches(&self, name: &str, domain: &str) -> bool {
        let name_ok = match self.name.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => self.name == name,
        };
        if !name_ok {
            return false;
        }
        match &self.domain {
            None => true,
            Some(d) => domain.is_empty() || host_within(domain, d),
        }
    }

    /// Exact names rank above prefixes; longer prefixes above shorter ones.
    fn specificity(&self) -> usize {
        if self.name.ends_with('*') {
            self.name.len()
        } else {
            usize::MAX
        }
    }
}

impl Declared {
    /// The most specific declaration covering `name` on `domain` (empty for storage keys).
    pub fn find(&self, name: &str, domain: &str) -> Option<&DeclaredCookie> {
        self.cookies
            .iter()
            .filter(|c| c.matches(name, domain))
            .max_by_key(|c| c.specificity())
    }

    /// Whether the purpose needs consent. Unknown purposes do (the protective reading).
    pub fn consent_required(&self, purpose: &str) -> bool {
        self.purposes
            .iter()
            .find(|p| p.id == purpose)
            .is_none_or(|p| p.consent_required)
    }

    /// Whether a third-party host may be contacted before consent.
    pub fn third_party_allowed_before_consent(&self, host: &str) -> bool {
        self.third_party_hosts_allowed_before_consent
            .iter()
            .any(|h| host_within(host, h))
    }
}

impl Declared {
    /// Whether `host` is one of the site's own hosts (or under its cookie domain).
    pub fn covers_host(&self, host: &str) -> bool {
        self.site_hosts.iter().any(|h| host_within(host, h))
            || self
                .cookie_domain
                .as_deref()
                .is_some_and(|d| host_within(host, d))
    }

    /// Audits another deployment of the same site (a staging host, `assent demo` on
    /// 127.0.0.1): first-party declarations are matched on `host` instead of the production
    /// domains. Third-party declarations are unchanged.
    pub fn rebased_on(mut self, host: &str) -> Declared {
        let first_party = |d: &str| {
            self.site_hosts
                .iter()
                .any(|h| host_within(h, d) || host_within(d, h))
                || self
                    .cookie_domain
                    .as_deref()
                    .is_some_and(|c| host_within(d, c))
        };
        let rebased: Vec<Option<String>> = self
            .cookies
            .iter()
            .map(|c| match &c.domain {
                Some(d) if first_party(d) => Some(host.to_string()),
                other => other.clone(),
            })
            .collect();
        for (c, d) in self.cookies.iter_mut().zip(rebased) {
            c.domain = d;
        }
        self.site_hosts.push(host.to_string());
        self.cookie_domain = Some(host.to_string());
        self
    }

    /// The declared inventory of one site of a registry: its hosts, cookie domain, purposes,
    /// trackers, and the hosts of services used only for consent-exempt purposes (which may
    /// be contacted before consent). `None` if the registry has no such site.
    pub fn from_registry(registry: &assent_model::Registry, site_id: &str) -> Option<Declared> {
        let site = registry.site(site_id)?;
        let purposes: Vec<DeclaredPurpose> = registry
            .site_purposes(site)
            .map(|p| DeclaredPurpose {
                id: p.id.clone(),
                consent_required: p.consent_required,
            })
            .collect();
        let exempt = |pid: &str| purposes.iter().any(|p| p.id == pid && !p.consent_required);
        let cookies = registry
            .site_cookies(site)
            .map(|c| DeclaredCookie {
                name: c.name.clone(),
                domain: c.domain.clone(),
                purpose: c.purpose.clone(),
                lifetime_seconds: match c.lifetime {
                    assent_model::registry::Lifetime::Session => None,
                    l => Some(l.seconds()),
                },
                service: c.service.clone(),
            })
            .collect();
        let mut allowed = vec![];
        for s in registry.site_services(site) {
            if !s.purposes.is_empty() && s.purposes.iter().all(|p| exempt(p)) {
                allowed.extend(s.hosts.iter().cloned());
            }
        }
        Some(Declared {
            site_hosts: site.domains.clone(),
            cookie_domain: site
                .cookie_domain
                .as_ref()
                .map(|d| d.trim_start_matches('.').to_string()),
            purposes,
            cookies,
            third_party_hosts_allowed_before_consent: allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(name: &str, domain: Option<&str>, purpose: &str) -> DeclaredCookie {
        DeclaredCookie {
            name: name.into(),
            domain: domain.map(Into::into),
            purpose: purpose.into(),
            lifetime_seconds: None,
            service: None,
        }
    }

    #[test]
    fn matching_prefers_exact_names_and_checks_domains() {
        let d = Declared {
            purposes: vec![
                DeclaredPurpose {
                    id: "necessary".into(),
                    consent_required: false,
                },
                DeclaredPurpose {
                    id: "analytics".into(),
                    consent_required: true,
                },
            ],
            cookies: vec![
                cookie("_ga*", None, "analytics"),
                cookie("_ga_*", None, "analytics"),
                cookie("_gat", Some("example.com"), "analytics"),
                cookie("sid", Some(".example.com"), "necessary"),
            ],
            ..Declared::default()
        };
        assert_eq!(d.find("_ga_ABC", "example.com").unwrap().name, "_ga_*");
        assert_eq!(d.find("_ga", "example.com").unwrap().name, "_ga*");
        assert_eq!(d.find("_gat", ".www.example.com").unwrap().name, "_gat");
        assert_eq!(d.find("_gat", "tracker.net").unwrap().name, "_ga*");
        assert!(d.find("sid", "www.example.com").is_some());
        assert!(d.find("sid", "tracker.net").is_none());
        assert!(d.find("other", "example.com").is_none());
        assert!(!d.consent_required("necessary"));
        assert!(d.consent_required("analytics"));
        assert!(d.consent_required("unknown-purpose"));
    }

    #[test]
    fn parses_from_json() {
        let d: Declared = serde_json::from_str(
            r#"{"site_hosts": ["shop.test"], "purposes": [{"id": "a", "consent_required": true}],
                "cookies": [{"name": "x", "purpose": "a", "lifetime_seconds": 60}]}"#,
        )
        .unwrap();
        assert_eq!(d.cookies[0].lifetime_seconds, Some(60));
        assert!(serde_json::from_str::<Declared>(r#"{"sites": []}"#).is_err());
    }

    #[test]
    fn from_the_callkom_registry() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/callkom.toml");
        let src = std::fs::read_to_string(path).unwrap();
        let (reg, _) = assent_model::check::parse(&src).unwrap();
        let d = Declared::from_registry(&reg, "callkom").unwrap();
        assert!(d.site_hosts.contains(&"callkom.io".to_string()));
        assert_eq!(d.cookie_domain.as_deref(), Some("callkom.io"));
        assert!(
            d.purposes
                .iter()
                .any(|p| p.id == "necessary" && !p.consent_required)
        );
        let ga = d.cookies.iter().find(|c| c.name == "_ga_*").unwrap();
        assert_eq!(ga.purpose, "performance");
        assert_eq!(
            ga.lifetime_seconds,
            Some(13 * assent_model::registry::MONTH_SECS)
        );
        assert!(
            d.cookies
                .iter()
                .any(|c| c.name == "hubspotutk" && c.lifetime_seconds.is_some())
        );
        assert!(
            d.cookies
                .iter()
                .any(|c| c.name == "_cfuvid" && c.lifetime_seconds.is_none())
        );
        assert!(Declared::from_registry(&reg, "nope").is_none());
    }
}
