//! Server and key commands, and strings: PING ECHO DEL EXISTS TYPE KEYS TTL PTTL FLUSHALL
//! FLUSHDB DBSIZE GET SET.

use super::{Reply, arity_error, bulk, count, err, ok, syntax_error};
use crate::keyspace::{Entry, Keyspace};
use crate::{ServerError, Value, glob};

pub(super) fn ping(_: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    match args {
        [_] => Ok(Value::Status("PONG".into())),
        [_, message] => Ok(bulk(message)),
        _ => Err(arity_error("ping")),
    }
}

pub(super) fn echo(_: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(bulk(&args[1]))
}

pub(super) fn del(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(args[1..].iter().filter(|k| db.remove(k)).count()))
}

pub(super) fn exists(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(args[1..].iter().filter(|k| db.contains(k)).count()))
}

pub(super) fn type_(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let name = db.get(&args[1]).map_or("none", Entry::type_name);
    Ok(Value::Status(name.into()))
}

pub(super) fn keys(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let pattern = &args[1];
    let all = pattern.as_slice() == b"*";
    Ok(Value::Array(
        db.keys()
            .filter(|k| all || glob::matches(pattern, k))
            .map(|k| bulk(k))
            .collect(),
    ))
}

/// TTL and PTTL: -2 for a missing key, else -1 (keys never expire here).
pub(super) fn ttl(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(if db.contains(&args[1]) { -1 } else { -2 }))
}

/// FLUSHALL and FLUSHDB `[ASYNC|SYNC]`.
pub(super) fn flush(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    match args {
        [_] => {}
        [_, mode] if mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async") => {}
        _ => return Err(syntax_error()),
    }
    db.clear();
    Ok(ok())
}

pub(super) fn dbsize(db: &mut Keyspace, _: &[Vec<u8>]) -> Reply {
    Ok(count(db.len()))
}

pub(super) fn get(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(db.string(&args[1])?.map_or(Value::Nil, |v| bulk(v)))
}

/// SET key value [NX|XX] [GET] [KEEPTTL]. Expiry options are refused: keys never expire.
pub(super) fn set(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let (mut nx, mut xx, mut get) = (false, false, false);
    for opt in &args[3..] {
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        if is("nx") && !xx {
            nx = true;
        } else if is("xx") && !nx {
            xx = true;
        } else if is("get") || is("keepttl") {
            get |= is("get");
        } else if ["ex", "px", "exat", "pxat"].iter().any(|o| is(o)) {
            return Err(err(
                "SET with an expiry is not supported by the embedded store (keys never expire)",
            ));
        } else {
            return Err(syntax_error());
        }
    }
    let key = &args[1];
    let old = if get {
        db.string(key)?.map_or(Value::Nil, |v| bulk(v))
    } else {
        Value::Nil
    };
    let found = db.contains(key);
    if (nx && found) || (xx && !found) {
        return Ok(if get { old } else { Value::Nil });
    }
    db.insert(key, Entry::Str(args[2].clone()));
    Ok(if get { old } else { ok() })
}

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH: transactions go through the API.
pub(super) fn transactional(_: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    Err(ServerError(format!(
        "ERR {name} is not supported by the embedded store's execute: use MemoryStore::transaction"
    )))
}
