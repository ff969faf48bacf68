//! The Lua wrappers against a real redis-server: whatever runs through them reads back
//! exactly as Redis itself replies to the same command or script over RESP2.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use redis_sessions_resp::codec::Value;
use redis_sessions_resp::lua::{Failure, NOSCRIPT, Runner, Scripted};
use redis_sessions_resp::tcp;
use redis_sessions_resp::{
    Capability, Client, Command, Connected, Connector, Element, Error, Reply, Settings,
};
use std::net::TcpStream;
use test_support::{RedisServer, Resp, cmd};

/// Connects to one URL.
struct Fixed(String);

impl Connector for Fixed {
    type Stream = TcpStream;

    fn connect(&mut self) -> Result<Connected<TcpStream>, Error> {
        let settings = Settings::parse(&self.0).map_err(Error::Unavailable)?;
        let stream = tcp::connect(&settings)?;
        Ok(Connected { stream, settings })
    }
}

/// The runtime's Redis call, played by this crate's own client; keeps what it sent.
struct Direct {
    client: Client<Fixed>,
    sent: Vec<Command>,
}

impl Runner for Direct {
    fn run(&mut self, command: Command) -> Result<Vec<u8>, Failure> {
        self.sent.push(command.clone());
        match self.client.execute(&command) {
            Ok(Reply::Bulk(b)) => Ok(b),
            Ok(other) => Err(Failure::Error(Error::UnsupportedReply(format!(
                "{other:?}"
            )))),
            Err(Error::Server(m)) if m.starts_with("NOSCRIPT") => Err(Failure::NoScript),
            Err(e) => Err(Failure::Error(e)),
        }
    }
}

fn scripted(server: &RedisServer) -> Scripted<Direct> {
    Scripted::new(Direct {
        client: Client::new(Fixed(server.url())),
        sent: Vec::new(),
    })
}

/// A reply read through the wrappers, in the test client's terms, to compare with it.
fn exact(v: Value) -> test_support::Reply {
    use test_support::Reply as R;
    match v {
        Value::Nil => R::Nil,
        Value::Status(s) => R::Status(s),
        Value::Error(e) => R::Error(e),
        Value::Integer(n) => R::Int(n),
        Value::Bulk(b) => R::Bulk(b),
        Value::Array(items) => R::Array(items.into_iter().map(exact).collect()),
    }
}

/// The wrappers on database 0 and a plain connection to database 1 of `server`: the same
/// commands on both start from the same (empty) state.
fn pair(server: &RedisServer) -> (Scripted<Direct>, Resp) {
    let mut redis = server.client();
    redis.call(&cmd(&["SELECT", "1"]));
    (scripted(server), redis)
}

/// The same command through the wrappers and straight to Redis: the same reply.
fn same(plug: &mut Scripted<Direct>, redis: &mut Resp, command: &[Vec<u8>]) -> test_support::Reply {
    let direct = redis.call(command);
    let through = exact(plug.value(command).unwrap());
    assert_eq!(
        through,
        direct,
        "{:?}",
        String::from_utf8_lossy(&command.concat())
    );
    direct
}

const BINARY: &[u8] = b"\x00\r\n\xff$-1\r\n*2\r\n";

#[test]
fn scripts_reply_as_redis_converts_every_lua_value() {
    let server = RedisServer::start();
    let (mut plug, mut redis) = pair(&server);
    same(&mut plug, &mut redis, &cmd(&["SET", "str", "abc"]));
    same(
        &mut plug,
        &mut redis,
        &cmd(&["HSET", "h", "a", "1", "b", "2"]),
    );
    let scripts = [
        "return 'abc'",
        "return ''",
        "return 42",
        "return -7",
        "return 3.99",
        "return -3.99",
        "return 1e15",
        "return true",
        "return false",
        "return nil",
        "return {}",
        "return {1, 'a', false, 'b'}",
        "return {1, nil, 2}",
        "return {{1, {2, {}}}, {}, 'x', {false}}",
        "return {ok = 'OK'}",
        "return {ok = 'a\\r\\nb'}",
        "return redis.status_reply('PONG')",
        "return {err = 'WRONGTYPE boom'}",
        "return redis.error_reply('MY_ERR x')",
        "return {1, redis.pcall('INCR', 'str')}",
        "return redis.pcall('INCR', 'str')",
        "return redis.call('HMGET', KEYS[1], 'a', 'missing', 'b')",
        "return redis.call('GET', 'nothing')",
        "return {KEYS[1], ARGV[1], ARGV[2], #KEYS, #ARGV}",
        "return redis.call('SET', 'k', ARGV[1])",
    ];
    for source in scripts {
        let mut eval = cmd(&["EVAL", source, "1", "h", "arg"]);
        eval.push(BINARY.to_vec());
        same(&mut plug, &mut redis, &eval);
    }
    assert_eq!(
        redis.call(&cmd(&["GET", "k"])),
        test_support::Reply::Bulk(b"arg".to_vec())
    );
}

