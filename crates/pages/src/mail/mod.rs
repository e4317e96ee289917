//! The emails of the rights workflow, rendered from `templates/mail/<name>/{subject,body}.txt`
//! (askama, no escaping: every email is `text/plain`, so what a requester typed stays inert
//! text): to the requester, the verification, extension, completion and rejection emails in
//! the request's language; to the DPO, the new-request and reminder emails, in English.
//!
//! Invariants: every word of Assent's own comes from the catalogs (`mail.*` and
//! `rights.kind.*` keys); a subject is always one line (any line break or other control
//! character of a registry name becomes a space), because it becomes a header; the sender
//! and recipients are set by the server, never from these texts.

use askama::Template;
use assent_model::clock::rfc3339;
use assent_model::registry::Controller;
use jiff::tz::TimeZone;

use crate::rights::{Tr, kind_label};

/// An email's text: a one-line subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub body: String,
}

/// The language of the DPO's emails.
const DPO_LANG: &str = "en";

/// A time in the controller's zone, as emails show it ("2026-12-11 15:40 CET"); RFC 3339 UTC
/// when out of range.
pub fn local_time(ms: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => rfc3339(ms),
    }
}

/// One header line: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Renders a subject and a body template; a rendering error (which our `Display`s never
/// give) yields empty text rather than a panic.
fn text(subject: &impl Template, body: &impl Template) -> MailText {
    MailText {
        subject: one_line(subject.render().unwrap_or_default().trim_end()),
        body: body.render().unwrap_or_default(),
    }
}

/// The supervisory authority as emails name it: "Name (URL)".
fn authority(c: &Controller) -> String {
    let a = &c.supervisory_authority;
    match &a.url {
        Some(u) => format!("{} ({u})", a.name),
        None => a.name.clone(),
    }
}

/// What every email to the requester shares: its words, the controller, the authority.
#[derive(Debug)]
struct Common<'a> {
    t: Tr,
    controller: &'a str,
    authority: String,
}

impl<'a> Common<'a> {
    fn new(lang: &str, c: &'a Controller) -> Self {
        Self {
            t: Tr::new(lang),
            controller: &c.name,
            authority: authority(c),
        }
    }
}

/// The subject template of a requester's email: `templates/mail/<name>/subject.txt`.
macro_rules! subject {
    ($name:ident, $path:tt) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            m: &'a Common<'a>,
        }
    };
}
subject!(VerificationSubject, "mail/verification/subject.txt");
subject!(ExtensionSubject, "mail/extension/subject.txt");
subject!(CompletionSubject, "mail/completion/subject.txt");
subject!(RejectionSubject, "mail/rejection/subject.txt");
subject!(PackageSubject, "mail/package/subject.txt");

#[derive(Template)]
#[template(path = "mail/verification/body.txt")]
struct Verification<'a> {
    m: &'a Common<'a>,
    kind: &'a str,
    link: &'a str,
    code_page: &'a str,
    code: &'a str,
}

/// The verification email: the link and the 6-digit code. `kind` is the request type code
/// (`access`, ...), `link` the verification URL, `code_page` the URL of the code form.
pub fn verification(
    lang: &str,
    c: &Controller,
    kind: &str,
    link: &str,
    code_page: &str,
    code: &str,
) -> MailText {
    let m = Common::new(lang, c);
    let kind = kind_label(m.t.lang(), kind);
    text(
        &VerificationSubject { m: &m },
        &Verification {
            m: &m,
            kind,
            link,
            code_page,
            code,
        },
    )
}

#[derive(Template)]
#[template(path = "mail/extension/body.txt")]
struct Extension<'a> {
    m: &'a Common<'a>,
    reference: &'a str,
    reason: &'a str,
    due: &'a str,
}

/// The extension email (Art. 12(3)): the reason and the new due date (`due`, local time).
pub fn extension(lang: &str, c: &Controller, reference: &str, reason: &str, due: &str) -> MailText {
    let m = Common::new(lang, c);
    text(
        &ExtensionSubject { m: &m },
        &Extension {
            m: &m,
            reference,
            reason,
            due,
        },
    )
}

#[derive(Template)]
#[template(path = "mail/completion/body.txt")]
struct Completion<'a> {
    m: &'a Common<'a>,
    reference: &'a str,
    message: &'a str,
    links: &'a [(String, String)],
    until: &'a str,
    recipients: &'a [String],
}

