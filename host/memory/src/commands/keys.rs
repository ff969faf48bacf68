//! Key commands: PING DEL EXISTS RENAME, and PUBLISH.

use crate::keyspace::Keyspace;
use crate::reply::{Reply, Value, arity_error, bulk, count, err};

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
    Ok(Value::Integer(0))
}

/// RENAME key newkey: moves the value, replacing whatever `newkey` held (rotate's move of a
/// session hash to its new token).
pub(super) fn rename(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let entry = db.take(&args[1]).ok_or_else(|| err("no such key"))?;
    db.insert(&args[2], entry);
    Ok(Value::Status("OK".into()))
}
