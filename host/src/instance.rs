//! What one component instance's `Store` holds: WASI (clocks, random), the `redis` and
//! `config` capabilities' contexts, and the instance's limits.

use crate::capability::{Backend, RedisCtx};
use crate::clocks::{ClockHandle, SharedClock};
use crate::config::ConfigCtx;
use crate::error::LimitExceeded;
use crate::limits::{CallBudget, CpuBudget, HostTime, Limits, MemoryLimiter, SharedMemory};
use std::sync::Arc;
use wasmtime::UpdateDeadline;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) redis: RedisCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) memory: MemoryLimiter,
    pub(crate) cpu: CpuBudget,
    memory_limit: usize,
}

impl InstanceState {
    /// No environment, arguments, files or stdio: the component gets clocks, random and
    /// the imports of its world, nothing else.
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        config: ConfigCtx,
        clock: Option<&SharedClock>,
        limits: &Limits,
        shared_memory: Option<SharedMemory>,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        if let Some(clock) = clock {
            wasi.wall_clock(ClockHandle(clock.clone()));
        }
        let host_time = HostTime::default();
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            redis: RedisCtx::new(backend, host_time.clone(), CallBudget::new(limits)),
            config,
            memory: MemoryLimiter::new(limits.memory_bytes, shared_memory),
            cpu: CpuBudget::new(limits.cpu_time, host_time),
            memory_limit: limits.memory_bytes,
        }
    }

    /// A call starts: a fresh CPU budget, deadline and command budget.
    pub(crate) fn start_call(&mut self) {
        self.cpu.start();
        self.redis.budget.start();
    }

    /// At each epoch tick while the guest runs: past the deadline the call stops, else the
    /// CPU budget decides.
    pub(crate) fn on_tick(&mut self) -> UpdateDeadline {
        if self.redis.budget.remaining().is_some_and(|d| d.is_zero()) {
            return UpdateDeadline::Interrupt;
        }
        self.cpu.on_tick()
    }

    /// The limit the current call hit, if any: a trap or an error that follows is that.
    pub(crate) fn limit_hit(&self) -> Option<LimitExceeded> {
        if let Some(hit) = self.redis.budget.hit {
            Some(hit)
        } else if self.cpu.hit {
            Some(LimitExceeded::CpuTime(self.cpu.limit()))
        } else if self.memory.shared_hit {
            Some(LimitExceeded::TotalMemory(
                self.memory.shared_max().unwrap_or_default(),
            ))
        } else if self.memory.hit {
            Some(LimitExceeded::Memory(self.memory_limit))
        } else {
            None
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
