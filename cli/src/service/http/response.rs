//! Answers rendered by `redis-sessions-rest`, as axum responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use redis_sessions_rest as rest;

/// The answer with rest-sessions' content type (also for `/ping`'s bare `PONG`).
pub(crate) fn answer_response(answer: rest::Answer) -> Response {
    let mut response = Response::new(answer.body.into());
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rest::CONTENT_TYPE),
    );
    response
}
