//! The only `bindgen!`: host-side types and traits for the `session-store` world.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "session-store",
    imports: { default: async },
    exports: { default: async },
});

pub use self::exports::redis_sessions::store::sessions;
pub use self::redis_sessions::store::{config, redis};
