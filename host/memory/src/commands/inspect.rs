//! The read-only commands only `MemoryStore::inspect` answers (tests read the layout with
//! them): HGET HGETALL KEYS SISMEMBER TTL TYPE.

use crate::glob;
use crate::keyspace::{Entry, Keyspace};
use crate::reply::{Reply, Value, bulk};

pub(super) fn hget(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let value = db.hash(&args[1])?.and_then(|h| h.get(&args[2]));
    Ok(value.map_or(Value::Nil, |v| bulk(v)))
}

pub(super) fn hgetall(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let h = db.hash(&args[1])?;
    Ok(Value::Array(
        h.into_iter()
            .flatten()
            .flat_map(|(f, v)| [bulk(f), bulk(v)])
            .collect(),
    ))
}

pub(super) fn keys(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let pattern = &args[1];
    // Redis' `allkeys`: `*` lists every key, the empty one included, without matching.
    let all = pattern.as_slice() == b"*";
    Ok(Value::Array(
        db.keys()
            .filter(|k| all || glob::matches(pattern, k))
            .map(|k| bulk(k))
            .collect(),
    ))
}

pub(super) fn sismember(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let found = db
        .set(&args[1])?
        .is_some_and(|s| s.members.contains(&args[2]));
    Ok(Value::Integer(i64::from(found)))
}

/// -2 for a missing key, else -1: keys never expire here.
pub(super) fn ttl(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Integer(if db.contains(&args[1]) { -1 } else { -2 }))
}

pub(super) fn type_(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let name = db.get(&args[1]).map_or("none", Entry::type_name);
    Ok(Value::Status(name.into()))
}
