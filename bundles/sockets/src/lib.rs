//! redis-sessions for `wasi:http` runtimes (`wasmtime serve`) as one component:
//! rest-sessions' HTTP API (`redis-sessions-wasi-http`), the session logic
//! (`redis-sessions-direct`) and Redis over `wasi:sockets`, configured through `wasi:config`
//! (`redis-sessions-sockets-redis`), compiled into one core module. The composition of the
//! same parts (front, session component, sockets plug) is three components; one module
//! costs a third of the instances, memories and tables of a runtime's instance pool per
//! request.
//!
//! `wasmtime serve -S cli -S inherit-network -S config -S config-var=redis_url=URL
//! target/wasm/redis-sessions-http.wasm`.

use redis_sessions_rest::{Call, Failure, Outcome};
use redis_sessions_wasi_http::{Guest, IncomingRequest, ResponseOutparam};
use std::cell::RefCell;

thread_local! {
    /// The instance's Redis (components are single-threaded): its connection is kept
    /// while the instance lives.
    static REDIS: RefCell<redis_sessions_sockets_redis::Capability> =
        RefCell::new(redis_sessions_sockets_redis::capability());
}

fn execute(call: Call) -> Result<Outcome, Failure> {
    REDIS.with_borrow_mut(|redis| {
        redis_sessions_direct::run(redis, redis_sessions_sockets_redis::namespace, call)
    })
}

struct Bundle;

impl Guest for Bundle {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        redis_sessions_wasi_http::handle(request, out, execute);
    }
}

redis_sessions_wasi_http::export!(Bundle with_types_in redis_sessions_wasi_http);
