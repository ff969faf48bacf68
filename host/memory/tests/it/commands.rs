//! The store on its own (no redis-server needed): replies and error texts pinned to what
//! Redis 7.0 answers, the project's GET script, transactions and pipelines.

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
        (
            "PING a b",
            error("ERR wrong number of arguments for 'ping' command"),
        ),
        ("HSET h f1 a f2 b", Ok(Value::Integer(2))),
        ("HSET h f1 c f3 d", Ok(Value::Integer(1))),
        (
            "HMGET h f1 nope f2",
            Ok(Value::Array(vec![bulk("c"), Value::Nil, bulk("b")])),
        ),
        ("HINCRBY h n -5", Ok(Value::Integer(-5))),
        ("HINCRBY h f1 1", error("ERR hash value is not an integer")),
        (
            "HINCRBY h n x",
            error("ERR value is not an integer or out of range"),
        ),
        ("HDEL h f1 f2 f3 n nope", Ok(Value::Integer(4))),
        ("EXISTS h", Ok(Value::Integer(0))),
        ("SADD st b a b", Ok(Value::Integer(2))),
        ("SMEMBERS st", Ok(bulks(&["b", "a"]))),
        ("SADD nums 10 2 -1", Ok(Value::Integer(3))),
        ("SMEMBERS nums", Ok(bulks(&["-1", "2", "10"]))),
        ("SREM nums 2 7", Ok(Value::Integer(1))),
        ("ZADD z 1800000000 a 1.5 b inf c", Ok(Value::Integer(3))),
        ("ZADD z 0.1 d", Ok(Value::Integer(1))),
        ("ZADD z INCR 1 b", Ok(bulk("2.5"))),
        ("ZADD z XX CH 1.5 b 3 new", Ok(Value::Integer(1))),
        ("ZRANGE z 0 -1", Ok(bulks(&["d", "b", "a", "c"]))),
        (
            "ZRANGE z -2 -1 WITHSCORES",
            Ok(bulks(&["a", "1800000000", "c", "inf"])),
        ),
        (
            "ZRANGE z 0 0 WITHSCORES",
            Ok(bulks(&["d", "0.10000000000000001"])),
        ),
        ("ZRANGEBYSCORE z (0.1 +inf LIMIT 1 1", Ok(bulks(&["a"]))),
        (
            "ZREVRANGEBYSCORE z +inf -inf LIMIT 0 2",
            Ok(bulks(&["c", "a"])),
        ),
        ("ZRANGE z +inf (1.5 BYSCORE REV", Ok(bulks(&["c", "a"]))),
        ("ZCOUNT z -inf 1800000000", Ok(Value::Integer(3))),
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
        ("ZREM z a b c d", Ok(Value::Integer(4))),
        ("EXISTS z st nums missing", Ok(Value::Integer(2))),
        ("HMGET st f", error(WRONGTYPE)),
        ("SADD h2 m", Ok(Value::Integer(1))),
        ("HSET h2 f v", error(WRONGTYPE)),
        ("ZADD h2 1 m", error(WRONGTYPE)),
        ("ZRANGE h2 0 -1", error(WRONGTYPE)),
        ("DEL h2 st nums missing", Ok(Value::Integer(3))),
        (
            "hset h f",
            error("ERR wrong number of arguments for 'hset' command"),
        ),
        (
            "ZCOUNT z 1",
            error("ERR wrong number of arguments for 'zcount' command"),
        ),
        (
            "FOO a b",
            error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "),
        ),
        (
            "EVALSHA 0123456789012345678901234567890123456789 0",
            error("NOSCRIPT No matching script. Please use EVAL."),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(&run(&s, line), expected, "{line}");
    }
}

#[test]
fn commands_nothing_sends_are_unknown() {
    let s = MemoryStore::new();
    for line in [
        "SET k v",
        "GET k",
        "HGET h f",
        "HGETALL h",
        "KEYS *",
        "TYPE k",
        "TTL k",
        "FLUSHALL",
        "SCRIPT LOAD x",
        "MULTI",
        "EXEC",
    ] {
        let name = line.split(' ').next().unwrap();
        let e = run(&s, line).unwrap_err();
        assert!(
            e.0.starts_with(&format!("ERR unknown command '{name}'")),
            "{line}: {e}"
        );
        let script = format!("return redis.call('{name}', 'k')");
        let e = s
            .execute(&[b"EVAL".to_vec(), script.into_bytes(), b"0".to_vec()])
            .unwrap_err();
        assert!(
            e.0.starts_with("ERR Unknown Redis command called from script"),
            "{line}: {e}"
        );
    }
}

