//! The cookie policy: what trackers are, the purposes, every tracker of the registry in seed
//! 002's table layout (category, name, domain / provider, purpose, legal basis, lifetime), the
//! third parties, transfers outside the EEA, how to change one's choice, refusal impacts, the
//! consent lifetime, contact and the policy version.

use std::fmt::Write as _;

use assent_model::clock::rfc3339;
use assent_model::registry::{
    Cookie, Exemption, LegalBasis, Purpose, Role, Service, StorageKind, in_eea,
};
use serde_json::{Value, json};

use crate::PolicyPage;
use crate::html::{
    self, Nav, Shell, country_with_code, esc, ext_link, lifetime_days, loc, mailto, plain, t,
};

/// One row of the cookie table, in the page's language (plain text, not escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRow {
    pub category: String,
    pub purpose_id: String,
    pub name: String,
    pub kind: StorageKind,
    pub domain: Option<String>,
    pub service_id: Option<String>,
    /// The service's name, for third-party trackers.
    pub provider: Option<String>,
    pub description: String,
    pub legal_basis: LegalBasis,
    pub consent_required: bool,
    pub exemption_reason: Option<String>,
    pub lifetime: String,
    pub lifetime_seconds: i64,
}

/// Every tracker of the version, grouped by purpose in the registry's order.
pub fn cookie_rows(page: &PolicyPage<'_>) -> Vec<CookieRow> {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let order = |c: &Cookie| {
        snap.purposes
            .iter()
            .position(|p| p.id == c.purpose)
            .unwrap_or(usize::MAX)
    };
    let mut cookies: Vec<&Cookie> = snap.cookies.iter().collect();
    cookies.sort_by_key(|c| order(c));
    cookies
        .into_iter()
        .map(|c| {
            let purpose = snap.purpose(&c.purpose);
            let service = c.service.as_deref().and_then(|s| page.service(s));
            let description = match (&c.description, purpose) {
                (Some(d), _) => plain(d, lang, def),
                (None, Some(p)) => plain(&p.name, lang, def),
                (None, None) => String::new(),
            };
            CookieRow {
                category: purpose
                    .map(|p| plain(&p.name, lang, def))
                    .unwrap_or_else(|| c.purpose.clone()),
                purpose_id: c.purpose.clone(),
                name: c.name.clone(),
                kind: c.kind,
                domain: c.domain.clone(),
                service_id: c.service.clone(),
                provider: service
                    .map(|s| s.name.clone())
                    .or_else(|| c.service.clone()),
                description,
                legal_basis: c
                    .legal_basis
                    .or(purpose.map(|p| p.legal_basis))
                    .unwrap_or(LegalBasis::Consent),
                consent_required: purpose.is_none_or(|p| p.consent_required),
                exemption_reason: c.exemption_reason.as_ref().map(|r| plain(r, lang, def)),
                lifetime: c.lifetime.display(lang),
                lifetime_seconds: c.lifetime.seconds(),
            }
        })
        .collect()
}

/// A long tracker name, escaped, with line-break opportunities after `_` and `-` so that it
/// does not widen the table's name column (`wp-wpml_current_language`).
fn breakable(name: &str) -> String {
    if name.chars().count() <= 16 {
        return esc(name);
    }
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        out.push_str(&esc(c.encode_utf8(&mut [0; 4])));
        if matches!(c, '_' | '-')
            && !out.ends_with("<wbr>")
            && chars.peek().is_some()
            && out.len() > 1
        {
            out.push_str("<wbr>");
        }
    }
    out
}

/// Label of a storage kind.
pub fn kind_label(k: StorageKind, lang: &str) -> &'static str {
    match k {
        StorageKind::Cookie => "Cookie",
        StorageKind::LocalStorage => t(lang, "Local storage", "Stockage local"),
        StorageKind::SessionStorage => t(lang, "Session storage", "Stockage de session"),
        StorageKind::IndexedDb => "IndexedDB",
        StorageKind::Pixel => t(lang, "Pixel", "Pixel"),
    }
}

