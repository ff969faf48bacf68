//! The same commands against the embedded store and a real redis-server: every reply,
//! error texts included, must be identical.

use crate::support;
use redis_sessions_memory::{COMMANDS, INSPECT_COMMANDS};
use support::{Both, c, cmd};

#[test]
fn keys_and_unknown_commands() {
    let mut b = Both::new();
    b.lines(
        "PING
         ping hello
         PING a b
         SADD k v
         HSET h f v
         EXISTS k k new missing
         EXISTS
         TYPE k
         TYPE h
         TYPE missing
         TTL k
         TTL missing
         TTL
         DEL k missing new
         DEL
         EXISTS k h",
    );
    // Case-insensitive names, binary-safe values.
    b.check(&[
        b"hSeT".to_vec(),
        b"bin".to_vec(),
        vec![0, 255, 13, 10, 1],
        vec![0],
    ])
    .unwrap();
    b.check(&[b"HmGeT".to_vec(), b"bin".to_vec(), vec![0, 255, 13, 10, 1]])
        .unwrap();
    b.check(&cmd(&["hset", "", "", "empty key"])).unwrap();
    b.check(&cmd(&["hmget", "", ""])).unwrap();
    // Unknown commands: Redis lists the first arguments, quoted, up to 128 bytes.
    b.check(&cmd(&["FOO"])).unwrap_err();
    b.check(&cmd(&["foo", "a", "b c", "d'e"])).unwrap_err();
    let long = "x".repeat(100);
    b.check(&cmd(&["nope", &long, &long, &long])).unwrap_err();
    b.check(&cmd(&["NOTACOMMAND", "k", "0"])).unwrap_err();
    b.check(&cmd(&["multi-line", "a\r\nb"])).unwrap_err();
    b.check_dump();
}

#[test]
fn keys_patterns() {
    let mut b = Both::new();
    for k in [
        "rs:app:_sessions",
        "rs:app:_users",
        "rs:SESSIONS",
        "rs:app:us:u1",
        "a*b",
        "a?b",
        "axb",
        "abc",
        "a[b",
        "a\\b",
        "ab",
        "héllo",
        "",
    ] {
        b.check(&cmd(&["SADD", k, "1"])).unwrap();
    }
    for p in [
        "*",
        "rs:*",
        "rs:app:*",
        "*SESSIONS",
        "rs:app:_*s",
        "a?b",
        "a\\*b",
        "a\\?b",
        "a[*]b",
        "a[^x]b",
        "a[a-c]*",
        "a[c-a]*",
        "a[\\]b]",
        "a[b",
        "a\\\\b",
        "a\\",
        "?",
        "??",
        "h?llo",
        "h*o",
        "[",
        "[]",
        "a[!x]b",
        "**",
        "*[",
        "nothing",
    ] {
        b.check_unordered(&cmd(&["KEYS", p])).unwrap();
    }
    b.check(&cmd(&["KEYS"])).unwrap_err();
}

#[test]
fn hashes() {
    let mut b = Both::new();
    b.lines(
        "HSET h z 1 a 2 m 3
         HSET h a 9
         HGETALL h
         HDEL h z
         HSET h z 1
         HGETALL h
         HSET h
         HSET h a
         HSET h a 1 b
         HGETALL h
         HGET h a
         HGET h nope
         HGET missing a
         HMGET h a nope x
         HMGET missing a b
         HMGET h
         HINCRBY h a 5
         HINCRBY h a -20
         HINCRBY h new 7
         HINCRBY h a x
         HINCRBY h a 1.5
         HINCRBY h a 01
         HSET h s abc
         HINCRBY h s 1
         HSET h big 9223372036854775807
         HINCRBY h big 1
         HSET h small -9223372036854775808
         HINCRBY h small -1
         HINCRBY h small 0
         HSET h sp 007
         HINCRBY h sp 1
         HINCRBY fresh f -3
         HGETALL fresh
         HDEL h a nope a
         HDEL h
         HDEL missing a
         HGETALL h
         HGETALL missing
         HDEL fresh f
         EXISTS fresh
         TYPE h",
    );
    // Wrong types, both ways.
    b.lines(
        "SADD s v
         HSET s f v
         HGET s f
         HMGET s f
         HGETALL s
         HDEL s f
         HINCRBY s f 1",
    );
}

#[test]
fn sets() {
    let mut b = Both::new();
    b.lines(
        "SADD ints 3 1 2 10 -5 2
         SMEMBERS ints
         SREM ints 2 7
         SMEMBERS ints
         SADD ints 007
         SISMEMBER ints 3
         SISMEMBER ints 4
         SISMEMBER missing 4
         SMEMBERS missing
         SADD s
         SREM s
         SADD e only
         SREM e only
         EXISTS e
         HSET str f v
         SADD str a
         SREM str a
         SMEMBERS str
         SISMEMBER str a",
    );
    b.check_unordered(&c("SMEMBERS ints")).unwrap();
    b.check(&c("SADD words tok2 tok1 tok3 tok1")).unwrap();
    b.check_unordered(&c("SMEMBERS words")).unwrap();
    b.check(&c("SREM words tok1 tok2 tok3")).unwrap();
    b.check(&c("EXISTS words")).unwrap();
}

