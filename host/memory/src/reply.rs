//! Replies and errors as Redis writes them, and the helpers every command builds them
//! with. A leaf: everything else imports it, it imports only `numbers`.

use crate::numbers::parse_i64;

/// A Redis reply (RESP2), the plugs' own type, so that one function
/// ([`redis_sessions_resp::codec::reply`]) maps this store's replies and Redis' to what the
/// capability carries. An [`Value::Error`] here is an error *inside* an array, as a script can
/// return (`{1, {err='x'}}`): a command's own error is the `Err` of its result.
pub use redis_sessions_resp::Value;

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

/// What a command answers.
pub(crate) type Reply = Result<Value, ServerError>;

/// `ERR <message>`.
pub(crate) fn err(message: &str) -> ServerError {
    ServerError(format!("ERR {message}"))
}

pub(crate) fn syntax_error() -> ServerError {
    err("syntax error")
}

pub(crate) fn arity_error(name: &str) -> ServerError {
    err(&format!("wrong number of arguments for '{name}' command"))
}

pub(crate) fn wrong_type() -> ServerError {
    ServerError("WRONGTYPE Operation against a key holding the wrong kind of value".into())
}

/// An integer argument (`getLongLongFromObjectOrReply`).
pub(crate) fn int_arg(arg: &[u8]) -> Result<i64, ServerError> {
    parse_i64(arg).ok_or_else(|| err("value is not an integer or out of range"))
}

pub(crate) fn bulk(bytes: &[u8]) -> Value {
    Value::Bulk(bytes.to_vec())
}

pub(crate) fn count(n: usize) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}
