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

/// A [`Change`] from its English and French templates, which take the same arguments in the
/// same order. In the arguments, `$l` is the language being written (`"en"`, then `"fr"`), so
/// that names, labels and durations follow it: each change is written once, in both languages
/// side by side.
macro_rules! change {
    ($kind:literal, $material:expr, |$l:ident| $en:literal, $fr:literal $(, $arg:expr)* $(,)?) => {{
        let text = |$l: &str| {
            if $l == "fr" { format!($fr $(, $arg)*) } else { format!($en $(, $arg)*) }
        };
        Change::new($kind, $material, text("en"), text("fr"))
    }};
}

/// A translated name in `lang` (English as the fallback of both languages).
fn name(t: &Text, lang: &str) -> String {
    t.get(lang, "en").to_string()
}

/// The name of purpose `id` in `snap`, else the id itself.
fn pname(snap: &SiteSnapshot, id: &str, lang: &str) -> String {
    snap.purpose(id)
        .map_or_else(|| id.to_string(), |p| name(&p.name, lang))
}

/// The differences from `old` to `new`, material ones first.
pub fn diff(old: &SiteSnapshot, new: &SiteSnapshot) -> Vec<Change> {
    let mut out = vec![];
    controller(old, new, &mut out);
    purposes(old, new, &mut out);
    services(old, new, &mut out);
    cookies(old, new, &mut out);
    processing(old, new, &mut out);
    if old.marketing != new.marketing {
        // Stated in the privacy policy, never in the banner: a policy change, not a re-ask.
        out.push(change!(
            "marketing_changed",
            false,
            |l| "Marketing purposes or channels changed",
            "Finalités ou canaux de prospection modifiés"
        ));
    }
    out.sort_by_key(|c| !c.material);
    out
}

#[rustfmt::skip]
fn controller(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let (o, n) = (&old.controller.name, &new.controller.name);
    if o != n {
        out.push(change!("controller_changed", true, |l|
            "Controller changed from {} to {}", "Responsable du traitement changé de {} à {}", o, n));
    } else if old.controller != new.controller {
        out.push(change!("controller_details_changed", false, |l|
            "Controller contact details changed", "Coordonnées du responsable du traitement modifiées"));
    }
}

#[rustfmt::skip]
fn purposes(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    for p in &new.purposes {
        let Some(o) = old.purpose(&p.id) else {
            out.push(change!("purpose_added", true, |l|
                "Added purpose {} ({})", "Ajout de la finalité {} ({})", name(&p.name, l), p.id));
            continue;
        };
        if !o.consent_required && p.consent_required {
            out.push(change!("purpose_now_requires_consent", true, |l|
                "Purpose {} now requires consent", "La finalité {} requiert désormais le consentement",
                name(&p.name, l)));
        } else if o.consent_required && !p.consent_required {
            out.push(change!("purpose_now_exempt", false, |l|
                "Purpose {} is now exempt from consent", "La finalité {} est désormais exemptée de consentement",
                name(&p.name, l)));
        }
        if o.legal_basis != p.legal_basis {
            out.push(change!("purpose_legal_basis_changed", false, |l|
                "Legal basis of purpose {} changed from {} to {}",
                "Base légale de la finalité {} changée de « {} » à « {} »",
                name(&p.name, l), o.legal_basis.label(l), p.legal_basis.label(l)));
        }
        if o.name != p.name || o.description != p.description || o.refusal_impact != p.refusal_impact {
            out.push(change!("purpose_wording_changed", false, |l|
                "Wording of purpose {} changed", "Formulation de la finalité {} modifiée", name(&p.name, l)));
        }
    }
    for o in old.purposes.iter().filter(|o| new.purpose(&o.id).is_none()) {
        out.push(change!("purpose_removed", false, |l|
            "Removed purpose {} ({})", "Suppression de la finalité {} ({})", name(&o.name, l), o.id));
    }
}

