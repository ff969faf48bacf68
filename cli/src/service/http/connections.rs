//! The accept loop: each connection served by hyper with a deadline for its request
//! headers (which, between requests, is also its idle keep-alive timeout), at most
//! `max_connections` at once (excess connections are closed at accept, so slow or idle
//! clients cannot starve the others of file descriptors), and a shutdown that gives
//! in-flight requests `shutdown_timeout` before closing what is left.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How the service treats its clients' connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, and to begin the next request on a
    /// kept-alive connection; then the connection is closed.
    pub header_timeout: Duration,
    /// Connections served at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// After shutdown begins: how long in-flight requests may still run before the
    /// connections left are closed.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Three quarters of the process' file limit (the rest is for Redis connections, the
/// data file and logs), at least 64.
fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    usize::try_from(soft / 4 * 3).unwrap_or(usize::MAX).max(64)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish for at most `limits.shutdown_timeout`.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = builder.http1_only();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut refused = 0_u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors or a connection reset before accept: keep serving.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused += 1;
            // Logged sparingly: under a flood every accept would log.
            if refused.is_power_of_two() {
                tracing::warn!(
                    "{refused} connections refused so far: {} are open (--max-connections)",
                    limits.max_connections
                );
            }
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        connections.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                "shutdown: {} connections still busy after {:?}: closing them",
                connections.len(),
                limits.shutdown_timeout
            );
        }
    }
    // Closes what is left; a request cut here was not answered, so nothing it wrote was
    // acknowledged.
    connections.shutdown().await;
    Ok(())
}