/// The completion email: the DPO's message, the download links `(file name, URL)`, valid
/// until `until` (local time), and the recipients told of a rectification, erasure or
/// restriction (Art. 19), if any.
pub fn completion(
    lang: &str,
    c: &Controller,
    reference: &str,
    message: &str,
    links: &[(String, String)],
    until: &str,
    recipients: &[String],
) -> MailText {
    let m = Common::new(lang, c);
    text(
        &CompletionSubject { m: &m },
        &Completion {
            m: &m,
            reference,
            message,
            links,
            until,
            recipients,
        },
    )
}

#[derive(Template)]
#[template(path = "mail/rejection/body.txt")]
struct Rejection<'a> {
    m: &'a Common<'a>,
    reference: &'a str,
    reasons: &'a str,
}

/// The refusal email: the reasons, and the right to complain and to go to court (Art. 12(4)).
pub fn rejection(lang: &str, c: &Controller, reference: &str, reasons: &str) -> MailText {
    let m = Common::new(lang, c);
    text(
        &RejectionSubject { m: &m },
        &Rejection {
            m: &m,
            reference,
            reasons,
        },
    )
}

#[derive(Template)]
#[template(path = "mail/package/body.txt")]
struct Package<'a> {
    m: &'a Common<'a>,
    reference: &'a str,
    link: &'a str,
    until: &'a str,
}

/// The email with the single-use link to a person's data (an access or portability run),
/// valid until `until` (local time).
pub fn package(lang: &str, c: &Controller, reference: &str, link: &str, until: &str) -> MailText {
    let m = Common::new(lang, c);
    text(
        &PackageSubject { m: &m },
        &Package {
            m: &m,
            reference,
            link,
            until,
        },
    )
}

/// What an Art. 19 notification tells a recipient.
#[derive(Debug, Clone, Copy)]
pub struct Art19<'a> {
    /// `rectification`, `erasure` or `restriction`.
    pub action: &'a str,
    /// The recipient's name (service and provider).
    pub recipient: &'a str,
    pub reference: &'a str,
    /// How the recipient finds the person (`email: ...`), one line each.
    pub identity: &'a [String],
    /// The fields rectified (names only), for a rectification.
    pub fields: &'a [String],
}

#[derive(Template)]
#[template(path = "mail/art19/subject.txt")]
struct Art19Subject<'a> {
    m: &'a Common<'a>,
    action: &'a str,
}

#[derive(Template)]
#[template(path = "mail/art19/body.txt")]
struct Art19Body<'a> {
    m: &'a Common<'a>,
    action: &'a str,
    recipient: &'a str,
    reference: &'a str,
    identity: &'a [String],
    instruction: String,
}

/// The message prepared for a recipient of the data after a rectification, erasure or
/// restriction (Art. 19), in `lang`.
pub fn art19(lang: &str, c: &Controller, n: &Art19<'_>) -> MailText {
    let m = Common::new(lang, c);
    let action = m.t.get(match n.action {
        "rectification" => "rw.mail.art19.action.rectification",
        "restriction" => "rw.mail.art19.action.restriction",
        _ => "rw.mail.art19.action.erasure",
    });
    let instruction = match n.action {
        "rectification" => m.t.fill(
            "rw.mail.art19.do.rectification",
            &[("fields", n.fields.join(", ").as_str())],
        ),
        "restriction" => m.t.get("rw.mail.art19.do.restriction").to_owned(),
        _ => m.t.get("rw.mail.art19.do.erasure").to_owned(),
    };
    text(
        &Art19Subject { m: &m, action },
        &Art19Body {
            m: &m,
            action,
            recipient: n.recipient,
            reference: n.reference,
            identity: n.identity,
            instruction,
        },
    )
}

/// A newly verified request, for the DPO: every field as stored; times in the controller's
/// zone.
#[derive(Debug, Clone, Copy)]
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub site: &'a str,
    /// The request type code.
    pub kind: &'a str,
    pub received: &'a str,
    pub due: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub receipt: &'a str,
    pub details: &'a str,
    /// The request's page in the admin UI.
    pub url: &'a str,
}

