//! Replies as the capability carries them. What a Redis reply becomes (arrays one level
//! deep, an error inside an array the call's `server` error) is decided in one place for
//! every backend, [`redis_sessions_resp::codec::reply`], which the wasm plugs use too: the
//! embedded store answers in its `Value`, and redis-rs' values are read into it first
//! ([`from_redis`]). Here only the twin types of the host's bindings are filled.

use crate::bindings::redis::{Element, Error, Reply};
use redis_sessions_resp::{self as resp, Value};

/// `value` as the WIT `reply`, or the `error` it stands for.
pub(super) fn reply(value: Value) -> Result<Reply, Error> {
    resp::codec::reply(value).map(wit_reply).map_err(wit_error)
}

/// A redis-rs value in RESP2's terms, as Redis would send it to a RESP2 client: `OK` a
/// status, a boolean an integer, a double or verbatim string a bulk string, a map its keys
/// and values in turn, an error its code and text. RESP3's pushes, attributes and big
/// numbers have no RESP2 form: `unsupported-reply`.
pub(super) fn from_redis(value: redis::Value) -> Result<Value, Error> {
    use redis::Value as R;
    let all = |items: Vec<R>| items.into_iter().map(from_redis).collect::<Result<_, _>>();
    Ok(match value {
        R::Nil => Value::Nil,
        R::Int(n) => Value::Integer(n),
        R::BulkString(b) => Value::Bulk(b),
        R::SimpleString(s) => Value::Status(s),
        R::Okay => Value::Status("OK".into()),
        R::Boolean(b) => Value::Integer(i64::from(b)),
        R::Double(f) => Value::Bulk(f.to_string().into_bytes()),
        R::VerbatimString { text, .. } => Value::Bulk(text.into_bytes()),
        R::Array(items) | R::Set(items) => Value::Array(all(items)?),
        R::Map(pairs) => Value::Array(all(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())?),
        R::ServerError(e) => Value::Error(match e.details() {
            Some(detail) => format!("{} {detail}", e.code()),
            None => e.code().to_string(),
        }),
        other => {
            return Err(Error::UnsupportedReply(format!("a RESP3 reply: {other:?}")));
        }
    })
}

fn wit_element(e: resp::Element) -> Element {
    match e {
        resp::Element::Nil => Element::Nil,
        resp::Element::Status(s) => Element::Status(s),
        resp::Element::Integer(n) => Element::Integer(n),
        resp::Element::Bulk(b) => Element::Bulk(b),
    }
}

fn wit_reply(r: resp::Reply) -> Reply {
    match r {
        resp::Reply::Nil => Reply::Nil,
        resp::Reply::Status(s) => Reply::Status(s),
        resp::Reply::Integer(n) => Reply::Integer(n),
        resp::Reply::Bulk(b) => Reply::Bulk(b),
        resp::Reply::Array(items) => Reply::Array(items.into_iter().map(wit_element).collect()),
    }
}

fn wit_error(e: resp::Error) -> Error {
    match e {
        resp::Error::Server(m) => Error::Server(m),
        resp::Error::Unavailable(m) => Error::Unavailable(m),
        resp::Error::Denied(m) => Error::Denied(m),
        resp::Error::UnsupportedReply(m) => Error::UnsupportedReply(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_rs_values_read_as_redis_sends_them_over_resp2() {
        use redis::Value as R;
        let map = R::Map(vec![(R::BulkString(b"k".to_vec()), R::Boolean(true))]);
        assert_eq!(
            from_redis(map).and_then(reply),
            Ok(Reply::Array(vec![
                Element::Bulk(b"k".to_vec()),
                Element::Integer(1)
            ]))
        );
        assert_eq!(
            from_redis(R::Okay).and_then(reply),
            Ok(Reply::Status("OK".into()))
        );
        let nested = R::Array(vec![R::Array(vec![])]);
        assert!(matches!(
            from_redis(nested).and_then(reply),
            Err(Error::UnsupportedReply(_))
        ));
    }
}
