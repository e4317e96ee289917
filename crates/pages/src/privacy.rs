//! The privacy policy: the information of GDPR Arts. 13-14, from the registry's controller,
//! processing activities, services and retention rules.

use std::fmt::Write as _;

use assent_model::registry::{
    LegalBasis, RetentionAction, RetentionRule, Role, Service, Text, Trigger, in_eea,
};

use crate::PolicyPage;
use crate::html::{self, Nav, Shell, country_with_code, esc, ext_link, loc, mailto, t};

/// A retention period in words: "3 years after the last contact", "For the duration of the
/// contract", with the archived part when there is one.
pub fn retention_period(r: &RetentionRule, lang: &str) -> String {
    let main = if r.period.amount == 0 {
        match r.trigger {
            Trigger::ContractEnd => t(
                lang,
                "For the duration of the contract",
                "Pendant la durée du contrat",
            )
            .to_string(),
            Trigger::AccountClosure => t(
                lang,
                "Until the account is closed",
                "Jusqu'à la clôture du compte",
            )
            .to_string(),
            Trigger::ConsentWithdrawal => t(
                lang,
                "Until consent is withdrawn",
                "Jusqu'au retrait du consentement",
            )
            .to_string(),
            Trigger::EndOfCalendarYear => t(
                lang,
                "Until the end of the calendar year",
                "Jusqu'à la fin de l'année civile",
            )
            .to_string(),
            Trigger::Collection | Trigger::LastContact | Trigger::LastActivity => {
                t(lang, "Not kept", "Non conservées").to_string()
            }
        }
    } else {
        let during = match r.trigger {
            Trigger::ContractEnd => t(
                lang,
                "For the duration of the contract, then ",
                "Pendant la durée du contrat, puis ",
            ),
            Trigger::AccountClosure => t(
                lang,
                "As long as the account is open, then ",
                "Tant que le compte est ouvert, puis ",
            ),
            Trigger::EndOfCalendarYear => t(
                lang,
                "For the calendar year of collection, then ",
                "Pendant l'année civile de la collecte, puis ",
            ),
            _ => "",
        };
        if during.is_empty() {
            let body = format!("{} {}", r.period.display(lang), r.trigger.label(lang));
            let mut c = body.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => body,
            }
        } else {
            format!("{during}{}", r.period.display(lang))
        }
    };
    let archived = t(
        lang,
        "in intermediate archives with restricted access",
        "en archives intermédiaires à accès restreint",
    );
    match r.archive {
        Some(a) if a.amount > 0 && a.seconds() >= r.period.seconds() => {
            format!("{main} {archived}")
        }
        Some(a) if a.amount > 0 => format!(
            "{main} ({} {} {archived})",
            t(lang, "of which", "dont"),
            a.display(lang),
        ),
        _ => main,
    }
}

/// What happens at the end of the period.
pub fn retention_action(a: RetentionAction, lang: &str) -> &'static str {
    match a {
        RetentionAction::Delete => t(lang, "Deleted", "Supprimées"),
        RetentionAction::Anonymise => t(lang, "Anonymised", "Anonymisées"),
    }
}

/// The subprocessors of the site: services with role processor, those used on the site and
/// those named by its processing activities, in that order, each once.
pub fn subprocessors<'a>(page: &'a PolicyPage<'a>) -> Vec<&'a Service> {
    let mut out: Vec<&Service> = vec![];
    let from_site = page.snap.services.iter();
    let from_activities = page
        .snap
        .activities
        .iter()
        .flat_map(|a| a.processors.iter())
        .filter_map(|id| page.service(id));
    for s in from_site.chain(from_activities) {
        if s.role == Role::Processor && !out.iter().any(|o| o.id == s.id) {
            out.push(s);
        }
    }
    out
}

fn list(items: &[Text], lang: &str, def: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul>");
    for i in items {
        let _ = write!(s, "<li>{}</li>", loc(i, lang, def));
    }
    s.push_str("</ul>");
    s
}

/// Distinct texts across activities, in first-seen order.
fn distinct<'a>(lists: impl Iterator<Item = &'a Text>, lang: &str, def: &str) -> Vec<&'a Text> {
    let mut seen: Vec<String> = vec![];
    let mut out = vec![];
    for x in lists {
        let k = x.get(lang, def).to_string();
        if !seen.contains(&k) {
            seen.push(k);
            out.push(x);
        }
    }
    out
}

