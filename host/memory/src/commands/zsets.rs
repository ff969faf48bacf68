//! Sorted sets: ZADD ZREM ZCOUNT ZRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE, following Redis
//! 7.0's t_zset.c.

use crate::keyspace::{Entry, Keyspace, ScoreRange, ZSet};
use crate::numbers::{format_g17, parse_f64, parse_range_bound};
use crate::reply::{Reply, ServerError, Value, bulk, count, err, int_arg, syntax_error};

fn not_a_float() -> ServerError {
    err("value is not a valid float")
}

pub(super) fn score_reply(score: f64) -> Value {
    Value::Bulk(format_g17(score).into_bytes())
}

pub(super) fn zscore(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let score = db.zset(&args[1])?.and_then(|z| z.score(&args[2]));
    Ok(score.map_or(Value::Nil, score_reply))
}

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

pub(super) fn zadd(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let mut f = AddFlags::default();
    let mut at = 2;
    while let Some(opt) = args.get(at) {
        let flag = match opt.to_ascii_lowercase().as_slice() {
            b"nx" => &mut f.nx,
            b"xx" => &mut f.xx,
            b"ch" => &mut f.ch,
            b"incr" => &mut f.incr,
            b"gt" => &mut f.gt,
            b"lt" => &mut f.lt,
            _ => break,
        };
        *flag = true;
        at += 1;
    }
    let pairs = &args[at..];
    if pairs.is_empty() || pairs.len() % 2 == 1 {
        return Err(syntax_error());
    }
    if f.nx && f.xx {
        return Err(err("XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && pairs.len() > 2 {
        return Err(err("INCR option supports a single increment-element pair"));
    }
    let scores = pairs
        .chunks_exact(2)
        .map(|p| parse_f64(&p[0]).ok_or_else(not_a_float))
        .collect::<Result<Vec<f64>, _>>()?;
    add(db, &args[1], &f, pairs, &scores)
}

fn add(db: &mut Keyspace, key: &[u8], f: &AddFlags, pairs: &[Vec<u8>], scores: &[f64]) -> Reply {
    let z = match db.zset_mut(key)? {
        Some(z) => z,
        None if f.xx => {
            return Ok(if f.incr {
                Value::Nil
            } else {
                Value::Integer(0)
            });
        }
        None => {
            db.insert(key, Entry::ZSet(ZSet::default()));
            db.zset_mut(key)?.ok_or_else(|| err("internal error"))?
        }
    };
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    for (pair, &score) in pairs.chunks_exact(2).zip(scores) {
        let member = &pair[1];
        match z.score(member) {
            Some(current) => {
                if f.nx {
                    continue;
                }
                let mut new = score;
                if f.incr {
                    new += current;
                    if new.is_nan() {
                        return Err(err("resulting score is not a number (NaN)"));
                    }
                }
                if (f.lt && new >= current) || (f.gt && new <= current) {
                    continue;
                }
                if new != current {
                    z.insert(member, new);
                    updated += 1;
                }
                last = new;
                processed += 1;
            }
            None if !f.xx => {
                z.insert(member, score);
                added += 1;
                last = score;
                processed += 1;
            }
            None => {}
        }
    }
    db.drop_if_empty(key);
    if f.incr {
        return Ok(if processed > 0 {
            score_reply(last)
        } else {
            Value::Nil
        });
    }
    Ok(count(if f.ch { added + updated } else { added }))
}

pub(super) fn zrem(db: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let Some(z) = db.zset_mut(&args[1])? else {
        return Ok(Value::Integer(0));
    };
    let removed = args[2..].iter().filter(|m| z.remove(m)).count();
    db.drop_if_empty(&args[1]);
    Ok(count(removed))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, ServerError> {
    match (parse_range_bound(min), parse_range_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        }),
        _ => Err(err("min or max is not a float")),
    }
}

pub(super) fn zcount(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    let range = score_range(&args[2], &args[3])?;
    let n = db
        .zset(&args[1])?
        .map_or(0, |z| z.range(range, false).count());
    Ok(count(n))
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis' `zrangeGenericCommand`: options first, then the range, then the key.
fn zrange_generic(db: &Keyspace, args: &[Vec<u8>], mut by: By, rev: Option<bool>) -> Reply {
    let mut rev_opt = rev;
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = 4;
    while j < args.len() {
        let opt = args[j].to_ascii_lowercase();
        let left = args.len() - j - 1;
        match opt.as_slice() {
            b"withscores" => withscores = true,
            b"limit" if left >= 2 => {
                offset = int_arg(&args[j + 1])?;
                limit = int_arg(&args[j + 2])?;
                j += 2;
            }
            b"rev" if rev.is_none() => rev_opt = Some(true),
            b"bylex" if by == By::Auto => by = By::Lex,
            b"byscore" if by == By::Auto => by = By::Score,
            _ => return Err(syntax_error()),
        }
        j += 1;
    }
    let rev = rev_opt.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (lo, hi) = if rev && by != By::Rank {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let items: Vec<(&[u8], f64)> = match by {
        By::Score => {
            let range = score_range(lo, hi)?;
            let Some(z) = db.zset(&args[1])? else {
                return Ok(Value::Array(Vec::new()));
            };
            match (usize::try_from(offset), usize::try_from(limit)) {
                (Err(_), _) => Vec::new(),
                (Ok(offset), Ok(n)) => z.range(range, rev).skip(offset).take(n).collect(),
                (Ok(offset), Err(_)) => z.range(range, rev).skip(offset).collect(),
            }
        }
        By::Rank | By::Auto => {
            let (start, end) = (int_arg(lo)?, int_arg(hi)?);
            let Some(z) = db.zset(&args[1])? else {
                return Ok(Value::Array(Vec::new()));
            };
            rank_range(z, start, end, rev)
        }
        By::Lex => {
            // Only the bounds' syntax is checked: BYLEX itself is not supported.
            let valid = |b: &[u8]| matches!(b, b"-" | b"+" | [b'(' | b'[', ..]);
            if !valid(lo) || !valid(hi) {
                return Err(err("min or max not valid string range item"));
            }
            return Err(err("BYLEX ranges are not supported by the embedded store"));
        }
    };
    let mut out = Vec::with_capacity(items.len() * if withscores { 2 } else { 1 });
    for (member, score) in items {
        out.push(bulk(member));
        if withscores {
            out.push(score_reply(score));
        }
    }
    Ok(Value::Array(out))
}

fn rank_range(z: &ZSet, start: i64, end: i64, rev: bool) -> Vec<(&[u8], f64)> {
    let len = z.len() as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return Vec::new();
    }
    let n = (end.min(len - 1) - start + 1) as usize;
    let start = start as usize;
    if rev {
        z.iter().rev().skip(start).take(n).collect()
    } else {
        z.iter().skip(start).take(n).collect()
    }
}

pub(super) fn zrange(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    zrange_generic(db, args, By::Auto, None)
}

pub(super) fn zrangebyscore(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    zrange_generic(db, args, By::Score, Some(false))
}

pub(super) fn zrevrangebyscore(db: &Keyspace, args: &[Vec<u8>]) -> Reply {
    zrange_generic(db, args, By::Score, Some(true))
}
