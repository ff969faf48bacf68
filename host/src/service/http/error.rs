//! The service's one error type: every failure is a JSON `{"name", "message"}` body. Which
//! status and text a failure gets is `redis-sessions-rest`'s (shared with the `wasi:http`
//! front); the host adds its log lines, where the details go instead of the answer.

use super::response::answer_response;
use crate::Error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redis_sessions_rest as rest;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }

    /// A request that is not JSON where JSON is due, or a path that is not UTF-8.
    pub fn bad_request(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, name, message)
    }
}

impl From<rest::ApiError> for ApiError {
    fn from(e: rest::ApiError) -> Self {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, e.name, e.message)
    }
}

/// What the client is told about a failed call, after logging what it is not told.
impl From<Error> for rest::Failure {
    fn from(e: Error) -> Self {
        match &e {
            _ if e.is_validation() => rest::Failure::Invalid {
                name: e.name(),
                message: e.to_string(),
            },
            // The call was stopped; the tenant may retry. The text names the limit only.
            Error::Limit(_) => {
                tracing::warn!("{e}");
                rest::Failure::LimitExceeded(e.to_string())
            }
            // The cause is in the log: the answer says only that Redis is unavailable.
            Error::Unavailable(_) | Error::Connect { .. } => {
                tracing::warn!("Redis unavailable: {e}");
                rest::Failure::Unavailable { detail: None }
            }
            _ => {
                tracing::error!("session call failed: {e}");
                rest::Failure::Failed { name: e.name() }
            }
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        rest::ApiError::from(rest::Failure::from(e)).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = rest::ApiError::new(self.status.as_u16(), self.name, self.message);
        answer_response(e.answer())
    }
}
