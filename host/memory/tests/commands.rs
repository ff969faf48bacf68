//! The store on its own (no redis-server needed): replies and error texts pinned to what
//! Redis 7.0 answers, the project's GET script, transactions and pipelines.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
use redis_sessions_core::scripts;
use redis_sessions_memory::{MemoryStore, ServerError, Value};

fn cmd(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|p| p.as_bytes().to_vec()).collect()
}

fn run(store: &MemoryStore, line: &str) -> Result<Value, ServerError> {
    store.execute(&cmd(line))
}

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

fn status(s: &str) -> Value {
    Value::Status(s.into())
}

fn error(s: &str) -> Result<Value, ServerError> {
    Err(ServerError(s.into()))
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn replies_and_errors() {
    let s = MemoryStore::new();
    let cases: &[(&str, Result<Value, ServerError>)] = &[
        ("PING", Ok(status("PONG"))),
        ("ping hi", Ok(bulk("hi"))),
        ("SET k v", Ok(status("OK"))),
        ("GET k", Ok(bulk("v"))),
        ("GET nope", Ok(Value::Nil)),
        ("HSET h f1 a f2 b", Ok(Value::Int(2))),
        ("HSET h f1 c f3 d", Ok(Value::Int(1))),
        ("HMSET h f4 e", Ok(status("OK"))),
        (
            "HGETALL h",
            Ok(bulks(&["f1", "c", "f2", "b", "f3", "d", "f4", "e"])),
        ),
        (
            "HMGET h f1 nope",
            Ok(Value::Array(vec![bulk("c"), Value::Nil])),
        ),
        ("HINCRBY h n -5", Ok(Value::Int(-5))),
        ("HINCRBY h f1 1", error("ERR hash value is not an integer")),
        (
            "HINCRBY h n x",
            error("ERR value is not an integer or out of range"),
        ),
        ("HDEL h f1 f2 f3 f4 n nope", Ok(Value::Int(5))),
        ("EXISTS h", Ok(Value::Int(0))),
        ("SADD st b a b", Ok(Value::Int(2))),
        ("SMEMBERS st", Ok(bulks(&["b", "a"]))),
        ("SADD nums 10 2 -1", Ok(Value::Int(3))),
        ("SMEMBERS nums", Ok(bulks(&["-1", "2", "10"]))),
        ("ZADD z 1800000000 a 1.5 b inf c", Ok(Value::Int(3))),
        ("ZSCORE z a", Ok(bulk("1800000000"))),
        ("ZSCORE z b", Ok(bulk("1.5"))),
        ("ZSCORE z c", Ok(bulk("inf"))),
        ("ZADD z 0.1 d", Ok(Value::Int(1))),
        ("ZSCORE z d", Ok(bulk("0.10000000000000001"))),
        ("ZRANGE z 0 -1", Ok(bulks(&["d", "b", "a", "c"]))),
        (
            "ZRANGE z -2 -1 WITHSCORES",
            Ok(bulks(&["a", "1800000000", "c", "inf"])),
        ),
        ("ZRANGEBYSCORE z (0.1 +inf LIMIT 1 1", Ok(bulks(&["a"]))),
        (
            "ZREVRANGEBYSCORE z +inf -inf LIMIT 0 2",
            Ok(bulks(&["c", "a"])),
        ),
        ("ZRANGE z +inf (1.5 BYSCORE REV", Ok(bulks(&["c", "a"]))),
        ("ZCOUNT z -inf 1800000000", Ok(Value::Int(3))),
        ("ZADD z x a", error("ERR value is not a valid float")),
        ("ZADD z 1 a 2", error("ERR syntax error")),
        (
            "ZRANGEBYSCORE z x 1",
            error("ERR min or max is not a float"),
        ),
        (
            "ZRANGE z 0 1 LIMIT 0 1",
            error(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ),
        ),
        ("ZREM z a b c d", Ok(Value::Int(4))),
        ("TYPE z", Ok(status("none"))),
        ("TYPE k", Ok(status("string"))),
        ("TTL k", Ok(Value::Int(-1))),
        ("PTTL z", Ok(Value::Int(-2))),
        ("HGET k f", error(WRONGTYPE)),
        ("SADD k m", error(WRONGTYPE)),
        ("ZADD k 1 m", error(WRONGTYPE)),
        ("GET st", error(WRONGTYPE)),
        (
            "hset h f",
            error("ERR wrong number of arguments for 'hset' command"),
        ),
        (
            "HMSET h f",
            error("ERR wrong number of arguments for 'hmset' command"),
        ),
        (
            "GET",
            error("ERR wrong number of arguments for 'get' command"),
        ),
        (
            "FOO a b",
            error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "),
        ),
        (
            "MULTI",
            error(
                "ERR MULTI is not supported by the embedded store's execute: use MemoryStore::transaction",
            ),
        ),
        (
            "EVALSHA 0123456789012345678901234567890123456789 0",
            error("NOSCRIPT No matching script. Please use EVAL."),
        ),
        (
            "SET k v EX 10",
            error(
                "ERR SET with an expiry is not supported by the embedded store (keys never expire)",
            ),
        ),
        ("KEYS n*", Ok(bulks(&["nums"]))),
        ("DBSIZE", Ok(Value::Int(3))),
        ("FLUSHALL", Ok(status("OK"))),
        ("DBSIZE", Ok(Value::Int(0))),
    ];
    for (line, expected) in cases {
        assert_eq!(&run(&s, line), expected, "{line}");
    }
}

#[test]
fn the_get_script() {
    let s = MemoryStore::new();
    let tx = s
        .transaction(&[
            cmd("ZADD rs:app:_sessions 1800000000 tok:u1"),
            cmd("ZADD rs:app:_users 1800000000 u1"),
            cmd("ZADD rs:SESSIONS 1800003600 app:tok:u1"),
            cmd("SADD rs:app:us:u1 tok"),
            cmd("HSET rs:app:tok id u1 r 1 w 1 ip 127.0.0.1 la 1800000000 ttl 3600"),
        ])
        .unwrap();
    assert_eq!(tx.last(), Some(&Ok(Value::Int(6))));
    let get = format!(
        "EVALSHA {} 4 rs:app:tok rs:app:_sessions rs:app:_users rs:SESSIONS 1800000010 app tok",
        scripts::GET.sha1()
    );
    assert!(run(&s, &get).unwrap_err().0.starts_with("NOSCRIPT"));
    let load = s.execute(&[
        b"SCRIPT".to_vec(),
        b"LOAD".to_vec(),
        scripts::GET.source.as_bytes().to_vec(),
    ]);
    assert_eq!(load, Ok(bulk(scripts::GET.sha1())));
    let fields = Value::Array(vec![
        bulk("u1"),
        bulk("1"),
        bulk("1"),
        bulk("3600"),
        Value::Nil,
        bulk("1800000000"),
        bulk("127.0.0.1"),
        Value::Nil,
    ]);
    assert_eq!(run(&s, &get), Ok(fields));
    assert_eq!(run(&s, "HGET rs:app:tok r"), Ok(bulk("2")));
    assert_eq!(run(&s, "HGET rs:app:tok la"), Ok(bulk("1800000010")));
    assert_eq!(
        run(&s, "ZSCORE rs:SESSIONS app:tok:u1"),
        Ok(bulk("1800003610"))
    );
}

#[test]
fn transactions_and_pipelines() {
    let s = MemoryStore::new();
    assert_eq!(
        s.transaction(&[cmd("SET a 1"), cmd("NOPE"), cmd("SET b 1")]),
        Err(ServerError(
            "EXECABORT Transaction discarded because of previous errors.".into()
        ))
    );
    assert_eq!(
        s.transaction(&[cmd("SET a 1"), cmd("EXEC")]),
        Err(ServerError(
            "EXECABORT Transaction discarded because of previous errors.".into()
        ))
    );
    assert_eq!(run(&s, "DBSIZE"), Ok(Value::Int(0)));
    assert_eq!(
        s.transaction(&[cmd("SET a 1"), cmd("HSET a f v"), cmd("GET a")]),
        Ok(vec![Ok(status("OK")), error(WRONGTYPE), Ok(bulk("1"))])
    );
    assert_eq!(
        s.pipeline(&[cmd("GET a"), cmd("GET"), cmd("PING")]),
        vec![
            Ok(bulk("1")),
            error("ERR wrong number of arguments for 'get' command"),
            Ok(status("PONG"))
        ]
    );
}
