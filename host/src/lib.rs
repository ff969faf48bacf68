//! redis-sessions for WebAssembly: the wasmtime host.
//!
//! The session logic runs in a WebAssembly component (`guest/`, embedded in this crate)
//! that speaks to Redis only through the `redis` capability this host provides. Sessions
//! are stored in node redis-sessions' exact Redis layout, so node, Elixir and wasm apps
//! share one store.
//!
//! ```no_run
//! # async fn demo() -> Result<(), redis_sessions::Error> {
//! let sessions = redis_sessions::Sessions::connect("redis://127.0.0.1:6379", "rs").await?;
//! let token = sessions.create("myapp", "user1", "127.0.0.1", Some(3600), None, false).await?;
//! let session = sessions.get("myapp", &token).await?.expect("just created");
//! assert_eq!(session.id, "user1");
//! # Ok(()) }
//! ```
//!
//! Features: `cache` (default) keeps compiled components in wasmtime's cache on disk;
//! `service` adds the HTTP service, tenants and `serve`'s lifecycle ([`service`]); `cli`
//! (default) the `redis-sessions` command. With `--no-default-features` the library
//! compiles none of clap, axum, hyper, toml or tracing-subscriber.

mod bindings;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clocks;
mod config;
mod error;
mod instance;
pub mod json;
pub mod limits;
mod pool;
pub mod redis;
pub mod runtime;
mod sessions;
mod types;

#[cfg(feature = "service")]
pub mod service;

pub use clocks::{ManualClock, SharedClock};
pub use error::{ConfigError, Error, LimitExceeded, redact_url};
pub use limits::Limits;
pub use pool::{DEFAULT_MAX_IDLE_INSTANCES, Metrics, POOLED_MEMORY_BYTES};
pub use redis::ReplicaAcks;
pub use redis_sessions_memory::MemoryStore;
pub use runtime::{ComponentSource, Runtime, RuntimeOptions};
pub use sessions::{DEFAULT_CLUSTER_SHARDS, MAX_SHARDS, Sessions, SessionsBuilder, default_shards};
pub use types::{CreateOptions, Data, DataInput, DataValue, Session, SessionError};