#[test]
fn inspect_reads_and_never_writes() {
    let s = MemoryStore::new();
    run(&s, "HSET h f v").unwrap();
    run(&s, "SADD st m").unwrap();
    run(&s, "ZADD z 1.5 m").unwrap();
    let look = |line: &str| s.inspect(&cmd(line));
    assert_eq!(look("HGET h f"), Ok(bulk("v")));
    assert_eq!(look("HGETALL h"), Ok(bulks(&["f", "v"])));
    assert_eq!(look("SISMEMBER st m"), Ok(Value::Integer(1)));
    assert_eq!(look("ZSCORE z m"), Ok(bulk("1.5")));
    assert_eq!(look("TYPE z"), Ok(status("zset")));
    assert_eq!(look("TYPE nope"), Ok(status("none")));
    assert_eq!(look("TTL h"), Ok(Value::Integer(-1)));
    assert_eq!(look("TTL nope"), Ok(Value::Integer(-2)));
    assert_eq!(look("HGET st f"), error(WRONGTYPE));
    assert_eq!(
        look("HGET h"),
        error("ERR wrong number of arguments for 'hget' command")
    );
    for write in [
        "HSET h f w",
        "DEL h",
        "ZADD z 2 m",
        "EVAL return 1 0",
        "PING",
    ] {
        let name = write.split(' ').next().unwrap();
        assert!(
            look(write)
                .unwrap_err()
                .0
                .starts_with(&format!("ERR unknown command '{name}'")),
            "{write}"
        );
    }
    assert_eq!(look("HGET h f"), Ok(bulk("v")));
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
    assert_eq!(tx.last(), Some(&Ok(Value::Integer(6))));
    let keys_and_args = |now: &str| {
        cmd(&format!(
            "4 rs:app:tok rs:app:_sessions rs:app:_users rs:SESSIONS {now} app tok"
        ))
    };
    let evalsha = |now| {
        [
            cmd(&format!("EVALSHA {}", scripts::GET.sha1())),
            keys_and_args(now),
        ]
        .concat()
    };
    assert!(
        s.execute(&evalsha("1800000010"))
            .unwrap_err()
            .0
            .starts_with("NOSCRIPT")
    );
    let fields = |r: &str, la: &str| {
        Value::Array(vec![
            bulk("u1"),
            bulk(r),
            bulk("1"),
            bulk("3600"),
            Value::Nil,
            bulk(la),
            bulk("127.0.0.1"),
            Value::Nil,
            Value::Nil,
        ])
    };
    // EVAL runs the script and caches it: EVALSHA finds it from then on.
    let eval = [
        vec![b"EVAL".to_vec(), scripts::GET.source.as_bytes().to_vec()],
        keys_and_args("1800000010"),
    ]
    .concat();
    assert_eq!(s.execute(&eval), Ok(fields("1", "1800000000")));
    assert_eq!(
        s.execute(&evalsha("1800000020")),
        Ok(fields("2", "1800000010"))
    );
    assert_eq!(s.inspect(&cmd("HGET rs:app:tok r")), Ok(bulk("3")));
    assert_eq!(
        s.inspect(&cmd("ZSCORE rs:SESSIONS app:tok:u1")),
        Ok(bulk("1800003620"))
    );
}

#[test]
fn transactions_and_pipelines() {
    let s = MemoryStore::new();
    let aborted = Err(ServerError(
        "EXECABORT Transaction discarded because of previous errors.".into(),
    ));
    assert_eq!(
        s.transaction(&[cmd("SADD a 1"), cmd("NOPE"), cmd("SADD b 1")]),
        aborted
    );
    assert_eq!(s.transaction(&[cmd("SADD a 1"), cmd("EXEC")]), aborted);
    assert_eq!(s.transaction(&[cmd("SADD a 1"), cmd("HSET a f")]), aborted);
    assert_eq!(run(&s, "EXISTS a b"), Ok(Value::Integer(0)));
    assert_eq!(
        s.transaction(&[cmd("SADD a 1"), cmd("HSET a f v"), cmd("SMEMBERS a")]),
        Ok(vec![
            Ok(Value::Integer(1)),
            error(WRONGTYPE),
            Ok(bulks(&["1"]))
        ])
    );
    assert_eq!(
        s.pipeline(&[cmd("SMEMBERS a"), cmd("SMEMBERS"), cmd("PING")]),
        vec![
            Ok(bulks(&["1"])),
            error("ERR wrong number of arguments for 'smembers' command"),
            Ok(status("PONG"))
        ]
    );
}
