//! Every API request, in one handler: the tenant (by API key, within its rate), rest-sessions
//! 2.0.1's routes, the call, the answer and its access-log line. The route table, the
//! parsing of the path, the query and the body, and the rendering are
//! `redis-sessions-rest`'s, shared with the `wasi:http` front.
//!
//! One plain function rather than a stack of middleware: each layer (authentication, the
//! log, the body limit) boxed the request's future and cloned the service on every request,
//! a measured share of the service's CPU per request (issue #16).

use super::error::{ErrorResponse, failure};
use super::response::answer_response;
use super::state::ServiceState;
use crate::service::calls;
use crate::service::tenants::Tenant;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use redis_sessions_rest as rest;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The `tracing` target of the one line per request (method, route pattern, status,
/// latency; never a token), off unless enabled (`serve --access-log`, or `RUST_LOG`
/// naming it).
pub const ACCESS_LOG: &str = "redis_sessions::access";

pub(super) async fn handle(State(state): State<Arc<ServiceState>>, request: Request) -> Response {
    if !tracing::enabled!(target: ACCESS_LOG, tracing::Level::INFO) {
        return respond(&state, request).await.0;
    }
    let method = request.method().clone();
    let start = Instant::now();
    let (response, tenant, route) = respond(&state, request).await;
    let latency_us = start.elapsed().as_micros();
    let status = response.status().as_u16();
    let tenant = tenant.as_ref().map_or("", |t| t.name.as_str());
    // `/ping` is not logged, as rest-sessions never logs it.
    if route != "/ping" {
        tracing::info!(target: ACCESS_LOG, tenant, %method, route, status, latency_us, "request");
    }
    response
}

/// The response, the tenant when one was found, and the route pattern matched (e.g.
/// `/{app}/get/{token}`: tokens never reach the log).
async fn respond(
    state: &ServiceState,
    request: Request,
) -> (Response, Option<Arc<Tenant>>, &'static str) {
    let Some(tenant) = authenticate(state, &request) else {
        state.unauthorized.fetch_add(1, Ordering::Relaxed);
        return (unauthorized(&request), None, "(unauthenticated)");
    };
    tenant.requests.fetch_add(1, Ordering::Relaxed);
    if let Err(wait) = tenant.admit() {
        return (
            too_many_requests(&tenant, wait),
            Some(tenant),
            "(rate limited)",
        );
    }
    let (path, query) = (request.uri().path(), request.uri().query());
    let route = match rest::route(request.method().as_str(), path, query) {
        Ok(route) => route,
        Err(not_found) => {
            return (
                ErrorResponse::from(not_found).into_response(),
                Some(tenant),
                "(unmatched)",
            );
        }
    };
    let pattern = route.pattern();
    let body = if route.needs_body() {
        match read_body(request).await {
            Ok(body) => body,
            Err(e) => return (e.into_response(), Some(tenant), pattern),
        }
    } else {
        axum::body::Bytes::new()
    };
    let response = match route.call(&body) {
        Ok(call) => {
            let outcome = calls::execute(&tenant.sessions, call)
                .await
                .map_err(failure);
            answer_response(rest::answer(outcome))
        }
        Err(e) => ErrorResponse::from(e).into_response(),
    };
    (response, Some(tenant), pattern)
}

/// The tenant the `Authorization` header names (without tenants, the one tenant).
fn authenticate(state: &ServiceState, request: &Request) -> Option<Arc<Tenant>> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.tenancy.authenticate(authorization)
}

fn unauthorized(request: &Request) -> Response {
    tracing::info!(method = %request.method(), status = 401, "request without a valid API key");
    ErrorResponse(rest::ApiError::new(
        401,
        "unauthorized",
        "a valid API key is required: Authorization: Bearer KEY",
    ))
    .into_response()
}

fn too_many_requests(tenant: &Tenant, wait: std::time::Duration) -> Response {
    tracing::info!(tenant = tenant.name, status = 429, "over its request rate");
    let mut response = ErrorResponse(rest::ApiError::new(
        429,
        "tooManyRequests",
        "the tenant is over its request rate limit",
    ))
    .into_response();
    // Whole seconds, rounded up: a client that waits that long gets in.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.max(1).into());
    response
}

/// The body, at most [`rest::BODY_LIMIT`] bytes (rest-sessions' body-parser limit): a
/// declared length over it is refused before any of the body is read.
async fn read_body(request: Request) -> Result<axum::body::Bytes, ErrorResponse> {
    let too_large = || ErrorResponse(rest::ApiError::payload_too_large());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > rest::BODY_LIMIT as u64) {
        return Err(too_large());
    }
    let body: Body = request.into_body();
    match Limited::new(body, rest::BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => Err(ErrorResponse(rest::ApiError::bad_request(
            "invalidBody",
            format!("Failed to buffer the request body: {e}"),
        ))),
    }
}
