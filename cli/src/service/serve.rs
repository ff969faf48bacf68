//! `redis-sessions serve` from start to exit: choose the store (Redis, or the embedded
//! store with its data file and snapshot timer), connect the tenants, listen, run the wipe
//! timer, stop on SIGINT/SIGTERM after in-flight requests (within a deadline), and write the
//! last snapshot.

use super::data_file::{self, DataFileError};
use super::http;
use super::tenants::{self, Tenancy, TenantsError};
use redis_sessions::{Error, Sessions, redact_url};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

/// Where `serve` keeps sessions.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// A Redis server at this URL (with `tenants`, the base URL their ACL users log in to).
    Redis(String),
    /// The embedded store, kept in `data` when given.
    Embedded { data: Option<PathBuf> },
}

/// What `serve` is told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HOST:PORT` to listen on.
    pub listen: String,
    /// `HOST:PORT` to serve `/metrics` on; `None`: no metrics.
    pub metrics_listen: Option<String>,
    pub store: StoreChoice,
    /// The key namespace (without tenants; each tenant has its own).
    pub namespace: String,
    /// The key layout's shard count (without tenants; each tenant has its own). `None`:
    /// [`redis_sessions::SessionsBuilder::shards`]' default.
    pub shards: Option<u16>,
    /// Replicas each write waits for (without tenants): [`redis_sessions::SessionsBuilder::wait_for_replicas`].
    pub replica_acks: Option<redis_sessions::ReplicaAcks>,
    /// A tenants file (needs Redis).
    pub tenants: Option<PathBuf>,
    /// How often to wipe expired sessions; `None` never.
    pub wipe_every: Option<Duration>,
    /// How often to fold the embedded store's journal into its snapshot; `None`: only at
    /// shutdown (the journal grows meanwhile; every write is in it either way).
    pub snapshot_every: Option<Duration>,
    /// Header timeout, connection limit, shutdown deadline.
    pub connections: http::ConnectionLimits,
}

impl ServeOptions {
    /// The one namespace's builder (without tenants): namespace, shards, replica waits.
    fn sessions_builder(&self) -> redis_sessions::SessionsBuilder {
        Sessions::builder()
            .namespace(&self.namespace)
            .shards(self.shards)
            .wait_for_replicas(self.replica_acks)
    }
}