#[rustfmt::skip]
fn services(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    for s in &new.services {
        let Some(o) = old.service(&s.id) else {
            let purposes = |l: &str| s.purposes.iter().map(|p| pname(new, p, l)).collect::<Vec<_>>().join(", ");
            out.push(change!("service_added", true, |l|
                "Added service {} ({}) for purpose {}", "Ajout du service {} ({}) pour la finalité {}",
                s.name, s.provider, purposes(l)));
            if let Some(cc) = &s.country && !in_eea(cc) {
                out.push(transfer_added(&s.name, cc));
            }
            continue;
        };
        if o.provider != s.provider {
            out.push(change!("service_provider_changed", true, |l|
                "Provider of service {} changed from {} to {}", "Fournisseur du service {} changé de {} à {}",
                s.name, o.provider, s.provider));
        }
        for p in s.purposes.iter().filter(|p| !o.purposes.contains(p)) {
            out.push(change!("service_purpose_added", true, |l|
                "Service {} is now also used for purpose {}",
                "Le service {} est désormais aussi utilisé pour la finalité {}",
                s.name, pname(new, p, l)));
        }
        let was_out = o.country.as_deref().is_some_and(|c| !in_eea(c));
        match &s.country {
            Some(cc) if !in_eea(cc) && (!was_out || o.country.as_deref() != Some(cc)) => {
                out.push(transfer_added(&s.name, cc));
            }
            _ if o.country != s.country => {
                let unknown = |l: &str| crate::lang::pick(l, ["an unspecified country", "pays non précisé", "an unspecified country"]);
                out.push(change!("service_country_changed", false, |l|
                    "Service {} now processes data in {}", "Le service {} traite désormais les données en/au {}",
                    s.name, s.country.as_deref().unwrap_or(unknown(l))));
            }
            _ => {}
        }
        if o.safeguard != s.safeguard && let Some(g) = s.safeguard {
            out.push(change!("service_safeguard_changed", false, |l|
                "Transfer safeguard of service {} is now: {}", "Garantie de transfert du service {} : {}",
                s.name, g.label(l)));
        }
        if o.description != s.description || o.privacy_policy != s.privacy_policy || o.name != s.name {
            out.push(change!("service_wording_changed", false, |l|
                "Description or links of service {} changed", "Description ou liens du service {} modifiés", s.name));
        }
    }
    for o in old.services.iter().filter(|o| new.service(&o.id).is_none()) {
        out.push(change!("service_removed", false, |l|
            "Removed service {} ({})", "Suppression du service {} ({})", o.name, o.provider));
    }
}