fn contact_rows(b: &mut String, lang: &str, c: &assent_model::registry::Contact) {
    if let Some(n) = &c.name {
        html::fact(b, t(lang, "Name", "Nom"), &esc(n));
    }
    if let Some(e) = &c.email {
        html::fact(b, t(lang, "Email", "E-mail"), &mailto(e));
    }
    if let Some(a) = &c.address {
        html::fact(b, t(lang, "Address", "Adresse"), &esc(a));
    }
    if let Some(p) = &c.phone {
        html::fact(b, t(lang, "Phone", "Téléphone"), &esc(p));
    }
}

/// The privacy policy as a complete HTML document.
pub fn html(page: &PolicyPage<'_>) -> String {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let ctl = &snap.controller;
    let site = &snap.site;
    let links = page.links;
    let french_law = ctl.country.eq_ignore_ascii_case("FR");
    let mut b = String::new();

    let mut sections: Vec<(&str, String)> = vec![
        (
            "controller",
            t(
                lang,
                "Who is responsible for your data",
                "Responsable du traitement",
            )
            .into(),
        ),
        (
            "dpo",
            t(
                lang,
                "Data protection officer",
                "Délégué à la protection des données",
            )
            .into(),
        ),
        (
            "purposes",
            t(
                lang,
                "Purposes and legal bases",
                "Finalités et bases légales",
            )
            .into(),
        ),
        (
            "activities",
            t(
                lang,
                "Each processing activity in detail",
                "Chaque traitement en détail",
            )
            .into(),
        ),
        (
            "interests",
            t(lang, "Our legitimate interests", "Nos intérêts légitimes").into(),
        ),
        (
            "data",
            t(
                lang,
                "Data we process and whose",
                "Données traitées et personnes concernées",
            )
            .into(),
        ),
        (
            "recipients",
            t(
                lang,
                "Recipients and subprocessors",
                "Destinataires et sous-traitants",
            )
            .into(),
        ),
        (
            "transfers",
            t(
                lang,
                "Transfers outside the EEA",
                "Transferts hors de l'EEE",
            )
            .into(),
        ),
        (
            "retention",
            t(lang, "How long we keep your data", "Durées de conservation").into(),
        ),
        (
            "rights",
            t(
                lang,
                "Your rights and how to exercise them",
                "Vos droits et comment les exercer",
            )
            .into(),
        ),
        ("complaint", t(lang, "Complaints", "Réclamation").into()),
    ];
    if french_law {
        sections.push((
            "post-mortem",
            t(
                lang,
                "Instructions for after your death",
                "Directives post mortem",
            )
            .into(),
        ));
    }
    sections.push((
        "automated",
        t(lang, "Automated decisions", "Décisions automatisées").into(),
    ));
    sections.push(("cookies", t(lang, "Cookies", "Cookies").into()));
    sections.push((
        "version",
        t(lang, "Version of this policy", "Version de cette politique").into(),
    ));
    let h2 = |b: &mut String, id: &str| {
        let title = sections
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, h)| h.as_str())
            .unwrap_or(id);
        let _ = write!(b, "<h2 id=\"{id}\">{}</h2>", esc(title));
    };

    let _ = write!(
        b,
        "<p class=\"lead\">{}</p>",
        match lang {
            "fr" => format!(
                "{} traite des données personnelles des utilisateurs de {} en qualité de responsable du traitement. Cette politique explique quelles données sont traitées, pourquoi, sur quelle base légale, avec qui elles sont partagées, combien de temps elles sont conservées et comment exercer vos droits, conformément au règlement (UE) 2016/679 (RGPD){}.",
                esc(&ctl.name),
                esc(&site.name),
                if french_law {
                    " et à la loi n° 78-17 du 6 janvier 1978 modifiée (loi Informatique et Libertés)"
                } else {
                    ""
                }
            ),
            _ => format!(
                "{} processes personal data of the users of {} as data controller. This policy explains which data is processed, why, on which legal basis, with whom it is shared, how long it is kept and how to exercise your rights, in accordance with Regulation (EU) 2016/679 (GDPR){}.",
                esc(&ctl.name),
                esc(&site.name),
                if french_law {
                    " and the French Data Protection Act (Law No. 78-17 of 6 January 1978, as amended)"
                } else {
                    ""
                }
            ),
        }
    );
    b.push_str(&html::toc(lang, &sections));

    // Controller
    h2(&mut b, "controller");
    b.push_str("<dl class=\"facts\">");
    crate::register::ControllerRecord::from(ctl).facts_html(&mut b, lang);
    b.push_str("</dl>");
    if let Some(rep) = &ctl.representative {
        let _ = write!(
            b,
            "<h3>{}</h3><dl class=\"facts\">",
            t(
                lang,
                "Representative in the European Union",
                "Représentant dans l'Union européenne"
            )
        );
        contact_rows(&mut b, lang, rep);
        b.push_str("</dl>");
    }

    // DPO
    h2(&mut b, "dpo");
    match &ctl.dpo {
        Some(d) => {
            let _ = write!(
                b,
                "<p>{}</p><dl class=\"facts\">",
                t(
                    lang,
                    "You can contact our data protection officer about any question on the processing of your data:",
                    "Vous pouvez contacter notre délégué à la protection des données pour toute question sur le traitement de vos données :"
                )
            );
            contact_rows(&mut b, lang, d);
            b.push_str("</dl>");
        }
        None => {
            let _ = write!(
                b,
                "<p>{} {}.</p>",
                t(
                    lang,
                    "We have not designated a data protection officer. For any question about your data, write to",
                    "Nous n'avons pas désigné de délégué à la protection des données. Pour toute question sur vos données, écrivez à"
                ),
                mailto(ctl.rights_email.as_deref().unwrap_or(&ctl.email))
            );
        }
    }

    // Summary table
    h2(&mut b, "purposes");
    if snap.activities.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "No processing activity is declared for this site.",
                "Aucun traitement n'est déclaré pour ce site."
            )
        );
    } else {
        let _ = write!(
            b,
            "<div class=\"table-wrap\"><table id=\"purposes-table\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            match lang {
                "fr" => format!(
                    "Finalités des traitements mis en œuvre par {} et leurs bases légales",
                    esc(&ctl.name)
                ),
                _ => format!(
                    "Purposes of the processing carried out by {} and their legal bases",
                    esc(&ctl.name)
                ),
            },
            t(lang, "Processing", "Traitement"),
            t(lang, "Purpose", "Finalité"),
            t(lang, "Legal basis", "Base légale"),
        );
        for a in &snap.activities {
            let _ = write!(
                b,
                "<tr><th scope=\"row\"><a href=\"#a-{id}\">{}</a></th><td>{}</td><td>{}</td></tr>",
                loc(&a.name, lang, def),
                loc(&a.description, lang, def),
                esc(a.legal_basis.label(lang)),
                id = esc(&a.id),
            );
        }
        b.push_str("</tbody></table></div>");
    }

    // Activities in detail
    h2(&mut b, "activities");
    for a in &snap.activities {
        let _ = write!(
            b,
            "<section class=\"card\" aria-labelledby=\"a-{id}\"><h3 id=\"a-{id}\">{name}</h3><dl class=\"facts\"><dt>{l1}</dt><dd>{desc}</dd><dt>{l2}</dt><dd>{basis}</dd>",
            id = esc(&a.id),
            name = loc(&a.name, lang, def),
            l1 = t(lang, "Purpose", "Finalité"),
            desc = loc(&a.description, lang, def),
            l2 = t(lang, "Legal basis", "Base légale"),
            basis = esc(a.legal_basis.label(lang)),
        );
        if let Some(li) = &a.legitimate_interest {
            html::fact(
                &mut b,
                t(lang, "Legitimate interest", "Intérêt légitime"),
                &loc(li, lang, def),
            );
        }
        if a.legal_basis == LegalBasis::Consent {
            let _ = write!(
                b,
                "<dt>{}</dt><dd>{}</dd>",
                t(lang, "Withdrawal", "Retrait"),
                t(
                    lang,
                    "You may withdraw your consent at any time, without affecting the lawfulness of the processing before.",
                    "Vous pouvez retirer votre consentement à tout moment, sans remettre en cause la licéité du traitement antérieur."
                )
            );
        }
        if !a.data_subjects.is_empty() {
            html::fact(
                &mut b,
                t(lang, "Data subjects", "Personnes concernées"),
                &list(&a.data_subjects, lang, def),
            );
        }
        if !a.data_categories.is_empty() {
            html::fact(
                &mut b,
                t(lang, "Data", "Données"),
                &list(&a.data_categories, lang, def),
            );
        }
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}</dd>",
            t(lang, "Source", "Source"),
            match &a.source {
                Some(s) => loc(s, lang, def),
                None => esc(t(lang, "Collected from you", "Collectées auprès de vous")),
            }
        );
        if !a.recipients.is_empty() {
            html::fact(
                &mut b,
                t(lang, "Recipients", "Destinataires"),
                &list(&a.recipients, lang, def),
            );
        }
        if !a.processors.is_empty() {
            let names: Vec<String> = a
                .processors
                .iter()
                .map(|id| match page.service(id) {
                    Some(s) => format!("<a href=\"#s-{}\">{}</a>", esc(&s.id), esc(&s.name)),
                    None => esc(id),
                })
                .collect();
            html::fact(
                &mut b,
                t(lang, "Subprocessors", "Sous-traitants"),
                &names.join(", "),
            );
        }
        if !a.transfers.is_empty() {
            let items: Vec<String> = a
                .transfers
                .iter()
                .map(|tr| {
                    format!(
                        "{}{} – {}",
                        esc(&country_with_code(&tr.country, lang)),
                        tr.recipient
                            .as_deref()
                            .map(|r| format!(" ({})", esc(r)))
                            .unwrap_or_default(),
                        esc(tr.safeguard.label(lang))
                    )
                })
                .collect();
            let _ = write!(
                b,
                "<dt>{}</dt><dd><ul><li>{}</li></ul></dd>",
                t(lang, "Transfers outside the EEA", "Transferts hors EEE"),
                items.join("</li><li>")
            );
        }
        let rules: Vec<String> = a
            .retention
            .iter()
            .filter_map(|id| snap.retention.iter().find(|r| &r.id == id))
            .map(|r| {
                format!(
                    "{}{}{}",
                    loc(&r.data_category, lang, def),
                    t(lang, ": ", " : "),
                    esc(&retention_period(r, lang))
                )
            })
            .collect();
        if !rules.is_empty() {
            let _ = write!(
                b,
                "<dt>{}</dt><dd><ul><li>{}</li></ul></dd>",
                t(lang, "Retention", "Conservation"),
                rules.join("</li><li>")
            );
        }
        if !a.security_measures.is_empty() {
            html::fact(
                &mut b,
                t(lang, "Security measures", "Mesures de sécurité"),
                &list(&a.security_measures, lang, def),
            );
        }
        if let Some(ad) = &a.automated_decisions {
            html::fact(
                &mut b,
                t(lang, "Automated decisions", "Décisions automatisées"),
                &loc(ad, lang, def),
            );
        }
        b.push_str("</dl></section>");
    }

    // Legitimate interests
    h2(&mut b, "interests");
    let li: Vec<String> = snap
        .activities
        .iter()
        .filter_map(|a| {
            a.legitimate_interest.as_ref().map(|i| {
                format!(
                    "<li><strong>{}</strong> – {}</li>",
                    loc(&a.name, lang, def),
                    loc(i, lang, def)
                )
            })
        })
        .collect();
    if li.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "None of our processing relies on legitimate interest.",
                "Aucun de nos traitements ne repose sur l'intérêt légitime."
            )
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>{}</ul>",
            t(
                lang,
                "Where a processing relies on our legitimate interest, the interest pursued is the following. You may object to such processing on grounds relating to your particular situation (Art. 21 GDPR).",
                "Lorsque nous nous fondons sur notre intérêt légitime, il s'agit des intérêts suivants. Vous pouvez vous opposer à ces traitements pour des raisons tenant à votre situation particulière (art. 21 RGPD)."
            ),
            li.join("")
        );
    }

    // Data and data subjects
    h2(&mut b, "data");
    let cats = distinct(
        snap.activities
            .iter()
            .flat_map(|a| a.data_categories.iter()),
        lang,
        def,
    );
    let subjects = distinct(
        snap.activities.iter().flat_map(|a| a.data_subjects.iter()),
        lang,
        def,
    );
    let sources = distinct(
        snap.activities.iter().filter_map(|a| a.source.as_ref()),
        lang,
        def,
    );
    let _ = write!(
        b,
        "<h3>{}</h3><ul>",
        t(
            lang,
            "Categories of personal data",
            "Catégories de données personnelles"
        )
    );
    for c in &cats {
        let _ = write!(b, "<li>{}</li>", loc(c, lang, def));
    }
    let _ = write!(
        b,
        "</ul><h3>{}</h3><ul>",
        t(
            lang,
            "Categories of data subjects",
            "Catégories de personnes concernées"
        )
    );
    for s in &subjects {
        let _ = write!(b, "<li>{}</li>", loc(s, lang, def));
    }
    let _ = write!(b, "</ul><h3>{}</h3>", t(lang, "Sources", "Sources"));
    if sources.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "We collect your data directly from you, through the site, our forms and your exchanges with us.",
                "Nous collectons vos données directement auprès de vous, par le site, nos formulaires et vos échanges avec nous."
            )
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>",
            t(
                lang,
                "Most data is collected directly from you. Some comes from other sources:",
                "La plupart des données sont collectées directement auprès de vous. Certaines proviennent d'autres sources :"
            )
        );
        for s in &sources {
            let _ = write!(b, "<li>{}</li>", loc(s, lang, def));
        }
        b.push_str("</ul>");
    }

    // Recipients
    h2(&mut b, "recipients");
    let recips = distinct(
        snap.activities.iter().flat_map(|a| a.recipients.iter()),
        lang,
        def,
    );
    if !recips.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p><ul>",
            t(
                lang,
                "Your data is available only to those who need it:",
                "Vos données ne sont accessibles qu'à ceux qui en ont besoin :"
            )
        );
        for r in &recips {
            let _ = write!(b, "<li>{}</li>", loc(r, lang, def));
        }
        b.push_str("</ul>");
    }
    let subs = subprocessors(page);
    let _ = write!(b, "<h3>{}</h3>", t(lang, "Subprocessors", "Sous-traitants"));
    if subs.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "We use no subprocessor.",
                "Nous ne faisons appel à aucun sous-traitant."
            )
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table id=\"subprocessors\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(
                lang,
                "These providers process data on our behalf and on our instructions, under a contract meeting Art. 28 GDPR:",
                "Ces prestataires traitent des données pour notre compte et sur nos instructions, dans le cadre d'un contrat conforme à l'art. 28 du RGPD :"
            ),
            t(lang, "Subprocessors", "Sous-traitants"),
            t(lang, "Subprocessor", "Sous-traitant"),
            t(lang, "What for", "Pour quoi"),
            t(lang, "Location", "Localisation"),
            t(lang, "Transfer safeguard", "Garantie de transfert"),
            t(lang, "Privacy policy", "Politique de confidentialité"),
        );
        for s in &subs {
            service_row(&mut b, page, s);
        }
        b.push_str("</tbody></table></div>");
    }
    let others: Vec<&Service> = snap
        .services
        .iter()
        .filter(|s| s.role != Role::Processor)
        .collect();
    if !others.is_empty() {
        let _ = write!(
            b,
            "<h3>{}</h3><p>{}</p><ul>",
            t(
                lang,
                "Third parties acting as controllers",
                "Tiers agissant en tant que responsables de traitement"
            ),
            t(
                lang,
                "When you enable their content, these third parties collect data for their own purposes, under their own privacy policies:",
                "Lorsque vous activez leurs contenus, ces tiers collectent des données pour leurs propres finalités, selon leurs propres politiques de confidentialité :"
            )
        );
        for s in others {
            let _ = write!(
                b,
                "<li><strong>{}</strong> ({}) – {}{}</li>",
                esc(&s.name),
                esc(&s.provider),
                crate::cookie::role_label(s.role, lang),
                s.privacy_policy
                    .as_deref()
                    .map(|u| format!(
                        " – {}",
                        ext_link(u, t(lang, "privacy policy", "politique de confidentialité"))
                    ))
                    .unwrap_or_default()
            );
        }
        b.push_str("</ul>");
    }

    // Transfers
    h2(&mut b, "transfers");
    let mut transfers: Vec<(String, String, String)> = vec![];
    for a in &snap.activities {
        for tr in &a.transfers {
            let row = (
                country_with_code(&tr.country, lang),
                tr.recipient.clone().unwrap_or_default(),
                tr.safeguard.label(lang).to_string(),
            );
            if !transfers.contains(&row) {
                transfers.push(row);
            }
        }
    }
    for s in snap.services.iter().chain(subs.iter().copied()) {
        if let Some(c) = s.country.as_deref()
            && !in_eea(c)
        {
            let row = (
                country_with_code(c, lang),
                s.provider.clone(),
                s.safeguard
                    .map(|g| g.label(lang).to_string())
                    .unwrap_or_else(|| t(lang, "Not stated", "Non précisée").to_string()),
            );
            if !transfers.iter().any(|x| x.0 == row.0 && x.1 == row.1) {
                transfers.push(row);
            }
        }
    }
    if transfers.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "We do not transfer personal data outside the European Economic Area.",
                "Nous ne transférons pas de données personnelles hors de l'Espace économique européen."
            )
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(
                lang,
                "Some recipients process data outside the European Economic Area. Each transfer relies on an adequacy decision or on appropriate safeguards (GDPR Arts. 45-49); you can obtain a copy of the safeguards by writing to us.",
                "Certains destinataires traitent des données hors de l'Espace économique européen. Chaque transfert repose sur une décision d'adéquation ou sur des garanties appropriées (RGPD, art. 45 à 49) ; vous pouvez en obtenir une copie en nous écrivant."
            ),
            t(
                lang,
                "Transfers outside the EEA",
                "Transferts hors de l'EEE"
            ),
            t(lang, "Recipient", "Destinataire"),
            t(lang, "Country", "Pays"),
            t(lang, "Safeguard", "Garantie"),
        );
        for (c, r, g) in &transfers {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
                esc(r),
                esc(c),
                esc(g)
            );
        }
        b.push_str("</tbody></table></div>");
    }

    // Retention
    h2(&mut b, "retention");
    let _ = write!(
        b,
        "<p>{}</p><div class=\"table-wrap\"><table id=\"retention\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(
            lang,
            "We keep data only as long as its purpose requires. When the period ends, the data is deleted or anonymised by a scheduled job, and each purge is logged.",
            "Nous ne conservons les données que le temps nécessaire à leur finalité. À l'expiration du délai, elles sont supprimées ou anonymisées par une tâche planifiée, et chaque purge est journalisée."
        ),
        t(lang, "Retention periods", "Durées de conservation"),
        t(lang, "Data", "Données"),
        t(lang, "Period", "Durée"),
        t(lang, "At the end", "À l'issue"),
        t(lang, "Details", "Précisions"),
    );
    for r in &snap.retention {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            loc(&r.data_category, lang, def),
            esc(&retention_period(r, lang)),
            retention_action(r.action, lang),
            r.description
                .as_ref()
                .map(|d| loc(d, lang, def))
                .unwrap_or_default(),
        );
    }
    b.push_str("</tbody></table></div>");

    // Rights
    h2(&mut b, "rights");
    let _ = write!(
        b,
        "<p>{}</p><ul>",
        t(
            lang,
            "Under Articles 15 to 22 of the GDPR, you have, free of charge, the right to:",
            "En application des articles 15 à 22 du RGPD, vous disposez gratuitement des droits suivants :"
        )
    );
    let rights: [(&str, &str); 8] = [
        (
            "<strong>access</strong> your data and obtain a copy of it, with the purposes, recipients, retention periods and source (Art. 15);",
            "<strong>accéder</strong> à vos données et en obtenir une copie, avec les finalités, destinataires, durées de conservation et source (art. 15) ;",
        ),
        (
            "have inaccurate data <strong>rectified</strong> and incomplete data completed (Art. 16);",
            "faire <strong>rectifier</strong> des données inexactes et compléter des données incomplètes (art. 16) ;",
        ),
        (
            "have your data <strong>erased</strong> (Art. 17);",
            "obtenir l'<strong>effacement</strong> de vos données (art. 17) ;",
        ),
        (
            "<strong>restrict</strong> the processing (Art. 18); we tell the recipients of any rectification, erasure or restriction (Art. 19);",
            "obtenir la <strong>limitation</strong> du traitement (art. 18) ; nous informons les destinataires de toute rectification, effacement ou limitation (art. 19) ;",
        ),
        (
            "receive your data in a structured, machine-readable format (JSON, CSV) and have it sent to another controller: <strong>portability</strong> (Art. 20);",
            "recevoir vos données dans un format structuré et lisible par machine (JSON, CSV) et les faire transmettre à un autre responsable : <strong>portabilité</strong> (art. 20) ;",
        ),
        (
            "<strong>object</strong> to processing based on our legitimate interest, and at any time, without reason, to direct marketing and the related profiling (Art. 21);",
            "vous <strong>opposer</strong> aux traitements fondés sur notre intérêt légitime et, à tout moment et sans motif, à la prospection et au profilage lié (art. 21) ;",
        ),
        (
            "not be subject to a decision based solely on automated processing that significantly affects you (Art. 22);",
            "ne pas faire l'objet d'une décision fondée exclusivement sur un traitement automatisé vous affectant de manière significative (art. 22) ;",
        ),
        (
            "<strong>withdraw your consent</strong> at any time, as easily as you gave it, without affecting the lawfulness of the processing before (Art. 7(3)).",
            "<strong>retirer votre consentement</strong> à tout moment, aussi facilement que vous l'avez donné, sans remettre en cause la licéité du traitement antérieur (art. 7(3)).",
        ),
    ];
    for (en, fr) in rights {
        let _ = write!(b, "<li>{}</li>", t(lang, en, fr));
    }
    if french_law {
        let _ = write!(
            b,
            "<li>{}</li>",
            t(
                lang,
                "give instructions on what happens to your data after your death (see below).",
                "définir des directives relatives au sort de vos données après votre décès (voir ci-dessous)."
            )
        );
    }
    b.push_str("</ul>");
    let _ = write!(
        b,
        "<h3>{}</h3><ul><li>{} <a href=\"{}\">{}</a></li><li>{} {}</li><li>{} {}</li></ul>",
        t(lang, "How to exercise them", "Comment les exercer"),
        t(lang, "Online:", "En ligne :"),
        esc(&links.rights(lang)),
        t(
            lang,
            "rights request form",
            "formulaire de demande d'exercice des droits"
        ),
        t(lang, "By email:", "Par e-mail :"),
        mailto(ctl.rights_email.as_deref().unwrap_or(&ctl.email)),
        t(lang, "By post:", "Par courrier :"),
        esc(&format!(
            "{}, {}",
            ctl.name,
            ctl.rights_address.as_deref().unwrap_or(&ctl.address)
        )),
    );
    let _ = write!(
        b,
        "<p>{}</p><p class=\"note\">{}</p>",
        t(
            lang,
            "We may ask for information to confirm your identity when we have a reasonable doubt, never more than needed. Some rights have exceptions provided by law; if we cannot grant your request, we tell you why.",
            "Nous pouvons demander des informations pour confirmer votre identité en cas de doute raisonnable, jamais plus que nécessaire. Certains droits connaissent des exceptions prévues par la loi ; si nous ne pouvons pas donner suite à votre demande, nous vous en indiquons les raisons."
        ),
        t(
            lang,
            "We answer <strong>within one month</strong> of receiving your request. This period may be extended by <strong>two further months</strong> given the complexity or number of requests; we then tell you so, with the reasons, within the first month (GDPR Art. 12(3)).",
            "Nous répondons <strong>dans un délai d'un mois</strong> à compter de la réception de votre demande. Ce délai peut être prolongé de <strong>deux mois</strong> compte tenu de la complexité ou du nombre de demandes ; nous vous en informons alors, avec les motifs, dans le premier mois (RGPD, art. 12(3))."
        )
    );

    // Complaint
    h2(&mut b, "complaint");
    let auth = &ctl.supervisory_authority;
    let _ = write!(
        b,
        "<p>{}</p><dl class=\"facts\"><dt>{}</dt><dd>{}</dd>",
        t(
            lang,
            "If you think the processing of your data does not comply with the rules, or if we do not answer, you can lodge a complaint with the supervisory authority (Art. 77 GDPR) or take the matter to court:",
            "Si vous estimez que le traitement de vos données n'est pas conforme, ou en l'absence de réponse de notre part, vous pouvez introduire une réclamation auprès de l'autorité de contrôle (art. 77 RGPD) ou saisir la justice :"
        ),
        t(lang, "Authority", "Autorité"),
        esc(&auth.name)
    );
    if let Some(a) = &auth.address {
        html::fact(&mut b, t(lang, "Address", "Adresse"), &esc(a));
    }
    if let Some(u) = &auth.url {
        html::fact(
            &mut b,
            t(lang, "Website", "Site web"),
            &ext_link(u, &esc(u)),
        );
    }
    b.push_str("</dl>");

    // Post-mortem
    if french_law {
        h2(&mut b, "post-mortem");
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "Under the French Data Protection Act (Articles 84 to 86 of Law No. 78-17, formerly Article 40-1), you can give instructions on the storage, erasure and communication of your personal data after your death. These instructions may be general (registered with a trusted digital third party certified by the CNIL) or specific to our processing (sent to us by the means above). You can change or revoke them at any time, and you can name a person to carry them out.",
                "En application de la loi Informatique et Libertés (articles 84 à 86 de la loi n° 78-17, anciennement article 40-1), vous pouvez définir des directives relatives à la conservation, à l'effacement et à la communication de vos données personnelles après votre décès. Ces directives peuvent être générales (enregistrées auprès d'un tiers de confiance numérique certifié par la CNIL) ou particulières à nos traitements (adressées à nous par les moyens ci-dessus). Vous pouvez les modifier ou les révoquer à tout moment et désigner une personne chargée de leur exécution."
            )
        );
    }

    // Automated decisions
    h2(&mut b, "automated");
    let ad: Vec<String> = snap
        .activities
        .iter()
        .filter_map(|a| {
            a.automated_decisions.as_ref().map(|d| {
                format!(
                    "<li><strong>{}</strong> – {}</li>",
                    loc(&a.name, lang, def),
                    loc(d, lang, def)
                )
            })
        })
        .collect();
    if ad.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "We make no decision based solely on automated processing, including profiling, that produces legal effects concerning you or similarly significantly affects you (Art. 22 GDPR).",
                "Nous ne prenons aucune décision fondée exclusivement sur un traitement automatisé, y compris le profilage, produisant des effets juridiques vous concernant ou vous affectant de manière significative (art. 22 RGPD)."
            )
        );
    } else {
        let _ = write!(b, "<ul>{}</ul>", ad.join(""));
    }

    // Cookies
    h2(&mut b, "cookies");
    let _ = write!(
        b,
        "<p>{} <a href=\"{}\">{}</a>.</p>",
        t(
            lang,
            "The cookies and other trackers of the site, their purposes and lifetimes, and how to change your choice are described in our",
            "Les cookies et autres traceurs du site, leurs finalités et durées de vie, et la façon de modifier votre choix sont décrits dans notre"
        ),
        esc(&links.cookie_policy(lang)),
        t(lang, "cookie policy", "politique cookies"),
    );

    // Version
    h2(&mut b, "version");
    let _ = write!(
        b,
        "<p>{}</p>",
        match lang {
            "fr" => format!(
                "Ceci est la version {} de cette politique, publiée le {}. <a href=\"{}\">Consulter l'historique des versions</a>.",
                page.version,
                html::time_el(page.created_at_ms, page.tz(), lang),
                esc(&links.versions(lang))
            ),
            _ => format!(
                "This is version {} of this policy, published on {}. <a href=\"{}\">See the version history</a>.",
                page.version,
                html::time_el(page.created_at_ms, page.tz(), lang),
                esc(&links.versions(lang))
            ),
        }
    );

    html::shell(&Shell {
        lang,
        title: t(lang, "Privacy policy", "Politique de confidentialité").to_string(),
        site_name: &site.name,
        nav: Nav::Privacy,
        links: links.nav(lang),
        alternates: page.alternates(|l| links.privacy_policy(l)),
        meta_html: page.version_line(&links.privacy_policy(lang)),
        body_html: b,
        tail_html: String::new(),
        canonical: None,
    })
}

