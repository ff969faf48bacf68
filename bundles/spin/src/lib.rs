//! redis-sessions for Spin as one component: rest-sessions' HTTP API
//! (`redis-sessions-wasi-http`), the session logic (`redis-sessions-direct`) and Spin's Redis
//! (`redis-sessions-spin-redis`) compiled into one core module. The composition of the same
//! parts (`scripts/build-wasm`: front, session component, Spin plug) is three components;
//! Spin instantiates the component for every request, and one module keeps a burst within
//! the limits of Spin's instance pool.
//!
//! `deploy/spin/spin.toml` runs it as `target/wasm/redis-sessions-spin.wasm`.

use redis_sessions_rest::{Call, Failure, Outcome};
use redis_sessions_wasi_http::{Guest, IncomingRequest, ResponseOutparam};
use std::cell::RefCell;

thread_local! {
    /// The instance's Redis (components are single-threaded): its connection is kept
    /// while the instance lives.
    static REDIS: RefCell<redis_sessions_spin_redis::Capability> =
        RefCell::new(redis_sessions_spin_redis::capability());
}

fn execute(call: Call) -> Result<Outcome, Failure> {
    REDIS.with_borrow_mut(|redis| {
        redis_sessions_direct::run(redis, redis_sessions_spin_redis::namespace, call)
    })
}

struct Bundle;

impl Guest for Bundle {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        redis_sessions_wasi_http::handle(request, out, execute);
    }
}

redis_sessions_wasi_http::export!(Bundle with_types_in redis_sessions_wasi_http);