fn kind_code(k: StorageKind) -> &'static str {
    match k {
        StorageKind::Cookie => "cookie",
        StorageKind::LocalStorage => "local_storage",
        StorageKind::SessionStorage => "session_storage",
        StorageKind::IndexedDb => "indexed_db",
        StorageKind::Pixel => "pixel",
    }
}

/// Role of a provider towards the controller, in words.
pub fn role_label(r: Role, lang: &str) -> &'static str {
    match r {
        Role::Processor => t(
            lang,
            "Processor (acts on our instructions)",
            "Sous-traitant (agit sur nos instructions)",
        ),
        Role::Controller => t(
            lang,
            "Independent controller",
            "Responsable de traitement indépendant",
        ),
        Role::JointController => t(
            lang,
            "Joint controller",
            "Responsable conjoint du traitement",
        ),
    }
}

fn role_code(r: Role) -> &'static str {
    match r {
        Role::Processor => "processor",
        Role::Controller => "controller",
        Role::JointController => "joint_controller",
    }
}

/// Why a purpose does or does not need consent, in words.
pub fn consent_status(p: &Purpose, lang: &str) -> String {
    if p.consent_required {
        return t(
            lang,
            "Placed only with your consent. You can refuse or withdraw it at any time.",
            "Déposés uniquement avec votre consentement. Vous pouvez le refuser ou le retirer à tout moment.",
        )
        .to_string();
    }
    match p.exemption {
        Some(Exemption::StrictlyNecessary) => t(
            lang,
            "Exempt from consent: strictly necessary to provide the service you ask for (ePrivacy Directive, Art. 5(3)). They cannot be switched off.",
            "Exemptés de consentement : strictement nécessaires pour fournir le service que vous demandez (directive ePrivacy, art. 5(3)). Ils ne peuvent pas être désactivés.",
        )
        .to_string(),
        Some(Exemption::AudienceMeasurement) => {
            let mut s = t(
                lang,
                "Exempt from consent: audience measurement limited to anonymous statistics for our own use, as the CNIL allows (trackers live at most 13 months, no cross-site tracking). You can object at any time with the button below.",
                "Exemptés de consentement : mesure d'audience limitée à des statistiques anonymes pour notre seul usage, comme l'admet la CNIL (traceurs conservés 13 mois au plus, aucun suivi entre sites). Vous pouvez vous y opposer à tout moment avec le bouton ci-dessous.",
            )
            .to_string();
            if let Some(d) = p.data_retention {
                s.push(' ');
                s.push_str(t(lang, "Collected data is kept", "Les données collectées sont conservées"));
                s.push(' ');
                s.push_str(&d.display(lang));
                s.push('.');
            }
            s
        }
        None => t(lang, "Exempt from consent.", "Exemptés de consentement.").to_string(),
    }
}

fn exemption_code(p: &Purpose) -> Value {
    match p.exemption {
        Some(Exemption::StrictlyNecessary) => json!("strictly_necessary"),
        Some(Exemption::AudienceMeasurement) => json!("audience_measurement"),
        None => Value::Null,
    }
}

/// Default words when a purpose does not say what refusing changes.
fn default_refusal(p: &Purpose, lang: &str) -> &'static str {
    if p.consent_required {
        t(
            lang,
            "These trackers are not placed; the site remains fully accessible.",
            "Ces traceurs ne sont pas déposés ; le site reste entièrement accessible.",
        )
    } else {
        t(
            lang,
            "These trackers cannot be refused: without them the site cannot work properly.",
            "Ces traceurs ne peuvent pas être refusés : sans eux le site ne peut pas fonctionner correctement.",
        )
    }
}

/// Services processing data outside the EEA.
fn transfers<'a>(page: &'a PolicyPage<'_>) -> Vec<&'a Service> {
    page.snap
        .services
        .iter()
        .filter(|s| s.country.as_deref().is_some_and(|c| !in_eea(c)))
        .collect()
}

