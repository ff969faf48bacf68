//! The capability on a Redis server: commands over a shared, reconnecting
//! [`ConnectionManager`] (or [`Reconnecting`], which also recovers from failed
//! authentication), replies mapped to the WIT's.

use super::backend::{Backend, BackendFuture, Command};
use super::reply::{from_redis, reply};
use crate::bindings::redis::{Error, Reply};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, RedisError, Value};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How long to wait for a connection to Redis, and for a reply
/// ([`crate::SessionsBuilder::redis_timeouts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisTimeouts {
    pub connect: Duration,
    pub response: Duration,
}

/// 3 s to connect, 10 s for a reply: finite, so a dead Redis gives an error rather than a
/// hang; generous, so a large `killall` or `wipe` script still fits.
impl Default for RedisTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            response: Duration::from_secs(10),
        }
    }
}

/// Connects to `url` once (failing fast when Redis is not there); the manager then
/// reconnects by itself, so a Redis restart is survived.
pub async fn connect(url: &str, timeouts: RedisTimeouts) -> Result<ConnectionManager, RedisError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeouts.connect))
        .set_response_timeout(Some(timeouts.response))
        .set_number_of_retries(1);
    ConnectionManager::new_with_config(client, config).await
}

fn to_cmd(command: &[Vec<u8>]) -> Cmd {
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

/// A redis-rs error as the WIT's: `unavailable` when Redis could not be reached or refused
/// the credentials, else `server` with Redis' text.
pub(super) fn to_wit_error(e: RedisError) -> Error {
    if is_unavailable(&e) {
        return Error::Unavailable(e.to_string());
    }
    if is_auth_failure(&e) {
        return Error::Unavailable(format!("Redis refused the connection's credentials: {e}"));
    }
    // Server errors read as Redis prints them: code first (`NOSCRIPT No matching script...`);
    // a batch's, the first failing command's code first, then every failure.
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => Error::Server(format!("{code} {detail}")),
        (Some(code), None) => Error::Server(format!("{code} {e}")),
        _ => Error::Server(e.to_string()),
    }
}

pub(super) async fn send_one(
    mut conn: impl ConnectionLike,
    command: &[Vec<u8>],
) -> Result<Value, RedisError> {
    to_cmd(command).query_async::<Value>(&mut conn).await
}

pub(super) async fn send_batch(
    mut conn: impl ConnectionLike,
    commands: &[Command],
    atomic: bool,
) -> Result<Vec<Value>, RedisError> {
    let mut pipe = redis::pipe();
    if atomic {
        pipe.atomic();
    }
    for command in commands {
        pipe.add_command(to_cmd(command));
    }
    pipe.query_async::<Vec<Value>>(&mut conn).await
}

pub(super) fn replies(count: usize, values: Vec<Value>) -> Result<Vec<Reply>, Error> {
    if values.len() != count {
        return Err(Error::UnsupportedReply(format!(
            "{count} commands got {} replies",
            values.len()
        )));
    }
    values
        .into_iter()
        .map(|v| from_redis(v).and_then(reply))
        .collect()
}

// The manager is a cheap handle onto one multiplexed connection: each call clones it.
impl Backend for ConnectionManager {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        let conn = self.clone();
        Box::pin(async move {
            from_redis(send_one(conn, &command).await.map_err(to_wit_error)?).and_then(reply)
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        let conn = self.clone();
        Box::pin(async move {
            let count = commands.len();
            replies(
                count,
                send_batch(conn, &commands, atomic)
                    .await
                    .map_err(to_wit_error)?,
            )
        })
    }
}

/// The connection failed to authenticate: the ACL user is missing (Redis restarted without
/// an aclfile) or its password changed.
fn is_auth_failure(e: &RedisError) -> bool {
    e.kind() == ErrorKind::AuthenticationFailed || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
}

/// How often a failing connection is rebuilt at most.
const REBUILD_INTERVAL: Duration = Duration::from_millis(250);

/// A [`ConnectionManager`] rebuilt when its connection fails to authenticate. redis-rs'
/// manager reconnects after I/O errors only: once a reconnection is refused its
/// credentials (a tenant's ACL user lost in a Redis restart), it keeps that failure until
/// the process restarts. This one connects afresh, so the tenant is served again as soon
/// as its user exists; meanwhile its calls answer `unavailable`.
#[derive(Debug)]
pub struct Reconnecting {
    url: String,
    timeouts: RedisTimeouts,
    conn: RwLock<ConnectionManager>,
    /// When the last rebuild began; held while one runs.
    rebuilt: tokio::sync::Mutex<Option<Instant>>,
}

impl Reconnecting {
    /// Connects to `url` once, failing fast as [`connect`] does.
    pub async fn connect(url: &str, timeouts: RedisTimeouts) -> Result<Self, RedisError> {
        Ok(Self {
            url: url.to_owned(),
            timeouts,
            conn: RwLock::new(connect(url, timeouts).await?),
            rebuilt: tokio::sync::Mutex::new(None),
        })
    }

    fn current(&self) -> ConnectionManager {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the manager after `error`, if it was an authentication failure; `true` when
    /// a new connection is up (nothing was sent on the failed one: retrying is safe).
    async fn rebuild_after(&self, error: &RedisError) -> bool {
        if !is_auth_failure(error) {
            return false;
        }
        // One rebuild at a time; the calls failing meanwhile answer `unavailable`.
        let Ok(mut last) = self.rebuilt.try_lock() else {
            return false;
        };
        if last.is_some_and(|t| t.elapsed() < REBUILD_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        match connect(&self.url, self.timeouts).await {
            Ok(conn) => {
                *self.conn.write().unwrap_or_else(PoisonError::into_inner) = conn;
                tracing::info!("reconnected to Redis after an authentication failure");
                true
            }
            Err(e) => {
                tracing::debug!("reconnecting to Redis: {e}");
                false
            }
        }
    }
}

impl Backend for Reconnecting {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        Box::pin(async move {
            let value = match send_one(self.current(), &command).await {
                Err(e) if self.rebuild_after(&e).await => send_one(self.current(), &command).await,
                result => result,
            };
            from_redis(value.map_err(to_wit_error)?).and_then(reply)
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        Box::pin(async move {
            let count = commands.len();
            let values = match send_batch(self.current(), &commands, atomic).await {
                Err(e) if self.rebuild_after(&e).await => {
                    send_batch(self.current(), &commands, atomic).await
                }
                result => result,
            };
            replies(count, values.map_err(to_wit_error)?)
        })
    }
}
