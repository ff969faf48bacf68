//! rest-sessions 2.0.1's HTTP API as plain Rust, written once for every front of the
//! session component: the wasmtime host's axum service and the `wasi:http` front component
//! (`fronts/http`) both route, parse and render through this crate, so they answer alike
//! byte for byte.
//!
//! The flow of one request:
//! 1. [`route`] matches the method and path against rest-sessions' table (unknown → 404
//!    `notFound`, `Cannot GET /nope`) and percent-decodes the path segments;
//! 2. when [`Route::needs_body`], the caller reads at most [`BODY_LIMIT`]` + 1` bytes;
//! 3. [`Route::call`] parses the query and the body into a [`Call`] (node's `d` checks and
//!    messages, `parseInt` numbers);
//! 4. the caller runs the call on its session store, mapping its result into an
//!    [`Outcome`] or a [`Failure`] ([`run`] runs it on a [`SessionLogic`](redis_sessions_core::SessionLogic)
//!    in the same process);
//! 5. [`answer`] renders it: a status and a body, always of type [`CONTENT_TYPE`].
//!
//! ```
//! use redis_sessions_rest::{Call, Outcome, answer, route};
//!
//! let route = route("DELETE", "/myapp/killall", None).unwrap();
//! assert_eq!(route.pattern(), "/{app}/killall");
//! let Call::Killall { app } = route.call(b"").unwrap() else { unreachable!() };
//! assert_eq!(app, "myapp");
//! let reply = answer(Ok(Outcome::Killed(3)));
//! assert_eq!((reply.status, reply.body.as_str()), (200, r#"{"kill":3}"#));
//! ```

mod answer;
mod data;
#[cfg(test)]
mod node_model;
mod query;
mod route;
mod run;

pub use answer::{Answer, ApiError, CONTENT_TYPE, Failure, Outcome, answer};
pub use data::input_from_json;
/// The session logic's types, in which calls and outcomes are given.
pub use redis_sessions_core::{Data, DataInput, DataValue, OpError, Session};
pub use route::{BODY_LIMIT, Call, Create, Route, d_error_after, not_found, route};
pub use run::{failure, run};
