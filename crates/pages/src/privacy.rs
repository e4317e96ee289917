//! The privacy policy: the information of GDPR Arts. 13-14, from the registry's controller,
//! processing activities, services and retention rules.

use std::fmt::Write as _;

use assent_model::registry::{
    LegalBasis, RetentionAction, RetentionRule, Role, Service, Text, Trigger, in_eea,
};

use crate::PolicyPage;
use crate::html::{self, Nav, Shell, esc, ext_link, loc, mailto, txt};
use crate::i18n::{Markup, texts};
use crate::words;

/// A retention period in words: "3 years after the last contact", "For the duration of the
/// contract", with the archived part when there is one.
pub fn retention_period(r: &RetentionRule, lang: &str) -> String {
    let main = if r.period.amount == 0 {
        match r.trigger {
            Trigger::ContractEnd => txt(lang, "privacy.duration_contract").to_string(),
            Trigger::AccountClosure => txt(lang, "privacy.until_account_closed").to_string(),
            Trigger::ConsentWithdrawal => txt(lang, "privacy.until_consent_withdrawn").to_string(),
            Trigger::EndOfCalendarYear => txt(lang, "privacy.until_end_calendar_year").to_string(),
            Trigger::Collection | Trigger::LastContact | Trigger::LastActivity => {
                txt(lang, "privacy.not_kept").to_string()
            }
        }
    } else {
        let during = match r.trigger {
            Trigger::ContractEnd => txt(lang, "privacy.duration_contract_then"),
            Trigger::AccountClosure => txt(lang, "privacy.long_account_open_then"),
            Trigger::EndOfCalendarYear => txt(lang, "privacy.calendar_year_collection_then"),
            _ => "",
        };
        if during.is_empty() {
            let body = format!(
                "{} {}",
                words::duration(r.period, lang),
                words::trigger(r.trigger, lang)
            );
            let mut c = body.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => body,
            }
        } else {
            format!("{during}{}", words::duration(r.period, lang))
        }
    };
    let archived = txt(lang, "privacy.intermediate_archives_restricted_access");
    match r.archive {
        Some(a) if a.amount > 0 && a.seconds() >= r.period.seconds() => {
            format!("{main} {archived}")
        }
        Some(a) if a.amount > 0 => format!(
            "{main} ({} {} {archived})",
            txt(lang, "privacy.which"),
            words::duration(a, lang),
        ),
        _ => main,
    }
}

