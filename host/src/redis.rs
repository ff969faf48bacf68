//! The `redis` capability: the component's commands sent over a shared, reconnecting
//! [`ConnectionManager`].
//!
//! The capability has two backends ([`Store`]): a Redis server, or the embedded
//! [`MemoryStore`](redis_sessions_memory::MemoryStore) (see [`crate::embedded`]); both
//! pass the same allowlist and the same host-time accounting.
//!
//! Redis calls are free functions; the `Host` impl only delegates. Errors become the WIT
//! `redis.error`, which the component turns into a `store` error; whether Redis was
//! unreachable is also remembered here so the host can report it as such (HTTP 503).

use crate::bindings::redis::{self as wit, Element, Reply};
use crate::state::InstanceState;
use redis::aio::ConnectionManager;
use redis::{Cmd, ErrorKind, RedisError, Value};
use redis_sessions_memory::MemoryStore;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The only commands the host sends for a component: those the session logic needs (its
/// Lua scripts call others inside Redis, which a tenant's ACL user must allow). Anything
/// else is refused here, before it reaches Redis.
pub const ALLOWED_COMMANDS: &[&str] = &[
    "PING", "EVALSHA", "EVAL", "ZADD", "SADD", "HSET", "HMGET", "ZCOUNT",
];

/// Refuses a command not on [`ALLOWED_COMMANDS`].
pub(crate) fn check_allowed(command: &[Vec<u8>]) -> Result<(), wit::Error> {
    let name = command
        .first()
        .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase());
    match name {
        Some(name) if ALLOWED_COMMANDS.contains(&name.as_str()) => Ok(()),
        Some(name) => Err(wit::Error::Denied(format!(
            "{name} is not an allowed command"
        ))),
        None => Err(wit::Error::Denied("empty command".into())),
    }
}

/// Where the capability's commands go.
#[derive(Clone)]
pub enum Store {
    /// A Redis server, over a shared, reconnecting connection.
    Redis(ConnectionManager),
    /// The embedded store, in this process.
    Memory(Arc<MemoryStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Store::Redis(_) => "Store::Redis",
            Store::Memory(_) => "Store::Memory",
        })
    }
}

impl From<ConnectionManager> for Store {
    fn from(conn: ConnectionManager) -> Self {
        Store::Redis(conn)
    }
}

impl From<Arc<MemoryStore>> for Store {
    fn from(store: Arc<MemoryStore>) -> Self {
        Store::Memory(store)
    }
}

impl From<MemoryStore> for Store {
    fn from(store: MemoryStore) -> Self {
        Store::Memory(Arc::new(store))
    }
}

/// The Redis side of one component instance.
pub(crate) struct RedisCtx {
    store: Store,
    /// Set when a call in progress found Redis unreachable.
    pub(crate) unavailable: Option<String>,
}

impl RedisCtx {
    pub(crate) fn new(store: Store) -> Self {
        Self {
            store,
            unavailable: None,
        }
    }
}

/// How long to wait for a connection, and for a reply. Finite, so a dead Redis gives an
/// error rather than a hang; generous, so a large `killall` or `wipe` script still fits.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` once (failing fast when Redis is not there); the manager then
/// reconnects by itself, so a Redis restart is survived.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1);
    ConnectionManager::new_with_config(client, config).await
}

fn to_cmd(command: Vec<Vec<u8>>) -> Cmd {
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

fn to_wit_error(ctx: &mut RedisCtx, e: RedisError) -> wit::Error {
    if is_unavailable(&e) {
        let message = e.to_string();
        ctx.unavailable = Some(message.clone());
        return wit::Error::Unavailable(message);
    }
    // Server errors read as Redis prints them: code first (`NOSCRIPT No matching script...`).
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => wit::Error::Server(format!("{code} {detail}")),
        _ => wit::Error::Server(e.to_string()),
    }
}

fn element(v: Value) -> Result<Element, wit::Error> {
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
            return Err(wit::Error::UnsupportedReply(format!(
                "nested deeper than one array level: {other:?}"
            )));
        }
    })
}

fn reply(v: Value) -> Result<Reply, wit::Error> {
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

async fn execute(ctx: &mut RedisCtx, command: Vec<Vec<u8>>) -> Result<Reply, wit::Error> {
    check_allowed(&command)?;
    let conn = match &mut ctx.store {
        Store::Redis(conn) => conn,
        // In-process and short (scripts have their own budget): run inline.
        Store::Memory(store) => return crate::embedded::execute(store, &command),
    };
    let result = to_cmd(command).query_async::<Value>(conn).await;
    match result {
        Ok(v) => reply(v),
        Err(e) => Err(to_wit_error(ctx, e)),
    }
}

async fn batch(
    ctx: &mut RedisCtx,
    commands: Vec<Vec<Vec<u8>>>,
    atomic: bool,
) -> Result<Vec<Reply>, wit::Error> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    for command in &commands {
        check_allowed(command)?;
    }
    let conn = match &mut ctx.store {
        Store::Redis(conn) => conn,
        Store::Memory(store) => return crate::embedded::batch(store, &commands, atomic),
    };
    let count = commands.len();
    let mut pipe = redis::pipe();
    if atomic {
        pipe.atomic();
    }
    for command in commands {
        pipe.add_command(to_cmd(command));
    }
    let values = match pipe.query_async::<Vec<Value>>(conn).await {
        Ok(values) => values,
        Err(e) => return Err(to_wit_error(ctx, e)),
    };
    if values.len() != count {
        return Err(wit::Error::UnsupportedReply(format!(
            "{count} commands got {} replies",
            values.len()
        )));
    }
    values.into_iter().map(reply).collect()
}

// Time awaiting Redis is the host's, not the guest's: it does not count against the
// call's CPU budget.
impl wit::Host for InstanceState {
    async fn execute(&mut self, command: Vec<Vec<u8>>) -> Result<Reply, wit::Error> {
        let start = Instant::now();
        let result = execute(&mut self.redis, command).await;
        self.cpu.add_host_time(start.elapsed());
        result
    }

    async fn pipeline(&mut self, commands: Vec<Vec<Vec<u8>>>) -> Result<Vec<Reply>, wit::Error> {
        let start = Instant::now();
        let result = batch(&mut self.redis, commands, false).await;
        self.cpu.add_host_time(start.elapsed());
        result
    }

    async fn transaction(&mut self, commands: Vec<Vec<Vec<u8>>>) -> Result<Vec<Reply>, wit::Error> {
        let start = Instant::now();
        let result = batch(&mut self.redis, commands, true).await;
        self.cpu.add_host_time(start.elapsed());
        result
    }
}
