//! A JSON body extractor whose failures follow the error policy: wrong content type is 415,
//! a body over the limit 413, invalid UTF-8 or syntax 400, a wrong type or unknown field 422
//! naming the field (`choices.analytics`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read_json(req).await.map(ApiJson)
    }
}

/// Reads and parses a JSON request body with the error policy above (the body limit is the
/// route's `DefaultBodyLimit`).
pub async fn read_json<T: DeserializeOwned>(req: Request) -> Result<T, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    // text/plain is accepted for navigator.sendBeacon-style posts that avoid a CORS preflight.
    if !mime.eq_ignore_ascii_case("application/json") && !mime.eq_ignore_ascii_case("text/plain") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ));
    }
    let bytes = Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body too large",
            )
        } else {
            ApiError::bad_request("could not read the request body")
        }
    })?;
    parse_json(&bytes)
}

/// Parses JSON with the error policy above.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Checked on the whole body: serde_json does not check the strings of values it skips.
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request("request body is not valid UTF-8"));
    }
    // The common case without the path tracking; only a failure is parsed again, to name the
    // field.
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(ApiError::bad_request(format!("malformed JSON: {inner}")))
            } else {
                let field = if path == "." { None } else { Some(path) };
                let msg = inner.to_string();
                // serde reports a missing field at the parent: name it.
                let field = field.or_else(|| {
                    msg.strip_prefix("missing field `")
                        .and_then(|r| r.split('`').next())
                        .map(str::to_string)
                });
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", msg);
                err.field = field;
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Loose {
        a: u32,
    }

    #[test]
    fn invalid_utf8_is_refused_even_inside_a_skipped_value() {
        // serde_json skips the unknown field's string without looking at its bytes.
        let body = b"{\"a\":1,\"x\":\"\xff\"}";
        let e = parse_json::<Loose>(body).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        assert_eq!(parse_json::<Loose>(b"{\"a\":1,\"x\":\"ok\"}").unwrap().a, 1);
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let e = parse_json::<Loose>(b"{\"a\":\"1\"}").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("a"));
    }
}
