//! Admin authentication: `Authorization: Bearer <token>` on every `/admin/` route, checked by
//! an extractor so a handler cannot forget it.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;
use assent_app::tokens::token_hash;

/// An authenticated admin caller.
#[derive(Debug, Clone)]
pub struct Admin {
    pub token_id: String,
    pub role: String,
}

impl Admin {
    /// Refuses roles that may only read.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.role == "auditor" {
            return Err(ApiError::forbidden(
                "this token's role (auditor) may only read",
            ));
        }
        Ok(())
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() < 200)
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
        let row = state
            .store
            .find_token(&token_hash(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid token"))?;
        if row.revoked_at_ms.is_some() {
            return Err(ApiError::unauthorized("this token has been revoked"));
        }
        Ok(Admin {
            token_id: row.id,
            role: row.role,
        })
    }
}
