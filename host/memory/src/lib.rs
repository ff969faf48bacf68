//! An embedded store with exactly Redis' semantics for the commands redis-sessions sends,
//! so the service runs with no Redis installed.
//!
//! # API
//!
//! - [`MemoryStore::new`] / [`MemoryStore::load`]: an empty store, or one read from a
//!   snapshot that [`MemoryStore::save`] wrote (temp file in the same directory, fsync,
//!   rename; a versioned, checksummed format: a corrupt or foreign file is an error).
//! - [`MemoryStore::execute`]: one command, binary-safe arguments, name included
//!   (`[b"HSET", b"key", b"f", b"v"]`). The reply is a [`Value`], or a [`ServerError`]
//!   whose text is what Redis would print, code first (`WRONGTYPE Operation against a key
//!   holding the wrong kind of value`, `NOSCRIPT No matching script. Please use EVAL.`).
//! - [`MemoryStore::transaction`]: MULTI/EXEC. Every command is checked first (unknown
//!   command or wrong arity: `EXECABORT`, nothing runs), then all run atomically; runtime
//!   errors come back in place, as in EXEC's reply. MULTI, EXEC, DISCARD and WATCH are not
//!   commands here: `execute` answers them with an error pointing to this method.
//! - [`MemoryStore::pipeline`]: several commands, each on its own (not atomic).
//!
//! The store is `Send + Sync`: one mutex serialises commands, scripts and transactions, which
//! is Redis' atomicity.
//!
//! ```
//! use redis_sessions_memory::{MemoryStore, ServerError, Value};
//!
//! let store = MemoryStore::new();
//! let cmd = |args: &[&str]| args.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
//! assert_eq!(store.execute(&cmd(&["ZADD", "z", "1.5", "m"])), Ok(Value::Int(1)));
//! assert_eq!(store.execute(&cmd(&["zscore", "z", "m"])), Ok(Value::Bulk(b"1.5".to_vec())));
//! assert_eq!(
//!     store.execute(&cmd(&["EVAL", "return redis.call('ZCARD', KEYS[1])", "1", "z"])),
//!     Ok(Value::Int(1))
//! );
//! assert_eq!(
//!     store.execute(&cmd(&["HGET", "z", "f"])),
//!     Err(ServerError("WRONGTYPE Operation against a key holding the wrong kind of value".into()))
//! );
//! let replies = store.transaction(&[cmd(&["SET", "a", "1"]), cmd(&["HSET", "a", "f", "v"])]);
//! assert!(matches!(&replies.unwrap()[..], [Ok(_), Err(_)]));
//! ```
//!
//! # Commands
//!
//! PING ECHO DEL EXISTS TYPE KEYS TTL PTTL FLUSHALL FLUSHDB DBSIZE, GET SET (NX XX GET
//! KEEPTTL), HSET HMSET HGET HMGET HGETALL HDEL HINCRBY HEXISTS HLEN, SADD SREM SMEMBERS
//! SISMEMBER SCARD, ZADD (NX XX GT LT CH INCR) ZINCRBY ZREM ZSCORE ZCARD ZCOUNT ZRANGE (by
//! rank, BYSCORE, REV, LIMIT, WITHSCORES) ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE, EVAL
//! EVALSHA, SCRIPT LOAD/EXISTS/FLUSH/KILL. Anything else is
//! `ERR unknown command '...', with args beginning with: ...`. Keys never expire (TTL is
//! -1 or -2; SET with an expiry is refused).
//!
//! Replies follow Redis 7.0 (the version the differential test runs against): scores print
//! with `%.17g` (`1800000000`, `1.5`, `0.10000000000000001`, `inf`); HGETALL lists a small
//! hash in insertion order; SMEMBERS lists an all-integer set in numeric order and others
//! in insertion order (Redis 7.0's order there is its hash table's, i.e. random); KEYS
//! lists in no particular order.
//!
//! # Scripts
//!
//! EVAL/EVALSHA run Lua 5.1 as Redis does: KEYS and ARGV; `redis.call` (an error reply
//! raises), `redis.pcall` (returns `{err = ...}`), `error_reply`, `status_reply`,
//! `sha1hex`, `log`, the `LOG_*` constants; Redis' conversions both ways (numbers given to
//! `redis.call` print with `%.17g`); Redis 7.0's pcall (an `{err = ...}` error is caught as
//! its message) and error texts (`ERR user_script:1: boom script: <sha>, on
//! @user_script:1.`). Scripts are cached by SHA1 on EVAL and SCRIPT LOAD. The sandbox:
//! reading an undefined global and creating any global are errors, the library tables are
//! read-only, os/io/package/require/dofile/loadfile/load/debug/getfenv/setfenv/
//! collectgarbage/coroutine are absent, `loadstring` refuses bytecode. Each run has a
//! budget ([`ScriptLimits`]: time, VM instructions, Lua memory): a script that exceeds it
//! is aborted with `ERR Script killed: ...` or a memory error, pcall cannot catch the abort,
//! its writes so far stay (as with any script error in Redis), and the store keeps serving.
//!
//! Not provided: the `cjson`, `cmsgpack`, `struct` and `bit` libraries, `coroutine`,
//! RESP3 (`redis.setresp(3)`), shebang flags (`#!lua`), Redis' reproducible `math.random`
//! sequence. A Lua pattern function (`string.find`/`gsub`...) runs in C and is not
//! interrupted by the budget (nor is it in Redis).
//!
//! # Differences from Redis worth knowing
//!
//! Replies are Redis 7.0's, against which the differential tests run (Redis 7.2 prints
//! scores in shortest form: `0.1` where 7.0 prints `0.10000000000000001`). Orders Redis
//! leaves to its hash tables (KEYS, SMEMBERS of non-integer sets, HGETALL of hashes past
//! 128 fields or 64-byte values) are insertion orders here. A reply nested deeper than 1000
//! levels (a script returning a table that contains itself) ends in an error element where
//! Redis goes on to about 8000. Scripts are not part of a snapshot, like in Redis' RDB.

