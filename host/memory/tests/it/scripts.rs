//! Lua scripts against the embedded store and a real redis-server: conversions, errors,
//! the sandbox, the script cache, and the project's own scripts (guest/core/src/scripts.rs).

use crate::support;
use redis_sessions_core::scripts::{self, Script};
use redis_sessions_memory::{ServerError, Value};
use support::{Both, cmd, session_hash};

fn eval(b: &mut Both, body: &str, keys: &[&str], args: &[&str]) -> Result<Value, ServerError> {
    let n = keys.len().to_string();
    let mut c = cmd(&["EVAL", body, &n]);
    c.extend(cmd(keys));
    c.extend(cmd(args));
    b.check(&c)
}

#[test]
fn replies_convert_like_redis() {
    let mut b = Both::new();
    for body in [
        "return 1",
        "return 3.99",
        "return -3.99",
        "return 'x'",
        "return true",
        "return false",
        "return nil",
        "return",
        "return 1, 2",
        "return {1, {2, {3}}, 'x'}",
        "return {a = 1}",
        "return {1, 2, nil, 3}",
        "return {1, 'a', false, {ok = 'x'}, true}",
        "return {err = 'fooerr'}",
        "return {err = ''}",
        "return {err = 5}",
        "return {ok = 'FINE'}",
        "return {ok = ''}",
        "return {1, {err = 'E nested'}}",
        "return {1, redis.error_reply('E nested')}",
        "return {double = 1.5}",
        "return {double = 3}",
        "return 1e300",
        "return 0/0",
        "return -1/0",
        "return 2^53",
        "return 2^63",
        "return -2^63",
        "return 9007199254740993",
        "return function() end",
        "local t = {} for i = 1, 300 do t = {t} end return t",
        "return redis.error_reply('My err')",
        "return redis.error_reply('fooerr')",
        "return redis.error_reply('-X y')",
        "return redis.error_reply('')",
        "return redis.error_reply(5)",
        "return redis.error_reply()",
        "return redis.status_reply('FINE')",
        "return redis.status_reply()",
        "return redis.status_reply(1)",
        "return redis.sha1hex('')",
        "return redis.sha1hex('abc')",
        "return redis.sha1hex()",
        "return redis.log(redis.LOG_WARNING, 'hi')",
        "return redis.log(redis.LOG_DEBUG, 'a', 'b')",
        "return redis.log()",
        "return redis.log('x', 'y')",
        "return redis.log(9, 'y')",
        "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
        "return tostring(0.1)",
        "return tostring(12.7)",
        "return string.format('%d', 3.7)",
        "return tonumber('0x10')",
        "return math.floor(2.5)",
        "return table.concat({1, 2, 'x'}, ',')",
        "return {unpack({1, 2, 3})}",
        "return select('#', 1, nil, 3)",
        "return _VERSION",
        "return type(_G)",
        "return ('x'):rep(3)",
        "return string.len('abc')",
        "return #ARGV",
        "return type(loadstring)",
        "return loadstring('return 7')()",
        "return loadstring(string.dump(function() return 1 end))",
        "return type(rawget)",
        "return type(setmetatable)",
        "return {pcall(error, 'x')}",
        "local ok, e = pcall(error, {err = 'T'}) return e.err",
        "return {xpcall(function() error('in') end, function(e) return 'handled' end)}",
    ] {
        eval(&mut b, body, &[], &[]).ok();
    }
    eval(
        &mut b,
        "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
        &["k"],
        &["a", "b"],
    )
    .unwrap();
    eval(&mut b, "return {KEYS[1], ARGV[2]}", &[], &["", "binary"]).unwrap();
    b.check(&[
        b"EVAL".to_vec(),
        b"return ARGV[1]".to_vec(),
        b"0".to_vec(),
        vec![0, 0xff, b'\n'],
    ])
    .unwrap();
}

