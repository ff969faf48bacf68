//! An embedded store with exactly Redis' semantics for the commands redis-sessions sends,
//! so the service runs with no Redis installed.
//!
//! # API
//!
//! - [`MemoryStore::new`] / [`MemoryStore::load`]: an empty store, or one read from a
//!   snapshot that [`MemoryStore::save`] wrote (temp file in the same directory, fsync,
//!   rename; a versioned, checksummed format: a corrupt or foreign file is a
//!   [`SnapshotError`]).
//! - [`MemoryStore::open`]: a store kept in a file, durable as Redis with an append-only
//!   file and `appendfsync everysec`: every write is journaled before the caller gets its
//!   reply, [`sync`](MemoryStore::sync) fsyncs the journal (call it every second),
//!   [`compact`](MemoryStore::compact) folds the journal into the snapshot without holding
//!   the lock while it works, [`checkpoint`](MemoryStore::checkpoint) snapshots the live
//!   data (shutdown). The journal's format and recovery rules are in `persist/journal.rs`.
//! - [`MemoryStore::execute`]: one command, binary-safe arguments, name included
//!   (`[b"HSET", b"key", b"f", b"v"]`). The reply is a [`Value`], or a [`ServerError`]
//!   whose text is what Redis would print, code first (`WRONGTYPE Operation against a key
//!   holding the wrong kind of value`, `NOSCRIPT No matching script. Please use EVAL.`).
//! - [`MemoryStore::transaction`]: MULTI/EXEC. Every command is checked first (unknown
//!   command or wrong arity: `EXECABORT`, nothing runs), then all run atomically; runtime
//!   errors come back in place, as in EXEC's reply. MULTI, EXEC, DISCARD and WATCH are not
//!   commands of `execute`.
//! - [`MemoryStore::pipeline`]: several commands, each on its own (not atomic).
//! - [`MemoryStore::inspect`], read-only commands to look at the data, for tests and
//!   debugging; no component reaches it.
//!
//! The store is `Send + Sync`: one mutex serialises commands, scripts and transactions, which
//! is Redis' atomicity.
//!
//! ```
//! use redis_sessions_memory::{MemoryStore, ServerError, Value};
//!
//! let store = MemoryStore::new();
//! let cmd = |args: &[&str]| args.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
//! assert_eq!(store.execute(&cmd(&["ZADD", "z", "1.5", "m"])), Ok(Value::Integer(1)));
//! assert_eq!(store.execute(&cmd(&["zcount", "z", "1", "2"])), Ok(Value::Integer(1)));
//! assert_eq!(
//!     store.execute(&cmd(&["EVAL", "return redis.call('ZRANGE', KEYS[1], 0, -1)", "1", "z"])),
//!     Ok(Value::Array(vec![Value::Bulk(b"m".to_vec())]))
//! );
//! assert_eq!(
//!     store.execute(&cmd(&["HMGET", "z", "f"])),
//!     Err(ServerError("WRONGTYPE Operation against a key holding the wrong kind of value".into()))
//! );
//! let replies = store.transaction(&[cmd(&["SADD", "a", "1"]), cmd(&["HSET", "a", "f", "v"])]);
//! assert!(matches!(&replies.unwrap()[..], [Ok(_), Err(_)]));
//! ```
//!
//! # Commands
//!
//! Exactly those redis-sessions sends ([`COMMANDS`]): the component's PING EVAL EVALSHA
//! HMGET HSET SADD ZADD ZCOUNT (and MULTI/EXEC, which is [`MemoryStore::transaction`]),
//! and what its Lua scripts call: DEL EXISTS HDEL HINCRBY PUBLISH (to nobody: nothing
//! subscribes in process) SCARD SMEMBERS SPOP SREM SSCAN ZRANGE (by rank, BYSCORE, REV,
//! LIMIT, WITHSCORES) ZRANGEBYSCORE ZREM ZREVRANGEBYSCORE, ZADD with its flags (NX XX GT LT
//! CH INCR). Anything else is
//! `ERR unknown command '...', with args beginning with: ...`: a smaller surface to keep
//! exactly like Redis. Keys never expire: node's layout uses no Redis TTL.
//!
//! Replies follow Redis 7.0 (the version the differential test runs against): scores print
//! with `%.17g` (`1800000000`, `1.5`, `0.10000000000000001`, `inf`); a small hash keeps
//! insertion order; SMEMBERS lists an all-integer set in numeric order and others in
//! insertion order (Redis 7.0's order there is its hash table's, i.e. random).
//!
//! # Scripts
//!
//! EVAL/EVALSHA run Lua 5.1 as Redis does: KEYS and ARGV; `redis.call` (an error reply
//! raises), `redis.pcall` (returns `{err = ...}`), `error_reply`, `status_reply`,
//! `sha1hex`, `log`, the `LOG_*` constants; Redis' conversions both ways (numbers given to
//! `redis.call` print with `%.17g`); Redis 7.0's pcall (an `{err = ...}` error is caught as
//! its message) and error texts (`ERR user_script:1: boom script: <sha>, on
//! @user_script:1.`). Scripts are cached by SHA1 on EVAL (there is no SCRIPT command). The
//! sandbox:
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
//! interrupted by the budget (nor is it in Redis); a pattern deeper than 200 levels is the
//! error `pattern too complex`, as in Lua 5.2+ (Lua 5.1 recursed until the C stack overflowed).
//!
//! # Differences from Redis worth knowing
//!
//! Replies are Redis 7.0's, against which the differential tests run (Redis 7.2 prints
//! scores in shortest form: `0.1` where 7.0 prints `0.10000000000000001`). Orders Redis
//! leaves to its hash tables (SMEMBERS of non-integer sets, hashes past 128 fields or
//! 64-byte values) are insertion orders here. A reply nested deeper than 1000
//! levels (a script returning a table that contains itself) ends in an error element where
//! Redis goes on to about 8000. Scripts are not part of a snapshot, like in Redis' RDB.
//!
//! # Modules
//!
//! No module imports one that imports it back (`scripts/check-module-cycles` checks):
//! `reply` and `numbers` are leaves; `keyspace` holds the data; `commands` is the table,
//! `scripting` the Lua engine, neither knowing the other; `server` joins them (it hands
//! scripting the table's `redis.call` entry); this file is the public facade.

