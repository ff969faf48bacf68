//! Hostile scripts: endless loops, caught aborts, memory hogs, escapes from the sandbox and
//! attempts to poison the Lua state for later scripts. Each is refused or aborted with an
//! error, and the store keeps serving.

use redis_sessions_memory::{MemoryStore, ScriptLimits, ServerError, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

fn eval(store: &MemoryStore, body: &str) -> Result<Value, ServerError> {
    store.execute(&cmd(&["EVAL", body, "0"]))
}

fn small_limits() -> MemoryStore {
    MemoryStore::new().with_script_limits(ScriptLimits {
        time: Duration::from_millis(300),
        instructions: 50_000_000,
        memory: 32 << 20,
    })
}

/// The store still answers commands and scripts, with a clean sandbox.
fn still_serving(store: &MemoryStore) {
    store.execute(&cmd(&["HSET", "alive", "f", "yes"])).unwrap();
    assert_eq!(
        eval(store, "return redis.call('hmget', 'alive', 'f')"),
        Ok(Value::Array(vec![Value::Bulk(b"yes".to_vec())]))
    );
    let e = eval(store, "return x_global").unwrap_err();
    assert!(
        e.0.contains("nonexistent global variable 'x_global'"),
        "{e}"
    );
    assert_eq!(
        eval(
            store,
            "return {type(string.rep), type(redis.call), #('x'):rep(3)}"
        ),
        Ok(Value::Array(vec![
            Value::Bulk(b"function".to_vec()),
            Value::Bulk(b"function".to_vec()),
            Value::Integer(3),
        ]))
    );
}

fn killed(r: Result<Value, ServerError>) {
    let e = r.unwrap_err();
    assert!(e.0.starts_with("ERR Script killed"), "{e}");
}

#[test]
fn endless_loops_are_aborted() {
    let store = small_limits();
    for body in [
        "while true do end",
        "local i = 0 while true do i = i + 1 end",
        "repeat until false",
        "local function f() return f() end return f()",
        // Catching the abort does not help: every pcall re-raises it.
        "while true do pcall(function() while true do end end) end",
        "local ok = pcall(function() while true do end end) return 'survived'",
        "local ok = xpcall(function() while true do end end, function(e) return e end) return 1",
        "local function g() while true do pcall(g) end end g()",
        "while true do redis.call('ping') end",
        "for i = 1, 1e12 do local t = {i} end",
    ] {
        let started = Instant::now();
        killed(eval(&store, body));
        assert!(started.elapsed() < Duration::from_secs(5), "{body}");
        still_serving(&store);
    }
    // The instruction budget alone stops a script too.
    let store = MemoryStore::new().with_script_limits(ScriptLimits {
        time: Duration::from_secs(600),
        instructions: 1_000_000,
        ..ScriptLimits::default()
    });
    killed(eval(&store, "while true do end"));
    assert_eq!(
        eval(
            &store,
            "local n = 0 for i = 1, 1000 do n = n + i end return n"
        ),
        Ok(Value::Integer(500500))
    );
}

#[test]
fn memory_hogs_fail_cleanly() {
    let store = small_limits();
    for body in [
        "return string.rep('x', 1e9)",
        "local t = {} for i = 1, 1e8 do t[i] = i end",
        "local t = {} for i = 1, 1e8 do t[i] = 'x' .. i end",
        "local s = 'x' while true do s = s .. s end",
    ] {
        let e = eval(&store, body).unwrap_err();
        assert!(
            e.0.contains("memory") || e.0.starts_with("ERR Script killed"),
            "{body}: {e}"
        );
        still_serving(&store);
    }
    // A script that catches the memory error still gets a working state afterwards.
    let r = eval(
        &store,
        "local ok = pcall(string.rep, 'x', 1e9) return tostring(ok)",
    );
    assert!(r.is_ok() || r.unwrap_err().0.contains("memory"));
    still_serving(&store);
}

#[test]
fn deep_patterns_are_an_error_not_a_crash() {
    // Lua 5.1 recurses in C once per `a?`: this pattern overflowed the stack (the process
    // died) before the depth limit.
    let store = MemoryStore::new();
    for body in [
        "return string.find(string.rep('a', 200000), string.rep('a?', 200000))",
        "return (string.rep('a', 300)):match(string.rep('(a)', 300))",
        "return string.gsub('x', string.rep('x*', 1000), '')",
        "for w in string.gmatch('x', string.rep('x-', 1000)) do end",
    ] {
        let e = eval(&store, body).unwrap_err();
        assert!(e.0.contains("pattern too complex"), "{body}: {e}");
        still_serving(&store);
    }
    // Ordinary patterns, a plain find of any length and 200 levels still work.
    assert_eq!(
        eval(&store, "return string.find('a-b', '-', 1, true)"),
        Ok(Value::Integer(2))
    );
    assert_eq!(
        eval(
            &store,
            "return (string.rep('-', 5000)):find(string.rep('-', 5000), 1, true)"
        ),
        Ok(Value::Integer(1))
    );
    assert_eq!(
        eval(
            &store,
            "return #(string.rep('a', 250)):match(string.rep('a?', 200))"
        ),
        Ok(Value::Integer(200))
    );
    assert_eq!(
        eval(&store, "return ('key:42'):gsub('%d+', 'N')"),
        Ok(Value::Bulk(b"key:N".to_vec()))
    );
}

#[test]
fn the_sandbox_holds() {
    let store = MemoryStore::new();
    let nonexistent = [
        "os",
        "io",
        "package",
        "require",
        "loadfile",
        "dofile",
        "load",
        "debug",
        "getfenv",
        "setfenv",
        "collectgarbage",
        "newproxy",
        "coroutine",
        "module",
        "print",
        "gcinfo",
    ];
    for name in nonexistent {
        let e = eval(&store, &format!("return {name}")).unwrap_err();
        assert!(
            e.0.contains(&format!(
                "Script attempted to access nonexistent global variable '{name}'"
            )),
            "{name}: {e}"
        );
    }
    let readonly = "Attempt to modify a readonly table";
    for body in [
        "x = 1",
        "_G.x = 1",
        "rawset(_G, 'x', 1)",
        "string.rep = nil",
        "rawset(string, 'rep', nil)",
        "redis.call = function() return 1 end",
        "rawset(redis, 'call', nil)",
        "math.floor = nil",
        "table.insert = nil",
        "getmetatable('').__index = {}",
        "rawset(getmetatable(''), '__index', {})",
        "loadstring('x = 1')()",
        "function f() end",
    ] {
        let e = eval(&store, body).unwrap_err();
        assert!(e.0.contains(readonly), "{body}: {e}");
    }
    for body in [
        "setmetatable(_G, {})",
        "setmetatable(string, {})",
        "setmetatable(getmetatable(''), {})",
    ] {
        let e = eval(&store, body).unwrap_err();
        assert!(
            e.0.contains("cannot change a protected metatable"),
            "{body}: {e}"
        );
    }
    // Bytecode never loads: not as a script, not through loadstring.
    assert_eq!(
        eval(
            &store,
            "return loadstring(string.dump(function() return 1 end))"
        ),
        Ok(Value::Nil)
    );
    let e = store
        .execute(&[b"EVAL".to_vec(), b"\x1bLuaQ".to_vec(), b"0".to_vec()])
        .unwrap_err();
    assert!(e.0.starts_with("ERR Error compiling script"), "{e}");
    // Nothing leaked into later scripts.
    still_serving(&store);
    assert_eq!(
        eval(&store, "return type(getmetatable('').__index.rep)"),
        Ok(Value::Bulk(b"function".to_vec()))
    );
}

#[test]
fn odd_replies_do_not_break_the_store() {
    let store = MemoryStore::new();
    // A table that contains itself: the reply nests until the depth limit, then an error.
    let mut v = eval(&store, "local t = {} t[1] = t return t").unwrap();
    let mut depth = 0;
    while let Value::Array(mut items) = v {
        depth += 1;
        v = items.remove(0);
    }
    assert_eq!(depth, 1000);
    assert_eq!(v, Value::Error("ERR reached lua stack limit".into()));
    // Errors nested in arrays stay in place.
    assert_eq!(
        eval(
            &store,
            "return {1, redis.error_reply('E x'), {ok = 'fine'}}"
        ),
        Ok(Value::Array(vec![
            Value::Integer(1),
            Value::Error("E x".into()),
            Value::Status("fine".into()),
        ]))
    );
    // Newlines never reach an error or status line.
    assert_eq!(
        eval(&store, "return {err = 'a\\r\\nb'}"),
        Err(ServerError("a  b".into()))
    );
    assert_eq!(
        eval(&store, "return {ok = 'a\\nb'}"),
        Ok(Value::Status("a b".into()))
    );
    let e = eval(&store, "error('x\\ny')").unwrap_err();
    assert!(!e.0.contains('\n'), "{e}");
    still_serving(&store);
}

#[test]
fn scripts_are_atomic_across_threads() {
    let store = Arc::new(MemoryStore::new());
    // A read and a write that would lose updates if scripts interleaved.
    let incr = "local v = tonumber(redis.call('hmget', KEYS[1], 'n')[1] or '0') redis.call('hset', KEYS[1], 'n', v + 1) return v + 1";
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    store
                        .execute(&cmd(&["EVAL", incr, "1", "counter"]))
                        .unwrap();
                    store.execute(&cmd(&["HINCRBY", "h", "n", "1"])).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for key in ["counter", "h"] {
        assert_eq!(
            store.execute(&cmd(&["HMGET", key, "n"])),
            Ok(Value::Array(vec![Value::Bulk(b"2000".to_vec())]))
        );
    }
}
