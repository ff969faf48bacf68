//! The Redis side of the plugs, kept free of bindings so it builds and tests natively: the
//! RESP2 [`codec`], the `redis://` URL [`settings`], the [`client`] of the `wasi:sockets` plug
//! that keeps one connection and re-makes it after a failure, and its [`tcp`] transport over
//! std's `TcpStream` (which is `wasi:sockets` on `wasm32-wasip2`); the [`lua`] scripts through
//! which the Spin plug gets exact replies; the [`Capability`] both export, through
//! [`export_redis!`].
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

mod capability;
pub mod client;
pub mod codec;
mod error;
pub mod lua;
pub mod settings;
pub mod tcp;

pub use capability::Capability;
pub use client::{Client, Connected, Connector, Transport};
pub use codec::{Command, Element, Reply, Value};
pub use error::Error;
pub use settings::Settings;

/// The namespace when the configuration sets none (node's default).
pub const DEFAULT_NAMESPACE: &str = "rs";

/// The namespace a plug serves from its configured value: [`DEFAULT_NAMESPACE`] when unset
/// or empty.
pub fn namespace(configured: Option<String>) -> String {
    configured
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

/// A plug's exports over a [`Capability`]: defines `$plug` and implements its generated
/// `redis::Guest` and `config::Guest` (the `exports::redis_sessions::redis` modules of the
/// plug's own wit-bindgen bindings, so the conversions are written here once, as a macro).
/// The instance keeps one `$capability`, made by `$init` at the first call; `$namespace` is
/// the configured namespace, `Result<Option<String>, String>`, read at every call.
///
/// ```ignore
/// redis_sessions_resp::export_redis! {
///     plug: Plug,
///     capability: Client<FromConfig> = Client::new(FromConfig),
///     namespace: config_value("namespace"),
/// }
/// export!(Plug);
/// ```
#[macro_export]
macro_rules! export_redis {
    (plug: $plug:ident, capability: $capability:ty = $init:expr, namespace: $namespace:expr $(,)?) => {
        struct $plug;

        mod capability_export {
            use super::exports::redis_sessions::redis::{config, redis};
            use super::*;
            use $crate::{Capability, Element, Error, Reply};

            thread_local! {
                /// The instance's capability (components are single-threaded).
                static CAPABILITY: std::cell::RefCell<$capability> =
                    std::cell::RefCell::new($init);
            }

            fn element(e: Element) -> redis::Element {
                match e {
                    Element::Nil => redis::Element::Nil,
                    Element::Status(s) => redis::Element::Status(s),
                    Element::Integer(n) => redis::Element::Integer(n),
                    Element::Bulk(b) => redis::Element::Bulk(b),
                }
            }

            fn reply(r: Reply) -> redis::Reply {
                match r {
                    Reply::Nil => redis::Reply::Nil,
                    Reply::Status(s) => redis::Reply::Status(s),
                    Reply::Integer(n) => redis::Reply::Integer(n),
                    Reply::Bulk(b) => redis::Reply::Bulk(b),
                    Reply::Array(items) => {
                        redis::Reply::Array(items.into_iter().map(element).collect())
                    }
                }
            }

            fn error(e: Error) -> redis::Error {
                match e {
                    Error::Server(m) => redis::Error::Server(m),
                    Error::Unavailable(m) => redis::Error::Unavailable(m),
                    Error::Denied(m) => redis::Error::Denied(m),
                    Error::UnsupportedReply(m) => redis::Error::UnsupportedReply(m),
                }
            }

            /// Runs `call` on the instance's capability; its replies converted.
            fn replies(
                call: impl FnOnce(&mut $capability) -> Result<Vec<Reply>, Error>,
            ) -> Result<Vec<redis::Reply>, redis::Error> {
                CAPABILITY
                    .with_borrow_mut(call)
                    .map(|r| r.into_iter().map(reply).collect())
                    .map_err(error)
            }

            impl redis::Guest for $plug {
                fn execute(command: redis::Command) -> Result<redis::Reply, redis::Error> {
                    CAPABILITY
                        .with_borrow_mut(|c| c.execute(&command))
                        .map(reply)
                        .map_err(error)
                }

                fn pipeline(
                    commands: Vec<redis::Command>,
                ) -> Result<Vec<redis::Reply>, redis::Error> {
                    replies(|c| c.pipeline(&commands))
                }

                fn transaction(
                    commands: Vec<redis::Command>,
                ) -> Result<Vec<redis::Reply>, redis::Error> {
                    replies(|c| c.transaction(&commands))
                }
            }

            impl config::Guest for $plug {
                /// The configured namespace, `rs` when unset or empty. A failing configuration
                /// is the runtime's fault, and the interface has no error to carry it: trap.
                fn namespace() -> String {
                    $crate::namespace($namespace.unwrap_or_else(|e| panic!("{e}")))
                }

                /// node's layout: a plug speaks to one Redis, never a cluster.
                fn shards() -> u16 {
                    0
                }
            }
        }
    };
}
