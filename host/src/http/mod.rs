//! `redis-sessions serve`: the session API over HTTP, a drop-in for rest-sessions 2.0.1.
//!
//! Requests run in parallel on the [`Sessions`] instance pool; a timer runs the wipe;
//! SIGINT/SIGTERM stop accepting and let in-flight requests finish. With tenants, each
//! request names its tenant by `Authorization: Bearer KEY`; `/metrics` has per-tenant
//! counters in Prometheus' text format.

mod error;
mod metrics;
mod routes;

pub use error::ApiError;

use crate::Sessions;
use crate::tenants::{Tenant, hash_key};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Whom the service serves: one implicit tenant (no API keys), or tenants by API key.
#[derive(Debug, Clone)]
pub enum Tenancy {
    Single(Arc<Tenant>),
    /// Tenants by the hash of their API keys (`sha256:HEX`).
    Keyed(Arc<HashMap<String, Arc<Tenant>>>),
}

impl Tenancy {
    /// Tenants from `(key hashes, tenant)` pairs, as [`crate::tenants::connect`] gives them.
    pub fn keyed(tenants: Vec<(Vec<String>, Arc<Tenant>)>) -> Self {
        let map = tenants
            .into_iter()
            .flat_map(|(keys, t)| keys.into_iter().map(move |k| (k, t.clone())))
            .collect();
        Tenancy::Keyed(Arc::new(map))
    }

    /// Every tenant once, by name.
    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        match self {
            Tenancy::Single(t) => vec![t.clone()],
            Tenancy::Keyed(map) => {
                let mut by_name: Vec<Arc<Tenant>> = Vec::new();
                for t in map.values() {
                    if !by_name.iter().any(|x| Arc::ptr_eq(x, t)) {
                        by_name.push(t.clone());
                    }
                }
                by_name.sort_by(|a, b| a.name.cmp(&b.name));
                by_name
            }
        }
    }
}

impl From<Sessions> for Tenancy {
    fn from(sessions: Sessions) -> Self {
        Tenancy::Single(Arc::new(Tenant::new("default", sessions)))
    }
}

/// What every handler can reach.
#[derive(Debug)]
struct ServiceState {
    tenancy: Tenancy,
    unauthorized: AtomicU64,
}

/// The authenticated tenant's session store, for handlers.
pub(crate) struct TenantSessions(pub Sessions);

impl<S: Send + Sync> FromRequestParts<S> for TenantSessions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Arc<Tenant>>()
            .map(|t| TenantSessions(t.sessions.clone()))
            .ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no tenant")
            })
    }
}

/// Finds the tenant of a request; with tenants, a missing or unknown key is a 401 and the
/// request goes no further.
async fn authenticate(
    State(state): State<Arc<ServiceState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let tenant = match &state.tenancy {
        Tenancy::Single(t) => Some(t.clone()),
        Tenancy::Keyed(map) => request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|key| map.get(&hash_key(key.trim())))
            .cloned(),
    };
    let Some(tenant) = tenant else {
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
    request.extensions_mut().insert(tenant);
    next.run(request).await
}

/// rest-sessions' body limit (`bodyParser.json({limit: 60000})`).
pub const BODY_LIMIT: usize = 60_000;

/// The service's routes. Apart from [`serve`] so tests can drive it.
pub fn router(tenancy: impl Into<Tenancy>) -> Router {
    let state = Arc::new(ServiceState {
        tenancy: tenancy.into(),
        unauthorized: AtomicU64::new(0),
    });
    let api = Router::new()
        .route("/ping", get(routes::ping))
        .route("/{app}/create/{id}", put(routes::create))
        .route("/{app}/get/{token}", get(routes::get))
        .route("/{app}/set/{token}", post(routes::set))
        .route("/{app}/kill/{token}", delete(routes::kill))
        .route("/{app}/activity", get(routes::activity))
        .route("/{app}/soapp", get(routes::soapp))
        .route("/{app}/soid/{id}", get(routes::soid))
        .route("/{app}/killsoid/{id}", delete(routes::killsoid))
        .route("/{app}/killall", delete(routes::killall))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
        .merge(api)
}

/// A JSON response with rest-sessions' content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(body.to_string().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// One log line per request: method, route (its pattern, so tokens never reach the log),
/// status and latency. `/ping` only at debug level, as rest-sessions never logs it.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let tenant = request
        .extensions()
        .get::<Arc<Tenant>>()
        .map_or_else(String::new, |t| t.name.clone());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    let latency_us = start.elapsed().as_micros();
    let status = response.status().as_u16();
    if route == "/ping" {
        tracing::debug!(tenant, %method, route, status, latency_us, "request");
    } else {
        tracing::info!(tenant, %method, route, status, latency_us, "request");
    }
    response
}

/// Runs every tenant's wipe every `every`, the first `every` from now (node's interval).
pub fn spawn_wiper(tenancy: Tenancy, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for tenant in tenancy.tenants() {
                match tenant.sessions.wipe().await {
                    Ok(0) => tracing::debug!(tenant = tenant.name, "wipe: nothing expired"),
                    Ok(n) => tracing::info!(tenant = tenant.name, wiped = n, "wipe"),
                    Err(e) => tracing::warn!(tenant = tenant.name, "wipe failed: {e}"),
                }
            }
        }
    })
}

/// Serves until `shutdown` resolves, then waits for in-flight requests.
pub async fn serve(
    listener: TcpListener,
    tenancy: impl Into<Tenancy>,
    wipe_every: Option<Duration>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tenancy = tenancy.into();
    let wiper = wipe_every.map(|every| spawn_wiper(tenancy.clone(), every));
    let result = axum::serve(listener, router(tenancy))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(wiper) = wiper {
        wiper.abort();
    }
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down: finishing in-flight requests");
}
