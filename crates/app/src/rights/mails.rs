//! The emails of the rights workflow: verification, extension, completion, rejection, and the
//! DPO's notices. Their subjects and bodies are templates of `assent_pages::mail` (in the
//! request's language, from the catalogs); this file fills them from a request.

use assent_model::clock::rfc3339;
use assent_model::registry::Controller;
use assent_pages::mail::local_time;
use assent_store::RightsRequestRow;
use jiff::tz::TimeZone;

use super::mailer::Mail;
use super::request::dpo_email;
use crate::App;

/// The verification email (text from `assent_pages::mail`).
pub fn verification_mail(
    st: &App,
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    secret: &str,
    code: &str,
) -> Mail {
    let base = &st.public_base;
    let link = format!("{base}/v1/requests/verify?token={secret}");
    let code_page = format!("{base}/sites/{}/rights/verify?lang={}", r.site, r.language);
    let text =
        assent_pages::mail::verification(&r.language, c, r.kind.as_str(), &link, &code_page, code);
    mail(to, text, "verification")
}

/// An email to `to` with the subject and body rendered by `assent_pages::mail`.
fn mail(to: &str, text: assent_pages::mail::MailText, template: &'static str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: text.subject,
        body: text.body,
        template,
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
    let due = local_time(new_due, tz);
    let text = assent_pages::mail::extension(&r.language, c, &r.id, reason, &due);
    mail(to, text, "extension")
}

/// The completion email, with download links and the recipients told of a rectification,
/// erasure or restriction (Art. 19).
#[allow(clippy::too_many_arguments)]
pub fn completion_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    message: &str,
    links: &[(String, String)],
    expires: i64,
    tz: &TimeZone,
    recipients: &[String],
) -> Mail {
    let until = local_time(expires, tz);
    let text =
        assent_pages::mail::completion(&r.language, c, &r.id, message, links, &until, recipients);
    mail(to, text, "completion")
}

/// The email with the single-use link to the package of an access run.
pub fn package_mail(
    r: &RightsRequestRow,
    c: &Controller,
    to: &str,
    link: &str,
    expires: i64,
    tz: &TimeZone,
) -> Mail {
    let until = local_time(expires, tz);
    let text = assent_pages::mail::package(&r.language, c, &r.id, link, &until);
    mail(to, text, "package")
}

/// The refusal email: reasons, and the right to complain and to go to court (Art. 12(4)).
pub fn rejection_mail(r: &RightsRequestRow, c: &Controller, to: &str, reasons: &str) -> Mail {
    let text = assent_pages::mail::rejection(&r.language, c, &r.id, reasons);
    mail(to, text, "rejection")
}

/// Tells the DPO of a newly verified request. The requester's text is included as plain
/// text (the email is `text/plain`, so markup stays inert).
pub fn new_request_mail(st: &App, r: &RightsRequestRow, c: &Controller, tz: &TimeZone) -> Mail {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let (received, due) = (
        local_time(r.received_at_ms, tz),
        local_time(r.due_at_ms, tz),
    );
    let (name, email, receipt, details) = (
        opt(&r.name),
        opt(&r.email),
        opt(&r.receipt_id),
        opt(&r.details),
    );
    let url = format!("{}/admin/requests/{}", st.public_base, r.id);
    let text = assent_pages::mail::new_request(&assent_pages::mail::NewRequest {
        id: &r.id,
        site: &r.site,
        kind: r.kind.as_str(),
        received: &received,
        due: &due,
        name: &name,
        email: &email,
        receipt: &receipt,
        details: &details,
        url: &url,
    });
    mail(&dpo_email(c), text, "new_request")
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
    let (local, utc) = (local_time(due, tz), rfc3339(due));
    let url = format!("{}/admin/requests/{}", st.public_base, r.id);
    let text = assent_pages::mail::reminder(&assent_pages::mail::Reminder {
        days,
        id: &r.id,
        site: &r.site,
        kind: r.kind.as_str(),
        status: r.status.as_str(),
        due: &local,
        due_utc: &utc,
        url: &url,
    });
    let template = if days == 7 {
        "reminder_7d"
    } else {
        "reminder_1d"
    };
    mail(&dpo_email(c), text, template)
}
