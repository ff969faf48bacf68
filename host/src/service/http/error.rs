//! The service's one error type: every failure is a JSON `{"name", "message"}` body.

use super::response::json_response;
use crate::Error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            // node's validation errors: the caller's fault (rest-sessions answers 500).
            _ if e.is_validation() => Self::bad_request(e.name(), e.to_string()),
            // The call was stopped; the tenant may retry. The text names the limit only.
            Error::Limit(_) => {
                tracing::warn!("{e}");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, e.name(), e.to_string())
            }
            Error::Unavailable(_) | Error::Connect { .. } => {
                tracing::warn!("Redis unavailable: {e}");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.name(),
                    "Redis is unavailable",
                )
            }
            // Details go to the log, not to the client.
            _ => {
                tracing::error!("session call failed: {e}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.name(),
                    "the session store failed",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "name": self.name, "message": self.message });
        json_response(self.status, &body)
    }
}
