//! Differences in what the privacy policy tells: transfers declared by processing activities,
//! the activities field by field, the retention rules and the site's settings. What changes
//! the privacy policy materially (an activity added, its legal basis, new data or recipients,
//! a longer retention, a new transfer) weighs [`Weight::Policy`]: flagged in the history,
//! without asking the banner again.

use std::collections::BTreeMap;

use super::change::{
    Change, Field, Weight, added_removed, change, field_changed, joined, name, opt, opt_text,
    quoted,
};
use crate::lang::pick;
use crate::registry::{Activity, RetentionRule, Text, in_eea};
use crate::version::SiteSnapshot;

/// Transfers declared by the activities: `(country, recipient)`.
fn transfers(s: &SiteSnapshot) -> Vec<(String, String)> {
    s.activities
        .iter()
        .flat_map(|a| {
            a.transfers
                .iter()
                .map(|t| (t.country.clone(), t.recipient.clone().unwrap_or_default()))
        })
        .collect()
}

#[rustfmt::skip]
pub(super) fn activity_transfers(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let old_t = transfers(old);
    for (country, recipient) in transfers(new) {
        if !in_eea(&country) && !old_t.contains(&(country.clone(), recipient.clone())) {
            let who = |l: &str| if recipient.is_empty() {
                pick(l, ["a recipient", "un destinataire", "einen Empfänger"]).to_string()
            } else {
                recipient.clone()
            };
            out.push(change!("transfer_added", Weight::Policy, |l|
                "New transfer of personal data to {} ({})", "Nouveau transfert de données personnelles vers {} ({})",
                "Neue Übermittlung personenbezogener Daten nach {} ({})",
                country, who(l)));
        }
    }
}

/// The list fields of an activity: (field, weight when an item is added).
const LISTS: [(Field, Weight); 4] = [
    (
        [
            "categories of data subjects",
            "les catégories de personnes concernées",
            "Kategorien betroffener Personen",
        ],
        Weight::Policy,
    ),
    (
        [
            "categories of personal data",
            "les catégories de données",
            "Kategorien personenbezogener Daten",
        ],
        Weight::Policy,
    ),
    (
        ["recipients", "les destinataires", "Empfänger"],
        Weight::Policy,
    ),
    (
        [
            "security measures",
            "les mesures de sécurité",
            "Sicherheitsmaßnahmen",
        ],
        Weight::Minor,
    ),
];

fn lists(a: &Activity) -> [&[Text]; 4] {
    [
        &a.data_subjects,
        &a.data_categories,
        &a.recipients,
        &a.security_measures,
    ]
}

