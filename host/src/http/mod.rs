//! `redis-sessions serve`: the session API over HTTP, a drop-in for rest-sessions 2.0.1.
//!
//! Requests run in parallel on the [`Sessions`] instance pool; a timer runs the wipe;
//! SIGINT/SIGTERM stop accepting and let in-flight requests finish.

mod error;
mod routes;

pub use error::ApiError;

use crate::Sessions;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// rest-sessions' body limit (`bodyParser.json({limit: 60000})`).
pub const BODY_LIMIT: usize = 60_000;

/// The service's routes over `sessions`. Apart from [`serve`] so tests can drive it.
pub fn router(sessions: Sessions) -> Router {
    Router::new()
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
        .with_state(sessions)
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
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    let latency_us = start.elapsed().as_micros();
    let status = response.status().as_u16();
    if route == "/ping" {
        tracing::debug!(%method, route, status, latency_us, "request");
    } else {
        tracing::info!(%method, route, status, latency_us, "request");
    }
    response
}

/// Runs `sessions.wipe()` every `every`, the first one `every` from now (node's interval).
pub fn spawn_wiper(sessions: Sessions, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sessions.wipe().await {
                Ok(0) => tracing::debug!("wipe: nothing expired"),
                Ok(n) => tracing::info!(wiped = n, "wipe"),
                Err(e) => tracing::warn!("wipe failed: {e}"),
            }
        }
    })
}

/// Serves until `shutdown` resolves, then waits for in-flight requests.
pub async fn serve(
    listener: TcpListener,
    sessions: Sessions,
    wipe_every: Option<Duration>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let wiper = wipe_every.map(|every| spawn_wiper(sessions.clone(), every));
    let result = axum::serve(listener, router(sessions))
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
