//! The `redis-sessions` application on top of the [`redis_sessions`] library: the command
//! line ([`cli`]), the HTTP service, tenants, the embedded store's data file and `serve`'s
//! lifecycle ([`service`]).
//!
//! An embedder wants the library alone; this crate is for the binary, its tests, and apps
//! that mount the HTTP routes in their own axum router ([`service::http::router`]).

pub mod cli;
pub mod service;
