//! Policy versions: the part of the registry that concerns one site, hashed over a canonical
//! encoding, and the differences between two versions in plain words, each marked *material*
//! (the banner must ask again) or not (a wording change).

use std::collections::BTreeMap;

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

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Machine-readable kind, e.g. `service_added`, `cookie_lifetime_longer`.
    pub kind: String,
    /// Whether this change requires fresh consent.
    pub material: bool,
    pub en: String,
    pub fr: String,
}

impl Change {
    fn new(kind: &str, material: bool, en: String, fr: String) -> Self {
        Self {
            kind: kind.into(),
            material,
            en,
            fr,
        }
    }
    pub fn text(&self, lang: &str) -> &str {
        if lang == "fr" { &self.fr } else { &self.en }
    }
}

fn name(t: &Text) -> String {
    t.get("en", "en").to_string()
}
fn nom(t: &Text) -> String {
    t.get("fr", "en").to_string()
}

/// The differences from `old` to `new`, material ones first.
pub fn diff(old: &SiteSnapshot, new: &SiteSnapshot) -> Vec<Change> {
    let mut out = vec![];

    if old.controller.name != new.controller.name {
        out.push(Change::new(
            "controller_changed",
            true,
            format!(
                "Controller changed from {} to {}",
                old.controller.name, new.controller.name
            ),
            format!(
                "Responsable du traitement changé de {} à {}",
                old.controller.name, new.controller.name
            ),
        ));
    } else if old.controller != new.controller {
        out.push(Change::new(
            "controller_details_changed",
            false,
            "Controller contact details changed".into(),
            "Coordonnées du responsable du traitement modifiées".into(),
        ));
    }

    // Purposes
    for p in &new.purposes {
        match old.purpose(&p.id) {
            None => out.push(Change::new(
                "purpose_added",
                true,
                format!("Added purpose {} ({})", name(&p.name), p.id),
                format!("Ajout de la finalité {} ({})", nom(&p.name), p.id),
            )),
            Some(o) => {
                if !o.consent_required && p.consent_required {
                    out.push(Change::new(
                        "purpose_now_requires_consent",
                        true,
                        format!("Purpose {} now requires consent", name(&p.name)),
                        format!(
                            "La finalité {} requiert désormais le consentement",
                            nom(&p.name)
                        ),
                    ));
                } else if o.consent_required && !p.consent_required {
                    out.push(Change::new(
                        "purpose_now_exempt",
                        false,
                        format!("Purpose {} is now exempt from consent", name(&p.name)),
                        format!(
                            "La finalité {} est désormais exemptée de consentement",
                            nom(&p.name)
                        ),
                    ));
                }
                if o.legal_basis != p.legal_basis {
                    out.push(Change::new(
                        "purpose_legal_basis_changed",
                        false,
                        format!(
                            "Legal basis of purpose {} changed from {} to {}",
                            name(&p.name),
                            o.legal_basis.label("en"),
                            p.legal_basis.label("en")
                        ),
                        format!(
                            "Base légale de la finalité {} changée de « {} » à « {} »",
                            nom(&p.name),
                            o.legal_basis.label("fr"),
                            p.legal_basis.label("fr")
                        ),
                    ));
                }
                if o.name != p.name
                    || o.description != p.description
                    || o.refusal_impact != p.refusal_impact
                {
                    out.push(Change::new(
                        "purpose_wording_changed",
                        false,
                        format!("Wording of purpose {} changed", name(&p.name)),
                        format!("Formulation de la finalité {} modifiée", nom(&p.name)),
                    ));
                }
            }
        }
    }
    for o in &old.purposes {
        if new.purpose(&o.id).is_none() {
            out.push(Change::new(
                "purpose_removed",
                false,
                format!("Removed purpose {} ({})", name(&o.name), o.id),
                format!("Suppression de la finalité {} ({})", nom(&o.name), o.id),
            ));
        }
    }

    // Services
    let pname = |snap: &SiteSnapshot, id: &str, fr: bool| -> String {
        match snap.purpose(id) {
            Some(p) if fr => nom(&p.name),
            Some(p) => name(&p.name),
            None => id.to_string(),
        }
    };
    for s in &new.services {
        let purposes_en: Vec<String> = s.purposes.iter().map(|p| pname(new, p, false)).collect();
        let purposes_fr: Vec<String> = s.purposes.iter().map(|p| pname(new, p, true)).collect();
        match old.service(&s.id) {
            None => {
                out.push(Change::new(
                    "service_added",
                    true,
                    format!(
                        "Added service {} ({}) for purpose {}",
                        s.name,
                        s.provider,
                        purposes_en.join(", ")
                    ),
                    format!(
                        "Ajout du service {} ({}) pour la finalité {}",
                        s.name,
                        s.provider,
                        purposes_fr.join(", ")
                    ),
                ));
                if let Some(cc) = &s.country
                    && !in_eea(cc)
                {
                    out.push(transfer_added(&s.name, cc));
                }
            }
            Some(o) => {
                if o.provider != s.provider {
                    out.push(Change::new(
                        "service_provider_changed",
                        true,
                        format!(
                            "Provider of service {} changed from {} to {}",
                            s.name, o.provider, s.provider
                        ),
                        format!(
                            "Fournisseur du service {} changé de {} à {}",
                            s.name, o.provider, s.provider
                        ),
                    ));
                }
                for p in &s.purposes {
                    if !o.purposes.contains(p) {
                        out.push(Change::new(
                            "service_purpose_added",
                            true,
                            format!(
                                "Service {} is now also used for purpose {}",
                                s.name,
                                pname(new, p, false)
                            ),
                            format!(
                                "Le service {} est désormais aussi utilisé pour la finalité {}",
                                s.name,
                                pname(new, p, true)
                            ),
                        ));
                    }
                }
                let was_out = o.country.as_deref().is_some_and(|c| !in_eea(c));
                match &s.country {
                    Some(cc) if !in_eea(cc) && (!was_out || o.country.as_deref() != Some(cc)) => {
                        out.push(transfer_added(&s.name, cc));
                    }
                    _ => {
                        if o.country != s.country {
                            out.push(Change::new(
                                "service_country_changed",
                                false,
                                format!(
                                    "Service {} now processes data in {}",
                                    s.name,
                                    s.country.as_deref().unwrap_or("an unspecified country")
                                ),
                                format!(
                                    "Le service {} traite désormais les données en/au {}",
                                    s.name,
                                    s.country.as_deref().unwrap_or("pays non précisé")
                                ),
                            ));
                        }
                    }
                }
                if o.safeguard != s.safeguard && s.safeguard.is_some() {
                    out.push(Change::new(
                        "service_safeguard_changed",
                        false,
                        format!(
                            "Transfer safeguard of service {} is now: {}",
                            s.name,
                            s.safeguard.map(|x| x.label("en")).unwrap_or("")
                        ),
                        format!(
                            "Garantie de transfert du service {} : {}",
                            s.name,
                            s.safeguard.map(|x| x.label("fr")).unwrap_or("")
                        ),
                    ));
                }
                if o.description != s.description
                    || o.privacy_policy != s.privacy_policy
                    || o.name != s.name
                {
                    out.push(Change::new(
                        "service_wording_changed",
                        false,
                        format!("Description or links of service {} changed", s.name),
                        format!("Description ou liens du service {} modifiés", s.name),
                    ));
                }
            }
        }
    }
    for o in &old.services {
        if new.service(&o.id).is_none() {
            out.push(Change::new(
                "service_removed",
                false,
                format!("Removed service {} ({})", o.name, o.provider),
                format!("Suppression du service {} ({})", o.name, o.provider),
            ));
        }
    }

    // Cookies, identified by name and domain.
    let key = |c: &Cookie| (c.name.clone(), c.domain.clone().unwrap_or_default());
    let old_c: BTreeMap<_, &Cookie> = old.cookies.iter().map(|c| (key(c), c)).collect();
    let new_c: BTreeMap<_, &Cookie> = new.cookies.iter().map(|c| (key(c), c)).collect();
    for (k, c) in &new_c {
        let on = if k.1.is_empty() {
            String::new()
        } else {
            format!(" on {}", k.1)
        };
        let sur = if k.1.is_empty() {
            String::new()
        } else {
            format!(" sur {}", k.1)
        };
        match old_c.get(k) {
            None => out.push(Change::new(
                "cookie_added",
                false,
                format!(
                    "Added tracker {}{on} for purpose {} ({})",
                    c.name,
                    pname(new, &c.purpose, false),
                    c.lifetime.display("en")
                ),
                format!(
                    "Ajout du traceur {}{sur} pour la finalité {} ({})",
                    c.name,
                    pname(new, &c.purpose, true),
                    c.lifetime.display("fr")
                ),
            )),
            Some(o) => {
                if o.purpose != c.purpose {
                    out.push(Change::new(
                        "cookie_purpose_changed",
                        true,
                        format!(
                            "Tracker {}{on} moved from purpose {} to {}",
                            c.name,
                            pname(old, &o.purpose, false),
                            pname(new, &c.purpose, false)
                        ),
                        format!(
                            "Le traceur {}{sur} passe de la finalité {} à {}",
                            c.name,
                            pname(old, &o.purpose, true),
                            pname(new, &c.purpose, true)
                        ),
                    ));
                }
                if o.service != c.service {
                    out.push(Change::new(
                        "cookie_service_changed",
                        true,
                        format!(
                            "Tracker {}{on} is now set by service {}",
                            c.name,
                            c.service.as_deref().unwrap_or("(first party)")
                        ),
                        format!(
                            "Le traceur {}{sur} est désormais déposé par le service {}",
                            c.name,
                            c.service.as_deref().unwrap_or("(propre)")
                        ),
                    ));
                }
                let (a, b) = (o.lifetime.seconds(), c.lifetime.seconds());
                if b > a {
                    out.push(Change::new(
                        "cookie_lifetime_longer",
                        true,
                        format!(
                            "Lifetime of {}{on} changed from {} to {}",
                            c.name,
                            o.lifetime.display("en"),
                            c.lifetime.display("en")
                        ),
                        format!(
                            "Durée de vie de {}{sur} changée de {} à {}",
                            c.name,
                            o.lifetime.display("fr"),
                            c.lifetime.display("fr")
                        ),
                    ));
                } else if b < a {
                    out.push(Change::new(
                        "cookie_lifetime_shorter",
                        false,
                        format!(
                            "Lifetime of {}{on} shortened from {} to {}",
                            c.name,
                            o.lifetime.display("en"),
                            c.lifetime.display("en")
                        ),
                        format!(
                            "Durée de vie de {}{sur} réduite de {} à {}",
                            c.name,
                            o.lifetime.display("fr"),
                            c.lifetime.display("fr")
                        ),
                    ));
                }
                if o.description != c.description
                    || o.exemption_reason != c.exemption_reason
                    || o.legal_basis != c.legal_basis
                {
                    out.push(Change::new(
                        "cookie_wording_changed",
                        false,
                        format!("Description of tracker {}{on} changed", c.name),
                        format!("Description du traceur {}{sur} modifiée", c.name),
                    ));
                }
            }
        }
    }
    for (k, c) in &old_c {
        if !new_c.contains_key(k) {
            out.push(Change::new(
                "cookie_removed",
                false,
                format!("Removed tracker {}", c.name),
                format!("Suppression du traceur {}", c.name),
            ));
        }
    }

    // Transfers declared by processing activities.
    let transfers = |s: &SiteSnapshot| -> Vec<(String, String)> {
        s.activities
            .iter()
            .flat_map(|a| {
                a.transfers
                    .iter()
                    .map(|t| (t.country.clone(), t.recipient.clone().unwrap_or_default()))
            })
            .collect()
    };
    let old_t = transfers(old);
    for t in transfers(new) {
        if !in_eea(&t.0) && !old_t.contains(&t) {
            let who = if t.1.is_empty() {
                "a recipient".to_string()
            } else {
                t.1.clone()
            };
            out.push(Change::new(
                "transfer_added",
                true,
                format!("New transfer of personal data to {} ({who})", t.0),
                format!(
                    "Nouveau transfert de données personnelles vers {} ({who})",
                    t.0
                ),
            ));
        }
    }
    let old_a: BTreeMap<&str, &Activity> =
        old.activities.iter().map(|a| (a.id.as_str(), a)).collect();
    for a in &new.activities {
        match old_a.get(a.id.as_str()) {
            None => out.push(Change::new(
                "activity_added",
                false,
                format!("Added processing activity {}", name(&a.name)),
                format!("Ajout du traitement {}", nom(&a.name)),
            )),
            Some(o) if *o != a => out.push(Change::new(
                "activity_changed",
                false,
                format!("Processing activity {} changed", name(&a.name)),
                format!("Traitement {} modifié", nom(&a.name)),
            )),
            _ => {}
        }
    }
    if old.retention != new.retention {
        out.push(Change::new(
            "retention_changed",
            false,
            "Retention periods changed".into(),
            "Durées de conservation modifiées".into(),
        ));
    }
    if old.site.consent_lifetime_days != new.site.consent_lifetime_days {
        out.push(Change::new(
            "consent_lifetime_changed",
            false,
            format!(
                "Choices are now kept {} days (was {})",
                new.site.consent_lifetime_days, old.site.consent_lifetime_days
            ),
            format!(
                "Les choix sont désormais conservés {} jours (au lieu de {})",
                new.site.consent_lifetime_days, old.site.consent_lifetime_days
            ),
        ));
    }
    if old.site != new.site && old.site.consent_lifetime_days == new.site.consent_lifetime_days {
        out.push(Change::new(
            "site_changed",
            false,
            "Site settings or banner texts changed".into(),
            "Paramètres du site ou textes du bandeau modifiés".into(),
        ));
    }
    out.sort_by_key(|c| !c.material);
    out
}

fn transfer_added(service: &str, cc: &str) -> Change {
    Change::new(
        "transfer_added",
        true,
        format!("New transfer of personal data outside the EEA: {service} in {cc}"),
        format!("Nouveau transfert de données hors de l'EEE : {service} ({cc})"),
    )
}

/// Whether a set of changes requires asking visitors again.
pub fn requires_fresh_consent(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.material)
}
