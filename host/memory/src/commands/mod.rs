//! The command table: names, arities and handlers; lookup with Redis' rejections.

mod generic;
mod hashes;
mod zsets;

use crate::keyspace::Keyspace;
use crate::{Server, ServerError, Value};

pub(crate) type Reply = Result<Value, ServerError>;
/// A command that only touches the data (what scripts may call).
type DataFn = fn(&mut Keyspace, &[Vec<u8>]) -> Reply;
/// A command that needs the whole server (scripting).
type ServerFn = fn(&mut Server, &[Vec<u8>]) -> Reply;

#[derive(Debug)]
enum Handler {
    Data(DataFn),
    Server(ServerFn),
    /// A container command (SCRIPT): the second argument names the subcommand.
    Container(&'static [Spec]),
}

/// One command of the table.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Lowercase name, as matched (the subcommand's own name for a subcommand).
    name: &'static str,
    /// The name errors print: `hset`, `script|load`.
    full: &'static str,
    /// Redis' arity: exactly `n` arguments (name included), or at least `-n`.
    arity: i32,
    /// Refused inside scripts ("This Redis command is not allowed from script").
    noscript: bool,
    /// MULTI, EXEC and friends: the API's `transaction` does their job.
    multi: bool,
    handler: Handler,
}

const fn data(name: &'static str, arity: i32, f: DataFn) -> Spec {
    Spec {
        name,
        full: name,
        arity,
        noscript: false,
        multi: false,
        handler: Handler::Data(f),
    }
}

const fn server(name: &'static str, full: &'static str, arity: i32, f: ServerFn) -> Spec {
    Spec {
        name,
        full,
        arity,
        noscript: true,
        multi: false,
        handler: Handler::Server(f),
    }
}

const fn transactional(name: &'static str, arity: i32) -> Spec {
    Spec {
        name,
        full: name,
        arity,
        noscript: true,
        multi: true,
        handler: Handler::Data(generic::transactional),
    }
}

static SCRIPT_SUBCOMMANDS: &[Spec] = &[
    server("load", "script|load", 3, crate::scripting::script_load),
    server(
        "exists",
        "script|exists",
        -3,
        crate::scripting::script_exists,
    ),
    server("flush", "script|flush", -2, crate::scripting::script_flush),
    server("kill", "script|kill", 2, crate::scripting::script_kill),
];

static COMMANDS: &[Spec] = &[
    data("ping", -1, generic::ping),
    data("echo", 2, generic::echo),
    data("del", -2, generic::del),
    data("exists", -2, generic::exists),
    data("type", 2, generic::type_),
    data("keys", 2, generic::keys),
    data("ttl", 2, generic::ttl),
    data("pttl", 2, generic::ttl),
    data("flushall", -1, generic::flush),
    data("flushdb", -1, generic::flush),
    data("dbsize", 1, generic::dbsize),
    data("get", 2, generic::get),
    data("set", -3, generic::set),
    data("hset", -4, hashes::hset),
    data("hmset", -4, hashes::hset),
    data("hget", 3, hashes::hget),
    data("hmget", -3, hashes::hmget),
    data("hgetall", 2, hashes::hgetall),
    data("hdel", -3, hashes::hdel),
    data("hincrby", 4, hashes::hincrby),
    data("hexists", 3, hashes::hexists),
    data("hlen", 2, hashes::hlen),
    data("sadd", -3, hashes::sadd),
    data("srem", -3, hashes::srem),
    data("smembers", 2, hashes::smembers),
    data("sismember", 3, hashes::sismember),
    data("scard", 2, hashes::scard),
    data("zadd", -4, zsets::zadd),
    data("zincrby", 4, zsets::zincrby),
    data("zrem", -3, zsets::zrem),
    data("zscore", 3, zsets::zscore),
    data("zcard", 2, zsets::zcard),
    data("zcount", 4, zsets::zcount),
    data("zrange", -4, zsets::zrange),
    data("zrevrange", -4, zsets::zrevrange),
    data("zrangebyscore", -4, zsets::zrangebyscore),
    data("zrevrangebyscore", -4, zsets::zrevrangebyscore),
    server("eval", "eval", -3, crate::scripting::eval),
    server("evalsha", "evalsha", -3, crate::scripting::evalsha),
    Spec {
        name: "script",
        full: "script",
        arity: -2,
        noscript: true,
        multi: false,
        handler: Handler::Container(SCRIPT_SUBCOMMANDS),
    },
    transactional("multi", 1),
    transactional("exec", 1),
    transactional("discard", 1),
    transactional("watch", -2),
    transactional("unwatch", 1),
];

