//! The service's one error type: every failure is a JSON `{"name", "message"}` body. Which
//! status and text a failure gets is `redis-sessions-rest`'s (shared with the `wasi:http`
//! front); the host adds its log lines, where the details go instead of the answer.

use super::response::answer_response;
use axum::response::{IntoResponse, Response};
use redis_sessions::Error;
use redis_sessions_rest as rest;

/// An error as an axum response: rest-sessions' `{"name", "message"}` body with its status.
#[derive(Debug)]
pub struct ErrorResponse(pub rest::ApiError);

impl From<rest::ApiError> for ErrorResponse {
    fn from(e: rest::ApiError) -> Self {
        Self(e)
    }
}

/// What the client is told about a failed call, after logging what it is not told.
pub(crate) fn failure(e: Error) -> rest::Failure {
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

impl From<Error> for ErrorResponse {
    fn from(e: Error) -> Self {
        Self(rest::ApiError::from(failure(e)))
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        answer_response(self.0.answer())
    }
}
