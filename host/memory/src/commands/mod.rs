//! The command table: names, arities and handlers; lookup with Redis' rejections.
//!
//! The table holds exactly the commands redis-sessions sends: those the component calls
//! (PING EVAL EVALSHA HMGET HSET SADD ZADD ZCOUNT, and MULTI/EXEC through
//! `MemoryStore::transaction`) and those its Lua scripts call. Anything else is Redis'
//! `ERR unknown command`. EVAL and EVALSHA are only named here: the caller runs them, so
//! this module and the scripting one never import each other.

mod hashes;
mod inspect;
mod keys;
mod sets;
mod zsets;

use crate::keyspace::{DataCommand, Keyspace, ReadCommand};
use crate::reply::{Reply, ServerError, arity_error, err};

/// How a command runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Handler {
    /// Reads the data (scripts and `inspect` may call it).
    Read(ReadCommand),
    /// Writes the data (scripts may call it).
    Write(DataCommand),
    /// EVAL or EVALSHA: the server runs them with its scripting.
    Eval,
    EvalSha,
}

/// One command of the table.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Lowercase, as errors print it.
    name: &'static str,
    /// Redis' arity: exactly `n` arguments (name included), or at least `-n`.
    arity: i32,
    pub(crate) handler: Handler,
}

const fn read(name: &'static str, arity: i32, f: ReadCommand) -> Spec {
    Spec {
        name,
        arity,
        handler: Handler::Read(f),
    }
}

const fn write(name: &'static str, arity: i32, f: DataCommand) -> Spec {
    Spec {
        name,
        arity,
        handler: Handler::Write(f),
    }
}

/// Every command `execute` accepts, sorted, uppercase. A test keeps it equal to the table.
pub const COMMANDS: &[&str] = &[
    "DEL",
    "EVAL",
    "EVALSHA",
    "EXISTS",
    "HDEL",
    "HINCRBY",
    "HMGET",
    "HSET",
    "PING",
    "PUBLISH",
    "RENAME",
    "SADD",
    "SCARD",
    "SMEMBERS",
    "SPOP",
    "SREM",
    "SSCAN",
    "ZADD",
    "ZCOUNT",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZREM",
    "ZREVRANGEBYSCORE",
    "ZSCORE",
];

static TABLE: &[Spec] = &[
    write("del", -2, keys::del),
    Spec {
        name: "eval",
        arity: -3,
        handler: Handler::Eval,
    },
    Spec {
        name: "evalsha",
        arity: -3,
        handler: Handler::EvalSha,
    },
    read("exists", -2, keys::exists),
    write("hdel", -3, hashes::hdel),
    write("hincrby", 4, hashes::hincrby),
    read("hmget", -3, hashes::hmget),
    write("hset", -4, hashes::hset),
    read("ping", -1, keys::ping),
    read("publish", 3, keys::publish),
    write("rename", 3, keys::rename),
    write("sadd", -3, hashes::sadd),
    read("scard", 2, sets::scard),
    read("smembers", 2, hashes::smembers),
    write("spop", -2, sets::spop),
    write("srem", -3, hashes::srem),
    read("sscan", -3, sets::sscan),
    write("zadd", -4, zsets::zadd),
    read("zcount", 4, zsets::zcount),
    read("zrange", -4, zsets::zrange),
    read("zrangebyscore", -4, zsets::zrangebyscore),
    write("zrem", -3, zsets::zrem),
    read("zrevrangebyscore", -4, zsets::zrevrangebyscore),
    read("zscore", 3, zsets::zscore),
];

/// What `MemoryStore::inspect` answers: read-only commands, those of the table and the
/// ones tests read the layout with.
pub const INSPECT_COMMANDS: &[&str] = &[
    "EXISTS",
    "HGET",
    "HGETALL",
    "HMGET",
    "KEYS",
    "SISMEMBER",
    "SMEMBERS",
    "TTL",
    "TYPE",
    "ZCOUNT",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGEBYSCORE",
    "ZSCORE",
];

static INSPECT_TABLE: &[Spec] = &[
    read("exists", -2, keys::exists),
    read("hget", 3, inspect::hget),
    read("hgetall", 2, inspect::hgetall),
    read("hmget", -3, hashes::hmget),
    read("keys", 2, inspect::keys),
    read("sismember", 3, inspect::sismember),
    read("smembers", 2, hashes::smembers),
    read("ttl", 2, inspect::ttl),
    read("type", 2, inspect::type_),
    read("zcount", 4, zsets::zcount),
    read("zrange", -4, zsets::zrange),
    read("zrangebyscore", -4, zsets::zrangebyscore),
    read("zrevrangebyscore", -4, zsets::zrevrangebyscore),
    read("zscore", 3, zsets::zscore),
];

