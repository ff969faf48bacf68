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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// Wall-clock time per call, guest and Redis together; `None`: no deadline.
    pub deadline: Option<Duration>,
    /// Redis commands per call (each command of a pipeline or transaction counts);
    /// `None`: no budget.
    pub max_commands: Option<u64>,
    /// Linear memory of all the instances together, in bytes; `None`: only the
    /// per-instance limit (times `max_instances`) bounds it.
    pub total_memory_bytes: Option<usize>,
}

impl Default for Limits {
    /// Generous: the built-in component needs ~1.2 MiB and microseconds per call.
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            cpu_time: Duration::from_secs(1),
            max_instances: 256,
            deadline: None,
            max_commands: None,
            total_memory_bytes: None,
        }
    }
}

impl Limits {
    /// What a tenant gets unless its `[tenant.limits]` says otherwise: the defaults plus a
    /// deadline and a command budget, so no call can hold Redis or the host for long.
    pub fn tenant_default() -> Self {
        Self {
            deadline: Some(Duration::from_secs(5)),
            max_commands: Some(1000),
            total_memory_bytes: Some(1 << 30),
            ..Self::default()
        }
    }
}

/// The bytes of linear memory all of one pool's instances have, against a cap.
#[derive(Debug, Clone)]
pub(crate) struct SharedMemory {
    used: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl SharedMemory {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            used: Arc::default(),
            max_bytes,
        }
    }

    /// Takes `bytes` if they fit under the cap.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&u| u <= self.max_bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// The memory side, in each instance's store: the limit is on the sum of every linear
/// memory the instance has (a component may define several), and on what all instances
/// of the pool have together.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    /// Bytes of all the instance's memories so far (memory never shrinks, so the pool drops
    /// an instance that grew big rather than keep it idle).
    pub(crate) total: usize,
    shared: Option<SharedMemory>,
    /// A grow was refused: the trap that follows is a limit hit, not a bug.
    pub(crate) hit: bool,
    /// ...and it was refused by the pool's cap.
    pub(crate) shared_hit: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: usize, shared: Option<SharedMemory>) -> Self {
        Self {
            max_bytes,
            total: 0,
            shared,
            hit: false,
            shared_hit: false,
        }
    }

    /// The pool's cap, if any.
    pub(crate) fn shared_max(&self) -> Option<usize> {
        self.shared.as_ref().map(|s| s.max_bytes)
    }
}

/// A dropped instance's memory goes back to its pool.
impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.give_back(self.total);
        }
    }
}

/// Table elements an instance may have; the session component needs a few dozen.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A new memory arrives with current = 0; a grow adds what it adds.
        let grow = desired.saturating_sub(current);
        let total = self.total.saturating_add(grow);
        let mut allowed = total <= self.max_bytes;
        if allowed && let Some(shared) = &self.shared {
            allowed = shared.take(grow);
            self.shared_hit |= !allowed;
        }
        if allowed {
            self.total = total;
        }
        self.hit |= !allowed;
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
pub(crate) struct HostTime(Arc<AtomicU64>);

impl HostTime {
    pub(crate) fn add(&self, spent: Duration) {
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

/// The current call's wall-clock deadline and Redis command budget. The capability counts
/// commands and bounds its waits by the deadline; the epoch callback checks the deadline
/// while the guest runs. Once hit, every further command of the call is refused without
/// reaching Redis, and the call ends as `limitExceeded` whatever the component returns.
#[derive(Debug)]
pub(crate) struct CallBudget {
    deadline: Option<Duration>,
    max_commands: Option<u64>,
    started: Instant,
    commands: u64,
    pub(crate) hit: Option<crate::error::LimitExceeded>,
}

impl CallBudget {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            deadline: limits.deadline,
            max_commands: limits.max_commands,
            started: Instant::now(),
            commands: 0,
            hit: None,
        }
    }

    /// A call starts: a fresh deadline and budget.
    pub(crate) fn start(&mut self) {
        self.started = Instant::now();
        self.commands = 0;
        self.hit = None;
    }

    /// Time left before the deadline (`None`: no deadline); records a hit at zero.
    pub(crate) fn remaining(&mut self) -> Option<Duration> {
        let deadline = self.deadline?;
        let left = deadline.saturating_sub(self.started.elapsed());
        if left.is_zero() {
            self.hit
                .get_or_insert(crate::error::LimitExceeded::Deadline(deadline));
        }
        Some(left)
    }

    /// The deadline passed while awaiting Redis.
    pub(crate) fn expire(&mut self) {
        if let Some(deadline) = self.deadline {
            self.hit
                .get_or_insert(crate::error::LimitExceeded::Deadline(deadline));
        }
    }

    /// Takes `n` commands from the budget; `false` (and a hit) when they do not fit or the
    /// call is already over a limit.
    pub(crate) fn take(&mut self, n: usize) -> bool {
        if self.hit.is_some() || self.remaining().is_some_and(|d| d.is_zero()) {
            return false;
        }
        self.commands = self
            .commands
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if let Some(max) = self.max_commands
            && self.commands > max
        {
            self.hit = Some(crate::error::LimitExceeded::Commands(max));
            return false;
        }
        true
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
        let mut m = MemoryLimiter::new(1 << 20, None);
        assert!(m.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!m.hit);
        assert!(!m.memory_growing(1 << 20, (1 << 20) + 65536, None).unwrap());
        assert!(m.hit);
    }

    #[test]
    fn instances_share_their_pools_memory_cap() {
        let shared = SharedMemory::new(1 << 20);
        let mut a = MemoryLimiter::new(1 << 20, Some(shared.clone()));
        let mut b = MemoryLimiter::new(1 << 20, Some(shared.clone()));
        assert!(a.memory_growing(0, 768 << 10, None).unwrap());
        assert!(!b.memory_growing(0, 512 << 10, None).unwrap());
        assert!(b.hit && b.shared_hit);
        drop(a);
        assert!(
            b.memory_growing(0, 512 << 10, None).unwrap(),
            "a's memory came back"
        );
    }

    #[test]
    fn the_memory_limit_counts_every_memory_of_an_instance() {
        let mut m = MemoryLimiter::new(1 << 20, None);
        assert!(m.memory_growing(0, 600 << 10, None).unwrap());
        assert!(
            !m.memory_growing(0, 600 << 10, None).unwrap(),
            "a second memory"
        );
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

    #[test]
    fn a_call_has_a_command_budget_and_a_deadline() {
        let mut budget = CallBudget::new(&Limits {
            max_commands: Some(10),
            deadline: Some(Duration::from_secs(60)),
            ..Limits::default()
        });
        budget.start();
        assert!(budget.take(1));
        assert!(budget.take(9), "a pipeline counts its commands");
        assert!(!budget.take(1));
        assert_eq!(budget.hit, Some(crate::error::LimitExceeded::Commands(10)));
        assert!(!budget.take(1), "refused for the rest of the call");
        budget.start();
        assert!(budget.take(5));

        let mut budget = CallBudget::new(&Limits {
            deadline: Some(Duration::ZERO),
            ..Limits::default()
        });
        budget.start();
        assert!(!budget.take(1));
        assert_eq!(
            budget.hit,
            Some(crate::error::LimitExceeded::Deadline(Duration::ZERO))
        );
    }
}
