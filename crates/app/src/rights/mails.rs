//! The emails of the rights workflow: verification, extension, completion, rejection, and the
//! DPO's notices. Plain text; every value that comes from a requester is kept out of headers.

use assent_model::clock::rfc3339;
use assent_model::registry::Controller;
use assent_store::RightsRequestRow;
use jiff::tz::TimeZone;

use super::mailer::Mail;
use super::request::*;
use crate::App;

fn fr(lang: &str) -> bool {
    lang == "fr"
}

fn footer(lang: &str, c: &Controller) -> String {
    if fr(lang) {
        format!(
            "\n\n--\n{} — message envoyé par Assent, l'outil de gestion des demandes de droits.\n",
            c.name
        )
    } else {
        format!(
            "\n\n--\n{} — sent by Assent, the rights-request service.\n",
            c.name
        )
    }
}

/// The complaint sentence of emails (supervisory authority, and a court for refusals).
fn complaint(lang: &str, c: &Controller, court: bool) -> String {
    let a = &c.supervisory_authority;
    let who = match &a.url {
        Some(u) => format!("{} ({u})", a.name),
        None => a.name.clone(),
    };
    match (fr(lang), court) {
        (true, true) => format!(
            "Vous pouvez introduire une réclamation auprès de l'autorité de contrôle, {who}, et former un recours juridictionnel devant le tribunal compétent."
        ),
        (true, false) => format!(
            "Vous pouvez introduire une réclamation auprès de l'autorité de contrôle, {who}."
        ),
        (false, true) => format!(
            "You may lodge a complaint with the supervisory authority, {who}, and seek a judicial remedy before the competent court."
        ),
        (false, false) => {
            format!("You may lodge a complaint with the supervisory authority, {who}.")
        }
    }
}

fn local(ms: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => rfc3339(ms),
    }
}

/// The verification email.
pub fn verification_mail(
    st: &App,
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    secret: &str,
    code: &str,
) -> Mail {
    let base = &st.public_base;
    let kind = r.kind.label(&r.language);
    let link = format!("{base}/v1/requests/verify?token={secret}");
    let code_page = format!("{base}/sites/{}/rights/verify?lang={}", r.site, r.language);
    let body = if fr(&r.language) {
        format!(
            "Bonjour,\n\nNous avons reçu une demande d'exercice de droits ({kind}) adressée à {ctrl} avec cette adresse e-mail.\n\n\
             Pour la confirmer, ouvrez ce lien dans les 24 heures :\n{link}\n\n\
             Ou saisissez ce code sur {code_page} :\n{code}\n\n\
             Le délai de réponse d'un mois court depuis la réception de la demande. \
             Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.{f}",
            ctrl = c.name,
            f = footer(&r.language, c)
        )
    } else {
        format!(
            "Hello,\n\nWe received a rights request ({kind}) addressed to {ctrl} with this email address.\n\n\
             To confirm it, open this link within 24 hours:\n{link}\n\n\
             Or enter this code at {code_page}:\n{code}\n\n\
             The one-month answer period runs from receipt of the request. \
             If you did not make this request, ignore this message.{f}",
            ctrl = c.name,
            f = footer(&r.language, c)
        )
    };
    let subject = if fr(&r.language) {
        format!("{} : confirmez votre demande", c.name)
    } else {
        format!("{}: confirm your request", c.name)
    };
    Mail {
        to: to.to_owned(),
        subject,
        body,
        template: "verification",
    }
}

/// The extension email (sent before the extension is recorded).
pub fn extension_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    reason: &str,
    new_due: i64,
    tz: &TimeZone,
) -> Mail {
    let (subject, body) = if fr(&r.language) {
        (
            format!(
                "{} : prolongation du délai de réponse à votre demande",
                c.name
            ),
            format!(
                "Bonjour,\n\nLe délai de réponse à votre demande (référence {id}) est prolongé de deux mois, \
                 jusqu'au {due}, pour la raison suivante :\n\n{reason}\n\n{cpl}{f}",
                id = r.id,
                due = local(new_due, tz),
                cpl = complaint(&r.language, c, false),
                f = footer(&r.language, c)
            ),
        )
    } else {
        (
            format!("{}: the answer to your request is extended", c.name),
            format!(
                "Hello,\n\nThe time to answer your request (reference {id}) is extended by two months, \
                 until {due}, for this reason:\n\n{reason}\n\n{cpl}{f}",
                id = r.id,
                due = local(new_due, tz),
                cpl = complaint(&r.language, c, false),
                f = footer(&r.language, c)
            ),
        )
    };
    Mail {
        to: to.to_owned(),
        subject,
        body,
        template: "extension",
    }
}

