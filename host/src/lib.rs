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
//! The feature `cache` keeps compiled components in wasmtime's cache on disk. The
//! `redis-sessions` command, the HTTP service and tenants are the application built on this
//! library, in the `redis-sessions-cli` package.

mod bindings;
pub mod capability;
pub mod clocks;
mod config;
mod error;
mod instance;
pub mod json;
pub mod limits;
mod pool;
pub mod runtime;
mod sessions;
mod types;

pub use capability::{RedisTimeouts, ReplicaAcks};
pub use clocks::{ManualClock, SharedClock};
pub use error::{ConfigError, Error, LimitExceeded, redact_url};
pub use limits::Limits;
pub use pool::{DEFAULT_MAX_IDLE_INSTANCES, Metrics, POOLED_MEMORY_BYTES};
pub use redis_sessions_memory::MemoryStore;
pub use runtime::{ComponentSource, Runtime, RuntimeOptions};
pub use sessions::{DEFAULT_CLUSTER_SHARDS, MAX_SHARDS, Sessions, SessionsBuilder, default_shards};
pub use types::{CreateOptions, Data, DataInput, DataValue, Session, SessionError};