#[rustfmt::skip]
fn activity_fields(old: &SiteSnapshot, new: &SiteSnapshot, o: &Activity, a: &Activity, out: &mut Vec<Change>) {
    let what = |l: &str| format!("{} {}", pick(l, ["Processing activity", "Traitement", "Verarbeitung"]), name(&a.name, l));
    if o.legal_basis != a.legal_basis {
        out.push(field_changed("activity_legal_basis_changed", Weight::Policy, &|l| name(&a.name, l),
            ["legal basis", "la base légale", "Rechtsgrundlage"],
            &|l| o.legal_basis.label(l).to_string(), &|l| a.legal_basis.label(l).to_string()));
    }
    let texts: [(Field, Option<&Text>, Option<&Text>, Weight); 5] = [
        (["name", "le nom", "Name"], Some(&o.name), Some(&a.name), Weight::Minor),
        (["purposes", "les finalités", "Zwecke"], Some(&o.description), Some(&a.description), Weight::Minor),
        (["legitimate interest", "l'intérêt légitime", "berechtigtes Interesse"], o.legitimate_interest.as_ref(), a.legitimate_interest.as_ref(), Weight::Minor),
        (["source of the data", "la source des données", "Herkunft der Daten"], o.source.as_ref(), a.source.as_ref(), Weight::Policy),
        (["automated decisions", "les décisions automatisées", "automatisierte Entscheidungen"], o.automated_decisions.as_ref(), a.automated_decisions.as_ref(), Weight::Policy),
    ];
    for (field, x, y, weight) in texts {
        if x != y {
            out.push(field_changed("activity_changed", weight, &what, field, &|l| opt_text(x, l), &|l| opt_text(y, l)));
        }
    }
    for ((field, weight), (x, y)) in LISTS.into_iter().zip(lists(o).into_iter().zip(lists(a))) {
        let (added, removed) = added_removed(x, y);
        let words = |v: &[&Text], l: &str| joined(&v.iter().map(|t| quoted(&name(t, l), l)).collect::<Vec<_>>(), l);
        if !added.is_empty() {
            out.push(change!("activity_list_added", weight, |l|
                "{}: added to {}: {}", "{} : ajout à {} : {}", "{}: hinzugefügt zu {}: {}",
                what(l), pick(l, field), words(&added, l)));
        }
        if !removed.is_empty() {
            out.push(change!("activity_list_removed", Weight::Minor, |l|
                "{}: removed from {}: {}", "{} : retrait de {} : {}", "{}: entfernt aus {}: {}",
                what(l), pick(l, field), words(&removed, l)));
        }
    }
    let service = |snap: &SiteSnapshot, id: &str| snap.service(id).map_or_else(|| id.to_string(), |s| s.name.clone());
    let added: Vec<String> = a.processors.iter().filter(|p| !o.processors.contains(p)).map(|p| service(new, p)).collect();
    if !added.is_empty() {
        out.push(change!("activity_recipient_added", Weight::Policy, |l|
            "{}: new subprocessor {}", "{} : nouveau sous-traitant {}", "{}: neuer Auftragsverarbeiter {}",
            what(l), added.join(", ")));
    }
    let removed: Vec<String> = o.processors.iter().filter(|p| !a.processors.contains(p)).map(|p| service(old, p)).collect();
    if !removed.is_empty() {
        out.push(change!("activity_recipient_removed", Weight::Minor, |l|
            "{}: subprocessor {} removed", "{} : retrait du sous-traitant {}", "{}: Auftragsverarbeiter {} entfernt",
            what(l), removed.join(", ")));
    }
    let rules = |snap: &SiteSnapshot, ids: &[String], l: &str| -> String {
        let v: Vec<String> = ids.iter().map(|id| snap.retention.iter().find(|r| &r.id == id).map_or_else(|| id.clone(), |r| name(&r.data_category, l))).collect();
        joined(&v, l)
    };
    if o.retention != a.retention {
        out.push(field_changed("activity_changed", Weight::Minor, &what,
            ["retention rules", "les règles de conservation", "Aufbewahrungsregeln"],
            &|l| rules(old, &o.retention, l), &|l| rules(new, &a.retention, l)));
    }
    if o.sites != a.sites {
        let sites = |x: &Option<Vec<String>>, l: &str| match x {
            Some(v) => joined(v, l),
            None => pick(l, ["all", "tous", "alle"]).to_string(),
        };
        out.push(field_changed("activity_changed", Weight::Minor, &what, ["sites", "les sites", "Websites"],
            &|l| sites(&o.sites, l), &|l| sites(&a.sites, l)));
    }
    let gone: Vec<String> = o.transfers.iter().filter(|t| !a.transfers.contains(t)).map(|t| t.country.clone()).collect();
    if !gone.is_empty() {
        out.push(change!("activity_transfer_removed", Weight::Minor, |l|
            "{}: transfer to {} removed", "{} : fin du transfert vers {}", "{}: Übermittlung nach {} entfernt",
            what(l), gone.join(", ")));
    }
}

#[rustfmt::skip]
pub(super) fn activities(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let old_a: BTreeMap<&str, &Activity> = old.activities.iter().map(|a| (a.id.as_str(), a)).collect();
    for a in &new.activities {
        match old_a.get(a.id.as_str()) {
            None => out.push(change!("activity_added", Weight::Policy, |l|
                "Added processing activity {} ({})", "Ajout du traitement {} ({})", "Verarbeitung {} hinzugefügt ({})",
                name(&a.name, l), a.legal_basis.label(l))),
            Some(o) if *o != a => activity_fields(old, new, o, a, out),
            _ => {}
        }
    }
    for o in old.activities.iter().filter(|o| !new.activities.iter().any(|a| a.id == o.id)) {
        out.push(change!("activity_removed", Weight::Minor, |l|
            "Removed processing activity {}", "Suppression du traitement {}", "Verarbeitung {} entfernt",
            name(&o.name, l)));
    }
}

/// A retention period in words: "3 years after the last contact (archived 2 years)".
fn period(r: &RetentionRule, l: &str) -> String {
    let main = format!("{} {}", r.period.display(l), r.trigger.label(l));
    match r.archive {
        Some(a) if a.amount > 0 => format!(
            "{main} ({} {})",
            pick(l, ["archived", "archivage", "archiviert"]),
            a.display(l)
        ),
        _ => main,
    }
}

