//! `fermyon:spin/redis@2.0.0` and `fermyon:spin/variables@2.0.0` as Spin 3 serves them
//! (Spin's `crates/factor-outbound-redis/src/host.rs` and `crates/factor-variables`).

use redis::{AsyncConnectionConfig, Value};
use std::collections::HashMap;
use url::Url;
use wasmtime::component::{HasData, Resource, ResourceTable};

wasmtime::component::bindgen!({
    inline: r#"
        package redis-sessions:spin-host;

        world spin {
            import fermyon:spin/redis@2.0.0;
            import fermyon:spin/variables@2.0.0;
        }
    "#,
    path: "../../plugs/spin-redis/wit/deps/spin",
    world: "redis-sessions:spin-host/spin",
    imports: { default: async },
    with: { "fermyon:spin/redis.connection": Connection },
    additional_derives: [PartialEq],
});

use fermyon::spin::{redis as spin_redis, variables};
use spin_redis::{Error, RedisParameter, RedisResult};

/// Which Spin's reply conversion to apply: Spin 3.5 changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Semantics {
    /// Spin up to 3.4 (redis-rs 0.25): nil and `OK` elements are dropped.
    #[value(name = "3.4")]
    V3_4,
    /// Spin 3.5 and later: nil is kept, `OK` is `status("OK")`.
    #[value(name = "3.5")]
    V3_5,
}

/// What the command line configured for every instance.
#[derive(Debug)]
pub struct Config {
    pub semantics: Semantics,
    /// `allowed_outbound_hosts` entries: `redis://host:port`, `*` for any host or port.
    pub allowed: Vec<String>,
    pub variables: HashMap<String, String>,
}

/// An open connection: the `connection` resource.
pub struct Connection(redis::aio::MultiplexedConnection);

fn other(e: impl std::fmt::Display) -> Error {
    Error::Other(e.to_string())
}

/// Spin's conversion of a reply into `execute`'s flat list: arrays flattened at any depth
/// (empty ones vanish); up to 3.4 nil and `OK` dropped.
pub fn flatten(
    value: Value,
    semantics: Semantics,
    out: &mut Vec<RedisResult>,
) -> Result<(), Error> {
    let keep = semantics == Semantics::V3_5;
    match value {
        Value::Nil if keep => out.push(RedisResult::Nil),
        Value::Okay if keep => out.push(RedisResult::Status("OK".into())),
        Value::Nil | Value::Okay => {}
        Value::SimpleString(s) if s == "OK" && !keep => {}
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Int(n) => out.push(RedisResult::Int64(n)),
        Value::BulkString(b) => out.push(RedisResult::Binary(b)),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(item, semantics, out)?;
            }
        }
        Value::ServerError(e) => return Err(other(redis::RedisError::from(e))),
        other_type => {
            return Err(Error::Other(format!(
                "Could not convert Redis response: {other_type:?} is not supported"
            )));
        }
    }
    Ok(())
}

/// Spin's `allowed_outbound_hosts` check at `open`, for `redis://` entries.
fn allowed(address: &str, allowed: &[String]) -> bool {
    let Ok(url) = Url::parse(address) else {
        return false;
    };
    let port = url.port().unwrap_or(6379).to_string();
    let host = url.host_str().unwrap_or_default();
    allowed.iter().any(|entry| {
        let Some((scheme, rest)) = entry.split_once("://") else {
            return false;
        };
        let (h, p) = rest.rsplit_once(':').unwrap_or((rest, "6379"));
        scheme == url.scheme() && (h == "*" || h == host) && (p == "*" || p == port)
    })
}

/// What the host implementations see of a request's store.
pub struct SpinCtx<'a> {
    pub config: &'a Config,
    pub table: &'a mut ResourceTable,
}

/// [`SpinCtx`] as the linker's view of the store.
pub struct HasSpin;

impl HasData for HasSpin {
    type Data<'a> = SpinCtx<'a>;
}

impl spin_redis::Host for SpinCtx<'_> {}