#[test]
fn redis_call_and_pcall() {
    let mut b = Both::new();
    b.check(&cmd(&["SADD", "s", "v"])).unwrap();
    for body in [
        "return redis.call('ping')",
        "return redis.call('PING').ok",
        "return redis.call('ping', 'msg')",
        "return redis.call('nope')",
        "return redis.pcall('nope')",
        "return redis.call('hset', 'k')",
        "return redis.pcall('hset', 'k')",
        "return redis.call()",
        "return redis.pcall()",
        "return redis.call({})",
        "return redis.call('hset', 'k', 'f', {})",
        "return redis.call('hset', 'k', 'f', true)",
        "return redis.call('hset', 'k', 'f', nil)",
        "return redis.call('hmget', 's', 'x')",
        "return redis.pcall('hmget', 's', 'x')",
        "local t = redis.pcall('hmget', 's', 'x') return t.err",
        "local ok, e = pcall(redis.call, 'nope') return {tostring(ok), e.err}",
        "return redis.call('eval', 'return 1', 0)",
        "return redis.call('evalsha', 'x', 0)",
        "return redis.call('hmget', 'nohash', 'a', 'b')",
        "local r = redis.call('hmget', 'nohash', 'a') return type(r[1])",
        "return redis.call('hmget', 'nohash', 'a')[1] == false",
        "return redis.call('hset', 'h', 'n', 1, 'f', 2.5)",
        "return redis.call('hmget', 'h', 'n', 'f')",
        "return redis.call('hincrby', 'h', 'n', 1) + 0.5",
        "return redis.call('zadd', 'z', 1800000000, 'm', 1.5, 'n')",
        "return redis.call('zrangebyscore', 'z', '-inf', 1800000000, 'LIMIT', 0, 500)",
        "return redis.call('zrange', 'z', 0, -1, 'WITHSCORES')",
        "return redis.call('smembers', 'noset')",
        "return redis.call('zcount', 'z', '-inf', '+inf')",
        "return redis.call('zrevrangebyscore', 'z', '+inf', '(1.5')",
        "return redis.call('exists', 'z', 'h', 'nope')",
        "return redis.call('srem', 's', 'v', 'w')",
        "return redis.call('del', 'h')",
    ] {
        eval(&mut b, body, &[], &[]).ok();
    }
    // Numbers given to redis.call are printed like Redis 7.0 prints them (%.17g).
    for n in [
        "0.1",
        "1e20",
        "-0.0",
        "1/0",
        "-1/0",
        "0/0",
        "123456789012345678",
        "1e-5",
        "12.7",
        "3",
        "-7",
        "2^63",
        "1e15",
        "1e16",
        "1e17",
        "1800000000",
        "1800000000.5",
    ] {
        let body =
            format!("redis.call('hset', 'n', 'f', {n}) return redis.call('hmget', 'n', 'f')");
        eval(&mut b, &body, &[], &[]).unwrap();
    }
    b.check_dump();
}

#[test]
fn errors_and_the_sandbox() {
    let mut b = Both::new();
    b.check(&cmd(&["SADD", "s", "v"])).unwrap();
    for body in [
        "local x = 1 + {}",
        "error('boom')",
        "error({err = 'X boom'})",
        "error({err = 'boom'})",
        "error(12)",
        "error()",
        "error('lvl0', 0)",
        "\n\nerror('third line')",
        "local function f()\n  redis.call('nope')\nend\nf()",
        "local function f()\n  return redis.call('hmget', 's', 'x')\nend\n\nreturn f()",
        "string.rep()",
        "local t = setmetatable({}, {__index = function() error('idx') end}) return t.x",
        "assert(false)",
        "assert(false, 'custom')",
        "return redis.sha1hex()",
        "x = 1",
        "return x",
        "return _G.nope",
        "_G.x = 1",
        "rawset(_G, 'y', 1) return 1",
        "string.x = 1",
        "rawset(string, 'x', 1)",
        "redis.call = nil",
        "return os",
        "return io",
        "return package",
        "return require",
        "return loadfile",
        "return dofile",
        "return debug",
        "return print",
        "return getfenv",
        "return setfenv",
        "return newproxy",
        "return loadstring('x = 1')()",
        "return while",
        "x = = 1",
        "return 'unfinished",
    ] {
        assert!(eval(&mut b, body, &[], &[]).is_err(), "{body}");
    }
    eval(&mut b, "return redis.call('hmget', 's', 'x')", &[], &[]).unwrap_err();
    // numkeys
    b.check(&cmd(&["EVAL", "return 1", "-1"])).unwrap_err();
    b.check(&cmd(&["EVAL", "return 1", "abc"])).unwrap_err();
    b.check(&cmd(&["EVAL", "return 1", "2", "a"])).unwrap_err();
    b.check(&cmd(&["EVAL", "return 1"])).unwrap_err();
    b.check(&cmd(&["EVALSHA", "abc", "0"])).unwrap_err();
    b.check_dump();
}

