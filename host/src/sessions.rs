//! [`Sessions`]: the session API, run by the component, as an async Rust library.
//!
//! Calls are served by a pool of component instances: a call takes an idle instance (or
//! instantiates one from the pre-linked component, ~50 µs) and puts it back afterwards, so
//! concurrent calls run in parallel and none pays for instantiation in the steady state.
//! At most [`Limits::max_instances`] exist at once; a call beyond waits for one. Each call
//! runs under the memory and CPU limits; an instance that traps or hits a limit is dropped,
//! never reused.

use crate::bindings::{SessionStore, sessions as wit};
use crate::clocks::SharedClock;
use crate::error::{Error, redact_url};
use crate::limits::Limits;
use crate::redis::Store as Backend;
use crate::runtime::{Runtime, RuntimeOptions};
use crate::state::InstanceState;
use redis::aio::ConnectionManager;
use redis_sessions_core::{DataInput, DataValue, Session, SessionError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;

/// Idle instances kept for reuse; more are made under load and dropped afterwards.
pub const DEFAULT_MAX_IDLE_INSTANCES: usize = 64;

struct Instance {
    store: Store<InstanceState>,
    bindings: SessionStore,
    /// This instance's place among `max_instances`, given back when it is dropped.
    _slot: OwnedSemaphorePermit,
}

/// Counters of one [`Sessions`], for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Calls made.
    pub calls: AtomicU64,
    /// Calls that failed with anything but a validation error.
    pub errors: AtomicU64,
    /// Calls stopped at a CPU or memory limit.
    pub limit_hits: AtomicU64,
}

