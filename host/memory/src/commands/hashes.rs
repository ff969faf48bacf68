//! Hashes and sets: HSET HMGET HDEL HINCRBY, SADD SREM SMEMBERS.

use crate::keyspace::{Entry, Hash, Keyspace, Set, hash_remove};
use crate::numbers::parse_i64;
use crate::reply::{Reply, Value, arity_error, bulk, count, err, int_arg};

fn new_hash() -> Entry {
    Entry::Hash(Hash::new())
}

fn new_set() -> Entry {
    Entry::Set(Set::new())
}

/// HSET: the count of new fields.
pub(super) fn hset(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    if args.len() % 2 == 1 {
        return Err(arity_error("hset"));
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
    Ok(count(created))
}

pub(super) fn hmget(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let h = db.hash(&args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Value::Nil, |v| bulk(v)))
            .collect(),
    ))
}

pub(super) fn hdel(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Some(h) = db.hash_mut(&args[1])? else {
        return Ok(Value::Integer(0));
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
    Ok(Value::Integer(new))
}

pub(super) fn sadd(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Entry::Set(s) = db.get_or_create(&args[1], new_set)? else {
        return Ok(Value::Nil);
    };
    Ok(count(args[2..].iter().filter(|m| s.insert(m)).count()))
}

pub(super) fn srem(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Some(s) = db.set_mut(&args[1])? else {
        return Ok(Value::Integer(0));
    };
    let removed = args[2..].iter().filter(|m| s.remove(m)).count();
    db.drop_if_empty(&args[1]);
    Ok(count(removed))
}

pub(super) fn smembers(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let members = db.set(&args[1])?.map(Set::listed).unwrap_or_default();
    Ok(Value::Array(members.into_iter().map(|m| bulk(m)).collect()))
}
