//! rest-sessions 2.0.1's routes: one handler for all of them. The table, the parsing of
//! the path, the query and the body, and the rendering are `redis-sessions-rest`'s, shared
//! with the `wasi:http` front; this file runs the parsed call on the tenant's
//! [`crate::Sessions`].

use super::error::ApiError;
use super::response::answer_response;
use super::state::TenantSessions;
use crate::service::calls;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use redis_sessions_rest::{self as rest, Failure};

/// The route pattern a request matched (e.g. `/{app}/get/{token}`), left on the response
/// for the request log: tokens never reach the log.
#[derive(Debug, Clone, Copy)]
pub(super) struct RoutePattern(pub &'static str);

/// Every API request: route, read the body when the route takes one (the router's
/// `DefaultBodyLimit` caps it), call, render.
pub(super) async fn handle(TenantSessions(s): TenantSessions, request: Request) -> Response {
    let (path, query) = (request.uri().path(), request.uri().query());
    let route = match rest::route(request.method().as_str(), path, query) {
        Ok(route) => route,
        Err(not_found) => return ApiError::from(not_found).into_response(),
    };
    let pattern = route.pattern();
    let body = if route.needs_body() {
        // A declared length over the limit is refused before any of the body is awaited.
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > rest::BODY_LIMIT as u64) {
            let error = ApiError::from(rest::ApiError::payload_too_large());
            return with_pattern(error.into_response(), pattern);
        }
        match Bytes::from_request(request, &()).await {
            Ok(body) => body,
            Err(r) => {
                let error = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::from(rest::ApiError::payload_too_large())
                } else {
                    ApiError::new(r.status(), "invalidBody", r.body_text())
                };
                return with_pattern(error.into_response(), pattern);
            }
        }
    } else {
        Bytes::new()
    };
    let response = match route.call(&body) {
        Ok(call) => {
            let outcome = calls::execute(&s, call).await.map_err(Failure::from);
            answer_response(rest::answer(outcome))
        }
        Err(e) => ApiError::from(e).into_response(),
    };
    with_pattern(response, pattern)
}

fn with_pattern(mut response: Response, pattern: &'static str) -> Response {
    response.extensions_mut().insert(RoutePattern(pattern));
    response
}
