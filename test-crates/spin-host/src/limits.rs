//! Spin's engine limits: the pooling instance allocator with the defaults of Spin main
//! (`crates/core/src/lib.rs` at 94a8fc8, no `SPIN_WASMTIME_*` variable set). They bound how
//! many requests a component serves at once: each request is an instance, and every core
//! instance, memory and table of it counts against the totals, so a component of three
//! composed components hits them long before one of a single module does (seen under real
//! Spin: 53 of a 512-connection burst answered 500 for the composition).

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Result};

const MB: u64 = 1 << 20;
const GB: u64 = 1 << 30;
/// `SPIN_MAX_INSTANCE_COUNT`'s default, from which Spin derives the totals.
const MAX_INSTANCES: u32 = 1_000;

/// An engine allocating instances as stock Spin does.
pub fn engine() -> Result<Engine> {
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(MAX_INSTANCES)
        .total_memories(MAX_INSTANCES)
        .total_tables(2 * MAX_INSTANCES)
        .total_stacks(MAX_INSTANCES)
        .total_core_instances(4 * MAX_INSTANCES)
        .table_elements(100_000)
        .max_component_instance_size(10 * MB as usize)
        .max_core_instance_size(10 * MB as usize)
        .max_core_instances_per_component(200)
        .max_tables_per_component(64)
        .max_memories_per_component(32)
        .max_tables_per_module(2)
        .max_memories_per_module(2)
        .max_memory_size(4 * GB as usize)
        .linear_memory_keep_resident(2 * MB as usize)
        .table_keep_resident((MB / 2) as usize);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config)
}