/// Why `serve` could not start or stopped with an error: one line for a person to act on.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "--data keeps the embedded store, which replaces Redis: give either --data or a Redis \
         (--redis, REDIS_URL, RS_REDISHOST/RS_REDISPORT), not both"
    )]
    DataWithRedis,
    #[error(
        "--tenants needs Redis (each tenant is a Redis ACL user): give --redis URL or REDIS_URL"
    )]
    TenantsNeedRedis,
    #[error(
        "--shards is for one namespace: with --tenants, give each tenant's `shards` in the tenants file"
    )]
    ShardsWithTenants,
    #[error("--wait-replicas is not offered with --tenants yet")]
    WaitWithTenants,
    #[error("{0}. Start Redis there, or point --redis (or REDIS_URL) at a running one.")]
    Connect(#[source] Error),
    #[error(transparent)]
    Sessions(Error),
    #[error(transparent)]
    Tenants(#[from] TenantsError),
    #[error(transparent)]
    DataFile(#[from] DataFileError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("serving on {addr}: {source}")]
    Serve {
        addr: String,
        source: std::io::Error,
    },
}

/// Runs the service until `shutdown` resolves and in-flight requests have finished.
pub async fn run(
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let data = match &options.store {
        StoreChoice::Redis(url) => return run_on_redis(options, url, shutdown).await,
        StoreChoice::Embedded { .. } if options.tenants.is_some() => {
            return Err(ServeError::TenantsNeedRedis);
        }
        StoreChoice::Embedded { data } => data.as_deref(),
    };
    let (store, _held) = match data {
        Some(file) => {
            // Starting the journal fails now, not at the first write, when the directory
            // cannot be written.
            let (store, held) = data_file::open(file)?;
            tracing::info!(
                "no Redis configured: using the embedded store (kept in {})",
                file.display()
            );
            (store, Some(held))
        }
        None => {
            tracing::info!(
                "no Redis configured: using the embedded store (in memory; --data FILE keeps \
                 it across restarts)"
            );
            (std::sync::Arc::default(), None)
        }
    };
    let sessions = options
        .sessions_builder()
        .build_with(store.clone())
        .map_err(ServeError::Sessions)?;
    let persistence = data.map(|file| {
        data_file::spawn_persistence(store.clone(), file.to_path_buf(), options.snapshot_every)
    });
    let served = listen(options, sessions.into(), "the embedded store", shutdown).await;
    if let Some(task) = persistence {
        task.abort();
    }
    // After in-flight requests finished: every acknowledged write is in this snapshot.
    if let Some(file) = data {
        data_file::checkpoint(&store, file).await?;
        tracing::info!("embedded store saved to {}", file.display());
    }
    served
}

async fn run_on_redis(
    options: &ServeOptions,
    url: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tenancy: Tenancy = match &options.tenants {
        Some(_) if options.shards.is_some() => return Err(ServeError::ShardsWithTenants),
        Some(_) if options.replica_acks.is_some() => return Err(ServeError::WaitWithTenants),
        Some(file) => {
            let list = tenants::load(file)?;
            tracing::info!("{} tenants from {}", list.len(), file.display());
            Tenancy::keyed(tenants::connect(&list, url).await?)
        }
        None => options
            .sessions_builder()
            .connect(url)
            .await
            .map_err(|e| match e {
                Error::Connect { .. } => ServeError::Connect(e),
                e => ServeError::Sessions(e),
            })?
            .into(),
    };
    let store = format!("Redis {}", redact_url(url));
    listen(options, tenancy, &store, shutdown).await
}

/// Binds, then serves `tenancy` until `shutdown` and in-flight requests finish.
async fn listen(
    options: &ServeOptions,
    tenancy: Tenancy,
    store: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = options.listen.clone();
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let metrics = match &options.metrics_listen {
        Some(metrics_addr) => {
            let listener =
                TcpListener::bind(metrics_addr)
                    .await
                    .map_err(|source| ServeError::Listen {
                        addr: metrics_addr.clone(),
                        source,
                    })?;
            tracing::info!("metrics on http://{metrics_addr}/metrics");
            Some(listener)
        }
        None => None,
    };
    tracing::info!(
        "listening on http://{addr} ({store}, namespace {:?}, wipe {})",
        options.namespace,
        options
            .wipe_every
            .map_or_else(|| "off".to_owned(), |w| format!("every {}s", w.as_secs())),
    );
    serve(
        listener,
        metrics,
        tenancy,
        options.wipe_every,
        &options.connections,
        shutdown,
    )
    .await
    .map_err(|source| ServeError::Serve { addr, source })
}

/// Serves `tenancy` on `listener` (and `/metrics` on `metrics`) with the wipe timer, until
/// `shutdown` resolves and in-flight requests have finished (at most
/// `connections.shutdown_timeout`).
pub async fn serve(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    tenancy: impl Into<Tenancy>,
    wipe_every: Option<Duration>,
    connections: &http::ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tenancy = tenancy.into();
    let wiper = wipe_every.map(|every| spawn_wiper(tenancy.clone(), every));
    let result = http::serve(listener, metrics, tenancy, connections, shutdown).await;
    if let Some(wiper) = wiper {
        wiper.abort();
    }
    result
}

/// Runs every tenant's wipe every `every`, the first `every` from now (node's interval).
/// Each tenant's wipe is its own task under the tenant's limits: one tenant's slow or
/// looping wipe never delays another's. A tenant whose last wipe is still running skips
/// a round rather than piling wipes up.
fn spawn_wiper(tenancy: Tenancy, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let tenants = tenancy.tenants();
        // A JoinSet, so that aborting the wiper aborts the wipes it started.
        let mut wipes = JoinSet::new();
        let mut running: Vec<Option<AbortHandle>> = vec![None; tenants.len()];
        loop {
            tick.tick().await;
            while wipes.try_join_next().is_some() {}
            for (tenant, slot) in tenants.iter().zip(running.iter_mut()) {
                if slot.as_ref().is_some_and(|w| !w.is_finished()) {
                    tracing::debug!(tenant = tenant.name, "wipe: the last one is still running");
                    continue;
                }
                let tenant = tenant.clone();
                *slot = Some(wipes.spawn(async move {
                    match tenant.sessions.wipe().await {
                        Ok(0) => tracing::debug!(tenant = tenant.name, "wipe: nothing expired"),
                        Ok(n) => tracing::info!(tenant = tenant.name, wiped = n, "wipe"),
                        Err(e) => tracing::warn!(tenant = tenant.name, "wipe failed: {e}"),
                    }
                }));
            }
        }
    })
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
