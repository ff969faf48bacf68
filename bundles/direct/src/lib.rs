//! The session logic on a redis capability in the same component, for the bundles: a
//! bundle is a `wasi:http` handler (`redis-sessions-wasi-http`) whose calls run here, on the
//! capability of its runtime (`plugs/spin-redis`, `plugs/sockets-redis`), with no component
//! boundary between the parts. A request then costs one memory and three core instances of
//! the runtime's instance pool, instead of three memories and nine for the same parts
//! composed.

use redis_sessions_core::keys::Layout;
use redis_sessions_core::{Command, CommandError, Environment, OpError, Reply, SessionLogic};
use redis_sessions_resp::{self as resp, Capability};
use redis_sessions_rest::{self as rest, Call, Failure, Outcome};
use std::sync::OnceLock;

// The clock and randomness the session logic asks for.
wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:direct@0.1.0;

        world direct {
            import wasi:clocks/wall-clock@0.2.12;
            import wasi:random/random@0.2.12;
        }
    "#,
    path: "../../wit",
    generate_all,
});

use wasi::clocks::wall_clock;
use wasi::random::random;

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

/// A capability, the wall clock and randomness, called directly: the session logic's
/// [`Environment`] in a bundle.
struct Direct<'a, C>(&'a mut C);

impl<C: Capability> Environment for Direct<'_, C> {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        self.0.execute(&command).map(reply).map_err(command_error)
    }

    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let replies = self.0.pipeline(&commands).map_err(command_error)?;
        Ok(replies.into_iter().map(reply).collect())
    }

    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let replies = self.0.transaction(&commands).map_err(command_error)?;
        Ok(replies.into_iter().map(reply).collect())
    }

    fn now(&self) -> i64 {
        i64::try_from(wall_clock::now().seconds).unwrap_or(i64::MAX)
    }

    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        redis_sessions_core::fill_from(buf, &random::get_random_bytes(buf.len() as u64))
    }
}

/// node's layout under the configured namespace, read once per instance. A namespace that
/// cannot be read is the runtime's failure: 503 with its text, read again next time.
fn layout(
    namespace: impl FnOnce() -> Result<Option<String>, String>,
) -> Result<&'static Layout, OpError> {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    if let Some(layout) = LAYOUT.get() {
        return Ok(layout);
    }
    let namespace = namespace().map_err(OpError::Unavailable)?;
    Ok(LAYOUT.get_or_init(|| Layout::node(&resp::namespace(namespace))))
}

/// Runs `call` on `capability`, the namespace from `namespace` (read at the first call of
/// the instance): the `execute` a bundle gives `redis_sessions_wasi_http::handle`.
pub fn run(
    capability: &mut impl Capability,
    namespace: impl FnOnce() -> Result<Option<String>, String>,
    call: Call,
) -> Result<Outcome, Failure> {
    let layout = layout(namespace).map_err(rest::failure)?;
    let mut logic = SessionLogic::with_layout(Direct(capability), layout);
    rest::run(&mut logic, call).map_err(rest::failure)
}
