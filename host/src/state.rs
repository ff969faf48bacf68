//! What one component instance's `Store` holds: WASI (clocks, random), the Redis
//! capability, and the instance's configuration.

use crate::bindings::config;
use crate::clocks::{ClockHandle, SharedClock};
use crate::limits::{CpuBudget, Limits, MemoryLimiter};
use crate::redis::{RedisCtx, Store as Backend};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) redis: RedisCtx,
    namespace: Arc<str>,
    pub(crate) memory: MemoryLimiter,
    pub(crate) cpu: CpuBudget,
}

impl InstanceState {
    /// No environment, arguments, files or stdio: the component gets clocks, random and
    /// the imports of its world, nothing else.
    pub(crate) fn new(
        store: Backend,
        namespace: Arc<str>,
        clock: Option<&SharedClock>,
        limits: &Limits,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        if let Some(clock) = clock {
            wasi.wall_clock(ClockHandle(clock.clone()));
        }
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            redis: RedisCtx::new(store),
            namespace,
            memory: MemoryLimiter::new(limits.memory_bytes),
            cpu: CpuBudget::new(limits.cpu_time),
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

impl config::Host for InstanceState {
    async fn namespace(&mut self) -> String {
        self.namespace.to_string()
    }
}
