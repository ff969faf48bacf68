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

use redis_sessions_resp::{Client, Connected, Connector, Element, Error, Reply, Settings, tcp};
use std::cell::RefCell;
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

use exports::redis_sessions::redis::{config, redis};
use wasi::config::store;

/// The configuration key holding the Redis URL.
const URL_KEY: &str = "redis_url";
/// The configuration key holding the namespace, and its default (node's).
const NAMESPACE_KEY: &str = "namespace";
const DEFAULT_NAMESPACE: &str = "rs";

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

thread_local! {
    /// The instance's client and its connection (components are single-threaded).
    static CLIENT: RefCell<Client<FromConfig>> = RefCell::new(Client::new(FromConfig));
}

fn with_client<T>(
    call: impl FnOnce(&mut Client<FromConfig>) -> Result<T, Error>,
) -> Result<T, redis::Error> {
    CLIENT.with_borrow_mut(call).map_err(|e| match e {
        Error::Server(m) => redis::Error::Server(m),
        Error::Unavailable(m) => redis::Error::Unavailable(m),
        Error::Denied(m) => redis::Error::Denied(m),
        Error::UnsupportedReply(m) => redis::Error::UnsupportedReply(m),
    })
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
        Reply::Array(items) => redis::Reply::Array(items.into_iter().map(element).collect()),
    }
}

struct Plug;

impl redis::Guest for Plug {
    fn execute(command: redis::Command) -> Result<redis::Reply, redis::Error> {
        with_client(|c| c.execute(&command)).map(reply)
    }

    fn pipeline(commands: Vec<redis::Command>) -> Result<Vec<redis::Reply>, redis::Error> {
        with_client(|c| c.pipeline(&commands)).map(|r| r.into_iter().map(reply).collect())
    }

    fn transaction(commands: Vec<redis::Command>) -> Result<Vec<redis::Reply>, redis::Error> {
        with_client(|c| c.transaction(&commands)).map(|r| r.into_iter().map(reply).collect())
    }
}

impl config::Guest for Plug {
    /// `namespace` from wasi:config, `rs` when unset or empty. A failing configuration
    /// store is the runtime's fault, and the interface has no error to carry it: trap.
    fn namespace() -> String {
        match config_value(NAMESPACE_KEY) {
            Ok(Some(ns)) if !ns.is_empty() => ns,
            Ok(_) => DEFAULT_NAMESPACE.to_string(),
            Err(e) => panic!("{e}"),
        }
    }
}

export!(Plug);
