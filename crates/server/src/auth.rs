//! Admin authentication and authorisation: `Authorization: Bearer <token>` on every `/admin/`
//! route, checked by an extractor so a handler cannot forget it; and the guard that the route
//! table puts on each admin route, which refuses a role without the route's permission
//! (`assent_app::access::RIGHTS`) before the handler runs.
//!
//! The console's pages (`/admin/...` outside the API `/admin/v1/`) also accept a person's
//! session cookie: the guard then answers as pages do (a redirect to the login form, an HTML
//! refusal), and checks every form post for cross-site forgery (`csrf.rs`) before the
//! handler runs. The API stays bearer-only.

use assent_app::access::{Permission, Role};
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::console_reply::{self as reply, Person};
use crate::csrf;
use crate::error::ApiError;
use crate::ratelimit::client_ip;
use crate::state::AppState;
use assent_app::tokens::token_hash;

/// An authenticated admin caller.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Who acts, as the ledger names them: a token id, or `user:<id>` for a person.
    pub token_id: String,
    pub role: Role,
    /// The person, when the caller is a console session rather than a token.
    pub person: Option<Person>,
}

impl Admin {
    /// Refuses a role without `need`.
    pub fn require(&self, need: Permission) -> Result<(), ApiError> {
        if self.role.may(need) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this token's role ({}) does not have the permission `{need}`",
            self.role
        )))
    }
}

/// The guard of an admin route that needs `need`: authenticates the caller, refuses a role
/// without the permission (403, before the body is read), and hands the caller to the
/// handler's [`Admin`] extractor.
pub async fn require(st: AppState, need: Permission, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if is_console(parts.uri.path()) && !parts.headers.contains_key(header::AUTHORIZATION) {
        return console_require(st, need, parts, body, next).await;
    }
    let admin = match Admin::from_request_parts(&mut parts, &st).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = admin.require(need) {
        return e.into_response();
    }
    parts.extensions.insert(admin);
    next.run(Request::from_parts(parts, body)).await
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(a) = parts.extensions.get::<Admin>() {
            return Ok(a.clone());
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        authenticate(state, &parts.headers, peer).await
    }
}

/// The caller of a bearer token. A client network whose tokens keep failing (20 in a burst,
/// then one a second) gets 429 for a while: guessing tokens, or a script with a revoked one,
/// costs neither a database lookup per try nor a log flood.
pub async fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Admin, ApiError> {
    let failed = |e: ApiError| -> ApiError {
        let Some(peer) = peer else { return e };
        let ip = client_ip(peer, headers, &st.config.trusted_proxies);
        match st
            .auth_failures
            .check(st.auth_failures.key(ip), st.clock.now_ms())
        {
            Ok(()) => e,
            Err(retry) => ApiError::too_many(retry),
        }
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    let value = value
        .to_str()
        .map_err(|_| failed(ApiError::unauthorized("malformed Authorization header")))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() < 200)
        .ok_or_else(|| {
            failed(ApiError::unauthorized(
                "expected Authorization: Bearer <token>",
            ))
        })?;
    let row = st
        .store
        .find_token(&token_hash(token))
        .await?
        .ok_or_else(|| failed(ApiError::unauthorized("invalid token")))?;
    if row.revoked_at_ms.is_some() {
        return Err(failed(ApiError::unauthorized(
            "this token has been revoked",
        )));
    }
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::internal(&format!("token {} has an unknown role", row.id)))?;
    if st.token_uses.due(&row.id, st.clock.now_ms()) {
        // Best effort: a failed write of the last use must not refuse the request.
        if let Err(e) = st.store.touch_token(&row.id, st.clock.now_ms()).await {
            tracing::warn!(error = %e, "recording a token's last use failed");
        }
    }
    Ok(Admin {
        token_id: row.id,
        role,
        person: None,
    })
}

/// A console page (HTML, session cookie) rather than the JSON API.
pub fn is_console(path: &str) -> bool {
    path.starts_with("/admin") && !path.starts_with("/admin/v1/")
}

/// The person of the request's session cookie, if it is live.
pub async fn console_person(st: &AppState, headers: &HeaderMap) -> Result<Option<Admin>, ApiError> {
    let Some(cookie) = crate::sessions::cookie(headers, crate::sessions::SESSION) else {
        return Ok(None);
    };
    let s = assent_app::accounts::sessions::resolve(
        &st.store,
        st.clock.as_ref(),
        st.config.sessions,
        &cookie,
    )
    .await?;
    Ok(s.map(|s| Admin {
        token_id: s.user.actor(),
        role: s.user.role,
        person: Some(Person {
            user: s.user,
            csrf: s.csrf,
            cookie,
        }),
    }))
}

/// [`require`] for a console page with a session cookie: no session → the login form; a
/// role without `need` → an HTML refusal; a form post → same origin and the session's
/// token, checked on the buffered body (bounded by the admin body limit) before the handler
/// reads it.
async fn console_require(
    st: AppState,
    need: Permission,
    mut parts: Parts,
    body: Body,
    next: Next,
) -> Response {
    let admin = match console_person(&st, &parts.headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return reply::to_login(),
        Err(e) => return reply::error(None, e),
    };
    if let Err(e) = admin.require(need) {
        return reply::error(Some((admin.role, admin.person.as_ref())), e);
    }
    let body = if parts.method == Method::POST {
        let refused = || {
            reply::error(
                Some((admin.role, admin.person.as_ref())),
                ApiError::forbidden("cross-site form post refused").field("csrf"),
            )
        };
        if !csrf::same_origin(&parts.headers, &st.public_base) {
            return refused();
        }
        let Ok(bytes) = axum::body::to_bytes(body, csrf::MAX_FORM_BODY).await else {
            return reply::error(
                Some((admin.role, admin.person.as_ref())),
                reply::too_large(),
            );
        };
        let expected = admin.person.as_ref().map_or("", |p| p.csrf.as_str());
        if !csrf::token_ok(
            csrf::form_token(&parts.headers, &bytes).as_deref(),
            expected,
        ) {
            return refused();
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(admin);
    next.run(Request::from_parts(parts, body)).await
}