#[test]
fn script_cache() {
    let mut b = Both::new();
    let body = "return {KEYS[1], ARGV[1]}";
    let sha = sha1_smol::Sha1::from(body).digest().to_string();
    b.check(&cmd(&["EVALSHA", &sha, "1", "k", "a"]))
        .unwrap_err();
    b.check(&cmd(&["EVAL", body, "1", "k", "a"])).unwrap();
    b.check(&cmd(&["EVALSHA", &sha, "1", "k", "a"])).unwrap();
    b.check(&cmd(&["evalsha", &sha.to_uppercase(), "1", "k", "a"]))
        .unwrap();
    b.check(&cmd(&["EVALSHA", &sha, "x", "k"])).unwrap_err();
    b.check(&cmd(&["EVALSHA", "too-short", "x"])).unwrap_err();
    // A script that does not compile is not cached.
    b.check(&cmd(&["EVAL", "return while", "0"])).unwrap_err();
    let broken = sha1_smol::Sha1::from("return while").digest().to_string();
    b.check(&cmd(&["EVALSHA", &broken, "0"])).unwrap_err();
}

/// Runs a project script the way the guest does: EVALSHA, and EVAL on NOSCRIPT.
fn run(b: &mut Both, script: &Script, keys: &[String], args: &[String]) -> Value {
    let mut c = cmd(&["EVALSHA", script.sha1(), &keys.len().to_string()]);
    c.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
    c.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    match b.check(&c) {
        Err(e) if e.0.starts_with("NOSCRIPT") => {
            c[0] = b"EVAL".to_vec();
            c[1] = script.source.as_bytes().to_vec();
            b.check(&c).unwrap()
        }
        other => other.unwrap(),
    }
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

/// Creates a session with the transaction `create` sends.
fn create(b: &mut Both, app: &str, token: &str, id: &str, now: i64, ttl: i64, d: Option<&str>) {
    let base = format!("rs:{app}:");
    let hset = session_hash(&format!("{base}{token}"), id, &s(now), &s(ttl), d);
    b.check_transaction(&[
        cmd(&[
            "ZADD",
            &format!("{base}_sessions"),
            &s(now),
            &format!("{token}:{id}"),
        ]),
        cmd(&["ZADD", &format!("{base}_users"), &s(now), id]),
        cmd(&[
            "ZADD",
            "rs:SESSIONS",
            &s(now + ttl),
            &format!("{app}:{token}:{id}"),
        ]),
        cmd(&["SADD", &format!("{base}us:{id}"), token]),
        hset,
    ])
    .unwrap();
}

fn token(n: usize) -> String {
    format!("{n:0>64}").replace('0', "T")
}

/// SOID on both sides (by EVAL), one SSCAN step big enough for the whole set (cursor 0
/// back), its rows compared as a multiset of sessions.
fn soid(b: &mut Both, app: &str, id: &str) -> usize {
    let c = cmd(&[
        "EVAL",
        scripts::SOID.source,
        "0",
        "rs:",
        app,
        id,
        "0",
        "1000",
    ]);
    let rows = |v: Value| {
        let Value::Array(mut items) = v else {
            panic!("{v:?}")
        };
        assert_eq!(
            items.remove(0),
            Value::Bulk(b"0".to_vec()),
            "the scan is done"
        );
        groups(Value::Array(items))
    };
    let ours = rows(b.store.execute(&c).unwrap());
    assert_eq!(ours, rows(b.redis.call(&c).unwrap()), "SOID {app} {id}");
    ours.len()
}

/// SOID lists a user's sessions in SMEMBERS order (random in Redis): compare as multisets.
fn groups(v: Value) -> Vec<String> {
    let Value::Array(items) = v else {
        panic!("{v:?}")
    };
    let mut g: Vec<String> = items.chunks(9).map(|c| format!("{c:?}")).collect();
    g.sort();
    g
}

#[test]
fn the_projects_scripts() {
    let mut b = Both::new();
    let t0: i64 = 1_800_000_000;
    let keys = |app: &str, token: &str| {
        vec![
            format!("rs:{app}:{token}"),
            format!("rs:{app}:_sessions"),
            format!("rs:{app}:_users"),
            "rs:SESSIONS".to_owned(),
        ]
    };
    let (t1, t2, t3, t4) = (token(1), token(2), token(3), token(4));
    create(
        &mut b,
        "app",
        &t1,
        "u1",
        t0,
        3600,
        Some(r#"{"plan":"pro","n":1}"#),
    );
    create(&mut b, "app", &t2, "u1", t0 + 5, 60, None);
    create(&mut b, "app", &t3, "user:with:colons", t0 + 7, 30, None);
    create(&mut b, "other", &t4, "u9", t0, 10, None);
    b.check(&cmd(&["HSET", &format!("rs:app:{t3}"), "no_resave", "1"]))
        .unwrap();
    b.check_dump();

    // get: fresh, idle, no_resave, expired, missing.
    for (token, now) in [
        (&t1, t0),
        (&t1, t0 + 100),
        (&t3, t0 + 20),
        (&t2, t0 + 100),
        (&token(9), t0),
    ] {
        run(
            &mut b,
            &scripts::GET,
            &keys("app", token),
            &[s(now), s("app"), token.clone()],
        );
    }
    b.check_dump();

    // set: compare-and-set of d (written, changed since read, absent, missing session).
    let d_old = r#"{"plan":"pro","n":1}"#;
    for (had, old, new) in [
        ("1", d_old, r#"{"plan":"pro","n":2}"#),
        ("1", d_old, r#"{"x":1}"#),
        ("0", "", r#"{"y":12.7}"#),
        ("1", r#"{"plan":"pro","n":2}"#, ""),
    ] {
        let args = [
            s(t0 + 200),
            s("app"),
            t1.clone(),
            s(had),
            s(old),
            s(new),
            s("rs:"),
        ];
        run(&mut b, &scripts::SET, &keys("app", &t1), &args);
    }
    run(
        &mut b,
        &scripts::SET,
        &keys("app", &token(9)),
        &[s(t0), s("app"), token(9), s("0"), s(""), s("{}"), s("rs:")],
    );
    b.check_dump();

    // rotate: t1 moves to token(7) and back (every field and index score kept); a missing,
    // an expired session and a taken new token change nothing.
    let rotate_keys = |from: &str, to: &str| {
        vec![
            format!("rs:app:{from}"),
            format!("rs:app:{to}"),
            s("rs:app:_sessions"),
            s("rs:SESSIONS"),
        ]
    };
    for (from, to, now) in [
        (t1.clone(), token(7), t0 + 201),
        (token(7), t1.clone(), t0 + 202),
        (token(8), token(7), t0),
        (t2.clone(), token(7), t0 + 10_000),
        (t1.clone(), t2.clone(), t0 + 203),
    ] {
        let args = [s(now), s("rs:"), s("app"), from.clone(), to.clone()];
        run(&mut b, &scripts::ROTATE, &rotate_keys(&from, &to), &args);
    }
    b.check_dump();

    // create with a cap: u1 has t1 and t2 (t2 expired by t0 + 300); caps 2, then 1.
    for (n, cap, now) in [(5, 2, t0 + 300), (6, 1, t0 + 301)] {
        let t = token(n);
        let mut args = vec![
            s("rs:"),
            s("app"),
            t.clone(),
            s("u1"),
            s(now),
            s(now + 60),
            s(cap),
        ];
        for (f, v) in [("id", "u1"), ("r", "1"), ("w", "1"), ("ip", "::1")] {
            args.extend([s(f), s(v)]);
        }
        args.extend([s("la"), s(now), s("ttl"), s(60)]);
        let mut keys = keys("app", &t);
        keys.push(s("rs:app:us:u1"));
        run(&mut b, &scripts::CREATE_CAPPED, &keys, &args);
    }
    b.check_dump();

    // soid, soapp (all, recent only), then the kill family and wipe.
    assert_eq!(soid(&mut b, "app", "u1"), 2);
    assert_eq!(soid(&mut b, "app", "user:with:colons"), 1);
    assert_eq!(soid(&mut b, "app", "nobody"), 0);
    for min in [0, t0 + 6, t0 + 1000] {
        let first = [
            s("rs:"),
            s("app"),
            s(min),
            s(250),
            s(1 << 20),
            s(""),
            s(""),
            s(""),
        ];
        run(&mut b, &scripts::SOAPP, &[], &first);
    }
    // Pages of 2: each resumes from the last (score, member, position), on both sides.
    let mut cursor = [s(""), s(""), s("")];
    loop {
        let mut args = vec![s("rs:"), s("app"), s(0), s(2), s(1 << 20)];
        args.extend(cursor.iter().cloned());
        let Value::Array(page) = run(&mut b, &scripts::SOAPP, &[], &args) else {
            panic!("SOAPP page")
        };
        match (&page[0], &page[1], &page[2]) {
            (Value::Bulk(score), Value::Bulk(member), Value::Integer(pos)) if !score.is_empty() => {
                let text = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
                cursor = [text(score), text(member), s(pos)];
            }
            _ => break,
        }
    }
    run(
        &mut b,
        &scripts::KILL,
        &[format!("rs:app:{t2}")],
        &[s(t0 + 10_000), s("rs:"), s("app"), t2.clone()],
    );
    run(
        &mut b,
        &scripts::KILL,
        &[format!("rs:app:{t3}")],
        &[s(t0 + 21), s("rs:"), s("app"), t3.clone()],
    );
    run(
        &mut b,
        &scripts::KILL,
        &[format!("rs:app:{t9}", t9 = token(9))],
        &[s(t0), s("rs:"), s("app"), token(9)],
    );
    b.check_dump();
    run(
        &mut b,
        &scripts::KILLSOID,
        &[],
        &[s("rs:"), s("app"), s("u1"), s(200)],
    );
    run(
        &mut b,
        &scripts::KILLSOID,
        &[],
        &[s("rs:"), s("app"), s("nobody"), s(200)],
    );
    b.check_dump();

    for i in 10..40 {
        create(
            &mut b,
            "big",
            &token(i),
            &format!("u{}", i % 7),
            t0 + i as i64,
            100 + i as i64,
            None,
        );
    }
    b.check(&cmd(&["ZADD", "rs:big:_sessions", "1", "junk-member"]))
        .unwrap();
    b.check(&cmd(&[
        "ZADD",
        "rs:SESSIONS",
        "1",
        "junk-without-colon",
        "2",
        "app:short:x",
    ]))
    .unwrap();
    b.check_dump();
    run(&mut b, &scripts::WIPE, &[], &[s("rs:"), s(t0 + 125), s(5)]);
    b.check_dump();
    run(
        &mut b,
        &scripts::WIPE,
        &[],
        &[s("rs:"), s(t0 + 150), s(500)],
    );
    b.check_dump();
    // Batches of 7, then the rest.
    run(&mut b, &scripts::KILLALL, &[], &[s("rs:"), s("big"), s(7)]);
    b.check_dump();
    run(
        &mut b,
        &scripts::KILLALL,
        &[],
        &[s("rs:"), s("big"), s(500)],
    );
    run(
        &mut b,
        &scripts::KILLALL,
        &[],
        &[s("rs:"), s("nothing"), s(500)],
    );
    b.check_dump();
    let activity = cmd(&["ZCOUNT", "rs:app:_users", &s(t0 - 600), "+inf"]);
    b.check(&activity).unwrap();
}
