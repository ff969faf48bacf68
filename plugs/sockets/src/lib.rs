//! The `wasi:sockets` plug: a component that exports the `redis` capability (and the
//! `config` namespace) of `redis-sessions:redis`, speaking RESP2 to Redis over TCP itself.
//!
//! Composed with the session component (`wac plug session.wasm --plug this.wasm`), it
//! lets any runtime with `wasi:sockets` and `wasi:config` run redis-sessions without a
//! custom host. Configuration, read from `wasi:config/store`:
//! - `redis_url`: `redis://[[user]:password@]host[:port][/db]` (required);
//! - `namespace`: the key prefix, `rs` when unset or empty.
//!
//! The connection lives in the instance: made at the first call, kept while it works,
//! re-made after a failure (see [`redis_sessions_resp::client`] for when a request is and
//! is not retried). The plug has no command allowlist: confining commands is the host's or
//! Redis ACL's job. On wasmtime: `wasmtime run -S cli -S inherit-network -S config
//! -S config-var=redis_url=redis://127.0.0.1:6379 composed.wasm`.

#![expect(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export! contain unsafe"
)]

use redis_sessions_resp::{Client, Connected, Connector, Error, Settings, export_redis, tcp};
use std::net::TcpStream;

wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:plug-sockets;

        world plug {
            import wasi:config/store@0.2.0-rc.1;
            export redis-sessions:redis/redis@0.1.0;
            export redis-sessions:redis/config@0.1.0;
        }
    "#,
    path: ["../../wit", "wit/deps/config"],
    // The interfaces are other packages': generate them here.
    generate_all,
});

use wasi::config::store;

/// The configuration key holding the Redis URL.
const URL_KEY: &str = "redis_url";
/// The configuration key holding the namespace.
const NAMESPACE_KEY: &str = "namespace";

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
struct FromConfig;

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

export_redis! {
    plug: Plug,
    capability: Client<FromConfig> = Client::new(FromConfig),
    namespace: config_value(NAMESPACE_KEY),
}

export!(Plug);
