//! Error policy (read before adding a variant):
//! - Every failure a client can cause is a 4xx with a JSON body
//!   `{"error": {"code": "...", "message": "...", "field": "..."}}`; `field` names the input at
//!   fault when there is one (`choices.analytics`, `policy_version`).
//! - Internal failures (store, IO) are logged with their whole cause chain and answered with an
//!   opaque 500: causes may contain paths or SQL, never sent to clients.
//! - Messages never echo personal data back (no email, no subject id in logs).

use assent_app::AppError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Declares `ApiError` constructors that build the [`AppError`] of the same name, so that both
/// layers say the same code and message and the status comes from the one mapping below.
macro_rules! from_app_error {
    ($( $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*); )*) => {
        impl ApiError {
            $(
                $(#[$doc])*
                pub fn $name($($arg: $ty),*) -> Self {
                    AppError::$name($($arg),*).into()
                }
            )*
        }
    };
}

from_app_error! {
    bad_request(message: impl Into<String>);
    invalid(field: impl Into<String>, message: impl Into<String>);
    not_found(message: impl Into<String>);
    unauthorized(message: impl Into<String>);
    forbidden(message: impl Into<String>);
    conflict(code: &'static str, message: impl Into<String>);
    too_many(retry_after: u64);
    /// Logs the cause (throttled, see `assent_app::throttle`) and returns an opaque 500.
    internal(cause: &dyn std::fmt::Display);
    unavailable(message: impl Into<String>);
}

/// The one place where the application's error kinds become HTTP statuses.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use assent_app::Kind;
        let status = match e.kind {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Gone => StatusCode::GONE,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Upstream => StatusCode::BAD_GATEWAY,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            field: e.field,
            retry_after: e.retry_after,
        }
    }
}

impl From<assent_store::StoreError> for ApiError {
    fn from(e: assent_store::StoreError) -> Self {
        ApiError::internal(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.field {
            body["field"] = json!(f);
        }
        let mut resp = (self.status, Json(json!({ "error": body }))).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
