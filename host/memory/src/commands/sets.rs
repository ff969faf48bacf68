//! Set commands the big-app scripts use: SPOP (killsoid's batches), SCARD and SSCAN (soid's
//! pages).

use crate::keyspace::{Keyspace, Set};
use crate::reply::{Reply, Value, bulk, err, int_arg, syntax_error};

/// SPOP key [count]. Pops from the end of the insertion order: Redis picks at random, which
/// no caller may rely on, and a deterministic pop replays the same.
pub(super) fn spop(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let wanted = match args.len() {
        2 => None,
        // Redis answers the same for a count that is negative or not a number.
        3 => Some(
            int_arg(&args[2])
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| err("value is out of range, must be positive"))?,
        ),
        _ => return Err(syntax_error()),
    };
    let Some(s) = db.set_mut(&args[1])? else {
        return Ok(wanted.map_or(Value::Nil, |_| Value::Array(Vec::new())));
    };
    let popped: Vec<Vec<u8>> = (0..wanted.unwrap_or(1))
        .map_while(|_| s.members.pop())
        .collect();
    db.drop_if_empty(&args[1]);
    Ok(match wanted {
        Some(_) => Value::Array(popped.iter().map(|m| bulk(m)).collect()),
        None => popped.first().map_or(Value::Nil, |m| bulk(m)),
    })
}

pub(super) fn scard(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let len = db.set(&args[1])?.map_or(0, |s| s.members.len());
    Ok(Value::Integer(i64::try_from(len).unwrap_or(i64::MAX)))
}

/// SSCAN key cursor [COUNT n]. The cursor counts the members not yet visited, walking the
/// insertion order from its end. Removal moves the last member into the hole
/// (`swap_remove`), and additions go to the end, so a member present throughout is never
/// skipped (an already-visited one may come again): Redis' SCAN guarantees. A set still
/// encoded as an intset comes whole, as in Redis.
pub(super) fn sscan(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let cursor = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or_else(|| err("invalid cursor"))?;
    let mut hint = 10usize;
    let mut j = 3;
    while j < args.len() {
        if args[j].eq_ignore_ascii_case(b"count") && j + 1 < args.len() {
            hint = usize::try_from(int_arg(&args[j + 1])?)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(syntax_error)?;
            j += 2;
        } else {
            return Err(syntax_error());
        }
    }
    let Some(s) = db.set(&args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let len = s.members.len();
    let end = match cursor {
        0 => len,
        c => usize::try_from(c).unwrap_or(usize::MAX).min(len),
    };
    let start = if s.intset {
        0
    } else {
        end.saturating_sub(hint)
    };
    let members = listed_range(s, start, end);
    Ok(scan_reply(start, members))
}

fn listed_range(s: &Set, start: usize, end: usize) -> Vec<Value> {
    (start..end)
        .rev()
        .filter_map(|i| s.members.get_index(i))
        .map(|m| bulk(m))
        .collect()
}

fn scan_reply(next: usize, members: Vec<Value>) -> Value {
    Value::Array(vec![
        bulk(next.to_string().as_bytes()),
        Value::Array(members),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn scan_all(db: &mut Keyspace, remove_each: bool) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let Value::Array(r) = sscan(db, &args(&["sscan", "s", &cursor, "count", "3"])).unwrap()
            else {
                panic!()
            };
            let (Value::Bulk(next), Value::Array(ms)) = (&r[0], &r[1]) else {
                panic!()
            };
            for m in ms {
                let Value::Bulk(m) = m else { panic!() };
                seen.push(m.clone());
            }
            if remove_each {
                // Removing the first member (not yet visited) moves the last into its place.
                if let Some(first) = db
                    .set_mut(b"s")
                    .unwrap()
                    .and_then(|s| s.members.first().cloned())
                {
                    db.set_mut(b"s").unwrap().unwrap().remove(&first);
                }
            }
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0" {
                return seen;
            }
        }
    }

    fn fill(db: &mut Keyspace, n: usize) {
        let mut a = args(&["sadd", "s"]);
        a.extend((0..n).map(|i| format!("m{i}").into_bytes()));
        super::super::hashes::sadd(db, &a).unwrap();
    }

    #[test]
    fn sscan_visits_every_member_once_when_nothing_changes() {
        let mut db = Keyspace::default();
        fill(&mut db, 20);
        let mut seen = scan_all(&mut db, false);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn sscan_never_skips_members_present_throughout() {
        let mut db = Keyspace::default();
        fill(&mut db, 30);
        let survivors: Vec<Vec<u8>> = (10..30).map(|i| format!("m{i}").into_bytes()).collect();
        let seen = scan_all(&mut db, true);
        for m in &survivors {
            let still = db.set(b"s").unwrap().is_some_and(|s| s.members.contains(m));
            assert!(!still || seen.contains(m), "{m:?} skipped");
        }
    }

    #[test]
    fn scard_counts_members_and_a_missing_set_is_empty() {
        let mut db = Keyspace::default();
        assert_eq!(
            scard(&db, &args(&["scard", "s"])).unwrap(),
            Value::Integer(0)
        );
        fill(&mut db, 7);
        assert_eq!(
            scard(&db, &args(&["scard", "s"])).unwrap(),
            Value::Integer(7)
        );
    }

    #[test]
    fn spop_with_a_count_empties_and_drops_the_set() {
        let mut db = Keyspace::default();
        fill(&mut db, 5);
        let Value::Array(a) = spop(&mut db, &args(&["spop", "s", "3"])).unwrap() else {
            panic!()
        };
        assert_eq!(a.len(), 3);
        let Value::Array(b) = spop(&mut db, &args(&["spop", "s", "3"])).unwrap() else {
            panic!()
        };
        assert_eq!(b.len(), 2);
        assert!(!db.contains(b"s"));
        assert_eq!(spop(&mut db, &args(&["spop", "s"])).unwrap(), Value::Nil);
    }
}
