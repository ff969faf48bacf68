//! The `redis` capability of `redis-sessions:redis` over `wasi:sockets`, configured through
//! `wasi:config`, as a library: the sockets plug exports it as a component
//! (`plugs/sockets`), the `wasi:http` bundle runs the session logic on it in the same
//! component (`bundles/sockets`). Configuration keys:
//! - `redis_url`: `redis://[[user]:password@]host[:port][/db]` (required);
//! - `namespace`: the key prefix, `rs` when unset or empty.
//!
//! The connection lives in the instance: made at the first call, kept while it works,
//! re-made after a failure (see [`redis_sessions_resp::client`] for when a request is and
//! is not retried). There is no command allowlist: confining commands is the host's or
//! Redis ACL's job.

use redis_sessions_resp::{Client, Connected, Connector, Error, Settings, tcp};
use std::net::TcpStream;

wit_bindgen::generate!({
    world: "redis-sessions:sockets-redis/imports",
    path: "wit",
    // The interface is WASI's: generate it here.
    generate_all,
});

use wasi::config::store;

/// The configuration key holding the Redis URL.
const URL_KEY: &str = "redis_url";
/// The configuration key holding the namespace.
const NAMESPACE_KEY: &str = "namespace";

/// The capability: RESP over a socket, connected from the configuration.
pub type Capability = Client<FromConfig>;

/// A new capability; it connects at its first call.
pub fn capability() -> Capability {
    Client::new(FromConfig)
}

/// The configured namespace, `None` when the key is not set.
pub fn namespace() -> Result<Option<String>, String> {
    config_value(NAMESPACE_KEY)
}

fn config_value(key: &str) -> Result<Option<String>, String> {
    store::get(key).map_err(|e| {
        let why = match e {
            store::Error::Upstream(m) | store::Error::Io(m) => m,
        };
        format!("cannot read wasi:config key `{key}`: {why}")
    })
}

/// Reads `redis_url` at every connection, so a corrected configuration is picked up
/// without a new instance.
#[derive(Debug)]
pub struct FromConfig;

impl Connector for FromConfig {
    type Stream = TcpStream;

    fn connect(&mut self) -> Result<Connected<TcpStream>, Error> {
        let url = config_value(URL_KEY)
            .map_err(Error::Unavailable)?
            .ok_or_else(|| Error::Unavailable(format!("wasi:config key `{URL_KEY}` is not set")))?;
        let settings = Settings::parse(&url).map_err(Error::Unavailable)?;
        let stream = tcp::connect(&settings)?;
        Ok(Connected { stream, settings })
    }
}