/// What happens at the end of the period.
pub fn retention_action(a: RetentionAction, lang: &str) -> &'static str {
    match a {
        RetentionAction::Delete => txt(lang, "privacy.deleted"),
        RetentionAction::Anonymise => txt(lang, "privacy.anonymised"),
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
        html::fact(b, txt(lang, "privacy.name"), &esc(n));
    }
    if let Some(e) = &c.email {
        html::fact(b, txt(lang, "common.email"), &mailto(e));
    }
    if let Some(a) = &c.address {
        html::fact(b, txt(lang, "common.address"), &esc(a));
    }
    if let Some(p) = &c.phone {
        html::fact(b, txt(lang, "common.phone"), &esc(p));
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
            txt(lang, "privacy.who_responsible_data").into(),
        ),
        ("dpo", txt(lang, "common.data_protection_officer").into()),
        ("purposes", txt(lang, "privacy.purposes_legal_bases").into()),
        (
            "activities",
            txt(lang, "privacy.each_processing_activity_detail").into(),
        ),
        (
            "interests",
            txt(lang, "privacy.legitimate_interests").into(),
        ),
        ("data", txt(lang, "privacy.data_process_whose").into()),
        (
            "recipients",
            txt(lang, "privacy.recipients_subprocessors").into(),
        ),
        (
            "transfers",
            txt(lang, "common.transfers_outside_eea").into(),
        ),
        ("retention", txt(lang, "privacy.how_long_keep_data").into()),
        (
            "rights",
            txt(lang, "privacy.rights_how_exercise_them").into(),
        ),
        ("complaint", txt(lang, "privacy.complaints").into()),
    ];
    if french_law {
        sections.push((
            "post-mortem",
            txt(lang, "privacy.instructions_after_death").into(),
        ));
    }
    sections.push(("automated", txt(lang, "common.automated_decisions").into()));
    sections.push(("cookies", txt(lang, "privacy.cookies").into()));
    sections.push(("version", txt(lang, "common.version_policy").into()));
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
        html::fill_raw(
            lang,
            "privacy.intro",
            &[
                ("controller", &esc(&ctl.name)),
                ("site", &esc(&site.name)),
                (
                    "law",
                    &if french_law {
                        txt(lang, "privacy.intro_french_law")
                    } else {
                        ""
                    }
                )
            ]
        )
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
            txt(lang, "privacy.representative_european_union")
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
                txt(lang, "privacy.you_can_contact_data")
            );
            contact_rows(&mut b, lang, d);
            b.push_str("</dl>");
        }
        None => {
            let _ = write!(
                b,
                "<p>{} {}.</p>",
                txt(lang, "privacy.have_not_designated_data"),
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
            txt(lang, "privacy.no_processing_activity_declared")
        );
    } else {
        let _ = write!(
            b,
            "<div class=\"table-wrap\"><table id=\"purposes-table\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            html::fill_raw(
                lang,
                "privacy.purposes_caption",
                &[("controller", &esc(&ctl.name))]
            ),
            txt(lang, "privacy.processing"),
            txt(lang, "common.purpose"),
            txt(lang, "common.legal_basis"),
        );
        for a in &snap.activities {
            let _ = write!(
                b,
                "<tr><th scope=\"row\"><a href=\"#a-{id}\">{}</a></th><td>{}</td><td>{}</td></tr>",
                loc(&a.name, lang, def),
                loc(&a.description, lang, def),
                esc(words::basis(a.legal_basis, lang)),
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
            l1 = txt(lang, "common.purpose"),
            desc = loc(&a.description, lang, def),
            l2 = txt(lang, "common.legal_basis"),
            basis = esc(words::basis(a.legal_basis, lang)),
        );
        if let Some(li) = &a.legitimate_interest {
            html::fact(
                &mut b,
                txt(lang, "common.legitimate_interest"),
                &loc(li, lang, def),
            );
        }
        if a.legal_basis == LegalBasis::Consent {
            let _ = write!(
                b,
                "<dt>{}</dt><dd>{}</dd>",
                txt(lang, "privacy.withdrawal"),
                txt(lang, "privacy.you_may_withdraw_consent")
            );
        }
        if !a.data_subjects.is_empty() {
            html::fact(
                &mut b,
                txt(lang, "privacy.data_subjects"),
                &list(&a.data_subjects, lang, def),
            );
        }
        if !a.data_categories.is_empty() {
            html::fact(
                &mut b,
                txt(lang, "privacy.data"),
                &list(&a.data_categories, lang, def),
            );
        }
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}</dd>",
            txt(lang, "common.source"),
            match &a.source {
                Some(s) => loc(s, lang, def).into_string(),
                None => esc(txt(lang, "privacy.collected_from_you")),
            }
        );
        if !a.recipients.is_empty() {
            html::fact(
                &mut b,
                txt(lang, "common.recipients"),
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
                txt(lang, "privacy.subprocessors"),
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
                        esc(&words::country_with_code(&tr.country, lang)),
                        tr.recipient
                            .as_deref()
                            .map(|r| format!(" ({})", esc(r)))
                            .unwrap_or_default(),
                        esc(words::safeguard(tr.safeguard, lang))
                    )
                })
                .collect();
            let _ = write!(
                b,
                "<dt>{}</dt><dd><ul><li>{}</li></ul></dd>",
                txt(lang, "privacy.transfers_outside_eea"),
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
                    txt(lang, "common.x"),
                    esc(&retention_period(r, lang))
                )
            })
            .collect();
        if !rules.is_empty() {
            let _ = write!(
                b,
                "<dt>{}</dt><dd><ul><li>{}</li></ul></dd>",
                txt(lang, "privacy.retention"),
                rules.join("</li><li>")
            );
        }
        if !a.security_measures.is_empty() {
            html::fact(
                &mut b,
                txt(lang, "common.security_measures"),
                &list(&a.security_measures, lang, def),
            );
        }
        if let Some(ad) = &a.automated_decisions {
            html::fact(
                &mut b,
                txt(lang, "common.automated_decisions"),
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
            txt(lang, "privacy.none_processing_relies_legitimate")
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>{}</ul>",
            txt(lang, "privacy.where_processing_relies_legitimate"),
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
        txt(lang, "common.categories_personal_data")
    );
    for c in &cats {
        let _ = write!(b, "<li>{}</li>", loc(c, lang, def));
    }
    let _ = write!(
        b,
        "</ul><h3>{}</h3><ul>",
        txt(lang, "common.categories_data_subjects")
    );
    for s in &subjects {
        let _ = write!(b, "<li>{}</li>", loc(s, lang, def));
    }
    let _ = write!(b, "</ul><h3>{}</h3>", txt(lang, "privacy.sources"));
    if sources.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            txt(lang, "privacy.collect_data_directly_from")
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>",
            txt(lang, "privacy.most_data_collected_directly")
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
            txt(lang, "privacy.data_available_only_those")
        );
        for r in &recips {
            let _ = write!(b, "<li>{}</li>", loc(r, lang, def));
        }
        b.push_str("</ul>");
    }
    let subs = subprocessors(page);
    let _ = write!(b, "<h3>{}</h3>", txt(lang, "privacy.subprocessors"));
    if subs.is_empty() {
        let _ = write!(b, "<p>{}</p>", txt(lang, "privacy.use_no_subprocessor"));
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table id=\"subprocessors\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            txt(lang, "privacy.these_providers_process_data"),
            txt(lang, "privacy.subprocessors"),
            txt(lang, "privacy.subprocessor"),
            txt(lang, "privacy.what"),
            txt(lang, "privacy.location"),
            txt(lang, "privacy.transfer_safeguard"),
            txt(lang, "common.privacy_policy"),
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
            txt(lang, "privacy.third_parties_acting_controllers"),
            txt(lang, "privacy.when_you_enable_their")
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
                        ext_link(u, &Markup::text(txt(lang, "common.privacy_policy2")))
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
                words::country_with_code(&tr.country, lang),
                tr.recipient.clone().unwrap_or_default(),
                words::safeguard(tr.safeguard, lang).to_string(),
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
                words::country_with_code(c, lang),
                s.provider.clone(),
                s.safeguard
                    .map(|g| words::safeguard(g, lang).to_string())
                    .unwrap_or_else(|| txt(lang, "privacy.not_stated").to_string()),
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
            txt(lang, "privacy.do_not_transfer_personal")
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            txt(lang, "privacy.some_recipients_process_data"),
            txt(lang, "common.transfers_outside_eea"),
            txt(lang, "privacy.recipient"),
            txt(lang, "privacy.country"),
            txt(lang, "privacy.safeguard"),
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
        txt(lang, "privacy.keep_data_only_long"),
        txt(lang, "privacy.retention_periods"),
        txt(lang, "privacy.data"),
        txt(lang, "privacy.period"),
        txt(lang, "privacy.at_end"),
        txt(lang, "privacy.details"),
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
        txt(lang, "privacy.under_articles_15_22")
    );
    const RIGHTS: [&str; 8] = [
        "privacy.right.access_html",
        "privacy.right.rectification_html",
        "privacy.right.erasure_html",
        "privacy.right.restriction_html",
        "privacy.right.portability_html",
        "privacy.right.objection_html",
        "privacy.right.automated_html",
        "privacy.right.withdraw_html",
    ];
    for key in RIGHTS {
        let _ = write!(b, "<li>{}</li>", texts(lang).markup(key, &[]));
    }
    if french_law {
        let _ = write!(
            b,
            "<li>{}</li>",
            txt(lang, "privacy.give_instructions_what_happens")
        );
    }
    b.push_str("</ul>");
    let _ = write!(
        b,
        "<h3>{}</h3><ul><li>{} <a href=\"{}\">{}</a></li><li>{} {}</li><li>{} {}</li></ul>",
        txt(lang, "privacy.how_exercise_them"),
        txt(lang, "privacy.online"),
        esc(&links.rights(lang)),
        txt(lang, "privacy.rights_request_form"),
        txt(lang, "privacy.email"),
        mailto(ctl.rights_email.as_deref().unwrap_or(&ctl.email)),
        txt(lang, "privacy.post"),
        esc(&format!(
            "{}, {}",
            ctl.name,
            ctl.rights_address.as_deref().unwrap_or(&ctl.address)
        )),
    );
    let _ = write!(
        b,
        "<p>{}</p><p class=\"note\">{}</p>",
        txt(lang, "privacy.may_ask_information_confirm"),
        txt(lang, "privacy.answer_within_one_month_html")
    );

    // Complaint
    h2(&mut b, "complaint");
    let auth = &ctl.supervisory_authority;
    let _ = write!(
        b,
        "<p>{}</p><dl class=\"facts\"><dt>{}</dt><dd>{}</dd>",
        txt(lang, "privacy.if_you_think_processing"),
        txt(lang, "privacy.authority"),
        esc(&auth.name)
    );
    if let Some(a) = &auth.address {
        html::fact(&mut b, txt(lang, "common.address"), &esc(a));
    }
    if let Some(u) = &auth.url {
        html::fact(
            &mut b,
            txt(lang, "common.website"),
            ext_link(u, &Markup::text(u)),
        );
    }
    b.push_str("</dl>");

    // Post-mortem
    if french_law {
        h2(&mut b, "post-mortem");
        let _ = write!(
            b,
            "<p>{}</p>",
            txt(lang, "privacy.under_french_data_protection")
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
        let _ = write!(b, "<p>{}</p>", txt(lang, "privacy.make_no_decision_based"));
    } else {
        let _ = write!(b, "<ul>{}</ul>", ad.join(""));
    }

    // Cookies
    h2(&mut b, "cookies");
    let _ = write!(
        b,
        "<p>{} <a href=\"{}\">{}</a>.</p>",
        txt(lang, "privacy.cookies_other_trackers_site"),
        esc(&links.cookie_policy(lang)),
        txt(lang, "common.cookie_policy2"),
    );

    // Version
    h2(&mut b, "version");
    let _ = write!(
        b,
        "<p>{}</p>",
        html::fill_raw(
            lang,
            "privacy.version_text_html",
            &[
                ("version", &page.version),
                ("date", &html::time_el(page.created_at_ms, page.tz(), lang)),
                ("href", &esc(&links.versions(lang)))
            ]
        )
    );

    html::shell(&Shell {
        lang,
        title: txt(lang, "common.privacy_policy").to_string(),
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
        Some(d) => loc(d, lang, def).into_string(),
        None => s
            .purposes
            .iter()
            .map(|p| match page.snap.purpose(p) {
                Some(p) => loc(&p.name, lang, def).into_string(),
                None => esc(p),
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    let country = s
        .country
        .as_deref()
        .map(|c| esc(&words::country_with_code(c, lang)))
        .unwrap_or_else(|| txt(lang, "privacy.not_stated").to_string());
    let safeguard = match (s.country.as_deref(), s.safeguard) {
        (Some(c), _) if in_eea(c) => txt(lang, "privacy.not_needed_eea").to_string(),
        (_, Some(g)) => esc(words::safeguard(g, lang)),
        (_, None) => "–".to_string(),
    };
    let policy = match &s.privacy_policy {
        Some(u) => html::policy_link(u).into_string(),
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
