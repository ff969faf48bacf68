//! The Spin plug: a component that exports the `redis` capability (and the `config`
//! namespace) of `redis-sessions:redis` over Spin's Redis and Spin variables
//! (`redis-sessions-spin-redis`, which says how). Composed with the session component and
//! the HTTP front (`scripts/build-wasm`), it shows the parts plugging together on Spin; the
//! Spin bundle (`bundles/spin`) is the same code as one component.

#![expect(
    unsafe_code,
    reason = "wit-bindgen's generated export bindings and export! contain unsafe"
)]

use redis_sessions_resp::export_redis;

// The capability's package is in the workspace's wit/deps/redis; Spin's imports come with
// redis-sessions-spin-redis' bindings.
wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:plug-spin@0.1.0;

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
    capability: redis_sessions_spin_redis::Capability = redis_sessions_spin_redis::capability(),
    namespace: redis_sessions_spin_redis::namespace(),
}

export!(Plug);
