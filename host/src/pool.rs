//! The pool of component instances behind a [`crate::Sessions`].
//!
//! A call takes an idle instance (or instantiates one from the pre-linked component,
//! ~50 µs) and puts it back afterwards, so concurrent calls run in parallel and none pays
//! for instantiation in the steady state. At most [`Limits::max_instances`] exist at once;
//! a call beyond waits for one. Each call runs under the memory and CPU limits; an instance
//! that traps or hits a limit, or whose call was dropped mid-way, is dropped, never reused,
//! and its slot goes to the next waiting call; so is one whose memory grew past
//! [`POOLED_MEMORY_BYTES`], since a grown linear memory is never given back.

use crate::bindings::{SessionStore, sessions as wit};
use crate::capability::Backend;
use crate::clocks::SharedClock;
use crate::config::ConfigCtx;
use crate::error::Error;
use crate::instance::InstanceState;
use crate::limits::{Limits, SharedMemory};
use crate::runtime::Runtime;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;

/// Idle instances kept for reuse; more are made under load and dropped afterwards.
pub const DEFAULT_MAX_IDLE_INSTANCES: usize = 64;

/// An instance whose linear memory grew beyond this is dropped after its call instead of
/// going back to the pool: wasm memory never shrinks, so 64 idle instances that once served
/// a big call would keep gigabytes. A fresh instance uses about 1 MiB and the ordinary calls
/// (and a page of a listing) stay far below.
pub const POOLED_MEMORY_BYTES: usize = 8 << 20;

/// Counters of one [`crate::Sessions`], for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Calls made.
    pub calls: AtomicU64,
    /// Calls that failed with anything but a validation error.
    pub errors: AtomicU64,
    /// Calls stopped at a limit (CPU, memory, deadline, command budget).
    pub limit_hits: AtomicU64,
}

pub(crate) struct Instance {
    pub(crate) store: Store<InstanceState>,
    pub(crate) bindings: SessionStore,
    /// This instance's place among `max_instances`, given back when it is dropped.
    _slot: OwnedSemaphorePermit,
}

/// What every instance of one pool shares.
pub(crate) struct Pool {
    pub(crate) runtime: Arc<Runtime>,
    backend: Arc<dyn Backend>,
    pub(crate) config: ConfigCtx,
    clock: Option<SharedClock>,
    limits: Limits,
    /// The instances' memory together, when `limits` caps it.
    memory: Option<SharedMemory>,
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
    /// One permit per instance that may exist.
    slots: Arc<Semaphore>,
    /// Signalled when an instance is returned to the pool.
    returned: Notify,
    pub(crate) metrics: Metrics,
}

impl Pool {
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        backend: Arc<dyn Backend>,
        config: ConfigCtx,
        clock: Option<SharedClock>,
        limits: Limits,
        max_idle: usize,
    ) -> Self {
        let max_instances = limits.max_instances.max(1);
        Self {
            runtime,
            backend,
            config,
            clock,
            memory: limits.total_memory_bytes.map(SharedMemory::new),
            limits,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.min(max_instances),
            slots: Arc::new(Semaphore::new(max_instances)),
            returned: Notify::new(),
            metrics: Metrics::default(),
        }
    }

    /// Instances alive now (busy or idle).
    pub(crate) fn instances(&self) -> usize {
        self.limits.max_instances.max(1) - self.slots.available_permits()
    }

    /// An idle instance, else a new one if `max_instances` allows, else waits for either.
    /// The instance is ready for a call: a fresh CPU budget.
    pub(crate) async fn checkout(&self) -> Result<Instance, Error> {
        let mut instance = loop {
            let returned = self.returned.notified();
            if let Some(instance) = self.lock_idle().pop() {
                break instance;
            }
            // Waits for a returned instance or a free slot: a call dropped mid-way (its
            // client gave up) drops its instance, which frees a slot without returning.
            tokio::select! {
                slot = self.slots.clone().acquire_owned() => {
                    // The semaphore is never closed.
                    let Ok(slot) = slot else { continue };
                    break self.instantiate(slot).await?;
                }
                () = returned => {}
            }
        };
        instance.store.data_mut().start_call();
        instance.store.set_epoch_deadline(1);
        Ok(instance)
    }

    async fn instantiate(&self, slot: OwnedSemaphorePermit) -> Result<Instance, Error> {
        let state = InstanceState::new(
            self.backend.clone(),
            self.config.clone(),
            self.clock.as_ref(),
            &self.limits,
            self.memory.clone(),
        );
        let mut store = Store::new(self.runtime.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_callback(|mut ctx| Ok(ctx.data_mut().on_tick()));
        store.data_mut().start_call();
        store.set_epoch_deadline(1);
        let bindings = self
            .runtime
            .pre()
            .instantiate_async(&mut store)
            .await
            .map_err(Error::component)?;
        Ok(Instance {
            store,
            bindings,
            _slot: slot,
        })
    }

    fn lock_idle(&self) -> MutexGuard<'_, Vec<Instance>> {
        // A panic elsewhere cannot leave the Vec inconsistent: keep using it.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends a call: a healthy instance goes back to the pool, one that trapped is dropped.
    pub(crate) fn finish<T>(
        &self,
        instance: Instance,
        result: wasmtime::Result<Result<T, wit::Error>>,
    ) -> Result<T, Error> {
        let metrics = &self.metrics;
        metrics.calls.fetch_add(1, Ordering::Relaxed);
        // A call over a limit ends as that limit's error, whatever the component made of
        // the refusals it got; its instance is dropped like a trapped one.
        let hit = instance.store.data().limit_hit();
        let result = match (result, hit) {
            (_, Some(hit)) => {
                metrics.errors.fetch_add(1, Ordering::Relaxed);
                metrics.limit_hits.fetch_add(1, Ordering::Relaxed);
                drop(instance);
                self.returned.notify_one();
                return Err(Error::Limit(hit));
            }
            (Err(trap), None) => {
                metrics.errors.fetch_add(1, Ordering::Relaxed);
                // The instance's state is unknown: it is dropped here, freeing its slot.
                drop(instance);
                self.returned.notify_one();
                return Err(Error::component(trap));
            }
            (Ok(r), None) => r,
        };
        if instance.store.data().memory.total <= POOLED_MEMORY_BYTES {
            let mut idle = self.lock_idle();
            if idle.len() < self.max_idle {
                idle.push(instance);
            }
        }
        self.returned.notify_one();
        let result = result.map_err(Error::from);
        if matches!(&result, Err(e) if !e.is_validation()) {
            metrics.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}