#[test]
fn errors_a_script_raises_are_error_replies_not_failures() {
    let server = RedisServer::start();
    let mut plug = scripted(&server);
    plug.value(&cmd(&["SET", "str", "abc"])).unwrap();
    for (source, starts) in [
        ("error('boom')", "ERR "),
        (
            "return redis.call('INCR', 'str')",
            "ERR value is not an integer",
        ),
        (
            "return redis.call('NOSUCHCOMMAND')",
            "ERR Unknown Redis command",
        ),
    ] {
        match plug.value(&cmd(&["EVAL", source, "0"])).unwrap() {
            Value::Error(e) => assert!(e.starts_with(starts), "{source}: {e}"),
            other => panic!("{source}: {other:?}"),
        }
        assert!(matches!(
            plug.execute(&cmd(&["EVAL", source, "0"])),
            Err(Error::Server(_))
        ));
    }
}

#[test]
fn plain_commands_reply_exactly_as_redis_does() {
    let server = RedisServer::start();
    let (mut plug, mut redis) = pair(&server);
    let mut set_binary = cmd(&["SET", "bin"]);
    set_binary.push(BINARY.to_vec());
    for command in [
        cmd(&["PING"]),
        cmd(&["SET", "k", "v"]),
        cmd(&["GET", "k"]),
        cmd(&["GET", "missing"]),
        set_binary,
        cmd(&["GET", "bin"]),
        cmd(&["SET", "k", ""]),
        cmd(&["GET", "k"]),
        cmd(&["HSET", "h", "a", "1", "c", "3"]),
        cmd(&["HMGET", "h", "a", "b", "c"]),
        cmd(&["LRANGE", "nolist", "0", "-1"]),
        cmd(&["INCR", "n"]),
        cmd(&["INCRBY", "n", "-9007199254740991"]),
        cmd(&["INCR", "bin"]),
        cmd(&["ZADD", "z", "1.5", "m", "2", "n"]),
        cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        cmd(&["XADD", "s", "1-1", "f", "v", "g", "w"]),
        cmd(&["XRANGE", "s", "-", "+"]),
        cmd(&["TYPE", "h"]),
    ] {
        same(&mut plug, &mut redis, &command);
    }
    // An unknown command is an error from the script's side, in other words.
    assert_eq!(
        plug.value(&cmd(&["NOSUCHCOMMAND"])).unwrap(),
        Value::Error("ERR Unknown Redis command called from script".into())
    );
}