#[rustfmt::skip]
pub(super) fn retention(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    for r in &new.retention {
        let cat = |l: &str| name(&r.data_category, l);
        let Some(o) = old.retention.iter().find(|o| o.id == r.id) else {
            out.push(change!("retention_added", Weight::Policy, |l|
                "Added retention period for {}: {}", "Ajout d'une durée de conservation pour {} : {}",
                "Neue Speicherfrist für {}: {}", cat(l), period(r, l)));
            continue;
        };
        let what = |l: &str| format!("{} {}", pick(l, ["Retention of", "Conservation :", "Speicherung:"]), cat(l));
        if o.period != r.period || o.trigger != r.trigger || o.archive != r.archive {
            // Longer, or counted from another event: what people were told no longer holds.
            let longer = r.period.seconds() > o.period.seconds() || o.trigger != r.trigger
                || r.archive.map_or(0, |d| d.seconds()) > o.archive.map_or(0, |d| d.seconds());
            let kind = if longer { "retention_longer" } else { "retention_shorter" };
            let weight = if longer { Weight::Policy } else { Weight::Minor };
            out.push(field_changed(kind, weight, &what, ["period", "la durée", "Frist"],
                &|l| period(o, l), &|l| period(r, l)));
        }
        if o.action != r.action {
            let act = |x: crate::registry::RetentionAction, l: &str| pick(l, match x {
                crate::registry::RetentionAction::Delete => ["deletion", "suppression", "Löschung"],
                crate::registry::RetentionAction::Anonymise => ["anonymisation", "anonymisation", "Anonymisierung"],
            }).to_string();
            out.push(field_changed("retention_changed", Weight::Minor, &what,
                ["action at the end", "l'action à l'issue", "Maßnahme am Ende"],
                &|l| act(o.action, l), &|l| act(r.action, l)));
        }
        for (field, x, y) in [
            (["data category", "la catégorie de données", "Datenkategorie"], Some(&o.data_category), Some(&r.data_category)),
            (["details", "les précisions", "Einzelheiten"], o.description.as_ref(), r.description.as_ref()),
        ] {
            if x != y {
                out.push(field_changed("retention_changed", Weight::Minor, &what, field, &|l| opt_text(x, l), &|l| opt_text(y, l)));
            }
        }
    }
    for o in old.retention.iter().filter(|o| !new.retention.iter().any(|r| r.id == o.id)) {
        out.push(change!("retention_removed", Weight::Minor, |l|
            "Removed retention period for {}", "Suppression de la durée de conservation pour {}",
            "Speicherfrist für {} entfernt", name(&o.data_category, l)));
    }
}

#[rustfmt::skip]
pub(super) fn site(old: &SiteSnapshot, new: &SiteSnapshot, out: &mut Vec<Change>) {
    let (o, n) = (&old.site, &new.site);
    let (was, now) = (o.consent_lifetime_days, n.consent_lifetime_days);
    if was != now {
        out.push(change!("consent_lifetime_changed", Weight::Minor, |l|
            "Choices are now kept {} days (was {})", "Les choix sont désormais conservés {} jours (au lieu de {})",
            "Auswahlen werden nun {} Tage gespeichert (bisher {})", now, was));
    }
    let what = |l: &str| pick(l, ["Site", "Site", "Website"]).to_string();
    let plain: [(Field, Option<String>, Option<String>); 5] = [
        (["name", "le nom", "Name"], Some(o.name.clone()), Some(n.name.clone())),
        (["domains", "les domaines", "Domains"], Some(o.domains.join(", ")), Some(n.domains.join(", "))),
        (["cookie domain", "le domaine des cookies", "Cookie-Domain"], o.cookie_domain.clone(), n.cookie_domain.clone()),
        (["languages", "les langues", "Sprachen"], Some(o.languages.join(", ")), Some(n.languages.join(", "))),
        (["address", "l'adresse", "Adresse"], o.url.clone(), n.url.clone()),
    ];
    for (field, a, b) in plain {
        if a != b {
            out.push(field_changed("site_changed", Weight::Minor, &what, field, &|l| opt(a.as_deref(), l), &|l| opt(b.as_deref(), l)));
        }
    }
    let banner = |s: &crate::registry::Site| (s.banner.as_ref().and_then(|b| b.title.clone()), s.banner.as_ref().and_then(|b| b.body.clone()));
    let ((ot, ob), (nt, nb)) = (banner(o), banner(n));
    for (field, x, y) in [
        (["banner title", "le titre du bandeau", "Banner-Titel"], ot.as_ref(), nt.as_ref()),
        (["banner text", "le texte du bandeau", "Banner-Text"], ob.as_ref(), nb.as_ref()),
    ] {
        if x != y {
            out.push(field_changed("site_changed", Weight::Minor, &what, field, &|l| opt_text(x, l), &|l| opt_text(y, l)));
        }
    }
    if o.purposes != n.purposes || o.services != n.services {
        out.push(change!("site_changed", Weight::Minor, |l|
            "Site settings changed (purposes or services listed)", "Paramètres du site modifiés (finalités ou services listés)",
            "Website-Einstellungen geändert (aufgeführte Zwecke oder Dienste)"));
    }
}
