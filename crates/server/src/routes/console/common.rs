//! What every console handler shares: the caller's shell, a refusal page, the notice of a
//! redirect after a form (`?done=...`), and a form body read without a rejection page.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use assent_pages::console::Shell;

use crate::auth::Admin;
use crate::console_reply::{self as reply, Person};
use crate::error::ApiError;

/// The caller's role and person, as the replies want them.
pub(crate) fn viewer(admin: &Admin) -> (assent_app::access::Role, Option<&Person>) {
    (admin.role, admin.person.as_ref())
}

/// The shell of a page for `admin`.
pub(crate) fn shell(admin: &Admin, title_key: &str, current: &str) -> Shell {
    reply::shell(admin.role, admin.person.as_ref(), title_key, current)
}

/// How the request history and the ledger name the caller: `user:<id>` for a person,
/// `admin:<token id>` for a script (as the admin API does).
pub(crate) fn actor(admin: &Admin) -> String {
    match &admin.person {
        Some(_) => admin.token_id.clone(),
        None => format!("admin:{}", admin.token_id),
    }
}

/// The sites as (id, name) for the forms' lists.
pub(crate) fn sites_of(st: &crate::state::AppState) -> Vec<(String, String)> {
    st.sites
        .site_ids()
        .into_iter()
        .map(|id| {
            let name = st
                .sites
                .current(&id)
                .map_or_else(|| id.clone(), |v| v.snapshot.site.name.clone());
            (id, name)
        })
        .collect()
}

/// A refusal as a console page.
pub(crate) fn fail(admin: &Admin, e: impl Into<ApiError>) -> Response {
    reply::error(Some(viewer(admin)), e.into())
}

/// The confirmations a redirect may ask a page to show (`?done=<name>`).
const DONE: &[&str] = &[
    "verify",
    "start",
    "note",
    "extend",
    "complete",
    "reject",
    "password",
    "prefs",
    "totp_on",
    "totp_off",
    "role",
    "disabled",
    "enabled",
    "token_revoked",
    "run",
    "restrict",
    "lift",
    "rectify",
    "task",
    "intake",
];

/// `?done=<name>` of a page shown after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    pub done: String,
}

impl Done {
    /// Puts the confirmation on the page, if it is one of [`DONE`].
    pub(crate) fn show(&self, s: &mut Shell) {
        if let Some(k) = DONE.iter().find(|k| **k == self.done) {
            s.notice = Some(s.t().get(&format!("console.done.{k}")).to_owned());
        }
    }
}

/// A 200 console page.
pub(crate) fn ok(body: String) -> Response {
    reply::page(StatusCode::OK, body)
}

/// A page shown once with a secret to copy (a setup link, a new token).
pub(crate) fn secret_page(admin: &Admin, text_key: &str, secret: &str, back: &str) -> Response {
    let s = shell(admin, "console.title.done", "");
    let t = s.t();
    let text = t.get(text_key);
    ok(assent_pages::console::pages::message(
        &s,
        text,
        Some(secret),
        Some((back, t.get("console.back"))),
    ))
}

/// Whether a form field is present: forms are parsed leniently (an absent field is
/// empty) and the application names the field it refuses.
pub(crate) fn form<T: Default>(
    f: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
) -> T {
    f.map(|axum::Form(v)| v).unwrap_or_default()
}

/// A `datetime-local` value (`2026-09-21T10:30`) in the person's zone, as RFC 3339; a
/// refusal names `field`.
pub(crate) fn local_to_rfc3339(field: &str, value: &str, tz: &str) -> Result<String, ApiError> {
    let bad = || ApiError::invalid(field, format!("{field}: expected a date and time"));
    let dt: jiff::civil::DateTime = value.trim().parse().map_err(|_| bad())?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    Ok(zone.to_timestamp(dt).map_err(|_| bad())?.to_string())
}