/// A template of an email to the DPO, `templates/mail/<name>/{subject,body}.txt`: the DPO's
/// words and the request it is about, nothing else.
macro_rules! dpo_template {
    ($name:ident, $about:ident, $path:tt) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            t: Tr,
            r: &'a $about<'a>,
        }
    };
}
dpo_template!(
    NewRequestSubject,
    NewRequest,
    "mail/new_request/subject.txt"
);
dpo_template!(NewRequestBody, NewRequest, "mail/new_request/body.txt");

/// Tells the DPO of a newly verified request. The requester's text is included as it is
/// (plain text).
pub fn new_request(r: &NewRequest<'_>) -> MailText {
    let t = Tr::new(DPO_LANG);
    text(&NewRequestSubject { t, r }, &NewRequestBody { t, r })
}

/// A reminder to the DPO (no personal data of the requester in it).
#[derive(Debug, Clone, Copy)]
pub struct Reminder<'a> {
    /// Days left: 7 or 1.
    pub days: i64,
    pub id: &'a str,
    pub site: &'a str,
    /// The request type code.
    pub kind: &'a str,
    pub status: &'a str,
    /// The due date in the controller's zone, and in UTC.
    pub due: &'a str,
    pub due_utc: &'a str,
    /// The request's page in the admin UI.
    pub url: &'a str,
}

dpo_template!(ReminderSubject, Reminder, "mail/reminder/subject.txt");
dpo_template!(ReminderBody, Reminder, "mail/reminder/body.txt");

