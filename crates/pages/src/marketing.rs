//! The pages and the email of marketing consent (issue 17), from `templates/marketing/`: the
//! double opt-in confirmation email, the page a confirmation link lands on, and the
//! preference page of an unsubscribe link (no JavaScript, one form posting back to the same
//! link, labels on every control). Every word of Assent's own comes from the catalogs (`mk.*`
//! keys); registry names and descriptions reach the HTML through askama's escaping.

use askama::Template;

use crate::mail::MailText;
use crate::rights::{Tr, message_page};

/// The languages these pages speak (English, French, German; others get English).
pub fn lang(asked: Option<&str>, site_langs: &[String]) -> &'static str {
    crate::rights::pick_lang(asked, site_langs)
}

#[derive(Template)]
#[template(path = "marketing/confirm_subject.txt")]
struct Subject<'a> {
    t: Tr,
    purpose: &'a str,
}

#[derive(Template)]
#[template(path = "marketing/confirm_body.txt")]
struct Body<'a> {
    t: Tr,
    controller: &'a str,
    purpose: &'a str,
    link: &'a str,
    days: String,
}

/// The double opt-in email: what was asked, the link, how long it is valid.
pub fn confirmation_mail(
    lang: &str,
    controller: &str,
    purpose: &str,
    link: &str,
    days: i64,
) -> MailText {
    let t = Tr::new(lang);
    let subject = Subject { t, purpose }.render().unwrap_or_default();
    MailText {
        subject: subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned(),
        body: Body {
            t,
            controller,
            purpose,
            link,
            days: days.to_string(),
        }
        .render()
        .unwrap_or_default(),
    }
}

/// The page a confirmation link lands on: confirmed, or not valid (unknown, used, expired).
pub fn confirmed_page(lang: &str, ok: bool) -> String {
    let t = Tr::new(lang);
    if ok {
        message_page(
            t.lang(),
            t.get("mk.confirmed.heading"),
            t.get("mk.confirmed.text"),
        )
    } else {
        message_page(
            t.lang(),
            t.get("mk.confirm_invalid.heading"),
            t.get("mk.confirm_invalid.text"),
        )
    }
}

/// The page of an unsubscribe link that is not valid (forged, altered, truncated).
pub fn invalid_link_page(lang: &str) -> String {
    let t = Tr::new(lang);
    message_page(
        t.lang(),
        t.get("mk.prefs.invalid.heading"),
        t.get("mk.prefs.invalid.text"),
    )
}

/// The page the one-click POST answers with (mailbox providers ignore it; a person who
/// posts the form by hand reads it).
pub fn unsubscribed_page(lang: &str) -> String {
    let t = Tr::new(lang);
    message_page(
        t.lang(),
        t.get("mk.unsubscribed.heading"),
        t.get("mk.unsubscribed.text"),
    )
}

/// One purpose on the preference page.
#[derive(Debug, Clone)]
pub struct PrefLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub subscribed: bool,
}

#[derive(Template)]
#[template(path = "marketing/preferences.html")]
struct PrefPage<'a> {
    t: Tr,
    lang: &'a str,
    site: &'a str,
    channel: &'a str,
    action: &'a str,
    lines: &'a [PrefLine],
    any: bool,
    status: Option<&'a str>,
}

/// The preference page. `action` is the link itself (the form posts back to it); `status` a
/// message after saving.
pub fn preferences_page(
    lang: &str,
    site: &str,
    channel: &str,
    action: &str,
    lines: &[PrefLine],
    saved: Option<bool>,
) -> String {
    let t = Tr::new(lang);
    let channel = t.get(if channel == "sms" {
        "mk.prefs.channel.sms"
    } else {
        "mk.prefs.channel.email"
    });
    let status = saved.map(|all| {
        t.get(if all {
            "mk.prefs.left_all"
        } else {
            "mk.prefs.saved"
        })
    });
    PrefPage {
        t,
        lang: t.lang(),
        site,
        channel,
        action,
        lines,
        any: lines.iter().any(|l| l.subscribed),
        status,
    }
    .render()
    .unwrap_or_default()
}
