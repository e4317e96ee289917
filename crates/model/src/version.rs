//! Policy versions: the part of the registry that concerns one site, hashed over a canonical
//! encoding. The differences between two versions are in [`crate::changes`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::registry::*;

/// Everything a visitor of one site is told: the content of one policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSnapshot {
    pub controller: Controller,
    pub site: Site,
    pub purposes: Vec<Purpose>,
    pub services: Vec<Service>,
    pub cookies: Vec<Cookie>,
    pub activities: Vec<Activity>,
    pub retention: Vec<RetentionRule>,
    /// The site's marketing purposes, stated in its privacy policy. Left out of the canonical
    /// JSON when empty, so that versions made before they existed keep their hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marketing: Vec<MarketingPurpose>,
}

impl SiteSnapshot {
    /// Projects the registry onto one site.
    pub fn from_registry(r: &Registry, site_id: &str) -> Option<Self> {
        let site = r.site(site_id)?;
        let activities: Vec<Activity> = r.site_activities(site).cloned().collect();
        let rules: Vec<RetentionRule> = r
            .retention
            .iter()
            .filter(|rr| {
                activities.is_empty() || activities.iter().any(|a| a.retention.contains(&rr.id))
            })
            .cloned()
            .collect();
        Some(Self {
            controller: r.controller.clone(),
            site: site.clone(),
            purposes: r.site_purposes(site).cloned().collect(),
            services: r.site_services(site).cloned().collect(),
            cookies: r.site_cookies(site).cloned().collect(),
            activities,
            retention: rules,
            marketing: r
                .marketing
                .iter()
                .filter(|m| m.on_site(site_id))
                .cloned()
                .collect(),
        })
    }

    /// A registry holding only this site, for code that works on registries.
    pub fn to_registry(&self) -> Registry {
        Registry {
            controller: self.controller.clone(),
            sites: vec![self.site.clone()],
            purposes: self.purposes.clone(),
            services: self.services.clone(),
            cookies: self.cookies.clone(),
            activities: self.activities.clone(),
            retention: self.retention.clone(),
            datastores: vec![],
            marketing: self.marketing.clone(),
        }
    }

    /// Canonical JSON: object keys sorted, no insignificant whitespace, no floats.
    pub fn canonical_json(&self) -> String {
        match serde_json::to_value(self) {
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        }
    }

    /// `sha256:<hex>` of the canonical JSON.
    pub fn content_hash(&self) -> String {
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
        )
    }

    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Fingerprint of the texts a visitor sees in the banner in `lang`: proof of *what was
    /// shown*, stored with each consent.
    pub fn text_fingerprint(&self, lang: &str) -> String {
        let def = self.site.default_language();
        let mut h = Sha256::new();
        let mut put = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        put(lang);
        if let Some(b) = &self.site.banner {
            if let Some(t) = &b.title {
                put(t.get(lang, def));
            }
            if let Some(t) = &b.body {
                put(t.get(lang, def));
            }
        }
        for p in &self.purposes {
            put(&p.id);
            put(p.name.get(lang, def));
            put(p.description.get(lang, def));
        }
        for s in &self.services {
            put(&s.id);
            put(&s.provider);
        }
        for c in &self.cookies {
            put(&c.name);
            put(&c.lifetime.to_string());
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}
