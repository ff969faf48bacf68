//! The capability on a Redis server: commands over a shared, reconnecting
//! [`ConnectionManager`], replies mapped to the WIT's.

use super::backend::{Backend, BackendFuture, Command};
use crate::bindings::redis::{Element, Error, Reply};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, RedisError, Value};
use std::time::Duration;

/// How long to wait for a connection, and for a reply. Finite, so a dead Redis gives an
/// error rather than a hang; generous, so a large `killall` or `wipe` script still fits.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` once (failing fast when Redis is not there); the manager then
/// reconnects by itself, so a Redis restart is survived.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1);
    ConnectionManager::new_with_config(client, config).await
}

fn to_cmd(command: Command) -> Cmd {
    let mut cmd = Cmd::new();
    for arg in command {
        cmd.arg(arg);
    }
    cmd
}

fn is_unavailable(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.kind() == ErrorKind::Io
}

fn to_wit_error(e: RedisError) -> Error {
    if is_unavailable(&e) {
        return Error::Unavailable(e.to_string());
    }
    // Server errors read as Redis prints them: code first (`NOSCRIPT No matching script...`).
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => Error::Server(format!("{code} {detail}")),
        _ => Error::Server(e.to_string()),
    }
}

fn element(v: Value) -> Result<Element, Error> {
    Ok(match v {
        Value::Nil => Element::Nil,
        Value::Int(n) => Element::Integer(n),
        Value::BulkString(b) => Element::Bulk(b),
        Value::SimpleString(s) => Element::Status(s),
        Value::Okay => Element::Status("OK".into()),
        Value::Boolean(b) => Element::Integer(i64::from(b)),
        Value::Double(f) => Element::Bulk(f.to_string().into_bytes()),
        Value::VerbatimString { text, .. } => Element::Bulk(text.into_bytes()),
        other => {
            return Err(Error::UnsupportedReply(format!(
                "nested deeper than one array level: {other:?}"
            )));
        }
    })
}

fn reply(v: Value) -> Result<Reply, Error> {
    Ok(match v {
        Value::Array(items) | Value::Set(items) => {
            Reply::Array(items.into_iter().map(element).collect::<Result<_, _>>()?)
        }
        Value::Map(pairs) => Reply::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [element(k), element(v)])
                .collect::<Result<_, _>>()?,
        ),
        other => match element(other)? {
            Element::Nil => Reply::Nil,
            Element::Integer(n) => Reply::Integer(n),
            Element::Bulk(b) => Reply::Bulk(b),
            Element::Status(s) => Reply::Status(s),
        },
    })
}

// The manager is a cheap handle onto one multiplexed connection: each call clones it.
impl Backend for ConnectionManager {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        let mut conn = self.clone();
        Box::pin(async move {
            let value = to_cmd(command)
                .query_async::<Value>(&mut conn)
                .await
                .map_err(to_wit_error)?;
            reply(value)
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        let mut conn = self.clone();
        Box::pin(async move {
            let count = commands.len();
            let mut pipe = redis::pipe();
            if atomic {
                pipe.atomic();
            }
            for command in commands {
                pipe.add_command(to_cmd(command));
            }
            let values = pipe
                .query_async::<Vec<Value>>(&mut conn)
                .await
                .map_err(to_wit_error)?;
            if values.len() != count {
                return Err(Error::UnsupportedReply(format!(
                    "{count} commands got {} replies",
                    values.len()
                )));
            }
            values.into_iter().map(reply).collect()
        })
    }
}
