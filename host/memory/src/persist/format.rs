//! The snapshot's content, as serde types borrowing the bytes they hold (from the store
//! when saving, from the file when loading), and its checks on the way back in.

use crate::keyspace::{Entry, Hash, Keyspace, Set, ZSet};
use serde::{Deserialize, Serialize};

/// Every key and its value.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Snapshot<'a> {
    #[serde(borrow)]
    pub(super) keys: Vec<(&'a [u8], Stored<'a>)>,
}

/// One value. Hash fields in their order, sorted sets lowest first.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Stored<'a> {
    Hash(#[serde(borrow)] Vec<(&'a [u8], &'a [u8])>),
    /// `intset`: whether SMEMBERS lists in numeric order (Redis' encoding, which never
    /// goes back once lost, so it cannot be derived from the members).
    Set {
        intset: bool,
        #[serde(borrow)]
        members: Vec<&'a [u8]>,
    },
    ZSet(#[serde(borrow)] Vec<(&'a [u8], f64)>),
}

impl<'a> Snapshot<'a> {
    pub(super) fn of(db: &'a Keyspace) -> Self {
        let keys = db
            .entries()
            .map(|(key, entry)| {
                let stored = match entry {
                    Entry::Hash(h) => {
                        Stored::Hash(h.iter().map(|(f, v)| (&f[..], &v[..])).collect())
                    }
                    Entry::Set(s) => Stored::Set {
                        intset: s.intset,
                        members: s.members.iter().map(Vec::as_slice).collect(),
                    },
                    Entry::ZSet(z) => Stored::ZSet(z.iter().collect()),
                };
                (key.as_slice(), stored)
            })
            .collect();
        Snapshot { keys }
    }

    /// The keyspace, every invariant the commands keep checked: no duplicates, no empty
    /// collection, no NaN score, an intset flag its members allow.
    pub(super) fn into_keyspace(self) -> Result<Keyspace, &'static str> {
        let mut db = Keyspace::default();
        for (key, stored) in self.keys {
            if db.contains(key) {
                return Err("duplicate key");
            }
            let entry = match stored {
                Stored::Hash(fields) => Entry::Hash(hash(fields)?),
                Stored::Set { intset, members } => Entry::Set(set(intset, members)?),
                Stored::ZSet(members) => Entry::ZSet(zset(members)?),
            };
            db.insert(key, entry);
        }
        Ok(db)
    }
}

fn hash(fields: Vec<(&[u8], &[u8])>) -> Result<Hash, &'static str> {
    let mut h = Hash::with_capacity(fields.len());
    for (field, value) in fields {
        if h.insert(field.to_vec(), value.to_vec()).is_some() {
            return Err("duplicate hash field");
        }
    }
    if h.is_empty() {
        return Err("empty hash");
    }
    Ok(h)
}

fn set(intset: bool, members: Vec<&[u8]>) -> Result<Set, &'static str> {
    let mut s = Set::new();
    for member in members {
        if !s.insert(member) {
            return Err("duplicate set member");
        }
    }
    if s.members.is_empty() || (intset && !s.intset) {
        return Err("bad set");
    }
    s.intset = intset;
    Ok(s)
}

fn zset(members: Vec<(&[u8], f64)>) -> Result<ZSet, &'static str> {
    let mut z = ZSet::default();
    for (member, score) in members {
        if score.is_nan() || !z.insert(member, score) {
            return Err("bad sorted set member");
        }
    }
    if z.is_empty() {
        return Err("empty sorted set");
    }
    Ok(z)
}
