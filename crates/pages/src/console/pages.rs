//! The console's own screens: login, password setup, a message, the home page's rights
//! summary, users, API tokens, my account and the audit trail.

use askama::Template;

use super::{Shell, render};
use crate::rights::Tr;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    s: &'a Shell,
    t: Tr,
    email: &'a str,
    login_csrf: &'a str,
}

/// The login form (fields "Email", "Password" and the optional one-time code). `login_csrf`
/// is the double-submit token also set as a cookie.
pub fn login(s: &Shell, email: &str, login_csrf: &str) -> String {
    render(&LoginPage {
        s,
        t: s.t(),
        email,
        login_csrf,
    })
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage<'a> {
    s: &'a Shell,
    t: Tr,
    email: &'a str,
    action: &'a str,
}

/// The form where a new person sets their password (`action`: the setup link's path).
pub fn setup(s: &Shell, email: &str, action: &str) -> String {
    render(&SetupPage {
        s,
        t: s.t(),
        email,
        action,
    })
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    s: &'a Shell,
    t: Tr,
    text: &'a str,
    secret: Option<&'a str>,
    back: Option<(&'a str, &'a str)>,
}

/// A message (an error, or a result to copy once: a setup link, a new token) with an
/// optional link back `(href, label)`.
pub fn message(s: &Shell, text: &str, secret: Option<&str>, back: Option<(&str, &str)>) -> String {
    render(&MessagePage {
        s,
        t: s.t(),
        text,
        secret,
        back,
    })
}

/// The figures of the home page until the dashboard lands.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub open: usize,
    pub awaiting: usize,
    pub overdue: usize,
    pub due_5: usize,
    pub due_10: usize,
    pub sites: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage<'a> {
    s: &'a Shell,
    t: Tr,
    m: &'a Summary,
}

/// The home page (`/admin/`): the rights summary and the sites.
pub fn home(s: &Shell, m: &Summary) -> String {
    render(&HomePage { s, t: s.t(), m })
}

/// One account on the users page.
#[derive(Debug, Clone)]
pub struct UserLine {
    pub id: String,
    pub email: String,
    pub role: String,
    /// `active`, `pending` or `disabled`.
    pub state: &'static str,
    pub totp: bool,
    pub created_at_ms: i64,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage<'a> {
    s: &'a Shell,
    t: Tr,
    users: Vec<(&'a UserLine, String)>,
    roles: &'a [&'a str],
}

/// The accounts, with their forms (role, disable/enable, reset) and the creation form.
pub fn users(s: &Shell, list: &[UserLine], roles: &[&str]) -> String {
    let users = list.iter().map(|u| (u, s.day(u.created_at_ms))).collect();
    render(&UsersPage {
        s,
        t: s.t(),
        users,
        roles,
    })
}

/// One API token on the tokens page.
#[derive(Debug, Clone)]
pub struct TokenLine {
    pub id: String,
    pub label: String,
    pub role: String,
    pub created_at_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage<'a> {
    s: &'a Shell,
    t: Tr,
    tokens: Vec<(&'a TokenLine, String, String)>,
    roles: &'a [&'a str],
}

/// The API tokens (never their secrets) with revoke buttons, and the creation form.
pub fn tokens(s: &Shell, list: &[TokenLine], roles: &[&str]) -> String {
    let t = s.t();
    let tokens = list
        .iter()
        .map(|k| {
            let used = k
                .last_used_ms
                .map_or_else(|| t.get("console.tokens.never").to_owned(), |ms| s.when(ms));
            (k, s.day(k.created_at_ms), used)
        })
        .collect();
    render(&TokensPage {
        s,
        t,
        tokens,
        roles,
    })
}

/// What the account page shows.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub role: String,
    pub lang: String,
    pub tz: String,
    pub totp: bool,
    /// A fresh secret offered for enrolment (when `totp` is off) and its otpauth URI.
    pub new_secret: String,
    pub new_uri: String,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage<'a> {
    s: &'a Shell,
    t: Tr,
    a: &'a Account,
    langs: [(&'static str, &'static str); 3],
}

/// My account: language and time zone, password change, second factor.
pub fn account(s: &Shell, a: &Account) -> String {
    render(&AccountPage {
        s,
        t: s.t(),
        a,
        langs: [("en", "English"), ("fr", "Français"), ("de", "Deutsch")],
    })
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditLine {
    pub ts_ms: i64,
    pub chain: u32,
    pub seq: u64,
    pub kind: String,
    pub actor: String,
    /// The payload as compact JSON (or a note that it was redacted).
    pub details: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    s: &'a Shell,
    t: Tr,
    lines: Vec<(&'a AuditLine, String)>,
    page: u32,
    prev: Option<u32>,
    next: Option<u32>,
}

/// The audit trail, newest first, one page of it (`more`: a next page exists).
pub fn audit(s: &Shell, lines: &[AuditLine], page: u32, more: bool) -> String {
    let lines = lines.iter().map(|l| (l, s.when(l.ts_ms))).collect();
    render(&AuditPage {
        s,
        t: s.t(),
        lines,
        page,
        prev: page.checked_sub(1).filter(|_| page > 0),
        next: more.then_some(page + 1),
    })
}
