//! The only `bindgen!`: host-side types and traits for the `session-store` world.
//!
//! The generated types are the host's public session types too (see [`crate::types`]):
//! the WIT is their one definition.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "session-store",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [PartialEq],
    // The world's WASI imports are wasmtime-wasi's, linked by `wasmtime_wasi::p2`.
    with: {
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

pub use self::exports::redis_sessions::sessions::sessions;
pub use self::redis_sessions::redis::{config, redis};
