//! The way in: `/admin/` (the home page for a person, the login form for anyone else), the
//! redirects to it, login, logout, and the page a setup link opens.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use assent_app::access::Permission;
use assent_app::accounts::sessions::{self as accounts, LoginInput};
use assent_app::accounts::users;
use assent_app::rights::dpo::is_overdue;
use assent_app::stats;
use assent_model::rights::Status;
use assent_pages::console::Shell;
use assent_pages::console::pages::{self, Summary};

use super::common::{fail, form, ok, shell};
use crate::auth::{Admin, authenticate, console_person};
use crate::console_reply::{self as reply, browser_lang, see_other};
use crate::csrf;
use crate::error::ApiError;
use crate::guard::rate_limit;
use crate::ratelimit::client_ip;
use crate::sessions::{LOGIN_CSRF, SESSION, set_cookie};
use crate::state::AppState;

/// `GET /admin`, `/admin/dashboard`, `/admin/login`: the console is `/admin/`.
pub async fn to_home() -> Response {
    let mut resp = StatusCode::PERMANENT_REDIRECT.into_response();
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/admin/"));
    resp
}

/// `GET /admin/`: the dashboard for a person, the login form for anyone else.
pub async fn home(
    State(st): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<stats::Query>, QueryRejection>,
) -> Response {
    // A script (bearer token of a role that reads) gets the page too.
    let caller = if headers.contains_key(header::AUTHORIZATION) {
        match authenticate(&st, &headers, None)
            .await
            .and_then(|a| a.require(Permission::Read).map(|()| a))
        {
            Ok(a) => Ok(Some(a)),
            Err(e) => return e.into_response(),
        }
    } else {
        console_person(&st, &headers).await
    };
    match caller {
        Ok(Some(admin)) if st.sites.site_ids().is_empty() => home_page(&st, &admin).await,
        Ok(Some(admin)) => dashboard(&st, &admin, q).await,
        Ok(None) => login_form(&st, browser_lang(&headers), "", None, StatusCode::OK),
        Err(e) => reply::error(None, e),
    }
}

/// The dashboard of a site over a period (docs/dashboard.md), in the person's language.
async fn dashboard(
    st: &AppState,
    admin: &Admin,
    q: Result<Query<stats::Query>, QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return fail(admin, ApiError::bad_request(e.body_text())),
    };
    let mut s = shell(admin, "console.title.home", "/admin/");
    // `?lang=` picks another console language for this page.
    if let Some(l) = q.lang.as_deref() {
        s.lang = assent_pages::rights::Tr::new(l).lang();
    }
    let period = match (&q.period, &q.from) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) => "custom".to_owned(),
        (None, None) => "30".to_owned(),
    };
    match stats::dashboard(st, &q, s.lang).await {
        Ok(d) => ok(assent_pages::dashboard::dashboard_page(&s, &d, &period)),
        Err(e) => fail(admin, e),
    }
}

/// The rights summary and the sites (before any site exists, so no dashboard).
async fn home_page(st: &AppState, admin: &Admin) -> Response {
    let now = st.clock.now_ms();
    let all = match st.store.rights_list(None).await {
        Ok(a) => a,
        Err(e) => return fail(admin, ApiError::from(e)),
    };
    let mut m = Summary::default();
    for r in all.iter().filter(|r| r.erased_at_ms.is_none()) {
        if r.status == Status::Received {
            m.awaiting += 1;
            continue;
        }
        if r.status.is_closed() {
            continue;
        }
        m.open += 1;
        let due = assent_app::rights::deadlines_of(r).effective_due();
        if is_overdue(r, now) {
            m.overdue += 1;
        } else if due - now < 5 * 86_400_000 {
            m.due_5 += 1;
        } else if due - now < 10 * 86_400_000 {
            m.due_10 += 1;
        }
    }
    m.due_10 += m.due_5;
    m.sites = st
        .sites
        .site_ids()
        .into_iter()
        .map(|id| {
            let name = st
                .sites
                .current(&id)
                .map_or_else(|| id.clone(), |v| v.snapshot.site.name.clone());
            (id, name)
        })
        .collect();
    ok(pages::home(
        &shell(admin, "console.title.home", "/admin/"),
        &m,
    ))
}

fn secure(st: &AppState) -> bool {
    st.public_base.starts_with("https://")
}

