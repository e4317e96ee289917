//! The application layer's error: what went wrong in domain terms, never how to say it.
//!
//! Policy (read before adding a kind):
//! - Every failure the caller can cause has a [`Kind`] other than `Internal`, a stable `code`
//!   (`invalid`, `stale_policy_version`, ...), a message that names the problem without
//!   echoing personal data, and `field` when one input is at fault (`choices.analytics`).
//! - Internal failures (store, IO, encoding) are logged here with their cause and carry an
//!   opaque message: causes may contain paths or SQL.
//! - The front ends map a kind to their own vocabulary in one place each: the server to an
//!   HTTP status (`assent_server::error`), the CLI to a message and an exit code.

use assent_model::rights::RightsError;

/// What kind of failure, independent of the front end that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input cannot be read at all (malformed syntax).
    BadRequest,
    /// The input was read but a field is not acceptable.
    Invalid,
    /// The caller is not who it must be (missing or bad credentials).
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    NotFound,
    /// The thing existed and was deliberately removed (an erased consent record).
    Gone,
    /// The current state does not allow the operation (a closed request, a stale version).
    Conflict,
    /// Too many attempts; `retry_after` says when to come back.
    TooMany,
    /// The input is well formed but larger than the operation accepts (a batch over its
    /// limit).
    TooLarge,
    /// A dependency is missing or down (a database that cannot commit).
    Unavailable,
    /// A dependency answered with an error (the SMTP server refused a mail).
    Upstream,
    Internal,
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for [`Kind::TooMany`].
    pub retry_after: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
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
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, "bad_request", message)
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, "invalid", message).field(field)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, "not_found", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthenticated, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, "forbidden", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, code, message)
    }
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Gone, code, message)
    }
    pub fn too_many(retry_after: u64) -> Self {
        let mut e = Self::new(
            Kind::TooMany,
            "rate_limited",
            "too many requests from this client: slow down",
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, "unavailable", message)
    }
    /// Logs the cause and returns an opaque internal error.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        if let Some(suppressed) = crate::throttle::INTERNAL_ERRORS.allow() {
            if suppressed > 0 {
                tracing::error!(error = %cause, suppressed, "internal error (and similar ones suppressed)");
            } else {
                tracing::error!(error = %cause, "internal error");
            }
        }
        Self::new(
            Kind::Internal,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {}", field, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for AppError {}

impl From<assent_store::StoreError> for AppError {
    fn from(e: assent_store::StoreError) -> Self {
        AppError::internal(&e)
    }
}

/// A refusal of the rights state machine: a conflict, or an invalid field for a missing
/// reason; a time-zone or range failure is internal.
impl From<RightsError> for AppError {
    fn from(e: RightsError) -> Self {
        match e {
            RightsError::NoReason => {
                AppError::new(Kind::Invalid, e.code(), e.to_string()).field("reason")
            }
            RightsError::TimeZone(_) | RightsError::Range => AppError::internal(&e),
            _ => AppError::new(Kind::Conflict, e.code(), e.to_string()),
        }
    }
}
