//! The Redis side of the `wasi:sockets` plug, kept free of bindings so it builds and tests
//! natively: the RESP2 [`codec`], the `redis://` URL [`settings`], the [`client`] that keeps
//! one connection and re-makes it after a failure, and its [`tcp`] transport over std's
//! `TcpStream` (which is `wasi:sockets` on `wasm32-wasip2`).
//!
//! ```
//! use redis_sessions_resp::{codec, Settings};
//!
//! let settings = Settings::parse("redis://app:s3cret@127.0.0.1:6380/2").unwrap();
//! assert_eq!(settings.address(), "127.0.0.1:6380");
//! let mut wire = Vec::new();
//! codec::encode(&[b"PING".to_vec()], &mut wire);
//! assert_eq!(wire, b"*1\r\n$4\r\nPING\r\n");
//! ```

pub mod client;
pub mod codec;
pub mod settings;
pub mod tcp;

pub use client::{Client, Connected, Connector, Transport};
pub use codec::{Command, Element, Reply};
pub use settings::Settings;

/// Why a call failed: the cases of the WIT `redis.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Redis answered with an error; the text starts with its code.
    #[error("{0}")]
    Server(String),
    /// Redis could not be reached, refused the login, or did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// The command was refused before sending (an empty command).
    #[error("{0}")]
    Denied(String),
    /// A reply the interface cannot carry.
    #[error("{0}")]
    UnsupportedReply(String),
}