/// The completion email, with download links.
pub fn completion_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    message: &str,
    links: &[(String, String)],
    expires: i64,
    tz: &TimeZone,
) -> Mail {
    let mut files = String::new();
    for (name, url) in links {
        files.push_str(&format!("- {name}: {url}\n"));
    }
    let (subject, body) = if fr(&r.language) {
        let dl = if links.is_empty() {
            String::new()
        } else {
            format!(
                "\n\nFichiers (liens valables jusqu'au {}) :\n{files}",
                local(expires, tz)
            )
        };
        (
            format!("{} : réponse à votre demande", c.name),
            format!(
                "Bonjour,\n\nVoici notre réponse à votre demande (référence {}) :\n\n{message}{dl}\n\n{}{}",
                r.id,
                complaint(&r.language, c, false),
                footer(&r.language, c)
            ),
        )
    } else {
        let dl = if links.is_empty() {
            String::new()
        } else {
            format!(
                "\n\nFiles (links valid until {}):\n{files}",
                local(expires, tz)
            )
        };
        (
            format!("{}: the answer to your request", c.name),
            format!(
                "Hello,\n\nHere is our answer to your request (reference {}):\n\n{message}{dl}\n\n{}{}",
                r.id,
                complaint(&r.language, c, false),
                footer(&r.language, c)
            ),
        )
    };
    Mail {
        to: to.to_owned(),
        subject,
        body,
        template: "completion",
    }
}

/// The refusal email: reasons, and the right to complain and to go to court (Art. 12(4)).
pub fn rejection_mail(r: &RightsRequestRow, c: &Controller, to: &str, reasons: &str) -> Mail {
    let (subject, body) = if fr(&r.language) {
        (
            format!("{} : refus de donner suite à votre demande", c.name),
            format!(
                "Bonjour,\n\nNous ne pouvons pas donner suite à votre demande (référence {}), pour les raisons suivantes :\n\n{reasons}\n\n{}{}",
                r.id,
                complaint(&r.language, c, true),
                footer(&r.language, c)
            ),
        )
    } else {
        (
            format!("{}: we cannot act on your request", c.name),
            format!(
                "Hello,\n\nWe cannot act on your request (reference {}), for these reasons:\n\n{reasons}\n\n{}{}",
                r.id,
                complaint(&r.language, c, true),
                footer(&r.language, c)
            ),
        )
    };
    Mail {
        to: to.to_owned(),
        subject,
        body,
        template: "rejection",
    }
}

/// Tells the DPO of a newly verified request. The requester's text is included as plain
/// text (the email is `text/plain`, so markup stays inert).
pub fn new_request_mail(st: &App, r: &RightsRequestRow, c: &Controller, tz: &TimeZone) -> Mail {
    let base = &st.public_base;
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    Mail {
        to: dpo_email(c),
        subject: format!(
            "Assent: new {} request (due {})",
            r.kind,
            local(r.due_at_ms, tz)
        ),
        body: format!(
            "A rights request was confirmed by its requester.\n\nRequest: {}\nSite: {}\nType: {}\nReceived: {}\nDue: {}\n\
             Name: {}\nEmail: {}\nConsent receipt: {}\n\nDetails:\n{}\n\nOpen it: {base}/admin/requests/{}\n",
            r.id,
            r.site,
            r.kind,
            local(r.received_at_ms, tz),
            local(r.due_at_ms, tz),
            opt(&r.name),
            opt(&r.email),
            opt(&r.receipt_id),
            opt(&r.details),
            r.id
        ),
        template: "new_request",
    }
}

/// A reminder to the DPO (no personal data of the requester in it).
pub fn reminder_mail(
    st: &App,
    r: &RightsRequestRow,
    c: &Controller,
    days: i64,
    due: i64,
    tz: &TimeZone,
) -> Mail {
    let base = &st.public_base;
    Mail {
        to: dpo_email(c),
        subject: format!("Assent: rights request due in {days} day(s)"),
        body: format!(
            "The {} request {} (site {}) is due on {} ({}).\nStatus: {}.\n\nOpen the queue: {base}/admin/requests/{}\n",
            r.kind,
            r.id,
            r.site,
            local(due, tz),
            rfc3339(due),
            r.status,
            r.id
        ),
        template: if days == 7 {
            "reminder_7d"
        } else {
            "reminder_1d"
        },
    }
}
