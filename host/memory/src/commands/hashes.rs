//! Hashes and sets: HSET HMSET HGET HMGET HGETALL HDEL HINCRBY HEXISTS HLEN, SADD SREM
//! SMEMBERS SISMEMBER SCARD.

use super::{Reply, arity_error, bulk, count, err, int_arg, ok};
use crate::Value;
use crate::keyspace::{Entry, Hash, Keyspace, Set, hash_remove};
use crate::numbers::parse_i64;

fn new_hash() -> Entry {
    Entry::Hash(Hash::new())
}

fn new_set() -> Entry {
    Entry::Set(Set::new())
}

/// HSET (the count of new fields) and HMSET (OK).
pub(super) fn hset(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let hmset = args[0].eq_ignore_ascii_case(b"hmset");
    if args.len() % 2 == 1 {
        return Err(arity_error(if hmset { "hmset" } else { "hset" }));
    }
    let Entry::Hash(h) = db.get_or_create(&args[1], new_hash)? else {
        return Ok(Value::Nil);
    };
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if h.insert(pair[0].clone(), pair[1].clone()).is_none() {
            created += 1;
        }
    }
    Ok(if hmset { ok() } else { count(created) })
}

pub(super) fn hget(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let value = db.hash(&args[1])?.and_then(|h| h.get(&args[2]));
    Ok(value.map_or(Value::Nil, |v| bulk(v)))
}

pub(super) fn hmget(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let h = db.hash(&args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Value::Nil, |v| bulk(v)))
            .collect(),
    ))
}

pub(super) fn hgetall(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let h = db.hash(&args[1])?;
    Ok(Value::Array(
        h.into_iter()
            .flatten()
            .flat_map(|(f, v)| [bulk(f), bulk(v)])
            .collect(),
    ))
}

pub(super) fn hdel(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Some(h) = db.hash_mut(&args[1])? else {
        return Ok(Value::Int(0));
    };
    let removed = args[2..].iter().filter(|f| hash_remove(h, f)).count();
    db.drop_if_empty(&args[1]);
    Ok(count(removed))
}

pub(super) fn hincrby(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let incr = int_arg(&args[3])?;
    let Entry::Hash(h) = db.get_or_create(&args[1], new_hash)? else {
        return Ok(Value::Nil);
    };
    let old = match h.get(&args[2]) {
        Some(v) => parse_i64(v).ok_or_else(|| err("hash value is not an integer"))?,
        None => 0,
    };
    let Some(new) = old.checked_add(incr) else {
        return Err(err("increment or decrement would overflow"));
    };
    h.insert(args[2].clone(), new.to_string().into_bytes());
    Ok(Value::Int(new))
}

pub(super) fn hexists(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let found = db.hash(&args[1])?.is_some_and(|h| h.contains_key(&args[2]));
    Ok(Value::Int(i64::from(found)))
}

pub(super) fn hlen(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(db.hash(&args[1])?.map_or(0, |h| h.len())))
}

pub(super) fn sadd(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Entry::Set(s) = db.get_or_create(&args[1], new_set)? else {
        return Ok(Value::Nil);
    };
    Ok(count(args[2..].iter().filter(|m| s.insert(m)).count()))
}

pub(super) fn srem(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Some(s) = db.set_mut(&args[1])? else {
        return Ok(Value::Int(0));
    };
    let removed = args[2..].iter().filter(|m| s.remove(m)).count();
    db.drop_if_empty(&args[1]);
    Ok(count(removed))
}

pub(super) fn smembers(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let members = db.set(&args[1])?.map(Set::listed).unwrap_or_default();
    Ok(Value::Array(members.into_iter().map(|m| bulk(m)).collect()))
}

pub(super) fn sismember(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let found = db
        .set(&args[1])?
        .is_some_and(|s| s.members.contains(&args[2]));
    Ok(Value::Int(i64::from(found)))
}

pub(super) fn scard(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    Ok(count(db.set(&args[1])?.map_or(0, |s| s.members.len())))
}
