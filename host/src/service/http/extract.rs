//! The request parts handlers take, each failing as rest-sessions' clients expect: a JSON
//! `{"name", "message"}` error, 400 for a malformed part, 413 for a body over the limit.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The route's path segments, percent-decoded.
pub(super) struct Segments<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Segments(v)),
            Err(r) => Err(ApiError::bad_request("invalidPath", r.body_text())),
        }
    }
}

/// The query string's parameters.
pub(super) struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(r) => Err(ApiError::bad_request("invalidQuery", r.body_text())),
        }
    }
}

impl Params {
    /// A number parameter the way node's `parseInt` reads it: leading digits, else
    /// invalid. `None` (absent) and `Some(None)` (unparseable, which fails node's
    /// validation) differ.
    pub(super) fn int(&self, name: &str) -> Option<Option<i64>> {
        let raw = self.0.get(name)?.trim();
        if raw.is_empty() {
            return None;
        }
        let sign_len = usize::from(raw.starts_with(['-', '+']));
        let digits = raw[sign_len..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        Some(raw[..sign_len + digits].parse().ok())
    }

    /// node: a missing, empty or unparseable number fails the `>= 10` check with its
    /// message.
    pub(super) fn seconds(&self, name: &str) -> i64 {
        self.int(name).flatten().unwrap_or(i64::MIN)
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The body as JSON; an empty body is `{}`, as body-parser leaves `req.body`.
pub(super) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|r| {
            let name = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "payloadTooLarge"
            } else {
                "invalidBody"
            };
            ApiError::new(r.status(), name, r.body_text())
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(json!({})));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request("invalidJson", format!("Malformed JSON: {e}")))
    }
}
