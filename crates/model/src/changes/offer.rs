//! Differences in what the banner offers and the cookie policy lists: the controller, the
//! purposes, the services (vendors) and the trackers. What changes what the banner asks
//! (a purpose or vendor added, a longer lifetime, a cookie purpose's legal basis) weighs
//! [`Weight::Banner`]; the rest is worded field by field with both values.

use std::collections::BTreeMap;

use super::change::{
    Change, Field, Weight, change, field_changed, joined, name, opt, opt_text, quoted,
};
use crate::lang::pick;
use crate::registry::{Contact, Cookie, Text, in_eea};
use crate::version::SiteSnapshot;

/// The name of purpose `id` in `snap`, else the id itself.
fn pname(snap: &SiteSnapshot, id: &str, lang: &str) -> String {
    snap.purpose(id)
        .map_or_else(|| id.to_string(), |p| name(&p.name, lang))
}

/// A contact in one line ("name, email, address, phone"), for the diff.
fn contact_line(c: Option<&Contact>) -> Option<String> {
    let c = c?;
    let parts: Vec<&str> = [&c.name, &c.email, &c.address, &c.phone]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    Some(parts.join(", "))
}

#[rustfmt::skip]
pub(super) fn controller(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let (o, n) = (&old.controller, &new.controller);
    if o.name != n.name {
        out.push(change!("controller_changed", Weight::Banner, |l|
            "Controller changed from {} to {}", "Responsable du traitement changé de {} à {}",
            "Verantwortlicher geändert von {} zu {}", o.name, n.name));
    }
    let what = |l: &str| pick(l, ["Controller", "Responsable du traitement", "Verantwortlicher"]).to_string();
    let plain: [(Field, Option<&str>, Option<&str>); 10] = [
        (["legal form", "la forme juridique", "Rechtsform"], o.legal_form.as_deref(), n.legal_form.as_deref()),
        (["registration", "l'immatriculation", "Registrierung"], o.registration.as_deref(), n.registration.as_deref()),
        (["address", "l'adresse", "Anschrift"], Some(&o.address), Some(&n.address)),
        (["country", "le pays", "Land"], Some(&o.country), Some(&n.country)),
        (["email", "l'adresse e-mail", "E-Mail"], Some(&o.email), Some(&n.email)),
        (["phone", "le téléphone", "Telefon"], o.phone.as_deref(), n.phone.as_deref()),
        (["website", "le site web", "Website"], o.website.as_deref(), n.website.as_deref()),
        (["time zone", "le fuseau horaire", "Zeitzone"], Some(&o.timezone), Some(&n.timezone)),
        (["email for rights requests", "l'adresse e-mail des demandes d'exercice des droits", "E-Mail für Anträge auf Wahrnehmung der Rechte"], o.rights_email.as_deref(), n.rights_email.as_deref()),
        (["postal address for rights requests", "l'adresse postale des demandes d'exercice des droits", "Postanschrift für Anträge auf Wahrnehmung der Rechte"], o.rights_address.as_deref(), n.rights_address.as_deref()),
    ];
    for (field, a, b) in plain {
        if a != b {
            out.push(field_changed("controller_details_changed", Weight::Minor, &what, field,
                &|l| opt(a, l), &|l| opt(b, l)));
        }
    }
    let (a, b) = (&o.supervisory_authority, &n.supervisory_authority);
    let people: [(Field, Option<String>, Option<String>); 3] = [
        (["data protection officer", "le délégué à la protection des données", "Datenschutzbeauftragter"], contact_line(o.dpo.as_ref()), contact_line(n.dpo.as_ref())),
        (["representative in the EU", "le représentant dans l'UE", "Vertreter in der EU"], contact_line(o.representative.as_ref()), contact_line(n.representative.as_ref())),
        (["supervisory authority", "l'autorité de contrôle", "Aufsichtsbehörde"],
            Some([Some(&a.name), a.url.as_ref(), a.address.as_ref()].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ")),
            Some([Some(&b.name), b.url.as_ref(), b.address.as_ref()].into_iter().flatten().cloned().collect::<Vec<_>>().join(", "))),
    ];
    for (field, a, b) in people {
        if a != b {
            out.push(field_changed("controller_details_changed", Weight::Minor, &what, field,
                &|l| opt(a.as_deref(), l), &|l| opt(b.as_deref(), l)));
        }
    }
}

/// A text field of a named element that changed: `what: field changed from “a” to “b”`.
fn text_changed(
    kind: &str,
    what: &dyn Fn(&str) -> String,
    field: Field,
    a: Option<&Text>,
    b: Option<&Text>,
) -> Option<Change> {
    (a != b).then(|| {
        field_changed(
            kind,
            Weight::Minor,
            what,
            field,
            &|l| opt_text(a, l),
            &|l| opt_text(b, l),
        )
    })
}

const NAME: Field = ["name", "le nom", "Name"];
const DESCRIPTION: Field = ["description", "la description", "Beschreibung"];
const LEGAL_BASIS: Field = ["legal basis", "la base légale", "Rechtsgrundlage"];

#[rustfmt::skip]
pub(super) fn purposes(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    for p in &new.purposes {
        let Some(o) = old.purpose(&p.id) else {
            out.push(change!("purpose_added", Weight::Banner, |l|
                "Added purpose {} ({})", "Ajout de la finalité {} ({})", "Zweck {} ({}) hinzugefügt",
                name(&p.name, l), p.id));
            continue;
        };
        let what = |l: &str| format!("{} {}", pick(l, ["Purpose", "Finalité", "Zweck"]), name(&p.name, l));
        if !o.consent_required && p.consent_required {
            out.push(change!("purpose_now_requires_consent", Weight::Banner, |l|
                "Purpose {} now requires consent", "La finalité {} requiert désormais le consentement",
                "Der Zweck {} erfordert nun eine Einwilligung", name(&p.name, l)));
        } else if o.consent_required && !p.consent_required {
            out.push(change!("purpose_now_exempt", Weight::Minor, |l|
                "Purpose {} is now exempt from consent", "La finalité {} est désormais exemptée de consentement",
                "Der Zweck {} ist nun von der Einwilligung ausgenommen", name(&p.name, l)));
        }
        // The legal basis of a purpose of the banner is what visitors are asked under.
        if o.legal_basis != p.legal_basis {
            out.push(change!("purpose_legal_basis_changed", Weight::Banner, |l|
                "Legal basis of purpose {} changed from {} to {}",
                "Base légale de la finalité {} changée de « {} » à « {} »",
                "Rechtsgrundlage des Zwecks {} geändert von „{}“ zu „{}“",
                name(&p.name, l), o.legal_basis.label(l), p.legal_basis.label(l)));
        }
        let texts = [
            (NAME, Some(&o.name), Some(&p.name)),
            (DESCRIPTION, Some(&o.description), Some(&p.description)),
            (["impact of refusal", "l'impact du refus", "Folgen der Ablehnung"], o.refusal_impact.as_ref(), p.refusal_impact.as_ref()),
        ];
        for (field, a, b) in texts {
            out.extend(text_changed("purpose_wording_changed", &what, field, a, b));
        }
        let signals = |x: &crate::registry::Purpose| x.consent_mode.iter().map(|s| s.as_str().to_string()).collect::<Vec<_>>();
        if o.consent_mode != p.consent_mode {
            let (a, b) = (signals(o), signals(p));
            out.push(field_changed("purpose_settings_changed", Weight::Minor, &what,
                ["Consent Mode signals", "les signaux Consent Mode", "Consent-Mode-Signale"],
                &|l| joined(&a, l), &|l| joined(&b, l)));
        }
        if o.gpc != p.gpc {
            let yes_no = |v: bool, l: &str| pick(l, if v { ["yes", "oui", "ja"] } else { ["no", "non", "nein"] }).to_string();
            out.push(field_changed("purpose_settings_changed", Weight::Minor, &what,
                ["refused on a Global Privacy Control signal", "le refus sur signal Global Privacy Control", "Ablehnung bei Global-Privacy-Control-Signal"],
                &|l| yes_no(o.gpc, l), &|l| yes_no(p.gpc, l)));
        }
    }
    for o in old.purposes.iter().filter(|o| new.purpose(&o.id).is_none()) {
        out.push(change!("purpose_removed", Weight::Minor, |l|
            "Removed purpose {} ({})", "Suppression de la finalité {} ({})", "Zweck {} ({}) entfernt",
            name(&o.name, l), o.id));
    }
}

#[rustfmt::skip]
pub(super) fn services(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    for s in &new.services {
        let Some(o) = old.service(&s.id) else {
            let purposes = |l: &str| s.purposes.iter().map(|p| pname(new, p, l)).collect::<Vec<_>>().join(", ");
            out.push(change!("service_added", Weight::Banner, |l|
                "Added service {} ({}) for purpose {}", "Ajout du service {} ({}) pour la finalité {}",
                "Dienst {} ({}) für den Zweck {} hinzugefügt", s.name, s.provider, purposes(l)));
            if let Some(cc) = &s.country && !in_eea(cc) {
                out.push(transfer_added(&s.name, cc));
            }
            continue;
        };
        let what = |l: &str| format!("{} {}", pick(l, ["Service", "Service", "Dienst"]), s.name);
        if o.provider != s.provider {
            out.push(change!("service_provider_changed", Weight::Banner, |l|
                "Provider of service {} changed from {} to {}", "Fournisseur du service {} changé de {} à {}",
                "Anbieter des Dienstes {} geändert von {} zu {}", s.name, o.provider, s.provider));
        }
        for p in s.purposes.iter().filter(|p| !o.purposes.contains(p)) {
            out.push(change!("service_purpose_added", Weight::Banner, |l|
                "Service {} is now also used for purpose {}",
                "Le service {} est désormais aussi utilisé pour la finalité {}",
                "Der Dienst {} wird nun auch für den Zweck {} genutzt",
                s.name, pname(new, p, l)));
        }
        for p in o.purposes.iter().filter(|p| !s.purposes.contains(p)) {
            out.push(change!("service_purpose_removed", Weight::Minor, |l|
                "Service {} is no longer used for purpose {}",
                "Le service {} n'est plus utilisé pour la finalité {}",
                "Der Dienst {} wird nicht mehr für den Zweck {} genutzt",
                s.name, pname(old, p, l)));
        }
        let was_out = o.country.as_deref().is_some_and(|c| !in_eea(c));
        match &s.country {
            Some(cc) if !in_eea(cc) && (!was_out || o.country.as_deref() != Some(cc)) => {
                out.push(transfer_added(&s.name, cc));
            }
            _ if o.country != s.country => {
                let (a, b) = (o.country.as_deref(), s.country.as_deref());
                out.push(field_changed("service_country_changed", Weight::Minor, &what,
                    ["country of processing", "le pays de traitement", "Land der Verarbeitung"],
                    &|l| opt(a, l), &|l| opt(b, l)));
            }
            _ => {}
        }
        if o.safeguard != s.safeguard {
            let (a, b) = (o.safeguard, s.safeguard);
            out.push(field_changed("service_safeguard_changed", Weight::Minor, &what,
                ["transfer safeguard", "la garantie de transfert", "Garantie für die Übermittlung"],
                &|l| opt(a.map(|g| g.label(l)), l), &|l| opt(b.map(|g| g.label(l)), l)));
        }
        if o.role != s.role {
            let role = |r: crate::registry::Role, l: &str| pick(l, match r {
                crate::registry::Role::Processor => ["processor", "sous-traitant", "Auftragsverarbeiter"],
                crate::registry::Role::Controller => ["controller", "responsable du traitement", "Verantwortlicher"],
                crate::registry::Role::JointController => ["joint controller", "responsable conjoint", "gemeinsam Verantwortlicher"],
            }).to_string();
            out.push(field_changed("service_role_changed", Weight::Policy, &what,
                ["role", "le rôle", "Rolle"], &|l| role(o.role, l), &|l| role(s.role, l)));
        }
        if o.name != s.name {
            out.push(field_changed("service_wording_changed", Weight::Minor, &what, NAME,
                &|l| quoted(&o.name, l), &|l| quoted(&s.name, l)));
        }
        out.extend(text_changed("service_wording_changed", &what, DESCRIPTION, o.description.as_ref(), s.description.as_ref()));
        if o.privacy_policy != s.privacy_policy {
            let (a, b) = (o.privacy_policy.as_deref(), s.privacy_policy.as_deref());
            out.push(field_changed("service_wording_changed", Weight::Minor, &what,
                ["privacy policy", "la politique de confidentialité", "Datenschutzerklärung"],
                &|l| opt(a, l), &|l| opt(b, l)));
        }
        if o.hosts != s.hosts {
            let (a, b) = (o.hosts.clone(), s.hosts.clone());
            out.push(field_changed("service_hosts_changed", Weight::Minor, &what,
                ["hosts", "les hôtes", "Hosts"], &|l| joined(&a, l), &|l| joined(&b, l)));
        }
    }
    for o in old.services.iter().filter(|o| new.service(&o.id).is_none()) {
        out.push(change!("service_removed", Weight::Minor, |l|
            "Removed service {} ({})", "Suppression du service {} ({})", "Dienst {} ({}) entfernt", o.name, o.provider));
    }
}

/// Cookies, identified by name and domain.
#[rustfmt::skip]
pub(super) fn cookies(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let key = |c: &Cookie| (c.name.clone(), c.domain.clone().unwrap_or_default());
    let old_c: BTreeMap<_, &Cookie> = old.cookies.iter().map(|c| (key(c), c)).collect();
    let new_c: BTreeMap<_, &Cookie> = new.cookies.iter().map(|c| (key(c), c)).collect();
    for (k, c) in &new_c {
        // " on .example.com", " sur .example.com": where the tracker is, when it says.
        let on = |l: &str| match k.1.as_str() {
            "" => String::new(),
            d => format!(" {} {d}", pick(l, ["on", "sur", "auf"])),
        };
        let Some(o) = old_c.get(k) else {
            out.push(change!("cookie_added", Weight::Minor, |l|
                "Added tracker {}{} for purpose {} ({})", "Ajout du traceur {}{} pour la finalité {} ({})",
                "Tracker {}{} für den Zweck {} hinzugefügt ({})",
                c.name, on(l), pname(new, &c.purpose, l), c.lifetime.display(l)));
            continue;
        };
        let what = |l: &str| format!("{} {}{}", pick(l, ["Tracker", "Traceur", "Tracker"]), c.name, on(l));
        if o.purpose != c.purpose {
            out.push(change!("cookie_purpose_changed", Weight::Banner, |l|
                "Tracker {}{} moved from purpose {} to {}", "Le traceur {}{} passe de la finalité {} à {}",
                "Tracker {}{} wechselt vom Zweck {} zu {}",
                c.name, on(l), pname(old, &o.purpose, l), pname(new, &c.purpose, l)));
        }
        if o.service != c.service {
            let first_party = |l: &str| pick(l, ["(first party)", "(propre)", "(eigener)"]);
            out.push(change!("cookie_service_changed", Weight::Banner, |l|
                "Tracker {}{} is now set by service {}", "Le traceur {}{} est désormais déposé par le service {}",
                "Tracker {}{} wird nun vom Dienst {} gesetzt",
                c.name, on(l), c.service.as_deref().unwrap_or(first_party(l))));
        }
        let (a, b) = (o.lifetime.seconds(), c.lifetime.seconds());
        if b > a {
            out.push(change!("cookie_lifetime_longer", Weight::Banner, |l|
                "Lifetime of {}{} changed from {} to {}", "Durée de vie de {}{} changée de {} à {}",
                "Speicherdauer von {}{} geändert von {} zu {}",
                c.name, on(l), o.lifetime.display(l), c.lifetime.display(l)));
        } else if b < a {
            out.push(change!("cookie_lifetime_shorter", Weight::Minor, |l|
                "Lifetime of {}{} shortened from {} to {}", "Durée de vie de {}{} réduite de {} à {}",
                "Speicherdauer von {}{} verkürzt von {} auf {}",
                c.name, on(l), o.lifetime.display(l), c.lifetime.display(l)));
        }
        // A tracker's own legal basis is what the visitor is asked under.
        if o.legal_basis != c.legal_basis {
            let (a, b) = (o.legal_basis, c.legal_basis);
            let basis = |x: Option<crate::registry::LegalBasis>, p: &str, l: &str| match x {
                Some(x) => x.label(l).to_string(),
                None => old.purpose(p).or_else(|| new.purpose(p)).map_or_else(|| super::change::none(l).to_string(), |p| p.legal_basis.label(l).to_string()),
            };
            out.push(field_changed("cookie_legal_basis_changed", Weight::Banner, &what, LEGAL_BASIS,
                &|l| basis(a, &o.purpose, l), &|l| basis(b, &c.purpose, l)));
        }
        out.extend(text_changed("cookie_wording_changed", &what, DESCRIPTION, o.description.as_ref(), c.description.as_ref()));
        out.extend(text_changed("cookie_wording_changed", &what,
            ["reason for the exemption", "le motif de l'exemption", "Grund der Ausnahme"],
            o.exemption_reason.as_ref(), c.exemption_reason.as_ref()));
    }
    for (k, c) in &old_c {
        if !new_c.contains_key(k) {
            out.push(change!("cookie_removed", Weight::Minor, |l|
                "Removed tracker {}", "Suppression du traceur {}", "Tracker {} entfernt", c.name));
        }
    }
}

#[rustfmt::skip]
fn transfer_added(service: &str, cc: &str) -> Change {
    change!("transfer_added", Weight::Banner, |l|
        "New transfer of personal data outside the EEA: {} in {}", "Nouveau transfert de données hors de l'EEE : {} ({})",
        "Neue Übermittlung personenbezogener Daten außerhalb des EWR: {} in {}",
        service, cc)
}