/// Cookies, identified by name and domain.
#[rustfmt::skip]
fn cookies(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let key = |c: &Cookie| (c.name.clone(), c.domain.clone().unwrap_or_default());
    let old_c: BTreeMap<_, &Cookie> = old.cookies.iter().map(|c| (key(c), c)).collect();
    let new_c: BTreeMap<_, &Cookie> = new.cookies.iter().map(|c| (key(c), c)).collect();
    for (k, c) in &new_c {
        // " on .example.com", " sur .example.com": where the tracker is, when it says.
        let on = |l: &str| match k.1.as_str() {
            "" => String::new(),
            d => format!(" {} {d}", crate::lang::pick(l, ["on", "sur", "on"])),
        };
        let Some(o) = old_c.get(k) else {
            out.push(change!("cookie_added", false, |l|
                "Added tracker {}{} for purpose {} ({})", "Ajout du traceur {}{} pour la finalité {} ({})",
                c.name, on(l), pname(new, &c.purpose, l), c.lifetime.display(l)));
            continue;
        };
        if o.purpose != c.purpose {
            out.push(change!("cookie_purpose_changed", true, |l|
                "Tracker {}{} moved from purpose {} to {}", "Le traceur {}{} passe de la finalité {} à {}",
                c.name, on(l), pname(old, &o.purpose, l), pname(new, &c.purpose, l)));
        }
        if o.service != c.service {
            let first_party = |l: &str| crate::lang::pick(l, ["(first party)", "(propre)", "(first party)"]);
            out.push(change!("cookie_service_changed", true, |l|
                "Tracker {}{} is now set by service {}", "Le traceur {}{} est désormais déposé par le service {}",
                c.name, on(l), c.service.as_deref().unwrap_or(first_party(l))));
        }
        let (a, b) = (o.lifetime.seconds(), c.lifetime.seconds());
        if b > a {
            out.push(change!("cookie_lifetime_longer", true, |l|
                "Lifetime of {}{} changed from {} to {}", "Durée de vie de {}{} changée de {} à {}",
                c.name, on(l), o.lifetime.display(l), c.lifetime.display(l)));
        } else if b < a {
            out.push(change!("cookie_lifetime_shorter", false, |l|
                "Lifetime of {}{} shortened from {} to {}", "Durée de vie de {}{} réduite de {} à {}",
                c.name, on(l), o.lifetime.display(l), c.lifetime.display(l)));
        }
        if o.description != c.description || o.exemption_reason != c.exemption_reason || o.legal_basis != c.legal_basis {
            out.push(change!("cookie_wording_changed", false, |l|
                "Description of tracker {}{} changed", "Description du traceur {}{} modifiée", c.name, on(l)));
        }
    }
    for (k, c) in &old_c {
        if !new_c.contains_key(k) {
            out.push(change!("cookie_removed", false, |l|
                "Removed tracker {}", "Suppression du traceur {}", c.name));
        }
    }
}

/// Transfers declared by processing activities, the activities, retention and site settings.
#[rustfmt::skip]
fn processing(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let transfers = |s: &SiteSnapshot| -> Vec<(String, String)> {
        s.activities
            .iter()
            .flat_map(|a| a.transfers.iter().map(|t| (t.country.clone(), t.recipient.clone().unwrap_or_default())))
            .collect()
    };
    let old_t = transfers(old);
    for (country, recipient) in transfers(new) {
        if !in_eea(&country) && !old_t.contains(&(country.clone(), recipient.clone())) {
            let who = if recipient.is_empty() { "a recipient" } else { recipient.as_str() };
            out.push(change!("transfer_added", true, |l|
                "New transfer of personal data to {} ({})", "Nouveau transfert de données personnelles vers {} ({})",
                country, who));
        }
    }
    let old_a: BTreeMap<&str, &Activity> = old.activities.iter().map(|a| (a.id.as_str(), a)).collect();
    for a in &new.activities {
        match old_a.get(a.id.as_str()) {
            None => out.push(change!("activity_added", false, |l|
                "Added processing activity {}", "Ajout du traitement {}", name(&a.name, l))),
            Some(o) if *o != a => out.push(change!("activity_changed", false, |l|
                "Processing activity {} changed", "Traitement {} modifié", name(&a.name, l))),
            _ => {}
        }
    }
    if old.retention != new.retention {
        out.push(change!("retention_changed", false, |l|
            "Retention periods changed", "Durées de conservation modifiées"));
    }
    let (was, now) = (old.site.consent_lifetime_days, new.site.consent_lifetime_days);
    if was != now {
        out.push(change!("consent_lifetime_changed", false, |l|
            "Choices are now kept {} days (was {})", "Les choix sont désormais conservés {} jours (au lieu de {})",
            now, was));
    } else if old.site != new.site {
        out.push(change!("site_changed", false, |l|
            "Site settings or banner texts changed", "Paramètres du site ou textes du bandeau modifiés"));
    }
}

#[rustfmt::skip]
fn transfer_added(service: &str, cc: &str) -> Change {
    change!("transfer_added", true, |l|
        "New transfer of personal data outside the EEA: {} in {}", "Nouveau transfert de données hors de l'EEE : {} ({})",
        service, cc)
}

/// Whether a set of changes requires asking visitors again.
pub fn requires_fresh_consent(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.material)
}
