//! What one component instance's `Store` holds: WASI (clocks, random), the `redis` and
//! `config` capabilities' contexts, and the instance's limits.

use crate::clocks::{ClockHandle, SharedClock};
use crate::config::ConfigCtx;
use crate::limits::{CpuBudget, HostTime, Limits, MemoryLimiter};
use crate::redis::{Backend, RedisCtx};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) redis: RedisCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) memory: MemoryLimiter,
    pub(crate) cpu: CpuBudget,
}

impl InstanceState {
    /// No environment, arguments, files or stdio: the component gets clocks, random and
    /// the imports of its world, nothing else.
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        namespace: Arc<str>,
        clock: Option<&SharedClock>,
        limits: &Limits,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        if let Some(clock) = clock {
            wasi.wall_clock(ClockHandle(clock.clone()));
        }
        let host_time = HostTime::default();
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            redis: RedisCtx::new(backend, host_time.clone()),
            config: ConfigCtx::new(namespace),
            memory: MemoryLimiter::new(limits.memory_bytes),
            cpu: CpuBudget::new(limits.cpu_time, host_time),
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
