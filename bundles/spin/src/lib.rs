//! redis-sessions for Spin as one component: rest-sessions' HTTP API
//! (`redis-sessions-wasi-http`), the session logic (`redis-sessions-core`) and Spin's Redis
//! (`redis-sessions-spin-redis`) compiled into one core module. The composition of the same
//! three parts (`scripts/build-wasm`: front, session component, Spin plug) is three
//! components; Spin instantiates a component per request, and with one module a request
//! costs one memory and a few core instances and tables instead of three memories and a
//! dozen instances, so a burst stays within the limits of Spin's pooling allocator.
//!
//! `deploy/spin/spin.toml` runs it as `target/wasm/redis-sessions-spin.wasm`.

use redis_sessions_core::keys::Layout;
use redis_sessions_core::{Command, CommandError, Environment, OpError, Reply, SessionLogic};
use redis_sessions_resp::{self as resp, Capability as _};
use redis_sessions_rest::{self as rest, Call, Failure, Outcome};
use redis_sessions_wasi_http::{Guest, IncomingRequest, ResponseOutparam};
use std::cell::RefCell;
use std::sync::OnceLock;

// The clock and randomness the session logic asks for; the HTTP export and Spin's imports
// come with the bindings of redis-sessions-wasi-http and redis-sessions-spin-redis.
wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:bundle-spin@0.1.0;

        world bundle {
            import wasi:clocks/wall-clock@0.2.12;
            import wasi:random/random@0.2.12;
        }
    "#,
    path: "../../wit",
    generate_all,
});

use wasi::clocks::wall_clock;
use wasi::random::random;

thread_local! {
    /// The instance's Redis (components are single-threaded): its connection is kept
    /// while the instance lives.
    static REDIS: RefCell<redis_sessions_spin_redis::Capability> =
        RefCell::new(redis_sessions_spin_redis::capability());
}

fn element(e: resp::Element) -> Reply {
    match e {
        resp::Element::Nil => Reply::Nil,
        resp::Element::Status(s) => Reply::Status(s),
        resp::Element::Integer(n) => Reply::Integer(n),
        resp::Element::Bulk(b) => Reply::Bulk(b),
    }
}

fn reply(r: resp::Reply) -> Reply {
    match r {
        resp::Reply::Nil => Reply::Nil,
        resp::Reply::Status(s) => Reply::Status(s),
        resp::Reply::Integer(n) => Reply::Integer(n),
        resp::Reply::Bulk(b) => Reply::Bulk(b),
        resp::Reply::Array(items) => Reply::Array(items.into_iter().map(element).collect()),
    }
}

fn command_error(e: resp::Error) -> CommandError {
    match e {
        resp::Error::Server(m) => CommandError::Server(m),
        resp::Error::Unavailable(m) => CommandError::Unavailable(m),
        resp::Error::Denied(m) => CommandError::Denied(m),
        resp::Error::UnsupportedReply(m) => CommandError::UnsupportedReply(m),
    }
}

fn replies(
    call: impl FnOnce(
        &mut redis_sessions_spin_redis::Capability,
    ) -> Result<Vec<resp::Reply>, resp::Error>,
) -> Result<Vec<Reply>, CommandError> {
    let replies = REDIS.with_borrow_mut(call).map_err(command_error)?;
    Ok(replies.into_iter().map(reply).collect())
}

/// Redis, the wall clock and randomness, called directly: the session logic's
/// [`Environment`] in this component.
struct Direct;

impl Environment for Direct {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        let r = REDIS.with_borrow_mut(|redis| redis.execute(&command));
        r.map(reply).map_err(command_error)
    }

    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        replies(|redis| redis.pipeline(&commands))
    }

    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        replies(|redis| redis.transaction(&commands))
    }

    fn now(&self) -> i64 {
        i64::try_from(wall_clock::now().seconds).unwrap_or(i64::MAX)
    }

    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        redis_sessions_core::fill_from(buf, &random::get_random_bytes(buf.len() as u64))
    }
}

/// node's layout under the `namespace` variable, read once per instance. A variable that
/// cannot be read is Spin's failure: 503 with its text, and read again on the next request.
fn layout() -> Result<&'static Layout, OpError> {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    if let Some(layout) = LAYOUT.get() {
        return Ok(layout);
    }
    let namespace = redis_sessions_spin_redis::namespace().map_err(OpError::Unavailable)?;
    Ok(LAYOUT.get_or_init(|| Layout::node(&resp::namespace(namespace))))
}

fn execute(call: Call) -> Result<Outcome, Failure> {
    let mut logic = SessionLogic::with_layout(Direct, layout().map_err(rest::failure)?);
    rest::run(&mut logic, call).map_err(rest::failure)
}

struct Bundle;

impl Guest for Bundle {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        redis_sessions_wasi_http::handle(request, out, execute);
    }
}

redis_sessions_wasi_http::export!(Bundle with_types_in redis_sessions_wasi_http);
