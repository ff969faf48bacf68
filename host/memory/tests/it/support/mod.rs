//! Test support: test-support's `redis-server` and raw client, with replies read as the
//! store's `Value`, and a pair "store + server" that runs each command on both and compares.

use redis_sessions_memory::{COMMANDS, INSPECT_COMMANDS, MemoryStore, ServerError, Value};
pub use test_support::{RedisServer, cmd};

/// `HSET` of a session's hash at `key` in node's layout: user `id`, one read and one write,
/// last activity `la`, `ttl`, and `d` when given.
pub fn session_hash(key: &str, id: &str, la: &str, ttl: &str, d: Option<&str>) -> Vec<Vec<u8>> {
    let mut hset = cmd(&["HSET", key, "id", id, "r", "1", "w", "1"]);
    hset.extend(cmd(&["ip", "127.0.0.1", "la", la, "ttl", ttl]));
    if let Some(d) = d {
        hset.extend(cmd(&["d", d]));
    }
    hset
}
use test_support::{Reply, Resp};

/// A connection to the real Redis whose replies read as the store's.
pub struct Redis(Resp);

/// A new connection to `server`.
pub fn redis(server: &RedisServer) -> Redis {
    Redis(server.client())
}

/// A store's reply as the session logic's (`redis_sessions_core`) backend gives it.
pub fn session_reply(v: Value) -> redis_sessions_core::Reply {
    use redis_sessions_core::Reply as R;
    match v {
        Value::Nil => R::Nil,
        Value::Status(s) => R::Status(s),
        Value::Integer(i) => R::Integer(i),
        Value::Bulk(b) => R::Bulk(b),
        Value::Array(items) => R::Array(items.into_iter().map(session_reply).collect()),
        Value::Error(e) => R::Status(format!("nested error: {e}")),
    }
}

/// A store's answer as the session logic's backend gives it.
pub fn session_result(
    r: Result<Value, ServerError>,
) -> Result<redis_sessions_core::Reply, redis_sessions_core::CommandError> {
    r.map(session_reply)
        .map_err(|e| redis_sessions_core::CommandError::Server(e.0))
}

/// The store's reply type for a raw RESP reply.
fn value(reply: Reply) -> Value {
    match reply {
        Reply::Nil => Value::Nil,
        Reply::Status(s) => Value::Status(s),
        Reply::Int(n) => Value::Integer(n),
        Reply::Bulk(b) => Value::Bulk(b),
        Reply::Array(items) => Value::Array(items.into_iter().map(value).collect()),
        Reply::Error(e) => Value::Error(e),
    }
}

impl Redis {
    pub fn call(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        top(value(self.0.call(command)))
    }

    /// MULTI, the commands, EXEC: EXEC's reply as `MemoryStore::transaction` gives it.
    pub fn transaction(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        self.0.send(&cmd(&["MULTI"]));
        for c in commands {
            self.0.send(c);
        }
        self.0.send(&cmd(&["EXEC"]));
        assert_eq!(self.0.read(), Reply::Status("OK".into()));
        for _ in commands {
            self.0.read(); // QUEUED or the queueing error
        }
        match top(value(self.0.read()))? {
            Value::Array(items) => Ok(items.into_iter().map(top).collect()),
            other => panic!("EXEC replied {other:?}"),
        }
    }
}

/// A top-level error reply is the command's error.
fn top(v: Value) -> Result<Value, ServerError> {
    match v {
        Value::Error(e) => Err(ServerError(e)),
        other => Ok(other),
    }
}

/// A command split on spaces (for arguments without spaces).
pub fn c(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

/// Sorts an array reply's elements (for replies in hash-table order).
pub fn sorted(r: Result<Value, ServerError>) -> Result<Value, ServerError> {
    r.map(|v| match v {
        Value::Array(mut items) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Value::Array(items)
        }
        other => other,
    })
}

/// Sorts a flat array of pairs (HGETALL, WITHSCORES) by pair.
pub fn sorted_pairs(r: Result<Value, ServerError>) -> Result<Value, ServerError> {
    r.map(|v| match v {
        Value::Array(items) => {
            let mut pairs: Vec<Vec<Value>> = items.chunks(2).map(<[Value]>::to_vec).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Value::Array(pairs.concat())
        }
        other => other,
    })
}

/// The embedded store and a real Redis, fed the same commands.
pub struct Both {
    pub store: MemoryStore,
    pub redis: Redis,
    /// Kept for its `Drop`, which stops the server.
    pub _server: RedisServer,
    pub compared: usize,
}

impl Both {
    pub fn new() -> Self {
        let server = RedisServer::start();
        Both {
            store: MemoryStore::new(),
            redis: redis(&server),
            _server: server,
            compared: 0,
        }
    }

    /// The store's reply: through `inspect` for the read-only commands only it answers
    /// (they read the state the others left), else through `execute`.
    pub fn ours(&self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let name = command
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default();
        let inspect_only =
            INSPECT_COMMANDS.contains(&name.as_str()) && !COMMANDS.contains(&name.as_str());
        if inspect_only {
            self.store.inspect(command)
        } else {
            self.store.execute(command)
        }
    }

    /// Runs `command` on both; their replies must be identical. Returns the reply.
    pub fn check(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let ours = self.ours(command);
        let theirs = self.redis.call(command);
        assert_eq!(ours, theirs, "replies differ for {}", show(command));
        self.compared += 1;
        ours
    }

    /// `check` for each line of `lines` split on spaces.
    pub fn lines(&mut self, lines: &str) {
        for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.check(&c(line)).ok();
        }
    }

    /// Like `check`, but an array reply is compared as a multiset.
    pub fn check_unordered(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let ours = sorted(self.ours(command));
        let theirs = sorted(self.redis.call(command));
        assert_eq!(ours, theirs, "replies differ for {}", show(command));
        self.compared += 1;
        ours
    }

    pub fn check_transaction(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        let ours = self.store.transaction(commands);
        let theirs = self.redis.transaction(commands);
        assert_eq!(ours, theirs, "transaction replies differ");
        self.compared += 1;
        ours
    }

    /// Compares every key, its type and its whole content on both sides.
    pub fn check_dump(&mut self) {
        let keys = self.check_unordered(&cmd(&["KEYS", "*"])).unwrap();
        let Value::Array(keys) = keys else { panic!() };
        for key in keys {
            let Value::Bulk(key) = key else { panic!() };
            let k = String::from_utf8(key).unwrap();
            let t = self.check(&cmd(&["TYPE", &k])).unwrap();
            match t {
                Value::Status(t) if t == "hash" => {
                    let c = cmd(&["HGETALL", &k]);
                    let ours = sorted_pairs(self.ours(&c));
                    assert_eq!(ours, sorted_pairs(self.redis.call(&c)), "HGETALL {k}");
                    ours
                }
                Value::Status(t) if t == "set" => self.check_unordered(&cmd(&["SMEMBERS", &k])),
                Value::Status(t) if t == "zset" => {
                    self.check(&cmd(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]))
                }
                other => panic!("type {other:?}"),
            }
            .unwrap();
        }
    }
}

impl Drop for Both {
    fn drop(&mut self) {
        eprintln!("compared {} replies with redis-server", self.compared);
    }
}

pub fn show(command: &[Vec<u8>]) -> String {
    command
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