/// What rotate and soid's first page call: RENAME, ZSCORE, SCARD, and the PUBLISH every
/// deleting script sends (no subscriber on either side).
#[test]
fn rename_zscore_scard_publish() {
    let mut b = Both::new();
    b.lines(
        "HSET old id u la 12 ttl 60
         RENAME old new
         EXISTS old
         HGETALL new
         RENAME missing other
         SADD taken x
         RENAME new taken
         TYPE taken
         HGET taken id
         RENAME taken taken
         ZADD z 1700000000 m 2.5 n
         ZSCORE z m
         ZSCORE z n
         ZSCORE z nope
         ZSCORE missing m
         ZSCORE taken id
         SCARD missing
         SADD s a b c
         SCARD s
         SCARD taken
         PUBLISH rs:cache app:token",
    );
}

#[test]
fn sorted_sets() {
    let mut b = Both::new();
    b.lines(
        "ZADD z 1 a
         ZADD z 1
         ZADD z nx
         ZADD z nx 1
         ZADD z nx xx 1 a
         ZADD z gt nx 1 a
         ZADD z gt lt 1 a
         ZADD z incr 1 a 2 b
         ZADD z abc a
         ZADD z 1.5 a 1e400 b
         ZADD z 1e-400 a
         ZADD z nan a
         ZADD z inf i -inf ni 0x10 hex
         ZADD z 1.1 e -0.0 f 1e20 g 1e-5 h 123456789012345678 big 1800000000 t
         ZADD z 0.1 p .5 q 5. r 1E3 s +7 u
         ZRANGE z 0 -1 WITHSCORES
         ZSCORE z f
         ZSCORE z e
         ZSCORE z i
         ZSCORE z ni
         ZSCORE z t
         ZSCORE z nope
         ZSCORE missing a
         ZADD z 2 a 3 c
         ZADD z ch 2 a 4 c 5 d
         ZADD z xx 9 a 9 zz
         ZADD z nx 0 a 0 nn
         ZADD z gt 1 a 20 c
         ZADD z lt ch 1 a 30 d
         ZADD z xx gt ch 5 a
         ZADD z incr 2.5 a
         ZADD z incr nx 1 a
         ZADD z incr xx 1 nope
         ZADD z incr gt -1 a
         ZADD z incr inf a
         ZADD z incr -inf a
         ZADD negzero -0.0 a
         ZADD negzero incr -0.0 b
         ZADD negzero incr -0.0 b
         ZRANGE negzero 0 -1 WITHSCORES
         ZADD missing xx 1 a
         ZADD missing xx incr 1 a
         EXISTS missing
         ZRANGE z 0 -1 WITHSCORES",
    );
    // Equal scores order by member bytes, binary included.
    b.check(&[
        b"ZADD".to_vec(),
        b"eq".to_vec(),
        b"1".to_vec(),
        vec![0xff],
        b"1".to_vec(),
        b"b".to_vec(),
        b"1".to_vec(),
        b"a".to_vec(),
        b"1".to_vec(),
        b"ab".to_vec(),
        b"1".to_vec(),
        vec![0],
        b"1".to_vec(),
        b"".to_vec(),
    ])
    .unwrap();
    b.check(&c("ZRANGE eq 0 -1")).unwrap();
    b.lines(
        "ZRANGE z 0 2
         ZRANGE z -3 -1 WITHSCORES
         ZRANGE z 5 1
         ZRANGE z 100 200
         ZRANGE z -100 1
         ZRANGE z 0 -100
         ZRANGE z x 1
         ZRANGE z 0 1 LIMIT 0 1
         ZRANGE z 0 1 foo
         ZRANGE z 0 -1 REV
         ZRANGE z 0 -1 REV WITHSCORES
         ZRANGE z -inf +inf BYSCORE
         ZRANGE z (1 +inf BYSCORE WITHSCORES
         ZRANGE z +inf -inf BYSCORE REV
         ZRANGE z -inf +inf BYSCORE REV
         ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES
         ZRANGE z 0 10 BYSCORE LIMIT 2 3
         ZRANGE z 0 10 BYSCORE LIMIT 2
         ZRANGE z 0 10 BYSCORE BYSCORE
         ZRANGE z 0 -1 BYLEX
         ZRANGE missing 0 -1
         ZRANGE missing x y
         ZRANGEBYSCORE z -inf +inf
         ZRANGEBYSCORE z -inf +inf WITHSCORES
         ZRANGEBYSCORE z (1 5
         ZRANGEBYSCORE z (1 (5
         ZRANGEBYSCORE z 1 (1.5
         ZRANGEBYSCORE z (2 2
         ZRANGEBYSCORE z 5 1
         ZRANGEBYSCORE z x 1
         ZRANGEBYSCORE z 1 nan
         ZRANGEBYSCORE z (1 1e400
         ZRANGEBYSCORE z -inf +inf LIMIT 1 2
         ZRANGEBYSCORE z -inf +inf LIMIT 1 -1
         ZRANGEBYSCORE z -inf +inf LIMIT -1 2
         ZRANGEBYSCORE z -inf +inf LIMIT 1 0
         ZRANGEBYSCORE z -inf +inf LIMIT 1
         ZRANGEBYSCORE z -inf +inf LIMIT 1 x
         ZRANGEBYSCORE z -inf +inf BYSCORE
         ZRANGEBYSCORE z -inf +inf REV
         ZRANGEBYSCORE z 0 1800000000 WITHSCORES LIMIT 0 3
         ZRANGEBYSCORE missing 0 1
         ZRANGEBYSCORE missing x 1
         ZREVRANGEBYSCORE z +inf -inf
         ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 0 4
         ZREVRANGEBYSCORE z 5 (1
         ZREVRANGEBYSCORE z (5 1
         ZREVRANGEBYSCORE z 1 5
         ZREVRANGEBYSCORE z +inf 1800000000
         ZCOUNT z -inf +inf
         ZCOUNT z (0 1.1
         ZCOUNT z 1 1
         ZCOUNT z (1 (1
         ZCOUNT z 5 1
         ZCOUNT z a b
         ZCOUNT missing 0 1
         ZREM z a nope
         ZREM z
         ZREM missing a",
    );
    // Empty-string and spaced bounds read like strtod.
    b.check(&cmd(&["ZRANGEBYSCORE", "z", "", "+inf"])).unwrap();
    b.check(&cmd(&["ZRANGEBYSCORE", "z", "(", "+inf"])).unwrap();
    b.check(&cmd(&["ZRANGEBYSCORE", "z", " 1", "+inf"]))
        .unwrap();
    b.check(&cmd(&["ZADD", "z", " 1", "sp"])).unwrap_err();
    b.check(&cmd(&["ZADD", "z", "1 ", "sp"])).unwrap_err();
    b.check(&cmd(&["ZADD", "z", "", "sp"])).unwrap_err();
    // The last member removed deletes the key.
    b.lines(
        "ZADD one 1 m
         ZREM one m
         EXISTS one
         TYPE one",
    );
    b.lines(
        "SADD str v
         ZADD str 1 a
         ZREM str a
         ZSCORE str a
         ZCOUNT str 0 1
         ZRANGE str 0 -1
         ZRANGE str x y
         ZRANGEBYSCORE str 0 1
         ZRANGEBYSCORE str x y
         ZREVRANGEBYSCORE str 1 0",
    );
    b.check_dump();
}

#[test]
fn transactions() {
    let mut b = Both::new();
    let ok = b
        .check_transaction(&[
            c("ZADD rs:a:_sessions 1800000000 tok:u1"),
            c("SADD rs:a:us:u1 tok"),
            c("HSET rs:a:tok id u1 r 1 w 1"),
            c("HMGET rs:a:tok id"),
            c("ZADD rs:a:tok 1 x"),
            c("HINCRBY rs:a:tok id 1"),
            cmd(&[
                "EVAL",
                "return redis.call('hmget', KEYS[1], 'id', 'w')",
                "1",
                "rs:a:tok",
            ]),
            c("PING"),
        ])
        .unwrap();
    assert_eq!(ok.len(), 8);
    assert!(
        ok[4].is_err() && ok[5].is_err(),
        "runtime errors come back in place"
    );
    // Queue-time errors discard everything.
    b.check_transaction(&[c("SADD x 1"), c("NOPE a"), c("SADD y 1")])
        .unwrap_err();
    b.check_transaction(&[c("SADD x 1"), c("SMEMBERS")])
        .unwrap_err();
    b.check(&c("EXISTS x y")).unwrap();
    b.check_transaction(&[]).unwrap();
    b.check_dump();
}

#[test]
fn arity_errors_for_every_command() {
    let mut b = Both::new();
    for name in COMMANDS.iter().chain(INSPECT_COMMANDS) {
        let name = name.to_lowercase();
        for n in [0, 1, 2, 3, 6] {
            let mut c = cmd(&[&name]);
            // Keys of its own per command: what one command leaves (RENAME moving a set)
            // must not become another's input (SMEMBERS' order of a hash-table set is
            // Redis' own).
            c.extend((0..n).map(|i| format!("{name}:a{i}").into_bytes()));
            b.check(&c).ok();
        }
        b.check(&cmd(&[&name.to_uppercase()])).ok();
    }
}
