//! Wall clocks for the component's wasi:clocks: the system clock, or one a test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmtime_wasi::HostWallClock;

/// A wall clock shared by every instance of a [`crate::Sessions`].
pub type SharedClock = Arc<dyn HostWallClock + Send + Sync>;

/// A wall clock that stands still until told to move: expiry tests without sleeping.
#[derive(Debug, Default)]
pub struct ManualClock {
    unix_seconds: AtomicU64,
}

impl ManualClock {
    /// A clock showing `unix_seconds`.
    pub fn new(unix_seconds: u64) -> Arc<Self> {
        Arc::new(Self {
            unix_seconds: AtomicU64::new(unix_seconds),
        })
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: u64) {
        self.unix_seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, unix_seconds: u64) {
        self.unix_seconds.store(unix_seconds, Ordering::SeqCst);
    }

    /// The time it shows, in unix seconds.
    pub fn now(&self) -> u64 {
        self.unix_seconds.load(Ordering::SeqCst)
    }
}

impl HostWallClock for ManualClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::from_secs(ManualClock::now(self))
    }
}

/// Lets one shared clock serve every instance's `WasiCtx`, which takes its clock by value.
pub(crate) struct ClockHandle(pub SharedClock);

impl HostWallClock for ClockHandle {
    fn resolution(&self) -> Duration {
        self.0.resolution()
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}
