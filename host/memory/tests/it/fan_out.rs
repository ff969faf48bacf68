//! The sharded layout's fan-out (killall, wipe, soapp: one pipeline over every shard per
//! round) on a fake 3-node cluster of embedded stores, each with its own script cache, as
//! a real cluster's nodes have: a pipeline then meets nodes that know a script and nodes
//! that do not, and what it deleted must still be counted exactly.

use crate::support;
use redis_sessions_core::keys::{Layout, slot};
use redis_sessions_core::{Command, CommandError, CreateOptions, Environment, Reply, SessionLogic};
use redis_sessions_memory::{MemoryStore, Value};
use std::cell::Cell;
use std::rc::Rc;
use support::session_result;

const NODES: usize = 3;
const SLOTS: usize = 16384;

/// Three stores owning equal slot ranges, as `redis-cli --cluster create` splits them, and
/// the clock.
#[derive(Default)]
struct Nodes {
    stores: [MemoryStore; NODES],
    now: Cell<i64>,
    /// Pipelines sent.
    pipelines: Cell<usize>,
}

impl Nodes {
    fn new() -> Rc<Self> {
        let nodes = Rc::new(Self::default());
        nodes.now.set(1_800_000_000);
        nodes
    }

    /// The node of a command's first key (`KEYS[1]` for a script).
    fn node(&self, command: &[Vec<u8>]) -> &MemoryStore {
        let verb = command[0].to_ascii_uppercase();
        let key = match verb.as_slice() {
            b"EVAL" | b"EVALSHA" => &command[3],
            _ => &command[1],
        };
        &self.stores[usize::from(slot(key)) * NODES / SLOTS]
    }

    fn keys(&self) -> usize {
        let all = [b"KEYS".to_vec(), b"*".to_vec()];
        self.stores
            .iter()
            .map(|n| match n.inspect(&all).unwrap() {
                Value::Array(keys) => keys.len(),
                other => panic!("{other:?}"),
            })
            .sum()
    }

    /// Loads `script` on the first node only: the state a failover or a restart of the
    /// others leaves.
    fn load_on_first_node(&self, source: &str) {
        let load = [
            b"SCRIPT".to_vec(),
            b"LOAD".to_vec(),
            source.as_bytes().to_vec(),
        ];
        // The store may not take SCRIPT LOAD; EVAL of a script that fails still loads it.
        if self.stores[0].execute(&load).is_err() {
            let eval = [b"EVAL".to_vec(), source.as_bytes().to_vec(), b"0".to_vec()];
            let _ = self.stores[0].execute(&eval);
        }
    }
}

/// The session logic's view of the nodes.
struct FakeCluster {
    nodes: Rc<Nodes>,
    seed: u64,
}

impl Environment for FakeCluster {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        session_result(self.nodes.node(&command).execute(&command))
    }

    /// Every command runs, as on the nodes of a real cluster; the first error is the answer.
    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        self.nodes.pipelines.set(self.nodes.pipelines.get() + 1);
        let results: Vec<_> = commands
            .iter()
            .map(|c| session_result(self.nodes.node(c).execute(c)))
            .collect();
        results.into_iter().collect()
    }

    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let node = self.nodes.node(&commands[0]);
        let replies = node
            .transaction(&commands)
            .map_err(|e| CommandError::Server(e.0))?;
        replies.into_iter().map(session_result).collect()
    }

    fn now(&self) -> i64 {
        self.nodes.now.get()
    }

    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        for b in buf {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            *b = (self.seed >> 24) as u8;
        }
        Ok(())
    }
}

/// `count` sessions of `app` over 97 users, with `ttl`.
fn create(store: &mut SessionLogic<'_, FakeCluster>, app: &str, count: usize, ttl: i64) {
    let options = CreateOptions {
        ttl: Some(ttl),
        ..CreateOptions::default()
    };
    for i in 0..count {
        let id = format!("user{}", i % 97);
        store.create(app, &id, "10.0.0.1", &options).unwrap();
    }
}

/// A sharded store of 16 shards on fresh nodes.
fn sharded(layout: &Layout) -> (Rc<Nodes>, SessionLogic<'_, FakeCluster>) {
    let nodes = Nodes::new();
    let cluster = FakeCluster {
        nodes: nodes.clone(),
        seed: 42,
    };
    (nodes, SessionLogic::with_layout(cluster, layout))
}

#[test]
fn killall_counts_every_deletion_when_some_nodes_lack_its_script() {
    let layout = Layout::sharded("rs", 16);
    let (nodes, mut store) = sharded(&layout);
    // More than a batch (200) per shard: several rounds.
    create(&mut store, "app", 16 * 260, 7200);
    create(&mut store, "other", 50, 7200);
    nodes.load_on_first_node(redis_sessions_core::scripts::KILLALL.source);
    let before = nodes.pipelines.get();

    assert_eq!(store.killall("app").unwrap(), 16 * 260);
    let rounds = nodes.pipelines.get() - before;
    // The probe, then rounds of 200 per shard: 260 takes two, and a short one ends each.
    assert!((2..=4).contains(&rounds), "{rounds} pipelines");
    assert_eq!(store.activity("app", 7200).unwrap(), 0);
    assert_eq!(store.activity("other", 7200).unwrap(), 50);
    assert_eq!(store.killall("other").unwrap(), 50);
    assert_eq!(nodes.keys(), 0);
}

#[test]
fn wipe_counts_every_deletion_when_some_nodes_lack_its_script() {
    let layout = Layout::sharded("rs", 16);
    let (nodes, mut store) = sharded(&layout);
    create(&mut store, "app", 16 * 40, 10);
    create(&mut store, "app", 30, 7200);
    nodes.load_on_first_node(redis_sessions_core::scripts::WIPE.source);
    nodes.now.set(nodes.now.get() + 11);

    assert_eq!(store.wipe().unwrap(), 16 * 40);
    assert_eq!(store.activity("app", 7200).unwrap(), 30);
    assert_eq!(store.soapp("app", 7200).unwrap().len(), 30);
}

#[test]
fn soapp_reads_every_shard_once_when_some_nodes_lack_its_script() {
    let layout = Layout::sharded("rs", 16);
    let (nodes, mut store) = sharded(&layout);
    // Pages of 250: several per shard for some.
    create(&mut store, "app", 16 * 300, 7200);
    nodes.load_on_first_node(redis_sessions_core::scripts::SOAPP.source);

    let sessions = store.soapp("app", 7200).unwrap();
    assert_eq!(sessions.len(), 16 * 300);
    assert!(sessions.windows(2).all(|w| w[0].idle <= w[1].idle));
    let before = nodes.pipelines.get();
    assert_eq!(store.soapp("app", 7200).unwrap().len(), 16 * 300);
    // Four shards' pages at a time: from 4 rounds (a page each) to a few more, not the 16+
    // calls of going page by page.
    let rounds = nodes.pipelines.get() - before;
    assert!((4..16).contains(&rounds), "{rounds} pipelines");
}
