//! The `wasi:sockets` plug: a component that exports the `redis` capability (and the
//! `config` namespace) of `redis-sessions:redis`, speaking RESP2 to Redis over TCP itself
//! (`redis-sessions-sockets-redis`, which says how it is configured).
//!
//! Composed with the session component (`wac plug session.wasm --plug this.wasm`), it
//! lets any runtime with `wasi:sockets` and `wasi:config` run redis-sessions without a
//! custom host. On wasmtime: `wasmtime run -S cli -S inherit-network -S config
//! -S config-var=redis_url=redis://127.0.0.1:6379 composed.wasm`.

#![expect(
    unsafe_code,
    reason = "wit-bindgen's generated export bindings and export! contain unsafe"
)]

use redis_sessions_resp::export_redis;

// wasi:config comes with redis-sessions-sockets-redis' bindings.
wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:plug-sockets@0.1.0;

        world plug {
            export redis-sessions:redis/redis@0.1.0;
            export redis-sessions:redis/config@0.1.0;
        }
    "#,
    path: "../../wit",
    generate_all,
});

export_redis! {
    plug: Plug,
    capability: redis_sessions_sockets_redis::Capability = redis_sessions_sockets_redis::capability(),
    namespace: redis_sessions_sockets_redis::namespace(),
}

export!(Plug);