fn purpose_names(page: &PolicyPage<'_>, ids: &[String]) -> String {
    ids.iter()
        .map(|id| match page.snap.purpose(id) {
            Some(p) => loc(&p.name, page.lang, page.default_lang()),
            None => esc(id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const BROWSERS: [(&str, &str); 4] = [
    (
        "Google Chrome",
        "https://support.google.com/chrome/answer/95647",
    ),
    (
        "Mozilla Firefox",
        "https://support.mozilla.org/kb/clear-cookies-and-site-data-firefox",
    ),
    (
        "Apple Safari",
        "https://support.apple.com/guide/safari/manage-cookies-sfri11471/mac",
    ),
    (
        "Microsoft Edge",
        "https://support.microsoft.com/microsoft-edge/delete-cookies-in-microsoft-edge-63947406-40ac-c3b8-57b9-2a946a29ae09",
    ),
];

/// The cookie policy as a complete HTML document.
pub fn html(page: &PolicyPage<'_>) -> String {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let site = &snap.site;
    let ctl = &snap.controller;
    let links = page.links;
    let site_name = esc(&site.name);
    let mut b = String::new();

    let sections: Vec<(&str, String)> = vec![
        (
            "what",
            t(
                lang,
                "What are cookies and trackers?",
                "Qu'est-ce qu'un cookie ou un traceur ?",
            )
            .into(),
        ),
        (
            "purposes",
            t(
                lang,
                "Why we use them: categories and purposes",
                "Pourquoi nous les utilisons : catégories et finalités",
            )
            .into(),
        ),
        (
            "list",
            t(
                lang,
                "Every cookie and tracker we use",
                "Tous les cookies et traceurs utilisés",
            )
            .into(),
        ),
        ("third-parties", t(lang, "Third parties", "Tiers").into()),
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
            "choices",
            t(
                lang,
                "Your choices and how to change them",
                "Vos choix et comment les modifier",
            )
            .into(),
        ),
        (
            "refusal",
            t(lang, "What refusing changes", "Conséquences d'un refus").into(),
        ),
        (
            "browser",
            t(lang, "Browser settings", "Paramètres du navigateur").into(),
        ),
        (
            "contact",
            t(lang, "Contact and your rights", "Contact et vos droits").into(),
        ),
        (
            "version",
            t(lang, "Version of this policy", "Version de cette politique").into(),
        ),
    ];

    // Introduction
    let _ = write!(
        b,
        "<p class=\"lead\">{}</p>",
        match lang {
            "fr" => format!(
                "Cette page explique quels cookies et autres traceurs <strong>{site_name}</strong> utilise, pourquoi, pour combien de temps, qui les dépose, et comment les accepter, les refuser ou modifier votre choix à tout moment. Le responsable du traitement est {}.",
                esc(&ctl.name)
            ),
            _ => format!(
                "This page explains which cookies and other trackers <strong>{site_name}</strong> uses, why, for how long, who places them, and how you can accept, refuse or change your choice at any time. The controller is {}.",
                esc(&ctl.name)
            ),
        }
    );
    b.push_str(&html::toc(lang, &sections));

    // What
    let _ = write!(b, "<h2 id=\"what\">{}</h2>", esc(&sections[0].1));
    b.push_str(t(
        lang,
        "<p>A cookie is a small text file that a website stores in your browser (on a computer, smartphone or tablet) and reads back on later visits. Other trackers work the same way: local and session storage, IndexedDB, or invisible images (pixels) that report a visit. We call all of them <em>trackers</em>.</p>\
<p>Some trackers are strictly necessary to run the site and are placed without asking. All others are placed <strong>only after you agree</strong>: until you make a choice, none of them is read or written, and refusing is as easy as accepting. First-party trackers are set by our site; third-party trackers are set by the providers listed below when their services are loaded.</p>",
        "<p>Un cookie est un petit fichier texte qu'un site web enregistre dans votre navigateur (sur un ordinateur, un smartphone ou une tablette) et relit lors de vos visites suivantes. D'autres traceurs fonctionnent de la même façon : stockage local et de session, IndexedDB, ou images invisibles (pixels) qui signalent une visite. Nous les appelons tous des <em>traceurs</em>.</p>\
<p>Certains traceurs sont strictement nécessaires au fonctionnement du site et sont déposés sans vous le demander. Tous les autres ne sont déposés <strong>qu'après votre accord</strong> : tant que vous n'avez pas fait de choix, aucun n'est lu ni écrit, et refuser est aussi simple qu'accepter. Les traceurs propres sont déposés par notre site ; les traceurs tiers sont déposés par les prestataires listés ci-dessous lorsque leurs services sont chargés.</p>",
    ));

    // Purposes
    let _ = write!(b, "<h2 id=\"purposes\">{}</h2>", esc(&sections[1].1));
    for p in &snap.purposes {
        let n = snap.cookies.iter().filter(|c| c.purpose == p.id).count();
        let services: Vec<&Service> = snap
            .services
            .iter()
            .filter(|s| s.purposes.iter().any(|x| x == &p.id))
            .collect();
        let badge = if p.consent_required {
            format!(
                "<span class=\"badge consent\">{}</span>",
                t(lang, "Consent required", "Consentement requis")
            )
        } else {
            format!(
                "<span class=\"badge exempt\">{}</span>",
                t(lang, "Exempt from consent", "Exempté de consentement")
            )
        };
        let _ = write!(
            b,
            "<section class=\"card\" aria-labelledby=\"p-{id}\"><h3 id=\"p-{id}\">{name} {badge}</h3><p>{desc}</p><dl class=\"facts\">\
<dt>{l_consent}</dt><dd>{consent}</dd><dt>{l_basis}</dt><dd>{basis}</dd>",
            id = esc(&p.id),
            name = loc(&p.name, lang, def),
            desc = loc(&p.description, lang, def),
            l_consent = t(lang, "Consent", "Consentement"),
            consent = esc(&consent_status(p, lang)),
            l_basis = t(lang, "Legal basis", "Base légale"),
            basis = esc(p.legal_basis.label(lang)),
        );
        if !services.is_empty() {
            let names: Vec<String> = services.iter().map(|s| esc(&s.name)).collect();
            html::fact(
                &mut b,
                t(lang, "Providers", "Prestataires"),
                &names.join(", "),
            );
        }
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{n}</dd>",
            t(lang, "Trackers", "Traceurs")
        );
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}</dd></dl></section>",
            t(lang, "If you refuse", "En cas de refus"),
            match &p.refusal_impact {
                Some(r) => loc(r, lang, def),
                None => esc(default_refusal(p, lang)),
            }
        );
    }

    // Table
    let rows = cookie_rows(page);
    let _ = write!(
        b,
        "<h2 id=\"list\">{}</h2><p>{}</p>",
        esc(&sections[2].1),
        match lang {
            "fr" => format!(
                "Voici la liste complète des {} traceurs que le site peut déposer. Selon les pages consultées et les services que vous activez, ils ne sont pas tous présents à chaque visite. Un nom terminé par <code>*</code> désigne tous les traceurs qui commencent ainsi.",
                rows.len()
            ),
            _ => format!(
                "This is the complete list of the {} trackers the site may set. Depending on the pages you visit and the services you enable, not all of them are present on every visit. A name ending in <code>*</code> stands for every tracker starting that way.",
                rows.len()
            ),
        }
    );
    let _ = write!(
        b,
        "<div class=\"table-wrap\"><table id=\"cookie-table\"><caption>{cap}</caption><thead><tr>\
<th scope=\"col\">{c1}</th><th scope=\"col\">{c2}</th><th scope=\"col\">{c3}</th><th scope=\"col\">{c4}</th><th scope=\"col\">{c5}</th><th scope=\"col\">{c6}</th></tr></thead><tbody>",
        cap = t(
            lang,
            "Cookies and other trackers",
            "Cookies et autres traceurs"
        ),
        c1 = t(lang, "Category", "Catégorie"),
        c2 = t(lang, "Cookie name", "Nom du cookie"),
        c3 = t(lang, "Domain / Provider", "Domaine / Fournisseur"),
        c4 = t(lang, "Purpose", "Finalité"),
        c5 = t(lang, "Legal basis", "Base légale"),
        c6 = t(lang, "Lifetime", "Durée de vie"),
    );
    for r in &rows {
        let domain = r.domain.as_deref().map(esc).unwrap_or_default();
        let provider = match &r.provider {
            Some(p) => esc(p),
            None => format!(
                "{} <span class=\"small\">({})</span>",
                esc(&ctl.name),
                t(lang, "first party", "cookie propre")
            ),
        };
        let dp = if domain.is_empty() {
            provider
        } else {
            format!("{domain} / {provider}")
        };
        let kind = if r.kind == StorageKind::Cookie {
            String::new()
        } else {
            format!(
                "<br><span class=\"small\">{}</span>",
                kind_label(r.kind, lang)
            )
        };
        let exempt = match (&r.exemption_reason, r.consent_required) {
            (Some(why), false) => format!(
                "<br><span class=\"small\">{} {}</span>",
                t(lang, "Exempt from consent:", "Exempté de consentement :"),
                esc(why)
            ),
            _ => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td>{cat}</td><th scope=\"row\"><code>{name}</code>{kind}</th><td>{dp}</td><td>{desc}{exempt}</td><td>{basis}</td><td>{life}</td></tr>",
            cat = esc(&r.category),
            name = breakable(&r.name),
            desc = esc(&r.description),
            basis = esc(r.legal_basis.label(lang)),
            life = esc(&r.lifetime),
        );
    }
    b.push_str("</tbody></table></div>");

    // Third parties
    let _ = write!(b, "<h2 id=\"third-parties\">{}</h2>", esc(&sections[3].1));
    if snap.services.is_empty() {
        b.push_str(&format!(
            "<p>{}</p>",
            t(
                lang,
                "No third-party service is used on this site.",
                "Aucun service tiers n'est utilisé sur ce site."
            )
        ));
    } else {
        let _ = write!(
            b,
            "<p>{}</p><div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(
                lang,
                "These providers place trackers or receive data when their services are loaded. Each has its own privacy policy.",
                "Ces prestataires déposent des traceurs ou reçoivent des données lorsque leurs services sont chargés. Chacun a sa propre politique de confidentialité."
            ),
            t(lang, "Third-party services", "Services tiers"),
            t(lang, "Service", "Service"),
            t(lang, "Purposes", "Finalités"),
            t(lang, "Role", "Rôle"),
            t(lang, "Where data is processed", "Lieu de traitement"),
            t(lang, "Privacy policy", "Politique de confidentialité"),
        );
        for s in &snap.services {
            let desc = s
                .description
                .as_ref()
                .map(|d| format!("<br><span class=\"small\">{}</span>", loc(d, lang, def)))
                .unwrap_or_default();
            let policy = match &s.privacy_policy {
                Some(u) => html::policy_link(u),
                None => format!(
                    "<span class=\"small\">{}</span>",
                    t(lang, "Not provided", "Non fournie")
                ),
            };
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{name}<br><span class=\"small\">{provider}</span>{desc}</th><td>{purposes}</td><td>{role}</td><td>{country}</td><td>{policy}</td></tr>",
                name = esc(&s.name),
                provider = esc(&s.provider),
                purposes = purpose_names(page, &s.purposes),
                role = role_label(s.role, lang),
                country = s
                    .country
                    .as_deref()
                    .map(|c| esc(&country_with_code(c, lang)))
                    .unwrap_or_else(|| t(lang, "Not stated", "Non précisé").to_string()),
            );
        }
        b.push_str("</tbody></table></div>");
    }

    // Transfers
    let _ = write!(b, "<h2 id=\"transfers\">{}</h2>", esc(&sections[4].1));
    let tr = transfers(page);
    if tr.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            t(
                lang,
                "None of the providers above processes data outside the European Economic Area.",
                "Aucun des prestataires ci-dessus ne traite de données hors de l'Espace économique européen."
            )
        );
    } else {
        let _ = write!(
            b,
            "<p>{}</p><ul>",
            t(
                lang,
                "The following providers process data outside the European Economic Area (EEA). Each transfer is framed by a safeguard of Chapter V of the GDPR:",
                "Les prestataires suivants traitent des données hors de l'Espace économique européen (EEE). Chaque transfert est encadré par une garantie du chapitre V du RGPD :"
            )
        );
        for s in tr {
            let _ = write!(
                b,
                "<li><strong>{}</strong> ({}) – {} – {}</li>",
                esc(&s.name),
                esc(&s.provider),
                esc(&country_with_code(s.country.as_deref().unwrap_or(""), lang)),
                match s.safeguard {
                    Some(g) => esc(g.label(lang)),
                    None => t(lang, "safeguard not stated", "garantie non précisée").to_string(),
                }
            );
        }
        b.push_str("</ul>");
    }

    // Choices
    let life = lifetime_days(site.consent_lifetime_days, lang);
    let _ = write!(b, "<h2 id=\"choices\">{}</h2>", esc(&sections[5].1));
    let _ = write!(
        b,
        "<p>{}</p><p class=\"noprint\"><button type=\"button\" data-assent-manage class=\"manage\">{}</button></p><p class=\"small\">{}</p>",
        t(
            lang,
            "When you first visit, a banner lets you accept all, refuse all, or choose purpose by purpose. You can change or withdraw your choice at any time, as easily as you gave it: trackers of a purpose you withdraw are deleted.",
            "Lors de votre première visite, un bandeau vous permet de tout accepter, de tout refuser ou de choisir finalité par finalité. Vous pouvez modifier ou retirer votre choix à tout moment, aussi facilement que vous l'avez donné : les traceurs d'une finalité retirée sont supprimés."
        ),
        t(lang, "Manage my cookies", "Gérer mes cookies"),
        match lang {
            "fr" => format!(
                "Si ce bouton ne réagit pas (JavaScript désactivé), utilisez le lien « Gérer mes cookies » présent en bas de chaque page de {site_name}, ou supprimez le cookie <code>assent_consent</code> dans votre navigateur : le bandeau vous redemandera votre choix."
            ),
            _ => format!(
                "If this button does not respond (JavaScript disabled), use the “Manage my cookies” link at the bottom of every page of {site_name}, or delete the <code>assent_consent</code> cookie in your browser: the banner will ask you again."
            ),
        }
    );
    let _ = write!(
        b,
        "<h3>{}</h3><p>{}</p>",
        t(
            lang,
            "How long your choice is kept",
            "Durée de conservation de votre choix"
        ),
        match lang {
            "fr" => format!(
                "Votre choix, y compris un refus, est conservé <strong>{}</strong> ({} jours) : nous ne vous le redemandons donc pas à chaque page. Passé ce délai, ou dès que nous ajoutons une finalité ou un prestataire, le bandeau vous demande à nouveau votre choix.",
                esc(&life),
                site.consent_lifetime_days
            ),
            _ => format!(
                "Your choice, including a refusal, is kept for <strong>{}</strong> ({} days), so we do not ask again on every page. After that, or as soon as we add a purpose or a provider, the banner asks for your choice again.",
                esc(&life),
                site.consent_lifetime_days
            ),
        }
    );
    let _ = write!(
        b,
        "<h3>{}</h3><p>{}</p>",
        t(lang, "Proof of your choice", "Preuve de votre choix"),
        t(
            lang,
            "Each choice is recorded with its date and time, the version of this policy, the texts shown and your choice per purpose, so that we can demonstrate it (GDPR Art. 7(1)). The record is kept in a tamper-evident log and holds a random identifier, not your name or IP address.",
            "Chaque choix est enregistré avec sa date et son heure, la version de cette politique, les textes affichés et votre choix par finalité, afin que nous puissions le démontrer (RGPD, art. 7(1)). L'enregistrement est conservé dans un journal infalsifiable et contient un identifiant aléatoire, ni votre nom ni votre adresse IP."
        )
    );
    let gpc: Vec<String> = snap
        .purposes
        .iter()
        .filter(|p| p.gpc)
        .map(|p| loc(&p.name, lang, def))
        .collect();
    if !gpc.is_empty() {
        let _ = write!(
            b,
            "<h3>{}</h3><p>{} <strong>{}</strong>.</p>",
            t(lang, "Global Privacy Control", "Global Privacy Control"),
            t(
                lang,
                "If your browser sends the Global Privacy Control signal, we treat it as a refusal of:",
                "Si votre navigateur envoie le signal Global Privacy Control, nous le traitons comme un refus de :"
            ),
            gpc.join(", ")
        );
    }

    // Refusal impact
    let _ = write!(b, "<h2 id=\"refusal\">{}</h2><ul>", esc(&sections[6].1));
    for p in &snap.purposes {
        let _ = write!(
            b,
            "<li><strong>{}</strong> – {}</li>",
            loc(&p.name, lang, def),
            match &p.refusal_impact {
                Some(r) => loc(r, lang, def),
                None => esc(default_refusal(p, lang)),
            }
        );
    }
    b.push_str("</ul>");

    // Browser
    let _ = write!(
        b,
        "<h2 id=\"browser\">{}</h2><p>{}</p><ul>",
        esc(&sections[7].1),
        t(
            lang,
            "You can also see, delete or block cookies in your browser's settings. Blocking every cookie may prevent some features from working, including secure access, forms and payment; deleting them also deletes your choice, so the banner will ask again.",
            "Vous pouvez aussi consulter, supprimer ou bloquer les cookies dans les paramètres de votre navigateur. Bloquer tous les cookies peut empêcher certaines fonctionnalités de marcher, dont l'accès sécurisé, les formulaires et le paiement ; les supprimer supprime aussi votre choix, et le bandeau vous le redemandera."
        )
    );
    for (name, url) in BROWSERS {
        let _ = write!(b, "<li>{}</li>", ext_link(url, name));
    }
    if lang == "fr" {
        let _ = write!(
            b,
            "<li>{}</li>",
            ext_link(
                "https://www.cnil.fr/fr/cookies-et-autres-traceurs/comment-se-proteger/maitriser-votre-navigateur",
                "CNIL : maîtriser votre navigateur"
            )
        );
    }
    b.push_str("</ul>");

    // Contact
    let _ = write!(b, "<h2 id=\"contact\">{}</h2>", esc(&sections[8].1));
    let _ = write!(
        b,
        "<p>{}</p><dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
        t(
            lang,
            "You have the rights of access, rectification, erasure, restriction, objection and portability, and you may withdraw your consent at any time. For any question about cookies or to exercise your rights:",
            "Vous disposez des droits d'accès, de rectification, d'effacement, de limitation, d'opposition et de portabilité, et pouvez retirer votre consentement à tout moment. Pour toute question sur les cookies ou pour exercer vos droits :"
        ),
        t(lang, "Controller", "Responsable du traitement"),
        esc(&ctl.name),
        t(lang, "Email", "E-mail"),
        mailto(ctl.rights_email.as_deref().unwrap_or(&ctl.email)),
    );
    if let Some(dpo) = &ctl.dpo
        && let Some(e) = &dpo.email
    {
        html::fact(
            &mut b,
            t(
                lang,
                "Data protection officer",
                "Délégué à la protection des données",
            ),
            &mailto(e),
        );
    }
    let _ = write!(
        b,
        "<dt>{}</dt><dd><a href=\"{}\">{}</a></dd></dl><p>{} <a href=\"{}\">{}</a>.</p>",
        t(lang, "Online form", "Formulaire en ligne"),
        esc(&links.rights(lang)),
        t(lang, "Exercise your rights", "Exercer vos droits"),
        t(
            lang,
            "For our other processing of personal data, see our",
            "Pour nos autres traitements de données personnelles, consultez notre"
        ),
        esc(&links.privacy_policy(lang)),
        t(lang, "privacy policy", "politique de confidentialité"),
    );

    // Version
    let _ = write!(
        b,
        "<h2 id=\"version\">{}</h2><p>{}</p>",
        esc(&sections[9].1),
        match lang {
            "fr" => format!(
                "Ceci est la version {} de cette politique, publiée le {}. Chaque modification est datée et versionnée ; en cas de changement important (nouvelle finalité, nouveau prestataire, durée de vie allongée), le bandeau vous redemande votre choix. <a href=\"{}\">Consulter l'historique des versions</a>.",
                page.version,
                html::time_el(page.created_at_ms, page.tz(), lang),
                esc(&links.versions(lang))
            ),
            _ => format!(
                "This is version {} of this policy, published on {}. Every update is dated and versioned; after a significant change (a new purpose, a new provider, a longer lifetime) the banner asks for your choice again. <a href=\"{}\">See the version history</a>.",
                page.version,
                html::time_el(page.created_at_ms, page.tz(), lang),
                esc(&links.versions(lang))
            ),
        }
    );

    let script = format!(
        "<script src=\"{}\" defer></script>",
        esc(&links.banner_script())
    );
    html::shell(&Shell {
        lang,
        title: t(lang, "Cookie policy", "Politique cookies").to_string(),
        site_name: &site.name,
        nav: Nav::Cookies,
        links: links.nav(lang),
        alternates: page.alternates(|l| links.cookie_policy(l)),
        meta_html: page.version_line(&links.cookie_policy(lang)),
        body_html: b,
        tail_html: script,
        canonical: None,
    })
}

