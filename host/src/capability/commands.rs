//! The one table of Redis commands a session component may cause: the host's allowlist
//! and a tenant's ACL rules are both derived from it, and a test checks it against every
//! `redis.call` of the built-in scripts.

/// How a command reaches Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Sent by the component through the capability (and so on the allowlist).
    Sent,
    /// Only called by the session scripts inside Redis.
    Scripted,
    /// Both.
    SentAndScripted,
    /// Sent by the host itself around a transaction (MULTI/EXEC), never by the component.
    Transaction,
    /// Sent by the Redis client on connecting, when the URL selects a database.
    Connection,
    /// Sent by the Redis Cluster client: to learn the slots' masters, and before a command
    /// it follows an `ASK` redirection with (during a slot's migration).
    Cluster,
}

/// Every command, uppercase, with how it is used.
pub const COMMANDS: &[(&str, Use)] = &[
    ("PING", Use::Sent),
    ("EVALSHA", Use::Sent),
    ("EVAL", Use::Sent),
    ("ZADD", Use::SentAndScripted),
    ("SADD", Use::SentAndScripted),
    ("HSET", Use::SentAndScripted),
    ("HMGET", Use::SentAndScripted),
    ("ZCOUNT", Use::Sent),
    ("MULTI", Use::Transaction),
    ("EXEC", Use::Transaction),
    ("DISCARD", Use::Transaction),
    ("HINCRBY", Use::Scripted),
    ("HDEL", Use::Scripted),
    ("ZREM", Use::Scripted),
    ("SREM", Use::Scripted),
    ("DEL", Use::Scripted),
    ("EXISTS", Use::Scripted),
    ("PUBLISH", Use::Scripted),
    ("RENAME", Use::Scripted),
    ("SCARD", Use::Scripted),
    ("SMEMBERS", Use::Scripted),
    ("SPOP", Use::Scripted),
    ("SSCAN", Use::Scripted),
    ("ZRANGE", Use::Scripted),
    ("ZRANGEBYSCORE", Use::Scripted),
    ("ZREVRANGEBYSCORE", Use::Scripted),
    ("ZSCORE", Use::Scripted),
    ("SELECT", Use::Connection),
    ("CLUSTER|SLOTS", Use::Cluster),
    ("ASKING", Use::Cluster),
];

/// The commands the capability lets a component send; anything else is refused before it
/// reaches Redis.
pub fn allowed() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .filter(|(_, u)| matches!(u, Use::Sent | Use::SentAndScripted))
        .map(|(name, _)| *name)
}

/// Whether the component may send `name` (any case).
pub fn is_allowed(name: &[u8]) -> bool {
    allowed().any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(name))
}

/// The commands a tenant's Redis ACL user needs: everything in the table but `EVAL`
/// (tenants run only the scripts the host loaded, by `EVALSHA`), `SELECT` only when its URL
/// selects a database, the cluster client's only on a `cluster`.
pub fn tenant_acl(select: bool, cluster: bool) -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .filter(move |(name, use_)| {
            *name != "EVAL"
                && match use_ {
                    Use::Connection => select,
                    Use::Cluster => cluster,
                    _ => true,
                }
        })
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The npm package's capability (`js/src/capability.js`) keeps its own copy of the
    /// allowlist, for node has no access to this table: it must be this one.
    #[test]
    fn the_npm_packages_allowlist_is_this_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../js/src/capability.js");
        let source = std::fs::read_to_string(path).unwrap();
        let line = source
            .lines()
            .find(|l| l.starts_with("const ALLOWED = new Set(["))
            .expect("js/src/capability.js declares `const ALLOWED = new Set([...])` on one line");
        let list = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
        let mut js: Vec<&str> = list
            .split(',')
            .map(|n| n.trim().trim_matches('"'))
            .collect();
        let mut rust: Vec<&str> = allowed().collect();
        js.sort_unstable();
        rust.sort_unstable();
        assert_eq!(
            js, rust,
            "js/src/capability.js' ALLOWED differs from COMMANDS"
        );
    }

    #[test]
    fn the_allowlist_is_the_sent_commands() {
        let allowed: Vec<_> = allowed().collect();
        assert_eq!(
            allowed,
            [
                "PING", "EVALSHA", "EVAL", "ZADD", "SADD", "HSET", "HMGET", "ZCOUNT"
            ]
        );
        assert!(is_allowed(b"evalsha"));
        assert!(!is_allowed(b"FLUSHALL"));
        assert!(!is_allowed(b"MULTI"), "the host sends MULTI/EXEC itself");
        let acl: Vec<_> = tenant_acl(false, false).collect();
        assert!(!acl.contains(&"EVAL") && !acl.contains(&"SELECT"));
        assert!(!acl.contains(&"ASKING") && !acl.contains(&"CLUSTER|SLOTS"));
        assert!(tenant_acl(true, false).any(|c| c == "SELECT"));
        assert_eq!(acl.len(), COMMANDS.len() - 4);
        let on_cluster: Vec<_> = tenant_acl(false, true).collect();
        assert!(on_cluster.contains(&"ASKING") && on_cluster.contains(&"CLUSTER|SLOTS"));
    }

    /// The table must name every command the built-in scripts call, or a tenant's ACL user
    /// would be refused inside the scripts.
    #[test]
    fn every_command_the_scripts_call_is_in_the_table() {
        let mut called = Vec::new();
        for script in redis_sessions_core::scripts::ALL {
            for call in script.source.split("redis.call(").skip(1) {
                let name: String = call
                    .trim_start_matches(['\'', '"'])
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                called.push(name.to_ascii_uppercase());
            }
        }
        assert!(called.len() > 10, "found {called:?}");
        for name in &called {
            let entry = COMMANDS.iter().find(|(n, _)| n == name);
            assert!(
                matches!(entry, Some((_, Use::Scripted | Use::SentAndScripted))),
                "{name} is called by a script but is not in the table as scripted: {entry:?}"
            );
        }
        for (name, use_) in COMMANDS {
            if matches!(use_, Use::Scripted) {
                assert!(
                    called.contains(&name.to_string()),
                    "{name} is called by no script"
                );
            }
        }
    }

    /// The embedded store implements exactly what the component and its scripts can send
    /// (MULTI/EXEC are its `transaction` call; SELECT and the cluster client's are never
    /// needed in process).
    #[test]
    fn the_embedded_store_takes_exactly_the_commands_of_the_table() {
        let mut table: Vec<&str> = COMMANDS
            .iter()
            .filter(|(_, u)| !matches!(u, Use::Transaction | Use::Connection | Use::Cluster))
            .map(|(name, _)| *name)
            .collect();
        table.sort_unstable();
        let mut store = redis_sessions_memory::COMMANDS.to_vec();
        store.sort_unstable();
        assert_eq!(store, table);
    }
}
