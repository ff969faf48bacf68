//! The session logic of redis-sessions, as plain Rust.
//!
//! Everything here runs natively (and is unit-tested natively); the WebAssembly component in
//! `guest/component` only wires it to the WIT imports and exports, and the host reuses the
//! types and the JSON conversions. The Redis layout is node redis-sessions' byte for byte:
//! see [`keys`] and the scripts in [`scripts`].
//!
//! ```
//! use redis_sessions_core::{validate, keys::Keys};
//! assert_eq!(validate::app("").unwrap_err().to_string(), "No app supplied");
//! assert_eq!(Keys::new("rs").session("myapp", "tok"), "rs:myapp:tok");
//! ```

mod app_wide;
pub mod data;
pub mod environment;
pub mod error;
pub mod keys;
pub mod ops;
pub mod page;
pub mod scripts;
pub mod session;
pub mod token;
pub mod validate;
mod wit;

pub use data::{Data, DataInput, DataValue};
pub use environment::{Command, CommandError, Environment, Reply, fill_from};
pub use error::OpError;
pub use ops::{CreateOptions, SessionLogic};
pub use page::Page;
pub use session::Session;
