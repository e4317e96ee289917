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
}

/// The completion email: the DPO's message and the download links `(file name, URL)`, valid
/// until `until` (local time).
pub fn completion(
    lang: &str,
    c: &Controller,
    reference: &str,
    message: &str,
    links: &[(String, String)],
    until: &str,
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

#[derive(Template)]
#[template(path = "mail/new_request/subject.txt")]
struct NewRequestSubject<'a> {
    t: Tr,
    r: &'a NewRequest<'a>,
}

#[derive(Template)]
#[template(path = "mail/new_request/body.txt")]
struct NewRequestBody<'a> {
    t: Tr,
    r: &'a NewRequest<'a>,
}

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

#[derive(Template)]
#[template(path = "mail/reminder/subject.txt")]
struct ReminderSubject {
    t: Tr,
    days: String,
}

#[derive(Template)]
#[template(path = "mail/reminder/body.txt")]
struct ReminderBody<'a> {
    t: Tr,
    r: &'a Reminder<'a>,
}

/// A reminder of a due date to the DPO.
pub fn reminder(r: &Reminder<'_>) -> MailText {
    let t = Tr::new(DPO_LANG);
    text(
        &ReminderSubject {
            t,
            days: r.days.to_string(),
        },
        &ReminderBody { t, r },
    )
}