/// Why a command was refused before running.
#[derive(Debug)]
pub(crate) enum Rejected {
    Empty,
    Unknown,
    UnknownSubcommand,
    Arity(&'static Spec),
}

fn find<'a>(table: &'a [Spec], name: &[u8]) -> Option<&'a Spec> {
    table
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Finds the command `args` names and checks its arity, like Redis' `processCommand`.
pub(crate) fn resolve(args: &[Vec<u8>]) -> Result<&'static Spec, Rejected> {
    let name = args.first().ok_or(Rejected::Empty)?;
    let mut spec = find(COMMANDS, name).ok_or(Rejected::Unknown)?;
    if let (Handler::Container(subcommands), Some(sub)) = (&spec.handler, args.get(1)) {
        spec = find(subcommands, sub).ok_or(Rejected::UnknownSubcommand)?;
    }
    let n = args.len() as i64;
    let arity = i64::from(spec.arity);
    if (arity > 0 && arity != n) || n < -arity {
        return Err(Rejected::Arity(spec));
    }
    Ok(spec)
}

/// C's `%.*s` of a byte string: stops at a NUL and after `max` bytes.
fn c_str(bytes: &[u8], max: usize) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end.min(max)]).into_owned()
}

/// Redis' `rejectCommandFormat`: newlines become spaces so the reply stays one line.
fn reject(message: String) -> ServerError {
    ServerError(format!("ERR {message}").replace(['\r', '\n'], " "))
}

impl Rejected {
    /// The error a client gets.
    pub(crate) fn client_error(&self, args: &[Vec<u8>]) -> ServerError {
        match self {
            Rejected::Empty => reject("empty command".into()),
            Rejected::Unknown => {
                let mut list = String::new();
                for arg in args.iter().skip(1) {
                    if list.len() >= 128 {
                        break;
                    }
                    list.push_str(&format!("'{}' ", c_str(arg, 128 - list.len())));
                }
                let name = args.first().map(|n| c_str(n, 128)).unwrap_or_default();
                reject(format!(
                    "unknown command '{name}', with args beginning with: {list}"
                ))
            }
            Rejected::UnknownSubcommand => {
                let sub = args.get(1).map(|s| c_str(s, 128)).unwrap_or_default();
                let cmd = args
                    .first()
                    .map(|c| c_str(c, usize::MAX).to_ascii_uppercase())
                    .unwrap_or_default();
                reject(format!("unknown subcommand '{sub}'. Try {cmd} HELP."))
            }
            // Redis rejects a malformed EXEC by aborting the transaction (even without one).
            Rejected::Arity(spec) if spec.name == "exec" => ServerError(
                "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
                    .into(),
            ),
            Rejected::Arity(spec) => arity_error(spec.full),
        }
    }

    /// The error `redis.call` raises for it.
    pub(crate) fn script_error(&self) -> ServerError {
        match self {
            Rejected::Empty => ServerError(
                "ERR Please specify at least one argument for this redis lib call".into(),
            ),
            Rejected::Unknown | Rejected::UnknownSubcommand => {
                ServerError("ERR Unknown Redis command called from script".into())
            }
            Rejected::Arity(_) => {
                ServerError("ERR Wrong number of args calling Redis command from script".into())
            }
        }
    }
}

pub(crate) fn arity_error(full: &str) -> ServerError {
    ServerError(format!(
        "ERR wrong number of arguments for '{full}' command"
    ))
}

impl Spec {
    /// Whether a transaction may queue it (MULTI/EXEC and friends are the API's job).
    pub(crate) fn is_transactional(&self) -> bool {
        self.multi
    }

    /// Runs a resolved command.
    pub(crate) fn run(&self, server: &mut Server, args: &[Vec<u8>]) -> Reply {
        match self.handler {
            Handler::Data(f) => f(&mut server.db, args),
            Handler::Server(f) => f(server, args),
            Handler::Container(_) => Err(arity_error(self.full)),
        }
    }

    /// Runs a command for `redis.call`: only data commands are allowed in scripts.
    pub(crate) fn run_in_script(&self, db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
        match self.handler {
            Handler::Data(f) if !self.noscript => f(db, args),
            _ => Err(ServerError(
                "ERR This Redis command is not allowed from script".into(),
            )),
        }
    }
}

/// `ERR <message>`.
pub(crate) fn err(message: &str) -> ServerError {
    ServerError(format!("ERR {message}"))
}

pub(crate) fn syntax_error() -> ServerError {
    err("syntax error")
}

pub(crate) fn not_an_integer() -> ServerError {
    err("value is not an integer or out of range")
}

pub(crate) fn ok() -> Value {
    Value::Status("OK".into())
}

/// An integer argument (`getLongLongFromObjectOrReply`).
pub(crate) fn int_arg(arg: &[u8]) -> Result<i64, ServerError> {
    crate::numbers::parse_i64(arg).ok_or_else(not_an_integer)
}

pub(crate) fn bulk(bytes: &[u8]) -> Value {
    Value::Bulk(bytes.to_vec())
}

pub(crate) fn count(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}
