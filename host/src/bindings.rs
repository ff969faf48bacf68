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
});

pub use self::exports::redis_sessions::store::sessions;
pub use self::redis_sessions::store::{config, redis};