mod commands;
mod glob;
mod keyspace;
mod numbers;
mod persist;
mod reply;
mod scripting;
mod server;

pub use commands::COMMANDS;
pub use commands::INSPECT_COMMANDS;
use persist::Durable;
pub use persist::{Opened, SnapshotError};
pub use reply::{ServerError, Value};
pub use scripting::ScriptLimits;
use server::Server;
use std::path::Path;
// parking_lot's lock, not std's: std's lets a caller running batch after batch (killall,
// wipe) take it back before a woken waiter runs, starving other callers for hundreds of
// ms; parking_lot's hands it to a waiter that has waited ~0.5 ms, as Redis' event loop
// gives every client its turn.
use parking_lot::{Mutex, MutexGuard};

/// The in-process store. See the [crate documentation](crate).
pub struct MemoryStore {
    server: Mutex<Server>,
    /// The journal, for a store kept in a file ([`open`](Self::open)).
    durable: Option<Durable>,
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
            durable: None,
        }
    }

    /// The same store with other script limits. The Lua state is rebuilt with them, so
    /// the script cache starts empty (clients reload scripts on NOSCRIPT).
    pub fn with_script_limits(self, limits: ScriptLimits) -> Self {
        let mut server = self.server.into_inner();
        server.set_script_limits(limits);
        MemoryStore {
            server: Mutex::new(server),
            durable: self.durable,
        }
    }

    /// The lock. It has no poisoning: a panic elsewhere never makes the store unusable
    /// (every command leaves the data consistent before it could panic).
    fn lock(&self) -> MutexGuard<'_, Server> {
        self.server.lock()
    }

    /// Runs one command of [`COMMANDS`]: `[name, args...]`, the name in any case.
    pub fn execute(&self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let reply = {
            let mut server = self.lock();
            let reply = server.execute(command);
            self.journal_changes(&mut server);
            reply
        };
        self.write_journal();
        reply
    }

    /// MULTI/EXEC: every command is checked first (an unknown command or a wrong arity:
    /// `EXECABORT`, nothing runs); then they run atomically, each command's error in its
    /// place, like EXEC's reply.
    pub fn transaction(
        &self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        let replies = {
            let mut server = self.lock();
            let replies = server.transaction(commands);
            self.journal_changes(&mut server);
            replies
        };
        self.write_journal();
        replies
    }

    /// A pipeline: each command on its own, other callers' commands may run in between.
    pub fn pipeline(&self, commands: &[Vec<Vec<u8>>]) -> Vec<Result<Value, ServerError>> {
        commands.iter().map(|c| self.execute(c)).collect()
    }

    /// Queues the writes of the command that just ran as one journal record, under the
    /// lock so records keep the order they applied in.
    fn journal_changes(&self, server: &mut Server) {
        if let Some(durable) = &self.durable {
            let changes = server.db.take_changes();
            if !changes.is_empty() {
                durable.journal.append(&changes);
            }
        }
    }

    /// Hands queued records to the OS, after the lock and before the caller's reply. A
    /// failure keeps them queued; [`sync`](Self::sync) retries and reports it.
    fn write_journal(&self) {
        if let Some(durable) = &self.durable {
            let _ = durable.journal.write_pending();
        }
    }

    /// Runs one read-only command of [`INSPECT_COMMANDS`] (`HGETALL`, `KEYS`, `TYPE`...)
    /// to look at the data. For tests and debugging; not reachable from a component,
    /// whose commands go through [`execute`](Self::execute). Anything else is
    /// `ERR unknown command`.
    pub fn inspect(&self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        self.lock().inspect(command)
    }

    /// Writes a snapshot of the data (not the scripts) to `path`, atomically: a temporary
    /// file in the same directory, fsync, rename, then fsync of the directory. A standalone
    /// copy: a store kept in a file uses [`checkpoint`](Self::checkpoint) for its own.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        // Encoded under the lock, written after it: commands wait for the copy, not the disk.
        let bytes = persist::encode(&self.lock().db, 0)?;
        persist::write_atomic(path, &bytes)
    }

    /// Reads a snapshot [`save`](Self::save) wrote (or an older version of it wrote),
    /// without its journal. A missing file is [`SnapshotError::Io`] of kind `NotFound`; a
    /// corrupt, truncated or foreign one is [`SnapshotError::Corrupt`].
    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let (db, _) = persist::read(path)?;
        Ok(MemoryStore {
            server: Mutex::new(Server::new(db, ScriptLimits::default())),
            durable: None,
        })
    }

    /// The store kept at `path`: its snapshot (none yet: empty) and every write journaled
    /// since, replayed; from now on every write is journaled too (see the crate docs'
    /// Durability). A torn last record (a crash mid-write) is dropped and reported in
    /// [`Opened`]; any other damage is an error, nothing is guessed.
    pub fn open(path: &Path) -> Result<(Self, Opened), SnapshotError> {
        let (db, durable, opened) = Durable::open(path)?;
        let store = MemoryStore {
            server: Mutex::new(Server::new(db, ScriptLimits::default())),
            durable: Some(durable),
        };
        Ok((store, opened))
    }

    /// Writes out the journal and fsyncs it if it changed; call it about once a second
    /// (Redis' `appendfsync everysec`). Also where a failed journal write is retried and
    /// reported. Nothing to do for a store not kept in a file.
    pub fn sync(&self) -> Result<(), SnapshotError> {
        match &self.durable {
            Some(durable) => Ok(durable.journal.sync()?),
            None => Ok(()),
        }
    }

    /// Folds the journal into a new snapshot, without stopping commands: a new journal is
    /// started (the only step under the lock), and the snapshot rebuilt from the old
    /// snapshot and the finished journal, as opening would, then written and the journal
    /// deleted. `false` (nothing done) when nothing was written since the last one, or the
    /// store is not kept in a file. Costs a second copy of the data while it runs.
    pub fn compact(&self) -> Result<bool, SnapshotError> {
        let Some(durable) = &self.durable else {
            return Ok(false);
        };
        let _one = durable.one_at_a_time();
        let finished = {
            let _server = self.lock();
            durable.journal.rotate(false)?
        };
        match finished {
            Some(finished) => durable.rebuild(finished).map(|()| true),
            None => Ok(false),
        }
    }

    /// Snapshots the live data into the store's file and deletes the journal, encoding
    /// under the lock (commands wait meanwhile): for shutdown and one-shot commands. Does
    /// nothing for a store not kept in a file.
    pub fn checkpoint(&self) -> Result<(), SnapshotError> {
        let Some(durable) = &self.durable else {
            return Ok(());
        };
        let _one = durable.one_at_a_time();
        let (bytes, generation) = {
            let server = self.lock();
            let finished = durable.journal.rotate(true)?;
            let generation = finished.map_or(0, |f| f.number);
            (persist::encode(&server.db, generation)?, generation)
        };
        durable.install(&bytes, generation)
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
