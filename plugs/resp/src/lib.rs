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
mod error;
pub mod settings;
pub mod tcp;

pub use client::{Client, Connected, Connector, Transport};
pub use codec::{Command, Element, Reply};
pub use error::Error;
pub use settings::Settings;
