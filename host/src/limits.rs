//! Per-instance limits: linear memory (a `ResourceLimiter`) and guest CPU time per call
//! (epoch interruption), so one runaway call is stopped without touching any other.
//!
//! CPU time is wall time spent running the guest: an epoch ticker thread advances the
//! engine's epoch every [`EPOCH_TICK`]; at each tick the running call's budget is checked,
//! discounting time spent awaiting Redis in host calls, so a slow Redis is never mistaken
//! for a busy guest. A call still within budget yields to the async executor at each
//! tick, so a busy guest cannot hold a worker thread that other requests and tenants
//! need; the time it then waits to be resumed is not counted either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{Engine, ResourceLimiter, UpdateDeadline};

/// How often the epoch advances: the granularity of the CPU limit.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// What one tenant's instances may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory per instance, in bytes.
    pub memory_bytes: usize,
    /// Guest CPU time per call.
    pub cpu_time: Duration,
    /// Instances alive at once (busy or idle); calls beyond wait for one.
    pub max_instances: usize,
}

impl Default for Limits {
    /// Generous: the built-in component needs ~1.2 MiB and microseconds per call.
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            cpu_time: Duration::from_secs(1),
            max_instances: 256,
        }
    }
}

/// The memory side, in each instance's store.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    /// A grow was refused: the trap that follows is a limit hit, not a bug.
    pub(crate) hit: bool,
    /// The largest size a linear memory was allowed to grow to (memory never shrinks, so
    /// the pool drops an instance that grew big rather than keep it idle).
    pub(crate) grown: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            hit: false,
            grown: 0,
        }
    }
}

/// Table elements an instance may have; the session component needs a few dozen.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes;
        self.hit |= !allowed;
        if allowed {
            self.grown = self.grown.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Time the current call spent in host calls (awaiting Redis): written by the capability,
/// discounted by the CPU budget.
#[derive(Debug, Clone, Default)]
pub struct HostTime(Arc<AtomicU64>);

impl HostTime {
    pub fn add(&self, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }

    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// The CPU side: the current call's budget.
#[derive(Debug)]
pub(crate) struct CpuBudget {
    limit: Duration,
    started: Instant,
    in_host: HostTime,
    /// Nanoseconds spent yielded to the executor, written by the yield futures.
    yielded: Arc<AtomicU64>,
    /// The guest time at the last yield.
    guest_at_yield: Duration,
    /// The budget ran out: the trap that follows is a limit hit.
    pub(crate) hit: bool,
}

impl CpuBudget {
    pub(crate) fn new(limit: Duration, in_host: HostTime) -> Self {
        Self {
            limit,
            started: Instant::now(),
            in_host,
            yielded: Arc::default(),
            guest_at_yield: Duration::ZERO,
            hit: false,
        }
    }

    /// A call starts: a fresh budget.
    pub(crate) fn start(&mut self) {
        self.started = Instant::now();
        self.in_host.reset();
        self.yielded.store(0, Ordering::Relaxed);
        self.guest_at_yield = Duration::ZERO;
    }

    /// Checked at each epoch tick while the guest runs: `true` once over budget.
    fn exhausted_at(&mut self, now: Instant) -> bool {
        let guest = self.guest_time(now);
        self.hit |= guest > self.limit;
        self.hit
    }

    fn guest_time(&self, now: Instant) -> Duration {
        let yielded = Duration::from_nanos(self.yielded.load(Ordering::Relaxed));
        now.saturating_duration_since(self.started)
            .saturating_sub(self.in_host.get())
            .saturating_sub(yielded)
    }

    /// What to do at an epoch tick: stop the call once over budget, else let the executor
    /// run other tasks for a moment (that wait is not the guest's time) and go on.
    pub(crate) fn on_tick(&mut self) -> UpdateDeadline {
        let now = Instant::now();
        if self.exhausted_at(now) {
            return UpdateDeadline::Interrupt;
        }
        // The deadline counts from the epoch when this returns: after a wait longer than a
        // tick, the next check fires at once. Yielding again then would starve a call on a
        // busy executor (it would yield at every resume); it first runs a tick's worth.
        let guest = self.guest_time(now);
        if guest.saturating_sub(self.guest_at_yield) < EPOCH_TICK {
            return UpdateDeadline::Continue(1);
        }
        self.guest_at_yield = guest;
        let yielded = self.yielded.clone();
        UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                let start = Instant::now();
                tokio::task::yield_now().await;
                let waited = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                yielded.fetch_add(waited, Ordering::Relaxed);
            }),
        )
    }

    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until the engine is dropped.
pub(crate) fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        // Without a ticker no call is ever interrupted; say so loudly.
        tracing::error!("cannot start the epoch ticker, CPU limits are off: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_beyond_the_limit_is_refused_and_remembered() {
        let mut m = MemoryLimiter::new(1 << 20);
        assert!(m.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!m.hit);
        assert!(!m.memory_growing(1 << 20, (1 << 20) + 65536, None).unwrap());
        assert!(m.hit);
    }

    #[test]
    fn host_time_does_not_count_against_the_cpu_budget() {
        let ms = Duration::from_millis;
        let host = HostTime::default();
        let mut cpu = CpuBudget::new(ms(20), host.clone());
        cpu.start();
        let t0 = cpu.started;
        host.add(ms(30));
        assert!(!cpu.exhausted_at(t0 + ms(45)), "15 ms of guest time");
        assert!(cpu.exhausted_at(t0 + ms(55)), "25 ms of guest time");
        assert!(cpu.hit);
    }
}
