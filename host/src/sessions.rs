//! [`Sessions`]: the session API, run by the component, as an async Rust library.
//!
//! Calls are served by a pool of component instances: a call takes an idle instance (or
//! instantiates one from the pre-linked component, ~50 µs) and puts it back afterwards, so
//! concurrent calls run in parallel and none pays for instantiation in the steady state.
//! An instance that traps is dropped, never reused.

use crate::bindings::{SessionStore, sessions as wit};
use crate::clocks::SharedClock;
use crate::error::{Error, redact_url};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::state::InstanceState;
use redis::aio::ConnectionManager;
use redis_sessions_core::{DataInput, DataValue, Session, SessionError};
use std::sync::{Arc, Mutex};
use wasmtime::Store;

/// Idle instances kept for reuse; more are made under load and dropped afterwards.
pub const DEFAULT_MAX_IDLE_INSTANCES: usize = 64;

struct Instance {
    store: Store<InstanceState>,
    bindings: SessionStore,
}

/// The session API over one Redis and one namespace. Cheap to clone; share it.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<Runtime>,
    redis: ConnectionManager,
    namespace: Arc<str>,
    clock: Option<SharedClock>,
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
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

    /// Uses an existing connection.
    pub fn build(self, redis: ConnectionManager) -> Result<Sessions, Error> {
        let runtime = match self.runtime {
            Some(r) => r,
            None => Arc::new(Runtime::new(&RuntimeOptions::default()).map_err(Error::Component)?),
        };
        Ok(Sessions {
            inner: Arc::new(Inner {
                runtime,
                redis,
                namespace: self.namespace.unwrap_or_else(|| "rs".into()).into(),
                clock: self.clock,
                idle: Mutex::new(Vec::new()),
                max_idle: self.max_idle.unwrap_or(DEFAULT_MAX_IDLE_INSTANCES),
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

    async fn checkout(&self) -> Result<Instance, Error> {
        let idle = self.lock_idle().pop();
        if let Some(instance) = idle {
            return Ok(instance);
        }
        let inner = &self.inner;
        let state = InstanceState::new(
            inner.redis.clone(),
            inner.namespace.clone(),
            inner.clock.as_ref(),
        );
        let mut store = Store::new(inner.runtime.engine(), state);
        let bindings = inner
            .runtime
            .pre()
            .instantiate_async(&mut store)
            .await
            .map_err(Error::Component)?;
        Ok(Instance { store, bindings })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        // A panic elsewhere cannot leave the Vec inconsistent: keep using it.
        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish<T>(
        &self,
        mut instance: Instance,
        result: wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, Error> {
        let result = match result {
            // A trap: the instance's state is unknown, so it is dropped here.
            Err(trap) => return Err(Error::Component(trap)),
            Ok(r) => r,
        };
        let unavailable = instance.store.data_mut().redis.unavailable.take();
        {
            let mut idle = self.lock_idle();
            if idle.len() < self.inner.max_idle {
                idle.push(instance);
            }
        }
        result.map_err(|e| match (e, unavailable) {
            (wit::Error::Store(_), Some(why)) => Error::Unavailable(why),
            (e, _) => Error::Session(session_error(e)),
        })
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
