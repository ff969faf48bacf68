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

mod bindings;
pub mod cli;
pub mod clocks;
pub mod embedded;
mod error;
pub mod http;
pub mod limits;
pub mod redis;
pub mod runtime;
mod sessions;
mod state;
pub mod tenants;

pub use clocks::{ManualClock, SharedClock};
pub use error::{Error, redact_url};
pub use limits::Limits;
pub use redis::Store;
pub use redis_sessions_core::{Data, DataInput, DataValue, Session, SessionError, data};
pub use redis_sessions_memory::MemoryStore;
pub use runtime::{ComponentSource, Runtime, RuntimeOptions};
pub use sessions::{DEFAULT_MAX_IDLE_INSTANCES, Sessions, SessionsBuilder};