fn service_row(b: &mut String, page: &PolicyPage<'_>, s: &Service) {
    let (lang, def) = (page.lang, page.default_lang());
    let what = match &s.description {
        Some(d) => loc(d, lang, def),
        None => s
            .purposes
            .iter()
            .map(|p| match page.snap.purpose(p) {
                Some(p) => loc(&p.name, lang, def),
                None => esc(p),
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    let country = s
        .country
        .as_deref()
        .map(|c| esc(&country_with_code(c, lang)))
        .unwrap_or_else(|| t(lang, "Not stated", "Non précisée").to_string());
    let safeguard = match (s.country.as_deref(), s.safeguard) {
        (Some(c), _) if in_eea(c) => t(lang, "Not needed (EEA)", "Inutile (EEE)").to_string(),
        (_, Some(g)) => esc(g.label(lang)),
        (_, None) => "–".to_string(),
    };
    let policy = match &s.privacy_policy {
        Some(u) => html::policy_link(u),
        None => "–".to_string(),
    };
    let _ = write!(
        b,
        "<tr id=\"s-{id}\"><th scope=\"row\">{name}<br><span class=\"small\">{provider}</span></th><td>{what}</td><td>{country}</td><td>{safeguard}</td><td>{policy}</td></tr>",
        id = esc(&s.id),
        name = esc(&s.name),
        provider = esc(&s.provider),
    );
}
