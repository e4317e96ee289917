//! The privacy policy: the information of GDPR Arts. 13-14, from the registry's controller,
//! processing activities, services and retention rules.

use assent_model::registry::{Activity, LegalBasis, Role, Service, Text, in_eea};

use crate::facts::{self, ContactRecord, ControllerRecord, Fact};
use crate::html::{self, Nav, esc, ext_link, loc, mailto, txt};
use crate::i18n::{Markup, Texts, texts};
use crate::words::{self, retention_action, retention_period};
use crate::{Links, PolicyPage};
use crate::{enforcement, gaps};

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

fn list(items: &[Text], lang: &str, def: &str) -> Markup {
    html::ul(items.iter().map(|i| loc(i, lang, def)))
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

/// One processing activity: a row of the summary table and a card of facts.
struct ActivityView {
    id: String,
    name: Markup,
    description: Markup,
    basis: &'static str,
    facts: Vec<Fact>,
}

/// One subprocessor row.
struct SubprocessorView {
    id: String,
    name: String,
    provider: String,
    what: Vec<Markup>,
    country: String,
    safeguard: String,
    policy: Option<Markup>,
}

/// A third party acting as controller.
struct ControllerView {
    name: String,
    provider: String,
    role: &'static str,
    policy: Option<Markup>,
}

/// One retention rule row.
struct RetentionView {
    data: Markup,
    period: String,
    action: &'static str,
    /// Who applies the rule: Assent automatically, or the controller.
    enforced: Markup,
    details: Option<Markup>,
}

/// `templates/privacy.html`.
#[derive(askama::Template)]
#[template(path = "privacy.html")]
struct PrivacyView {
    t: &'static Texts,
    toc: Vec<(&'static str, &'static str)>,
    intro: String,
    controller_facts: Vec<Fact>,
    representative: Option<Vec<Fact>>,
    dpo: Option<Vec<Fact>>,
    /// Where rights are exercised by e-mail, when a real address is stated.
    rights_email: Option<Markup>,
    purposes_caption: String,
    activities: Vec<ActivityView>,
    interests: Vec<(Markup, Markup)>,
    categories: Vec<Markup>,
    subjects: Vec<Markup>,
    sources: Vec<Markup>,
    recipients: Vec<Markup>,
    subprocessors: Vec<SubprocessorView>,
    controllers: Vec<ControllerView>,
    transfers: Vec<(String, String, String)>,
    retention: Vec<RetentionView>,
    server_logs: String,
    rights: [&'static str; 8],
    french_law: bool,
    rights_href: String,
    rights_post: Option<String>,
    authority: Vec<Fact>,
    automated: Vec<(Markup, Markup)>,
    cookie_href: String,
    version_text: Markup,
    /// Marketing purposes (issue 17): name, channels in words, soft opt-in, description.
    marketing: Vec<MarketingView>,
    /// The catalog keys of the marketing section's heading, introduction and opt-out
    /// sentence, chosen by the channels the registry declares ([`MarketingKeys`]).
    mk: MarketingKeys,
}

/// Which words the marketing section uses: every statement names only the channels the
/// registry's marketing purposes declare (no "STOP by SMS" on an email-only site), and
/// mentions customers and similar products only when a purpose allows soft opt-in.
struct MarketingKeys {
    heading: &'static str,
    intro: &'static str,
    opt_out: &'static str,
}

impl MarketingKeys {
    fn of(marketing: &[assent_model::registry::MarketingPurpose]) -> Self {
        use assent_model::registry::MarketingChannel as C;
        let email = marketing.iter().any(|m| m.has_channel(C::Email));
        let sms = marketing.iter().any(|m| m.has_channel(C::Sms));
        let soft = marketing.iter().any(|m| m.soft_opt_in);
        let (heading, opt_out) = match (email, sms) {
            (true, false) => ("mk.privacy.heading.email", "mk.privacy.opt_out.email"),
            (false, true) => ("mk.privacy.heading.sms", "mk.privacy.opt_out.sms"),
            _ => ("mk.privacy.heading", "mk.privacy.opt_out"),
        };
        let intro = match soft {
            true => "mk.privacy.intro",
            false => "mk.privacy.intro.consent",
        };
        MarketingKeys {
            heading,
            intro,
            opt_out,
        }
    }
}

/// A marketing purpose as the privacy policy states it.
struct MarketingView {
    name: Markup,
    channels: String,
    soft_opt_in: bool,
    /// Soft opt-in applies to email only: said so when the purpose also uses SMS.
    soft_email_only: bool,
    description: Option<Markup>,
}

/// The rights of Arts. 15-22 and 7(3), in the order the policy lists them.
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

/// The facts of one activity's card, in the order of Arts. 13-14.
fn activity_facts(page: &PolicyPage<'_>, a: &Activity) -> Vec<Fact> {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let t = texts(lang);
    let mut f = vec![
        Fact::new(t.get("common.purpose"), loc(&a.description, lang, def)),
        Fact::text(
            t.get("common.legal_basis"),
            words::basis(a.legal_basis, lang),
        ),
    ];
    if let Some(li) = &a.legitimate_interest {
        f.push(Fact::new(
            t.get("common.legitimate_interest"),
            loc(li, lang, def),
        ));
    }
    if a.legal_basis == LegalBasis::Consent {
        f.push(Fact::text(
            t.get("privacy.withdrawal"),
            t.get("privacy.you_may_withdraw_consent"),
        ));
    }
    if !a.data_subjects.is_empty() {
        f.push(Fact::new(
            t.get("privacy.data_subjects"),
            list(&a.data_subjects, lang, def),
        ));
    }
    if !a.data_categories.is_empty() {
        f.push(Fact::new(
            t.get("privacy.data"),
            list(&a.data_categories, lang, def),
        ));
    }
    f.push(Fact::new(
        t.get("common.source"),
        match &a.source {
            Some(s) => loc(s, lang, def),
            None => Markup::text(t.get("privacy.collected_from_you")),
        },
    ));
    if !a.recipients.is_empty() {
        f.push(Fact::new(
            t.get("common.recipients"),
            list(&a.recipients, lang, def),
        ));
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
        f.push(Fact::new(
            t.get("privacy.subprocessors"),
            Markup::trusted(names.join(", ")),
        ));
    }
    if !a.transfers.is_empty() {
        let items = a.transfers.iter().map(|tr| {
            let recipient = tr
                .recipient
                .as_deref()
                .and_then(gaps::known)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            Markup::text(&format!(
                "{}{recipient} – {}",
                gaps::country(&tr.country, lang),
                words::safeguard(tr.safeguard, lang)
            ))
        });
        f.push(Fact::new(
            t.get("privacy.transfers_outside_eea"),
            html::ul(items),
        ));
    }
    let rules: Vec<Markup> = a
        .retention
        .iter()
        .filter_map(|id| snap.retention.iter().find(|r| &r.id == id))
        .map(|r| {
            Markup::trusted(format!(
                "{}{}",
                loc(&r.data_category, lang, def),
                esc(&format!(
                    "{}{}",
                    t.get("common.colon"),
                    retention_period(r, lang)
                ))
            ))
        })
        .collect();
    if !rules.is_empty() {
        f.push(Fact::new(t.get("privacy.retention"), html::ul(rules)));
    }
    if !a.security_measures.is_empty() {
        f.push(Fact::new(
            t.get("common.security_measures"),
            list(&a.security_measures, lang, def),
        ));
    }
    if let Some(ad) = &a.automated_decisions {
        f.push(Fact::new(
            t.get("common.automated_decisions"),
            loc(ad, lang, def),
        ));
    }
    f
}

/// Recipients outside the EEA: `(country, recipient, safeguard)`, from the activities'
/// transfers and the services' countries, each once.
fn transfer_rows(page: &PolicyPage<'_>, subs: &[&Service]) -> Vec<(String, String, String)> {
    let lang = page.lang;
    let mut transfers: Vec<(String, String, String)> = vec![];
    for a in &page.snap.activities {
        for tr in &a.transfers {
            let row = (
                gaps::country(&tr.country, lang),
                tr.recipient
                    .as_deref()
                    .and_then(gaps::known)
                    .unwrap_or(txt(lang, "truth.recipient_not_named"))
                    .to_string(),
                words::safeguard(tr.safeguard, lang).to_string(),
            );
            if !transfers.contains(&row) {
                transfers.push(row);
            }
        }
    }
    for s in page.snap.services.iter().chain(subs.iter().copied()) {
        if let Some(c) = s.country.as_deref()
            && !in_eea(c)
        {
            let row = (
                gaps::country(c, lang),
                gaps::provider(s, lang),
                s.safeguard
                    .map(|g| words::safeguard(g, lang).to_string())
                    .unwrap_or_else(|| txt(lang, "privacy.not_stated").to_string()),
            );
            if !transfers.iter().any(|x| x.0 == row.0 && x.1 == row.1) {
                transfers.push(row);
            }
        }
    }
    transfers
}

fn subprocessor_view(page: &PolicyPage<'_>, s: &Service) -> SubprocessorView {
    let (lang, def) = (page.lang, page.default_lang());
    SubprocessorView {
        id: s.id.clone(),
        name: s.name.clone(),
        provider: gaps::provider(s, lang),
        what: match &s.description {
            Some(d) => vec![loc(d, lang, def)],
            None => s
                .purposes
                .iter()
                .map(|p| match page.snap.purpose(p) {
                    Some(p) => loc(&p.name, lang, def),
                    None => Markup::text(p),
                })
                .collect(),
        },
        country: s
            .country
            .as_deref()
            .map(|c| gaps::country(c, lang))
            .unwrap_or_else(|| txt(lang, "privacy.not_stated").to_string()),
        safeguard: match (s.country.as_deref(), s.safeguard) {
            (Some(c), _) if in_eea(c) => txt(lang, "privacy.not_needed_eea").to_string(),
            (_, Some(g)) => words::safeguard(g, lang).to_string(),
            (_, None) => "–".to_string(),
        },
        policy: s
            .privacy_policy
            .as_deref()
            .and_then(gaps::known_address)
            .map(html::policy_link),
    }
}

/// The privacy policy as a complete HTML document.
pub fn html(page: &PolicyPage<'_>) -> String {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let t = texts(lang);
    let ctl = &snap.controller;
    let site = &snap.site;
    let links = page.links;
    let french_law = ctl.country.eq_ignore_ascii_case("FR");
    let mut toc = vec![
        ("controller", "privacy.who_responsible_data"),
        ("dpo", "common.data_protection_officer"),
        ("purposes", "privacy.purposes_legal_bases"),
        ("activities", "privacy.each_processing_activity_detail"),
        ("interests", "privacy.legitimate_interests"),
        ("data", "privacy.data_process_whose"),
        ("recipients", "privacy.recipients_subprocessors"),
        ("transfers", "common.transfers_outside_eea"),
        ("retention", "privacy.how_long_keep_data"),
        ("rights", "privacy.rights_how_exercise_them"),
        ("complaint", "privacy.complaints"),
    ];
    if french_law {
        toc.push(("post-mortem", "privacy.instructions_after_death"));
    }
    let mk = MarketingKeys::of(&snap.marketing);
    if !snap.marketing.is_empty() {
        toc.push(("marketing", mk.heading));
    }
    toc.extend([
        ("automated", "common.automated_decisions"),
        ("cookies", "privacy.cookies"),
        ("version", "common.version_policy"),
    ]);
    let acts = &snap.activities;
    let distinct_loc = |texts: Vec<&Text>| -> Vec<Markup> {
        distinct(texts.into_iter(), lang, def)
            .into_iter()
            .map(|x| loc(x, lang, def))
            .collect()
    };
    // The activities that have an optional text, with it: (activity's name, text).
    let with_text = |text: fn(&Activity) -> Option<&Text>| -> Vec<(Markup, Markup)> {
        acts.iter()
            .filter_map(|a| Some((loc(&a.name, lang, def), loc(text(a)?, lang, def))))
            .collect()
    };
    let subs = subprocessors(page);
    let auth = &ctl.supervisory_authority;
    let authority = Fact::known(
        lang,
        [
            (
                "privacy.authority",
                gaps::known(&auth.name).map(Markup::text),
            ),
            (
                "common.address",
                auth.address
                    .as_deref()
                    .and_then(gaps::known)
                    .map(Markup::text),
            ),
            (
                "common.website",
                auth.url
                    .as_deref()
                    .and_then(gaps::known_address)
                    .map(facts::website),
            ),
        ],
    );
    let rights_email = gaps::rights_email(ctl).map(mailto);
    let view = PrivacyView {
        t,
        toc,
        intro: t.fill(
            "privacy.intro",
            &[
                ("controller", &ctl.name),
                ("site", &site.name),
                (
                    "law",
                    &if french_law {
                        t.get("privacy.intro_french_law")
                    } else {
                        ""
                    },
                ),
            ],
        ),
        controller_facts: ControllerRecord::from(ctl).facts(lang),
        representative: ctl
            .representative
            .as_ref()
            .map(|r| ContactRecord::from(r).facts(lang)),
        dpo: ctl.dpo.as_ref().map(|d| ContactRecord::from(d).facts(lang)),
        rights_email: rights_email.clone(),
        purposes_caption: t.fill("privacy.purposes_caption", &[("controller", &ctl.name)]),
        activities: acts
            .iter()
            .map(|a| ActivityView {
                id: a.id.clone(),
                name: loc(&a.name, lang, def),
                description: loc(&a.description, lang, def),
                basis: words::basis(a.legal_basis, lang),
                facts: activity_facts(page, a),
            })
            .collect(),
        interests: with_text(|a| a.legitimate_interest.as_ref()),
        categories: distinct_loc(acts.iter().flat_map(|a| a.data_categories.iter()).collect()),
        subjects: distinct_loc(acts.iter().flat_map(|a| a.data_subjects.iter()).collect()),
        sources: distinct_loc(acts.iter().filter_map(|a| a.source.as_ref()).collect()),
        recipients: distinct_loc(acts.iter().flat_map(|a| a.recipients.iter()).collect()),
        subprocessors: subs.iter().map(|s| subprocessor_view(page, s)).collect(),
        controllers: snap
            .services
            .iter()
            .filter(|s| s.role != Role::Processor)
            .map(|s| ControllerView {
                name: s.name.clone(),
                provider: gaps::provider(s, lang),
                role: crate::cookie::role_label(s.role, lang),
                policy: s
                    .privacy_policy
                    .as_deref()
                    .and_then(gaps::known_address)
                    .map(|u| ext_link(u, &Markup::text(t.get("common.privacy_policy_link")))),
            })
            .collect(),
        transfers: transfer_rows(page, &subs),
        retention: snap
            .retention
            .iter()
            .map(|r| RetentionView {
                data: loc(&r.data_category, lang, def),
                period: retention_period(r, lang),
                action: retention_action(r.action, lang),
                enforced: enforcement::statement(
                    page.enforcement.of(&r.id),
                    &ctl.name,
                    &ctl.timezone,
                    lang,
                ),
                details: r.description.as_ref().map(|d| loc(d, lang, def)),
            })
            .collect(),
        server_logs: t.fill("truth.server_logs", &[("controller", &ctl.name)]),
        rights: RIGHTS,
        french_law,
        rights_href: links.rights(lang),
        rights_post: gaps::rights_post(ctl),
        authority,
        automated: with_text(|a| a.automated_decisions.as_ref()),
        cookie_href: links.cookie_policy(lang),
        version_text: page.version_text("privacy.version_text_html"),
        marketing: snap
            .marketing
            .iter()
            .map(|m| MarketingView {
                name: loc(&m.name, lang, def),
                channels: m
                    .channels
                    .iter()
                    .map(|c| {
                        t.get(if c.as_str() == "sms" {
                            "mk.prefs.channel.sms"
                        } else {
                            "mk.prefs.channel.email"
                        })
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                soft_opt_in: m.soft_opt_in,
                soft_email_only: m.has_channel(assent_model::registry::MarketingChannel::Sms),
                description: m.description.as_ref().map(|d| loc(d, lang, def)),
            })
            .collect(),
        mk,
    };
    page.shell(
        "common.privacy_policy",
        Nav::Privacy,
        Links::privacy_policy,
        html::render(&view),
        None,
    )
}