/// The login form with a fresh double-submit token (also set as a cookie).
fn login_form(
    st: &AppState,
    lang: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut raw = [0u8; 32];
    if getrandom::fill(&mut raw).is_err() {
        return reply::error(None, ApiError::internal(&"no randomness for a form token"));
    }
    let token = hex::encode(raw);
    let mut s = Shell::new(lang, "UTC", "console.title.login");
    s.error = error;
    let mut resp = reply::page(status, pages::login(&s, email, &token));
    if let Some(c) = set_cookie(LOGIN_CSRF, &token, 3600, secure(st)) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// `POST /admin/login`: checks the form's origin and token, then the credentials; a session
/// cookie and the home page on success, the form again (401, or 429 while locked) otherwise.
pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    f: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let lang = browser_lang(&headers);
    if let Err(e) = rate_limit(&st, peer, &headers) {
        return reply::error(None, e);
    }
    let f: LoginForm = form(f);
    let expected = crate::sessions::cookie(&headers, LOGIN_CSRF).unwrap_or_default();
    let t = assent_pages::rights::Tr::new(lang);
    if !csrf::same_origin(&headers, &st.public_base) || !csrf::token_ok(Some(&f.csrf), &expected) {
        let e = t.get("console.error.csrf").to_owned();
        return login_form(&st, lang, &f.email, Some(e), StatusCode::FORBIDDEN);
    }
    let ip = client_ip(peer, &headers, &st.config.trusted_proxies);
    let input = LoginInput {
        email: f.email.clone(),
        password: f.password,
        code: f.code,
        network: hex::encode(st.auth_failures.key(ip)),
    };
    let policy = st.config.sessions;
    match accounts::login(&st.store, st.clock.as_ref(), policy, &input).await {
        Ok(s) => {
            let mut resp = see_other("/admin/");
            let max_age = (s.expires_at_ms - st.clock.now_ms()) / 1000;
            let h = resp.headers_mut();
            for c in [
                set_cookie(SESSION, &s.cookie, max_age, secure(&st)),
                set_cookie(LOGIN_CSRF, "", 0, secure(&st)),
            ]
            .into_iter()
            .flatten()
            {
                h.append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => {
            let e = ApiError::from(e);
            let text = if e.status == StatusCode::UNAUTHORIZED {
                t.get("console.login.wrong").to_owned()
            } else {
                reply::error_text(lang, &e)
            };
            let mut resp = login_form(&st, lang, &f.email, Some(text), e.status);
            if let Some(secs) = e.retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

/// The session token of a form that only posts it.
#[derive(Debug, Default, Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/logout`: ends the session on the server and deletes the cookie.
pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    f: Result<Form<TokenOnly>, FormRejection>,
) -> Response {
    let f: TokenOnly = form(f);
    match console_person(&st, &headers).await {
        Ok(Some(admin)) => {
            let Some(p) = &admin.person else {
                return reply::to_login();
            };
            if !csrf::same_origin(&headers, &st.public_base)
                || !csrf::token_ok(Some(&f.csrf), &p.csrf)
            {
                return fail(
                    &admin,
                    ApiError::forbidden("cross-site form post refused").field("csrf"),
                );
            }
            if let Err(e) =
                accounts::logout(&st.store, st.clock.as_ref(), &p.cookie, &p.user.id).await
            {
                return fail(&admin, e);
            }
        }
        Ok(None) => {}
        Err(e) => return reply::error(None, e),
    }
    let mut resp = reply::to_login();
    if let Some(c) = set_cookie(SESSION, "", 0, secure(&st)) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

fn setup_gone(lang: &str) -> Response {
    let s = Shell::new(lang, "UTC", "console.title.setup");
    let text = s.t().get("console.setup.gone");
    reply::page(StatusCode::GONE, pages::message(&s, text, None, None))
}

/// `GET /admin/setup/{token}`: the form where a new person sets their password.
pub async fn setup_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match users::setup_account(&st.store, st.clock.as_ref(), &token).await {
        Ok(u) => {
            let s = Shell::new(&u.lang, &u.tz, "console.title.setup");
            ok(pages::setup(&s, &u.email, &format!("/admin/setup/{token}")))
        }
        Err(_) => setup_gone(browser_lang(&headers)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /admin/setup/{token}`: sets the password once (the link is the secret; the origin
/// is checked like any form).
pub async fn setup(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    f: Result<Form<SetupForm>, FormRejection>,
) -> Response {
    let lang = browser_lang(&headers);
    let Ok(u) = users::setup_account(&st.store, st.clock.as_ref(), &token).await else {
        return setup_gone(lang);
    };
    let mut s = Shell::new(&u.lang, &u.tz, "console.title.setup");
    if !csrf::same_origin(&headers, &st.public_base) {
        s.error = Some(s.t().get("console.error.csrf").to_owned());
        return reply::page(StatusCode::FORBIDDEN, pages::setup(&s, &u.email, ""));
    }
    let f: SetupForm = form(f);
    let set = users::setup_password(&st.store, st.clock.as_ref(), &token, &f.password, &f.repeat);
    match set.await {
        Ok(_) => {
            let t = s.t();
            let text = t.get("console.setup.done");
            ok(pages::message(
                &s,
                text,
                None,
                Some(("/admin/", t.get("console.login.submit"))),
            ))
        }
        Err(e) => {
            let e = ApiError::from(e);
            s.error = Some(reply::error_text(s.lang, &e));
            let action = format!("/admin/setup/{token}");
            reply::page(e.status, pages::setup(&s, &u.email, &action))
        }
    }
}