impl spin_redis::HostConnection for SpinCtx<'_> {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        if !allowed(&address, &self.config.allowed) {
            return Err(Error::InvalidAddress);
        }
        let client = redis::Client::open(address.as_str()).map_err(|_| Error::InvalidAddress)?;
        // Spin's redis-rs (0.32) waits for a connection and for replies without a limit;
        // this one's (1.x) gives up after 1 s and 500 ms by default, and a burst on a busy
        // machine got 503s from that alone.
        let unbounded = AsyncConnectionConfig::new()
            .set_connection_timeout(None)
            .set_response_timeout(None);
        let connection = client
            .get_multiplexed_async_connection_with_config(&unbounded)
            .await
            .map_err(other)?;
        self.table
            .push(Connection(connection))
            .map_err(|_| Error::TooManyConnections)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let semantics = self.config.semantics;
        let mut conn = self.table.get(&connection).map_err(other)?.0.clone();
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => cmd.arg(n),
                RedisParameter::Binary(b) => cmd.arg(b),
            };
        }
        let value: Value = cmd.query_async(&mut conn).await.map_err(other)?;
        let mut out = Vec::new();
        flatten(value, semantics, &mut out)?;
        Ok(out)
    }

    async fn publish(
        &mut self,
        _: Resource<Connection>,
        _: String,
        _: Vec<u8>,
    ) -> Result<(), Error> {
        Err(unmodeled("publish"))
    }

    async fn get(&mut self, _: Resource<Connection>, _: String) -> Result<Option<Vec<u8>>, Error> {
        Err(unmodeled("get"))
    }

    async fn set(&mut self, _: Resource<Connection>, _: String, _: Vec<u8>) -> Result<(), Error> {
        Err(unmodeled("set"))
    }

    async fn incr(&mut self, _: Resource<Connection>, _: String) -> Result<i64, Error> {
        Err(unmodeled("incr"))
    }

    async fn del(&mut self, _: Resource<Connection>, _: Vec<String>) -> Result<u32, Error> {
        Err(unmodeled("del"))
    }

    async fn sadd(
        &mut self,
        _: Resource<Connection>,
        _: String,
        _: Vec<String>,
    ) -> Result<u32, Error> {
        Err(unmodeled("sadd"))
    }

    async fn smembers(&mut self, _: Resource<Connection>, _: String) -> Result<Vec<String>, Error> {
        Err(unmodeled("smembers"))
    }

    async fn srem(
        &mut self,
        _: Resource<Connection>,
        _: String,
        _: Vec<String>,
    ) -> Result<u32, Error> {
        Err(unmodeled("srem"))
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

/// The typed calls the plug does not use are left out of this model.
fn unmodeled(call: &str) -> Error {
    Error::Other(format!(
        "{call} is not modeled by this test host: use execute"
    ))
}

impl variables::Host for SpinCtx<'_> {
    /// Spin's rules: names are lowercase ASCII letters, digits and underscores, starting
    /// with a letter; a name the component has no value for is `undefined`.
    async fn get(&mut self, name: String) -> Result<String, variables::Error> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(variables::Error::InvalidName(name));
        }
        match self.config.variables.get(&name) {
            Some(value) => Ok(value.clone()),
            None => Err(variables::Error::Undefined(format!(
                "no variable for {name:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(value: Value, semantics: Semantics) -> Vec<RedisResult> {
        let mut out = Vec::new();
        flatten(value, semantics, &mut out).unwrap();
        out
    }

    fn nested() -> Value {
        Value::Array(vec![
            Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Nil]),
            Value::Array(vec![]),
            Value::Okay,
            Value::Array(vec![Value::Int(3), Value::SimpleString("QUEUED".into())]),
        ])
    }

    #[test]
    fn arrays_flatten_at_any_depth_and_empty_ones_vanish() {
        assert_eq!(
            flat(nested(), Semantics::V3_5),
            [
                RedisResult::Binary(b"a".to_vec()),
                RedisResult::Nil,
                RedisResult::Status("OK".into()),
                RedisResult::Int64(3),
                RedisResult::Status("QUEUED".into()),
            ]
        );
    }

    #[test]
    fn spin_3_4_drops_nil_and_ok() {
        assert_eq!(
            flat(nested(), Semantics::V3_4),
            [
                RedisResult::Binary(b"a".to_vec()),
                RedisResult::Int64(3),
                RedisResult::Status("QUEUED".into()),
            ]
        );
        assert_eq!(flat(Value::Nil, Semantics::V3_4), []);
    }

    #[test]
    fn only_allowed_hosts_open() {
        let list = ["redis://127.0.0.1:6380".to_string()];
        assert!(allowed("redis://127.0.0.1:6380", &list));
        assert!(allowed("redis://:pw@127.0.0.1:6380/2", &list));
        assert!(!allowed("redis://127.0.0.1:6379", &list));
        assert!(!allowed("redis://localhost:6380", &list));
        assert!(!allowed("rediss://127.0.0.1:6380", &list));
        assert!(allowed("redis://h:1", &["redis://*:*".to_string()]));
    }
}
