//! The service's router: every API request goes to one handler ([`routes`]); `/metrics`
//! on its own router.

use super::connections::{self, ConnectionLimits};
use super::state::ServiceState;
use super::{metrics, routes};
use crate::service::tenants::Tenancy;
use axum::Router;
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
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
        .with_state(state.clone());
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