/// A reminder of a due date to the DPO.
pub fn reminder(r: &Reminder<'_>) -> MailText {
    let t = Tr::new(DPO_LANG);
    text(&ReminderSubject { t, r }, &ReminderBody { t, r })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller(name: &str) -> Controller {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "address": "1 rue X",
            "country": "FR",
            "email": "dpo@example.org",
            "timezone": "Europe/Paris",
            "supervisory_authority": {"name": "CNIL", "url": "https://www.cnil.fr"},
        }))
        .unwrap()
    }

    #[test]
    fn verification_in_english() {
        let m = verification(
            "en",
            &controller("Callkom"),
            "access",
            "https://a.example/v1/requests/verify?token=ab",
            "https://a.example/sites/s/rights/verify?lang=en",
            "012345",
        );
        assert_eq!(m.subject, "Callkom: confirm your request");
        assert_eq!(
            m.body,
            "Hello,\n\nWe received a rights request (Access to my data (a copy)) addressed to \
             Callkom with this email address.\n\nTo confirm it, open this link within 24 hours:\n\
             https://a.example/v1/requests/verify?token=ab\n\nOr enter this code at \
             https://a.example/sites/s/rights/verify?lang=en:\n012345\n\nThe one-month answer \
             period runs from receipt of the request. If you did not make this request, ignore \
             this message.\n\n--\nCallkom — sent by Assent, the rights-request service.\n"
        );
    }

    #[test]
    fn art19_message_names_the_person_the_action_and_the_fields() {
        let c = controller("Callkom");
        let identity = vec!["email: zoe@example.org".to_string()];
        let fields = vec!["name".to_string(), "address".to_string()];
        for lang in ["en", "fr", "de"] {
            let m = art19(
                lang,
                &c,
                &Art19 {
                    action: "rectification",
                    recipient: "Mailjet (Mailjet SAS)",
                    reference: "r1",
                    identity: &identity,
                    fields: &fields,
                },
            );
            assert!(m.subject.starts_with("Callkom"), "{}", m.subject);
            for needle in [
                "Mailjet (Mailjet SAS)",
                "r1",
                "- email: zoe@example.org",
                "name, address",
            ] {
                assert!(m.body.contains(needle), "{lang}: {needle} in {}", m.body);
            }
        }
        let m = art19(
            "fr",
            &c,
            &Art19 {
                action: "erasure",
                recipient: "R",
                reference: "r1",
                identity: &identity,
                fields: &[],
            },
        );
        assert!(m.body.contains("effac"), "{}", m.body);
    }

    #[test]
    fn subjects_are_one_line() {
        let c = controller("Evil\r\nBcc: victim@example.org\u{2028}x");
        for m in [
            verification("fr", &c, "access", "l", "p", "1"),
            extension("de", &c, "id", "r", "d"),
            completion("en", &c, "id", "m", &[], "u", &[]),
            rejection("fr", &c, "id", "r"),
            package("de", &c, "id", "l", "u"),
            art19(
                "fr",
                &c,
                &Art19 {
                    action: "erasure",
                    recipient: "R",
                    reference: "id",
                    identity: &[],
                    fields: &[],
                },
            ),
        ] {
            assert!(
                !m.subject.contains(['\r', '\n', '\u{2028}']),
                "{:?}",
                m.subject
            );
            assert!(
                m.subject.starts_with("Evil  Bcc: victim@example.org x"),
                "{:?}",
                m.subject
            );
        }
    }

    #[test]
    fn requester_text_is_kept_verbatim_and_never_expanded() {
        let c = controller("C");
        let links = vec![("a <b>.json".to_string(), "https://x/y?a=1&b=2".to_string())];
        let m = completion(
            "fr",
            &c,
            "r1",
            "<b>{reference}</b> & 'x'",
            &links,
            "2026-01-01 10:00 CET",
            &["Mailjet (Mailjet SAS)".to_string()],
        );
        assert_eq!(m.subject, "C : réponse à votre demande");
        assert!(
            m.body.contains("\n<b>{reference}</b> & 'x'\n"),
            "{}",
            m.body
        );
        assert!(
            m.body.contains(
                "Fichiers (liens valables jusqu'au 2026-01-01 10:00 CET) :\n\
                 - a <b>.json: https://x/y?a=1&b=2\n"
            ),
            "{}",
            m.body
        );
        assert!(m.body.contains("(référence r1)"));
        assert!(
            m.body.contains(":\n- Mailjet (Mailjet SAS)\n"),
            "{}",
            m.body
        );
    }

    #[test]
    fn german_mails() {
        let c = controller("Callkom GmbH");
        let v = verification("de", &c, "erasure", "L", "P", "123456");
        assert_eq!(v.subject, "Callkom GmbH: Bitte bestätigen Sie Ihren Antrag");
        for needle in [
            "Guten Tag,",
            "(Löschung meiner Daten)",
            "Bestätigungscode",
            "\n123456\n",
        ] {
            assert!(v.body.contains(needle), "{needle}: {}", v.body);
        }
        let r = rejection("de", &c, "r1", "Identität nicht nachgewiesen");
        assert!(
            r.body
                .contains("Aufsichtsbehörde, CNIL (https://www.cnil.fr)")
        );
        assert!(r.body.contains("gerichtlichen Rechtsbehelf"));
        let e = extension("de", &c, "r1", "Viele Anträge", "2026-03-31 23:59 CEST");
        assert!(
            e.body
                .contains("um zwei Monate verlängert, bis zum 2026-03-31 23:59 CEST")
        );
        // A language without a catalog gets English words.
        let x = rejection("xx", &c, "r1", "r");
        assert!(x.body.starts_with("Hello,"));
    }

    #[test]
    fn dpo_mails_in_english() {
        let n = new_request(&NewRequest {
            id: "r1",
            site: "s",
            kind: "access",
            received: "R",
            due: "D",
            name: "<b>N</b>",
            email: "e@x.org",
            receipt: "",
            details: "line 1\nline 2",
            url: "https://a/admin/requests/r1",
        });
        assert_eq!(n.subject, "Assent: new access request (due D)");
        assert!(
            n.body
                .contains("Name: <b>N</b>\nEmail: e@x.org\nConsent receipt: \n")
        );
        assert!(
            n.body
                .ends_with("Details:\nline 1\nline 2\n\nOpen it: https://a/admin/requests/r1\n")
        );
        let r = reminder(&Reminder {
            days: 7,
            id: "r1",
            site: "s",
            kind: "erasure",
            status: "verified",
            due: "L",
            due_utc: "U",
            url: "https://a/admin/requests/r1",
        });
        assert_eq!(r.subject, "Assent: rights request due in 7 day(s)");
        assert_eq!(
            r.body,
            "The erasure request r1 (site s) is due on L (U).\nStatus: verified.\n\n\
             Open the queue: https://a/admin/requests/r1\n"
        );
    }

    #[test]
    fn local_times() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(local_time(0, &tz), "1970-01-01 01:00 CET");
        assert_eq!(local_time(i64::MAX, &tz), rfc3339(i64::MAX));
    }
}
