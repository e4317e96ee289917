//! My account: language and time zone, password change (which ends every session and opens
//! a new one for this browser), and the second factor (TOTP) on or off.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;

use assent_app::accounts::{sessions, totp, users};
use assent_pages::console::pages::{self, Account};

use super::common::{Done, fail, form, ok, shell};
use crate::auth::Admin;
use crate::console_reply::{Person, see_other};
use crate::error::ApiError;
use crate::sessions::{SESSION, set_cookie};
use crate::state::AppState;

/// The person, or a refusal for a token (tokens have no account page).
fn person(admin: &Admin) -> Result<&Person, Box<Response>> {
    admin.person.as_ref().ok_or_else(|| {
        Box::new(fail(
            admin,
            ApiError::forbidden("API tokens have no account: log in as a person"),
        ))
    })
}

/// `GET /admin/account`.
pub async fn account_page(
    admin: Admin,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = match person(&admin) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let secret = match totp::new_secret() {
        Ok(s) => s,
        Err(e) => return fail(&admin, ApiError::internal(&e)),
    };
    let a = Account {
        email: p.user.email.clone(),
        role: p.user.role.as_str().to_owned(),
        lang: p.user.lang.clone(),
        tz: p.user.tz.clone(),
        totp: p.user.totp,
        new_uri: totp::uri(&p.user.email, &secret),
        new_secret: secret,
    };
    let mut s = shell(&admin, "console.title.account", "/admin/account");
    if let Ok(Query(d)) = done {
        d.show(&mut s);
    }
    ok(pages::account(&s, &a))
}

#[derive(Debug, Default, Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    tz: String,
}

/// `POST /admin/account/preferences`.
pub async fn account_prefs(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<PrefsForm>, FormRejection>,
) -> Response {
    let p = match person(&admin) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let f: PrefsForm = form(f);
    match users::set_preferences(&st.store, &p.user.id, &f.lang, &f.tz).await {
        Ok(()) => see_other("/admin/account?done=prefs"),
        Err(e) => fail(&admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /admin/account/password`.
pub async fn account_password(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let p = match person(&admin) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let f: PasswordForm = form(f);
    let clock = st.clock.as_ref();
    let changed = users::change_password(
        &st.store,
        clock,
        &p.user.id,
        &f.current,
        &f.password,
        &f.repeat,
    );
    if let Err(e) = changed.await {
        return fail(&admin, e);
    }
    let policy = st.config.sessions;
    match sessions::open(&st.store, clock, policy, p.user.clone()).await {
        Ok(s) => {
            let mut resp = see_other("/admin/account?done=password");
            let max_age = (s.expires_at_ms - clock.now_ms()) / 1000;
            let secure = st.public_base.starts_with("https://");
            if let Some(c) = set_cookie(SESSION, &s.cookie, max_age, secure) {
                resp.headers_mut().insert(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => fail(&admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

/// `POST /admin/account/totp`: turns the second factor on with the secret the page showed.
pub async fn account_totp(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<TotpForm>, FormRejection>,
) -> Response {
    let p = match person(&admin) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let f: TotpForm = form(f);
    let on = users::enable_totp(&st.store, st.clock.as_ref(), &p.user.id, &f.secret, &f.code);
    match on.await {
        Ok(()) => see_other("/admin/account?done=totp_on"),
        Err(e) => fail(&admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CurrentForm {
    #[serde(default)]
    current: String,
}

/// `POST /admin/account/totp/disable`: with the password.
pub async fn account_totp_off(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<CurrentForm>, FormRejection>,
) -> Response {
    let p = match person(&admin) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let f: CurrentForm = form(f);
    match users::disable_totp(&st.store, st.clock.as_ref(), &p.user.id, &f.current).await {
        Ok(()) => see_other("/admin/account?done=totp_off"),
        Err(e) => fail(&admin, e),
    }
}