/// The session API over one Redis and one namespace. Cheap to clone; share it.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<Runtime>,
    redis: Backend,
    namespace: Arc<str>,
    clock: Option<SharedClock>,
    limits: Limits,
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
    /// One permit per instance that may exist.
    slots: Arc<Semaphore>,
    /// Signalled when an instance is returned to the pool.
    returned: Notify,
    metrics: Metrics,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("namespace", &self.inner.namespace)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Sessions`].
#[derive(Default)]
pub struct SessionsBuilder {
    runtime: Option<Arc<Runtime>>,
    namespace: Option<String>,
    clock: Option<SharedClock>,
    max_idle: Option<usize>,
    limits: Option<Limits>,
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

    /// Uses an existing Redis connection.
    pub fn build(self, redis: ConnectionManager) -> Result<Sessions, Error> {
        self.build_with(redis)
    }

    /// Uses a backend of the `redis` capability: a Redis connection or the embedded
    /// store (`Arc<MemoryStore>`, `MemoryStore`, `ConnectionManager` convert into it).
    pub fn build_with(self, store: impl Into<Backend>) -> Result<Sessions, Error> {
        let redis = store.into();
        let runtime = match self.runtime {
            Some(r) => r,
            None => Arc::new(Runtime::new(&RuntimeOptions::default()).map_err(Error::Component)?),
        };
        let limits = self.limits.unwrap_or_default();
        let max_instances = limits.max_instances.max(1);
        Ok(Sessions {
            inner: Arc::new(Inner {
                runtime,
                redis,
                namespace: self.namespace.unwrap_or_else(|| "rs".into()).into(),
                clock: self.clock,
                limits,
                idle: Mutex::new(Vec::new()),
                max_idle: self
                    .max_idle
                    .unwrap_or(DEFAULT_MAX_IDLE_INSTANCES)
                    .min(max_instances),
                slots: Arc::new(Semaphore::new(max_instances)),
                returned: Notify::new(),
                metrics: Metrics::default(),
            }),
        })
    }

    /// Connects to Redis at `url` (failing fast, naming the URL, if it is unreachable).
    pub async fn connect(self, url: &str) -> Result<Sessions, Error> {
        let redis = crate::redis::connect(url)
            .await
            .map_err(|e| Error::Connect {
                url: redact_url(url),
                message: e.to_string(),
            })?;
        self.build(redis)
    }
}

/// Calls one export on a pooled instance.
macro_rules! call {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        let mut instance = $self.checkout().await?;
        Self::begin(&mut instance);
        let result = instance
            .bindings
            .redis_sessions_store_sessions()
            .$method(&mut instance.store, $($arg),*)
            .await;
        $self.finish(instance, result)
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
        &self.inner.namespace
    }

    /// The counters of this store's calls.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Instances alive now (busy or idle).
    pub fn instances(&self) -> usize {
        self.inner.limits.max_instances.max(1) - self.inner.slots.available_permits()
    }

    /// An idle instance, else a new one if `max_instances` allows, else waits for either.
    async fn checkout(&self) -> Result<Instance, Error> {
        loop {
            let returned = self.inner.returned.notified();
            if let Some(instance) = self.lock_idle().pop() {
                return Ok(instance);
            }
            if let Ok(slot) = self.inner.slots.clone().try_acquire_owned() {
                return self.instantiate(slot).await;
            }
            returned.await;
        }
    }

    async fn instantiate(&self, slot: OwnedSemaphorePermit) -> Result<Instance, Error> {
        let inner = &self.inner;
        let state = InstanceState::new(
            inner.redis.clone(),
            inner.namespace.clone(),
            inner.clock.as_ref(),
            &inner.limits,
        );
        let mut store = Store::new(inner.runtime.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_callback(|mut ctx| Ok(ctx.data_mut().cpu.on_tick()));
        store.data_mut().cpu.start();
        store.set_epoch_deadline(1);
        let bindings = inner
            .runtime
            .pre()
            .instantiate_async(&mut store)
            .await
            .map_err(Error::Component)?;
        Ok(Instance {
            store,
            bindings,
            _slot: slot,
        })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        // A panic elsewhere cannot leave the Vec inconsistent: keep using it.
        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Readies an instance for a call: a fresh CPU budget.
    fn begin(instance: &mut Instance) {
        instance.store.data_mut().cpu.start();
        instance.store.set_epoch_deadline(1);
    }

    fn finish<T>(
        &self,
        mut instance: Instance,
        result: wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, Error> {
        let metrics = &self.inner.metrics;
        metrics.calls.fetch_add(1, Ordering::Relaxed);
        let result = match result {
            Err(trap) => {
                metrics.errors.fetch_add(1, Ordering::Relaxed);
                // The instance's state is unknown: it is dropped here, freeing its slot.
                let state = instance.store.data();
                let error = if state.cpu.hit {
                    let ms = state.cpu.limit().as_millis();
                    Error::Limit(format!("the call exceeded its CPU time limit of {ms} ms"))
                } else if state.memory.hit {
                    let mib = self.inner.limits.memory_bytes >> 20;
                    Error::Limit(format!("the call exceeded its memory limit of {mib} MiB"))
                } else {
                    Error::Component(trap)
                };
                if matches!(error, Error::Limit(_)) {
                    metrics.limit_hits.fetch_add(1, Ordering::Relaxed);
                }
                drop(instance);
                self.inner.returned.notify_one();
                return Err(error);
            }
            Ok(r) => r,
        };
        let unavailable = instance.store.data_mut().redis.unavailable.take();
        {
            let mut idle = self.lock_idle();
            if idle.len() < self.inner.max_idle {
                idle.push(instance);
            }
        }
        self.inner.returned.notify_one();
        let result = result.map_err(|e| match (e, unavailable) {
            (wit::Error::Store(_), Some(why)) => Error::Unavailable(why),
            (e, _) => Error::Session(session_error(e)),
        });
        if matches!(&result, Err(e) if !e.is_validation()) {
            metrics.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
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
        let d = d.map(data_input);
        call!(self.call_create(app, id, ip, ttl, d.as_ref(), no_resave))
    }

    /// Reads a session, recording the activity. `None` if missing or expired.
    pub async fn get(&self, app: &str, token: &str) -> Result<Option<Session>, Error> {
        call!(self.call_get(app, token)).map(|s| s.map(session))
    }

    /// Merges `d` into a session. `None` if missing or expired.
    pub async fn set(
        &self,
        app: &str,
        token: &str,
        d: &DataInput,
    ) -> Result<Option<Session>, Error> {
        let d = data_input(d);
        call!(self.call_set(app, token, &d)).map(|s| s.map(session))
    }

    /// Deletes a session: 1, or 0 if missing or expired.
    pub async fn kill(&self, app: &str, token: &str) -> Result<u64, Error> {
        call!(self.call_kill(app, token))
    }

    /// Distinct users of `app` active in the last `delta_time` seconds.
    pub async fn activity(&self, app: &str, delta_time: i64) -> Result<u64, Error> {
        call!(self.call_activity(app, delta_time))
    }

    /// The live sessions of user `id`.
    pub async fn soid(&self, app: &str, id: &str) -> Result<Vec<Session>, Error> {
        call!(self.call_soid(app, id)).map(sessions)
    }

    /// Deletes every session of user `id`; returns how many.
    pub async fn killsoid(&self, app: &str, id: &str) -> Result<u64, Error> {
        call!(self.call_killsoid(app, id))
    }

    /// The live sessions of `app` active in the last `delta_time` seconds, newest first.
    pub async fn soapp(&self, app: &str, delta_time: i64) -> Result<Vec<Session>, Error> {
        call!(self.call_soapp(app, delta_time)).map(sessions)
    }

    /// Deletes every session of `app`; returns how many.
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

fn session_error(e: wit::Error) -> SessionError {
    match e {
        wit::Error::MissingParameter(m) => SessionError::MissingParameter(m),
        wit::Error::InvalidFormat(m) => SessionError::InvalidFormat(m),
        wit::Error::InvalidValue(m) => SessionError::InvalidValue(m),
        wit::Error::Store(m) => SessionError::Store(m),
    }
}

fn value_in(v: &DataValue) -> wit::DataValue {
    match v {
        DataValue::Text(s) => wit::DataValue::Text(s.clone()),
        DataValue::Integer(n) => wit::DataValue::Integer(*n),
        DataValue::Float(f) => wit::DataValue::Float(*f),
        DataValue::Boolean(b) => wit::DataValue::Boolean(*b),
    }
}

fn value_out(v: wit::DataValue) -> DataValue {
    match v {
        wit::DataValue::Text(s) => DataValue::Text(s),
        wit::DataValue::Integer(n) => DataValue::Integer(n),
        wit::DataValue::Float(f) => DataValue::Float(f),
        wit::DataValue::Boolean(b) => DataValue::Boolean(b),
    }
}

fn data_input(d: &DataInput) -> Vec<(String, Option<wit::DataValue>)> {
    d.iter()
        .map(|(k, v)| (k.clone(), v.as_ref().map(value_in)))
        .collect()
}

fn session(s: wit::Session) -> Session {
    Session {
        id: s.id,
        r: s.r,
        w: s.w,
        ttl: s.ttl,
        idle: s.idle,
        ip: s.ip,
        no_resave: s.no_resave,
        d: s.d.into_iter().map(|(k, v)| (k, value_out(v))).collect(),
    }
}

fn sessions(list: Vec<wit::Session>) -> Vec<Session> {
    list.into_iter().map(session).collect()
}
