//! [`Sessions`]: the session API, run by the component on a pool of instances
//! ([`crate::pool`]), as an async Rust library.

use crate::capability::{Backend, RedisTimeouts, ReplicaAcks, ReplicaWait};
use crate::clocks::SharedClock;
use crate::config::ConfigCtx;
use crate::error::{ConfigError, Error, redact_url};
use crate::limits::Limits;
use crate::pool::{DEFAULT_MAX_IDLE_INSTANCES, Metrics, Pool};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::types::{CreateOptions, DataInput, Session, SessionPage};
use std::sync::Arc;

/// The sharded layout's shard count on a Redis Cluster unless set: enough for an even
/// spread over up to 16 masters.
pub const DEFAULT_CLUSTER_SHARDS: u16 = 16;

/// The shard count when none is set: node's layout (0) on one Redis or the embedded store,
/// [`DEFAULT_CLUSTER_SHARDS`] on a Redis Cluster.
pub fn default_shards(cluster: bool) -> u16 {
    if cluster { DEFAULT_CLUSTER_SHARDS } else { 0 }
}

/// The most shards a namespace can have (a token names its shard in two of its symbols).
pub const MAX_SHARDS: u16 = redis_sessions_core::keys::MAX_SHARDS;

/// The session API over one store and one namespace. Cheap to clone; share it.
#[derive(Clone)]
pub struct Sessions {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("namespace", &self.pool.config.namespace())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Sessions`].
#[derive(Default)]
pub struct SessionsBuilder {
    runtime: Option<Arc<Runtime>>,
    namespace: Option<String>,
    shards: Option<u16>,
    replica_acks: Option<ReplicaAcks>,
    clock: Option<SharedClock>,
    max_idle: Option<usize>,
    limits: Option<Limits>,
    redis_timeouts: RedisTimeouts,
}

impl std::fmt::Debug for SessionsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionsBuilder")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl SessionsBuilder {
    /// The component runtime to use (default: the built-in component, compiled once).
    pub fn runtime(mut self, runtime: Arc<Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The key namespace (default `rs`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The key layout: 0 is node's, 1 to [`MAX_SHARDS`] the sharded layout of that many
    /// shards for Redis Cluster (node cannot read it; [`Self::build_with`] refuses more).
    /// Default (`None`): node's on one Redis or the embedded store,
    /// [`DEFAULT_CLUSTER_SHARDS`] on a Redis Cluster. Fixed per namespace: sessions
    /// written with another value are not found.
    pub fn shards(mut self, shards: impl Into<Option<u16>>) -> Self {
        self.shards = shards.into();
        self
    }

    /// Acknowledge a call only once [`ReplicaAcks::replicas`] replicas have its writes:
    /// Redis' `WAIT` after each, on the node that took it, for up to its `timeout`. Redis
    /// replicates asynchronously, so without it a write acknowledged just before its master
    /// dies can be lost in the failover. When fewer replicas answer in time the call fails
    /// with a store error, although its writes were done on the master. Default (`None`):
    /// no waiting.
    pub fn wait_for_replicas(mut self, acks: impl Into<Option<ReplicaAcks>>) -> Self {
        self.replica_acks = acks.into();
        self
    }

    /// The wall clock the component sees (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How many idle instances to keep (default [`DEFAULT_MAX_IDLE_INSTANCES`]).
    pub fn max_idle_instances(mut self, n: usize) -> Self {
        self.max_idle = Some(n);
        self
    }

    /// Memory, CPU and instance limits (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// How long [`Self::connect`] waits for Redis to accept a connection and for each reply
    /// (default [`RedisTimeouts::default`]: 3 s and 10 s). A backend given to
    /// [`Self::build_with`] keeps its own.
    pub fn redis_timeouts(mut self, timeouts: RedisTimeouts) -> Self {
        self.redis_timeouts = timeouts;
        self
    }

    /// Runs the component on `backend`: a Redis connection (`ConnectionManager`), a Redis
    /// Cluster connection (redis-rs' `cluster_async::ClusterConnection`, say one built with
    /// your own `ClusterClientBuilder` settings) or the embedded store (`MemoryStore`, or an
    /// `Arc` of it to keep a handle).
    pub fn build_with(self, backend: impl Backend) -> Result<Sessions, Error> {
        let runtime = match self.runtime {
            Some(r) => r,
            None => Arc::new(Runtime::new(&RuntimeOptions::default()).map_err(Error::component)?),
        };
        let shards = self
            .shards
            .unwrap_or_else(|| default_shards(backend.is_cluster()));
        if shards > MAX_SHARDS {
            return Err(ConfigError::Shards(shards).into());
        }
        let backend: Arc<dyn Backend> = match self.replica_acks {
            None => Arc::new(backend),
            Some(acks) if acks.replicas == 0 || acks.timeout.as_millis() == 0 => {
                return Err(ConfigError::ReplicaAcks.into());
            }
            Some(_) if !backend.can_wait_for_replicas() => {
                return Err(ConfigError::NoReplicas.into());
            }
            Some(acks) => Arc::new(ReplicaWait::new(backend, acks)),
        };
        let namespace = self.namespace.unwrap_or_else(|| "rs".into());
        let pool = Pool::new(
            runtime,
            backend,
            ConfigCtx::new(namespace.into(), shards),
            self.clock,
            self.limits.unwrap_or_default(),
            self.max_idle.unwrap_or(DEFAULT_MAX_IDLE_INSTANCES),
        );
        Ok(Sessions {
            pool: Arc::new(pool),
        })
    }

    /// Connects to Redis at `url` (failing fast, naming the URL, if it is unreachable): a
    /// server (`redis://`, `rediss://`, `redis+unix://`) or a Redis Cluster
    /// (`redis+cluster://HOST:PORT[,HOST:PORT...]`, every node listed a seed).
    pub async fn connect(self, url: &str) -> Result<Sessions, Error> {
        let connect_error = |source| Error::Connect {
            url: redact_url(url),
            source,
        };
        if crate::capability::is_cluster_url(url) {
            let cluster = crate::capability::connect_cluster(url, self.redis_timeouts)
                .await
                .map_err(connect_error)?;
            return self.build_with(cluster);
        }
        let redis = crate::capability::connect(url, self.redis_timeouts)
            .await
            .map_err(connect_error)?;
        self.build_with(redis)
    }
}

