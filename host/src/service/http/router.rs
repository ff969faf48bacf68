//! The service's routes and middleware: authentication, request logs, the body limit.

use super::connections::{self, ConnectionLimits};
use super::error::ApiError;
use super::state::ServiceState;
use super::{metrics, routes};
use crate::service::tenants::{Tenancy, Tenant};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;

/// rest-sessions' body limit (`bodyParser.json({limit: 60000})`).
pub use redis_sessions_rest::BODY_LIMIT;

/// The service's API routes, to serve or to mount in another axum app (no `/metrics`:
/// see [`routers`]).
pub fn router(tenancy: impl Into<Tenancy>) -> Router {
    routers(tenancy).0
}

/// The API routes and, apart, `GET /metrics` over the same tenants and counters. Metrics
/// name every tenant and its traffic: they are served only on their own address, for the
/// operator, never on the API's.
pub fn routers(tenancy: impl Into<Tenancy>) -> (Router, Router) {
    let state = Arc::new(ServiceState {
        tenancy: tenancy.into(),
        unauthorized: AtomicU64::new(0),
    });
    // One handler behind a fallback: the route table is redis-sessions-rest's, shared with
    // the wasi:http front, so both answer every path and method alike.
    let api = Router::new()
        .fallback(routes::handle)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let metrics = Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state);
    (api, metrics)
}

/// Serves the API on `listener` (and `/metrics` on `metrics`, when given) until `shutdown`
/// resolves, then waits for in-flight requests, at most `limits.shutdown_timeout`.
pub async fn serve(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    tenancy: impl Into<Tenancy>,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (api, metrics_router) = routers(tenancy);
    // Scrapes are tiny and the operator's own: axum's plain server, stopped with the API.
    let metrics = metrics.map(|listener| {
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics_router).await {
                tracing::error!("serving /metrics: {e}");
            }
        })
    });
    let result = connections::serve(listener, api, limits, shutdown).await;
    if let Some(task) = metrics {
        task.abort();
    }
    result
}

/// Finds the tenant of a request; with tenants, a missing or unknown key is a 401 and the
/// request goes no further.
async fn authenticate(
    State(state): State<Arc<ServiceState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(tenant) = state.tenancy.authenticate(authorization) else {
        state.unauthorized.fetch_add(1, Ordering::Relaxed);
        tracing::info!(method = %request.method(), status = 401, "request without a valid API key");
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API key is required: Authorization: Bearer KEY",
        )
        .into_response();
    };
    tenant.requests.fetch_add(1, Ordering::Relaxed);
    if let Err(wait) = tenant.admit() {
        // Whole seconds, rounded up: a client that waits that long gets in.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::info!(tenant = tenant.name, status = 429, "over its request rate");
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "tooManyRequests",
            "the tenant is over its request rate limit",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.max(1).into());
        return response;
    }
    request.extensions_mut().insert(tenant);
    next.run(request).await
}

/// One log line per request: method, route (its pattern, so tokens never reach the log),
/// status and latency. `/ping` only at debug level, as rest-sessions never logs it.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let tenant = request
        .extensions()
        .get::<Arc<Tenant>>()
        .map_or_else(String::new, |t| t.name.clone());
    let start = Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<routes::RoutePattern>()
        .map_or("(unmatched)", |p| p.0);
    let latency_us = start.elapsed().as_micros();
    let status = response.status().as_u16();
    if route == "/ping" {
        tracing::debug!(tenant, %method, route, status, latency_us, "request");
    } else {
        tracing::info!(tenant, %method, route, status, latency_us, "request");
    }
    response
}
