//! Admin authentication and authorisation: `Authorization: Bearer <token>` on every `/admin/`
//! route, checked by an extractor so a handler cannot forget it; and the guard that the route
//! table puts on each admin route, which refuses a role without the route's permission
//! (`assent_app::access::RIGHTS`) before the handler runs.

use assent_app::access::{Permission, Role};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::ratelimit::client_ip;
use crate::state::AppState;
use assent_app::tokens::token_hash;

/// An authenticated admin caller.
#[derive(Debug, Clone)]
pub struct Admin {
    pub token_id: String,
    pub role: Role,
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
    Ok(Admin {
        token_id: row.id,
        role,
    })
}