mod commands;
mod glob;
mod keyspace;
mod numbers;
mod persist;
mod scripting;

use keyspace::Keyspace;
use scripting::Scripting;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A Redis reply (RESP2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A nil bulk string or nil array.
    Nil,
    /// A status reply: `OK`, `PONG`, `string`.
    Status(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
    /// An error *inside* an array, as a script can return (`{1, {err='x'}}`). A command's
    /// own error is never this: it is the `Err` of the result.
    Error(String),
}

/// A Redis error reply, code first, exactly as Redis would print it:
/// `ERR wrong number of arguments for 'hset' command`,
/// `WRONGTYPE Operation against a key holding the wrong kind of value`,
/// `NOSCRIPT No matching script. Please use EVAL.`, `EXECABORT ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError(pub String);

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

/// What one script run may use before it is aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Wall-clock time (default 5 s).
    pub time: Duration,
    /// Lua VM instructions (default 500 million), checked every 10 000.
    pub instructions: u64,
    /// Bytes the Lua state may hold, scripts and their data included (default 256 MiB).
    pub memory: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            time: Duration::from_secs(5),
            instructions: 500_000_000,
            memory: 256 << 20,
        }
    }
}

/// The data and the scripts: everything one command may touch.
#[derive(Debug, Default)]
pub(crate) struct Server {
    pub(crate) db: Keyspace,
    pub(crate) scripting: Scripting,
}

impl Server {
    fn execute(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        match commands::resolve(command) {
            Ok(spec) => spec.run(self, command),
            Err(rejected) => Err(rejected.client_error(command)),
        }
    }
}

/// The in-process store. See the [crate documentation](crate).
pub struct MemoryStore {
    server: Mutex<Server>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store with the default [`ScriptLimits`].
    pub fn new() -> Self {
        MemoryStore {
            server: Mutex::new(Server::default()),
        }
    }

    /// The same store with other script limits. The Lua state is rebuilt with them, so
    /// the script cache starts empty (clients reload scripts on NOSCRIPT).
    pub fn with_script_limits(self, limits: ScriptLimits) -> Self {
        let mut server = self
            .server
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        server.scripting.limits = limits;
        server.scripting.reset();
        MemoryStore {
            server: Mutex::new(server),
        }
    }

    /// The lock; a panic elsewhere never makes the store unusable (every command leaves
    /// the data consistent before it could panic).
    fn lock(&self) -> MutexGuard<'_, Server> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one command: `[name, args...]`, the name in any case.
    pub fn execute(&self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        self.lock().execute(command)
    }

    /// MULTI/EXEC: every command is checked first (an unknown command, a wrong arity, or
    /// MULTI/EXEC/DISCARD/WATCH/UNWATCH: `EXECABORT`, nothing runs); then they run
    /// atomically, each command's error in its place, like EXEC's reply.
    pub fn transaction(
        &self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        let mut specs = Vec::with_capacity(commands.len());
        for command in commands {
            match commands::resolve(command) {
                Ok(spec) if !spec.is_transactional() => specs.push(spec),
                _ => {
                    return Err(ServerError(
                        "EXECABORT Transaction discarded because of previous errors.".into(),
                    ));
                }
            }
        }
        let mut server = self.lock();
        Ok(specs
            .iter()
            .zip(commands)
            .map(|(spec, command)| spec.run(&mut server, command))
            .collect())
    }

    /// A pipeline: each command on its own, other callers' commands may run in between.
    pub fn pipeline(&self, commands: &[Vec<Vec<u8>>]) -> Vec<Result<Value, ServerError>> {
        commands.iter().map(|c| self.execute(c)).collect()
    }

    /// Writes a snapshot of the data (not the scripts) to `path`, atomically: a temporary
    /// file in the same directory, fsync, rename, then fsync of the directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = persist::encode(&self.lock().db);
        persist::write_atomic(path, &bytes)
    }

    /// Reads a store [`save`](Self::save) wrote. A corrupt, truncated or foreign file is an
    /// `InvalidData` error.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let db = persist::decode(&bytes)?;
        Ok(MemoryStore {
            server: Mutex::new(Server {
                db,
                scripting: Scripting::default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MemoryStore>();
    }
}