/// The cookie policy as structured data, texts in the page's language.
pub fn json(page: &PolicyPage<'_>) -> Value {
    let snap = page.snap;
    let (lang, def) = (page.lang, page.default_lang());
    let site = &snap.site;
    let ctl = &snap.controller;
    let links = page.links;
    let purposes: Vec<Value> = snap
        .purposes
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": plain(&p.name, lang, def),
                "description": plain(&p.description, lang, def),
                "consent_required": p.consent_required,
                "exemption": exemption_code(p),
                "consent": consent_status(p, lang),
                "legal_basis": p.legal_basis.as_str(),
                "legal_basis_label": p.legal_basis.label(lang),
                "refusal_impact": match &p.refusal_impact {
                    Some(r) => plain(r, lang, def),
                    None => default_refusal(p, lang).to_string(),
                },
                "gpc": p.gpc,
                "data_retention": p.data_retention.map(|d| d.display(lang)),
                "services": snap.services.iter().filter(|s| s.purposes.contains(&p.id)).map(|s| s.id.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let cookies: Vec<Value> = cookie_rows(page)
        .into_iter()
        .map(|r| {
            json!({
                "category": r.category,
                "purpose": r.purpose_id,
                "name": r.name,
                "kind": kind_code(r.kind),
                "domain": r.domain,
                "service": r.service_id,
                "provider": r.provider,
                "description": r.description,
                "legal_basis": r.legal_basis.as_str(),
                "legal_basis_label": r.legal_basis.label(lang),
                "consent_required": r.consent_required,
                "exemption_reason": r.exemption_reason,
                "lifetime": r.lifetime,
                "lifetime_seconds": r.lifetime_seconds,
            })
        })
        .collect();
    let services: Vec<Value> = snap
        .services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "provider": s.provider,
                "description": s.description.as_ref().map(|d| plain(d, lang, def)),
                "purposes": s.purposes,
                "role": role_code(s.role),
                "country": s.country,
                "outside_eea": s.country.as_deref().is_some_and(|c| !in_eea(c)),
                "safeguard": s.safeguard.map(|g| g.as_str()),
                "safeguard_label": s.safeguard.map(|g| g.label(lang)),
                "privacy_policy": s.privacy_policy.as_deref().and_then(html::safe_url),
            })
        })
        .collect();
    let transfers: Vec<Value> = transfers(page)
        .into_iter()
        .map(|s| {
            json!({
                "service": s.id,
                "provider": s.provider,
                "country": s.country,
                "safeguard": s.safeguard.map(|g| g.as_str()),
                "safeguard_label": s.safeguard.map(|g| g.label(lang)),
            })
        })
        .collect();
    json!({
        "site": {"id": site.id, "name": site.name, "url": site.url.as_deref().and_then(html::safe_url)},
        "language": lang,
        "languages": site.languages,
        "policy_version": page.version,
        "current_version": page.current_version,
        "published_at": rfc3339(page.created_at_ms),
        "content_hash": snap.content_hash(),
        "controller": {
            "name": ctl.name,
            "email": ctl.rights_email.as_deref().unwrap_or(&ctl.email),
            "address": ctl.address,
            "country": ctl.country,
            "dpo_email": ctl.dpo.as_ref().and_then(|d| d.email.clone()),
        },
        "consent_lifetime_days": site.consent_lifetime_days,
        "consent_lifetime": lifetime_days(site.consent_lifetime_days, lang),
        "purposes": purposes,
        "cookies": cookies,
        "services": services,
        "transfers": transfers,
        "links": {
            "cookie_policy": links.cookie_policy(lang),
            "privacy_policy": links.privacy_policy(lang),
            "policy_versions": links.versions(lang),
            "rights": links.rights(lang),
            "banner_script": links.banner_script(),
        },
    })
}