/// Calls one export on a pooled instance.
macro_rules! call {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        let mut instance = $self.pool.checkout().await?;
        let result = instance
            .bindings
            .redis_sessions_sessions_sessions()
            .$method(&mut instance.store, $($arg),*)
            .await;
        $self.pool.finish(instance, result)
    }};
}

impl Sessions {
    pub fn builder() -> SessionsBuilder {
        SessionsBuilder::default()
    }

    /// The built-in component on Redis at `url`, namespace `namespace`.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, Error> {
        Self::builder().namespace(namespace).connect(url).await
    }

    pub fn namespace(&self) -> &str {
        self.pool.config.namespace()
    }

    /// The key layout's shard count (0: node's layout).
    pub fn shards(&self) -> u16 {
        self.pool.config.shards()
    }

    /// The counters of this store's calls.
    pub fn metrics(&self) -> &Metrics {
        &self.pool.metrics
    }

    /// Instances alive now (busy or idle).
    pub fn instances(&self) -> usize {
        self.pool.instances()
    }

    /// Creates a session; returns its token.
    pub async fn create(
        &self,
        app: &str,
        id: &str,
        ip: &str,
        ttl: Option<i64>,
        d: Option<&DataInput>,
        no_resave: bool,
    ) -> Result<String, Error> {
        call!(self.call_create(app, id, ip, ttl, d, no_resave))
    }

    /// Creates a session with this project's options too (`max_per_user`); returns its
    /// token.
    pub async fn create_with(
        &self,
        app: &str,
        id: &str,
        ip: &str,
        options: &CreateOptions,
    ) -> Result<String, Error> {
        call!(self.call_create_with(app, id, ip, options))
    }

    /// Reads a session, recording the activity. `None` if missing or expired.
    pub async fn get(&self, app: &str, token: &str) -> Result<Option<Session>, Error> {
        call!(self.call_get(app, token))
    }

    /// Merges `d` into a session. `None` if missing or expired.
    pub async fn set(
        &self,
        app: &str,
        token: &str,
        d: &DataInput,
    ) -> Result<Option<Session>, Error> {
        call!(self.call_set(app, token, d))
    }

    /// Deletes a session: 1, or 0 if missing or expired.
    pub async fn kill(&self, app: &str, token: &str) -> Result<u64, Error> {
        call!(self.call_kill(app, token))
    }

    /// Gives a live session a new token (the old one dies at once); everything else
    /// stays. `None` if missing or expired.
    pub async fn rotate(&self, app: &str, token: &str) -> Result<Option<String>, Error> {
        call!(self.call_rotate(app, token))
    }

    /// Distinct users of `app` active in the last `delta_time` seconds.
    pub async fn activity(&self, app: &str, delta_time: i64) -> Result<u64, Error> {
        call!(self.call_activity(app, delta_time))
    }

    /// The live sessions of user `id`: every page of [`Self::soid_page`].
    pub async fn soid(&self, app: &str, id: &str) -> Result<Vec<Session>, Error> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.soid_page(app, id, cursor.as_deref()).await?;
            out.extend(page.sessions);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// One page of user `id`'s live sessions: `cursor` is `None`, then the last page's
    /// `next`. Each page is a call of its own, so a big user neither holds an instance
    /// (or its memory) nor blocks the store for long.
    pub async fn soid_page(
        &self,
        app: &str,
        id: &str,
        cursor: Option<&str>,
    ) -> Result<SessionPage, Error> {
        call!(self.call_soid_page(app, id, cursor))
    }

    /// Deletes every session of user `id` (in batches, each atomic); returns how many.
    pub async fn killsoid(&self, app: &str, id: &str) -> Result<u64, Error> {
        call!(self.call_killsoid(app, id))
    }

    /// The live sessions of `app` active in the last `delta_time` seconds, newest first:
    /// every page of [`Self::soapp_page`].
    pub async fn soapp(&self, app: &str, delta_time: i64) -> Result<Vec<Session>, Error> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.soapp_page(app, delta_time, cursor.as_deref()).await?;
            out.extend(page.sessions);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        if self.shards() > 0 {
            // A sharded layout's pages go shard by shard, each newest first: merge them, as
            // the component's own soapp does (stable: ties keep the pages' order).
            out.sort_by_key(|s| s.idle);
        }
        Ok(out)
    }

    /// One page of [`Self::soapp`], as [`Self::soid_page`].
    pub async fn soapp_page(
        &self,
        app: &str,
        delta_time: i64,
        cursor: Option<&str>,
    ) -> Result<SessionPage, Error> {
        call!(self.call_soapp_page(app, delta_time, cursor))
    }

    /// Deletes every session of `app` (in batches, each atomic); returns how many.
    pub async fn killall(&self, app: &str) -> Result<u64, Error> {
        call!(self.call_killall(app))
    }

    /// Deletes every expired session of the namespace; returns how many.
    pub async fn wipe(&self) -> Result<u64, Error> {
        call!(self.call_wipe())
    }

    /// `PONG` when Redis answers.
    pub async fn ping(&self) -> Result<String, Error> {
        call!(self.call_ping())
    }
}
