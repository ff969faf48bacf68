//! The store answers exactly the commands redis-sessions sends: those the component sends
//! itself and those its Lua scripts call, read from the scripts' sources.

use redis_sessions_core::scripts::{self, Script};
use redis_sessions_memory::{COMMANDS, MemoryStore};
use std::collections::BTreeSet;

/// What the component sends directly (MULTI/EXEC aside: they are `transaction`). The
/// host's allowlist test checks the same list from the host side.
const COMPONENT: &[&str] = &[
    "EVAL", "EVALSHA", "HMGET", "HSET", "PING", "SADD", "ZADD", "ZCOUNT",
];

/// Every script the component runs.
const SCRIPTS: &[&Script] = &scripts::ALL;

/// The commands `source` calls. Every `redis.call(` / `redis.pcall(` must name its command
/// as a string literal, so none can be missed.
fn called(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for call in ["redis.call(", "redis.pcall("] {
        for (at, _) in source.match_indices(call) {
            let rest = &source[at + call.len()..];
            let quote = rest.chars().next().unwrap();
            assert!(
                quote == '\'' || quote == '"',
                "a script calls a command that is not a literal: {}",
                &rest[..rest.len().min(40)]
            );
            let name = rest[1..].split(quote).next().unwrap();
            names.insert(name.to_ascii_uppercase());
        }
    }
    names
}

#[test]
fn commands_are_exactly_the_components_and_its_scripts() {
    let mut sorted = COMMANDS.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, COMMANDS, "COMMANDS is sorted");
    assert!(COMMANDS.iter().all(|c| c.to_ascii_uppercase() == *c));

    let from_scripts: BTreeSet<String> = SCRIPTS.iter().flat_map(|s| called(s.source)).collect();
    assert!(from_scripts.contains("HMGET") && from_scripts.contains("ZREVRANGEBYSCORE"));
    for name in &from_scripts {
        assert!(COMMANDS.contains(&name.as_str()), "scripts call {name}");
    }
    let needed: BTreeSet<String> = from_scripts
        .into_iter()
        .chain(COMPONENT.iter().map(|c| c.to_string()))
        .collect();
    let offered: BTreeSet<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
    assert_eq!(offered, needed, "nothing beyond what is sent");
}

#[test]
fn every_listed_command_runs_and_others_are_unknown() {
    let store = MemoryStore::new();
    for name in COMMANDS {
        // Too few arguments for any of them: an arity error names a known command.
        let e = store.execute(&[name.as_bytes().to_vec(), b"k".to_vec()]);
        if let Err(e) = e {
            assert!(!e.0.contains("unknown command"), "{name}: {e}");
        }
    }
    let e = store
        .execute(&[b"HGETALL".to_vec(), b"k".to_vec()])
        .unwrap_err();
    assert!(e.0.starts_with("ERR unknown command 'HGETALL'"), "{e}");
}

#[test]
fn the_scan_finds_calls_and_refuses_computed_names() {
    let names = called("redis.call('DEL', k) redis.pcall(\"zrem\", k, m) redis.call('HSET', k)");
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["DEL", "HSET", "ZREM"]
    );
    let computed = std::panic::catch_unwind(|| called("redis.call(cmd, k)"));
    assert!(computed.is_err());
}
