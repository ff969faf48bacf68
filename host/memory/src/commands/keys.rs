//! Key commands: PING DEL EXISTS, and PUBLISH.

use crate::keyspace::Keyspace;
use crate::reply::{Reply, Value, arity_error, bulk, count};

pub(super) fn ping(_: &Keyspace, args: &[Vec<u8>]) -> Reply {
    match args {
        [_] => Ok(Value::Status("PONG".into())),
        [_, message] => Ok(bulk(message)),
        _ => Err(arity_error("ping")),
    }
}

pub(super) fn del(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(args[1..].iter().filter(|k| db.remove(k)).count()))
}

pub(super) fn exists(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(args[1..].iter().filter(|k| db.contains(k)).count()))
}

/// PUBLISH channel message. The scripts announce writes to node's read caches with it; in
/// process nobody subscribes, so it reaches no one, as Redis answers then.
pub(super) fn publish(_: &Keyspace, _: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(0))
}