/// Why a command was refused before running.
#[derive(Debug)]
pub(crate) enum Rejected {
    Empty,
    Unknown,
    Arity(&'static str),
}

fn find<'a>(table: &'a [Spec], name: &[u8]) -> Option<&'a Spec> {
    table
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Finds `args[0]` in `table` and checks its arity, like Redis' `processCommand`.
fn resolve_in<'a>(table: &'a [Spec], args: &[Vec<u8>]) -> Result<&'a Spec, Rejected> {
    let name = args.first().ok_or(Rejected::Empty)?;
    let spec = find(table, name).ok_or(Rejected::Unknown)?;
    let n = args.len() as i64;
    let arity = i64::from(spec.arity);
    if (arity > 0 && arity != n) || n < -arity {
        return Err(Rejected::Arity(spec.name));
    }
    Ok(spec)
}

/// Finds the command `args` names and checks its arity.
pub(crate) fn resolve(args: &[Vec<u8>]) -> Result<&'static Spec, Rejected> {
    resolve_in(TABLE, args)
}

/// C's `%.*s` of a byte string: stops at a NUL and after `max` bytes.
fn c_str(bytes: &[u8], max: usize) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end.min(max)]).into_owned()
}

impl Rejected {
    /// The error a client gets.
    pub(crate) fn client_error(&self, args: &[Vec<u8>]) -> ServerError {
        match self {
            Rejected::Empty => err("empty command"),
            Rejected::Unknown => {
                let mut list = String::new();
                for arg in args.iter().skip(1) {
                    if list.len() >= 128 {
                        break;
                    }
                    list.push_str(&format!("'{}' ", c_str(arg, 128 - list.len())));
                }
                let name = args.first().map(|n| c_str(n, 128)).unwrap_or_default();
                // Redis' `rejectCommandFormat`: newlines become spaces, the reply stays one line.
                let message = format!("unknown command '{name}', with args beginning with: {list}");
                err(&message.replace(['\r', '\n'], " "))
            }
            Rejected::Arity(name) => arity_error(name),
        }
    }

    /// The error `redis.call` raises for it.
    fn script_error(&self) -> ServerError {
        match self {
            Rejected::Empty => err("Please specify at least one argument for this redis lib call"),
            Rejected::Unknown => err("Unknown Redis command called from script"),
            Rejected::Arity(_) => err("Wrong number of args calling Redis command from script"),
        }
    }
}

/// Runs a write command, noting it for the journal when it applied (a write command that
/// fails changes nothing).
pub(crate) fn write_and_note(db: &mut Keyspace, f: DataCommand, args: &[Vec<u8>]) -> Reply {
    let reply = f(db, args);
    if reply.is_ok() {
        db.note_change(args);
    }
    reply
}

/// Applies a write command read back from the journal. It applied when it was written,
/// and the state is the same, so an error means the journal is not this store's.
pub(crate) fn replay(db: &mut Keyspace, args: &[Vec<u8>]) -> Result<(), String> {
    match resolve(args).map(|spec| spec.handler) {
        Ok(Handler::Write(f)) => f(db, args).map(drop).map_err(|e| e.0),
        _ => Err("not a write command".into()),
    }
}

/// A command as `redis.call` runs it: data commands only.
pub(crate) fn call_from_script(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    match resolve(args).map_err(|r| r.script_error())?.handler {
        Handler::Read(f) => f(db, args),
        Handler::Write(f) => write_and_note(db, f, args),
        Handler::Eval | Handler::EvalSha => {
            Err(err("This Redis command is not allowed from script"))
        }
    }
}

/// Runs a command of [`INSPECT_COMMANDS`] for `MemoryStore::inspect`: it only gets
/// `&Keyspace`, so nothing it runs can change the data.
pub(crate) fn inspect(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let spec = resolve_in(INSPECT_TABLE, args).map_err(|r| r.client_error(args))?;
    match spec.handler {
        Handler::Read(f) => f(db, args),
        Handler::Write(_) | Handler::Eval | Handler::EvalSha => {
            Err(Rejected::Unknown.client_error(args))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(table: &[Spec]) -> Vec<String> {
        let mut names: Vec<String> = table.iter().map(|s| s.name.to_uppercase()).collect();
        names.sort();
        names
    }

    #[test]
    fn commands_lists_the_table() {
        assert_eq!(names(TABLE), COMMANDS);
    }

    #[test]
    fn inspect_commands_lists_its_table_and_only_reads() {
        assert_eq!(names(INSPECT_TABLE), INSPECT_COMMANDS);
        assert!(
            INSPECT_TABLE
                .iter()
                .all(|s| matches!(s.handler, Handler::Read(_)))
        );
    }
}