#[test]
fn the_callers_evalsha_works_once_its_eval_was_seen_even_after_a_script_flush() {
    let server = RedisServer::start();
    let mut redis = server.client();
    let mut plug = scripted(&server);
    let source = "return {KEYS[1], ARGV[1], false, 3}";
    let sha = match redis.call(&cmd(&["SCRIPT", "LOAD", source])) {
        test_support::Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    // Redis knows the script, the plug does not: the caller must send EVAL.
    assert_eq!(
        plug.execute(&cmd(&["EVALSHA", &sha, "1", "k", "a"])),
        Err(Error::Server(NOSCRIPT.into()))
    );
    let expected = Reply::Array(vec![
        Element::Bulk(b"k".to_vec()),
        Element::Bulk(b"a".to_vec()),
        Element::Nil,
        Element::Integer(3),
    ]);
    assert_eq!(
        plug.execute(&cmd(&["EVAL", source, "1", "k", "a"]))
            .unwrap(),
        expected
    );
    assert_eq!(
        plug.execute(&cmd(&["EVALSHA", &sha.to_uppercase(), "1", "k", "a"]))
            .unwrap(),
        expected
    );
    // Redis lost its scripts (a restart): the plug sends the wrapped source again.
    redis.call(&cmd(&["SCRIPT", "FLUSH"]));
    plug.runner().sent.clear();
    assert_eq!(
        plug.execute(&cmd(&["EVALSHA", &sha, "1", "k", "a"]))
            .unwrap(),
        expected
    );
    let verbs: Vec<&[u8]> = plug.runner().sent.iter().map(|c| c[0].as_slice()).collect();
    assert_eq!(verbs, [b"EVALSHA".as_slice(), b"EVAL".as_slice()]);
    redis.call(&cmd(&["SCRIPT", "FLUSH"]));
    assert_eq!(plug.execute(&cmd(&["GET", "k"])).unwrap(), Reply::Nil);
}

#[test]
fn a_transaction_is_one_script_and_keeps_every_reply() {
    let server = RedisServer::start();
    let mut plug = scripted(&server);
    plug.value(&cmd(&["SET", "str", "abc"])).unwrap();
    plug.transaction(&[cmd(&["PING"])]).unwrap();
    plug.runner().sent.clear();
    let replies = plug
        .transaction(&[
            cmd(&["SET", "a", "1"]),
            cmd(&["INCR", "a"]),
            cmd(&["HMGET", "nohash", "x", "y"]),
            cmd(&["LRANGE", "nolist", "0", "-1"]),
            cmd(&["GET", "a"]),
        ])
        .unwrap();
    assert_eq!(
        replies,
        [
            Reply::Status("OK".into()),
            Reply::Integer(2),
            Reply::Array(vec![Element::Nil, Element::Nil]),
            Reply::Array(vec![]),
            Reply::Bulk(b"2".to_vec()),
        ]
    );
    assert_eq!(
        plug.runner().sent.len(),
        1,
        "one round trip once Redis has the script"
    );
    // A command's error fails the call, after the others ran (as EXEC runs them).
    assert!(matches!(
        plug.transaction(&[cmd(&["INCR", "str"]), cmd(&["SET", "after", "1"])]),
        Err(Error::Server(e)) if e.starts_with("ERR value is not an integer")
    ));
    assert_eq!(
        plug.execute(&cmd(&["GET", "after"])).unwrap(),
        Reply::Bulk(b"1".to_vec())
    );
    assert_eq!(plug.transaction(&[]).unwrap(), []);
    assert!(matches!(
        plug.transaction(&[cmd(&["EVAL", "return 1", "0"])]),
        Err(Error::Denied(_))
    ));
    assert!(matches!(plug.transaction(&[vec![]]), Err(Error::Denied(_))));
}

#[test]
fn a_pipeline_with_scripts_runs_one_by_one_and_nested_replies_are_unsupported() {
    let server = RedisServer::start();
    let mut plug = scripted(&server);
    plug.runner().sent.clear();
    let replies = plug
        .pipeline(&[
            cmd(&["SET", "a", "x"]),
            cmd(&["EVAL", "return {ARGV[1], false}", "0", "y"]),
        ])
        .unwrap();
    assert_eq!(
        replies,
        [
            Reply::Status("OK".into()),
            Reply::Array(vec![Element::Bulk(b"y".to_vec()), Element::Nil]),
        ]
    );
    // Both scripts are new to Redis: EVALSHA, NOSCRIPT, EVAL for each.
    assert_eq!(plug.runner().sent.len(), 4);
    plug.execute(&cmd(&["XADD", "s", "1-1", "f", "v"])).unwrap();
    assert!(matches!(
        plug.execute(&cmd(&["XRANGE", "s", "-", "+"])),
        Err(Error::UnsupportedReply(_))
    ));
    assert_eq!(
        plug.execute(&[]),
        Err(Error::Denied("empty command".into()))
    );
}

#[test]
fn an_unreachable_redis_is_unavailable() {
    let mut server = RedisServer::start();
    let mut plug = scripted(&server);
    server.stop();
    assert!(matches!(
        plug.execute(&cmd(&["PING"])),
        Err(Error::Unavailable(_))
    ));
    server.restart();
    assert_eq!(
        plug.execute(&cmd(&["PING"])).unwrap(),
        Reply::Status("PONG".into())
    );
}
