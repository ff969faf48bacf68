//! [`RedisCluster`]: a local Redis Cluster of one test, 3 masters and 3 replicas, each node a
//! [`RedisServer`] started with `--cluster-enabled yes` and joined by
//! `redis-cli --cluster create`.
//!
//! ```no_run
//! use test_support::cluster::RedisCluster;
//! use test_support::{Reply, cmd};
//!
//! let cluster = RedisCluster::start();
//! let master = cluster.master_of_key("user:1");
//! let mut redis = cluster.node(master).client();
//! assert_eq!(redis.call(&cmd(&["SET", "user:1", "x"])), Reply::Status("OK".into()));
//! ```

use crate::{RedisServer, Reply, Resp, cmd};
use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::process::Command;
use std::time::{Duration, Instant};

/// How many masters, each with one replica.
pub const MASTERS: usize = 3;

/// Redis Cluster's number of hash slots.
pub const SLOTS: u16 = 16384;

/// How long the cluster gets to agree on its topology and sync its replicas.
const FORMING: Duration = Duration::from_secs(30);

/// How long a master may be unreachable before its replica takes over. Redis' default is
/// 15 s; 2 s keeps a failover test short without failing over a node that a busy
/// two-core machine merely slowed down.
pub const NODE_TIMEOUT_MS: u64 = 2000;

/// A Redis Cluster owned by one test: [`MASTERS`] masters and as many replicas on free
/// loopback ports, persistence off, every node killed on drop (each node's log printed when
/// the test panicked, as [`RedisServer`] does). Nodes are named by their index in
/// [`nodes`](Self::nodes); which of them are masters is decided by `redis-cli` and changes
/// on failover, so ask [`master_of_key`](Self::master_of_key) and friends.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

/// One node as `CLUSTER NODES` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub id: String,
    pub port: u16,
    /// `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, ...
    pub flags: Vec<String>,
    /// The id of its master, for a replica.
    pub master_id: Option<String>,
    pub connected: bool,
    /// The slot ranges it serves (a master's); slots being migrated are left out.
    pub slots: Vec<RangeInclusive<u16>>,
}

impl NodeInfo {
    pub fn is_master(&self) -> bool {
        self.flags.iter().any(|f| f == "master")
    }

    /// Flagged failing, or not yet part of the cluster.
    pub fn is_failing(&self) -> bool {
        self.flags
            .iter()
            .any(|f| matches!(f.as_str(), "fail" | "fail?" | "handshake" | "noaddr"))
    }

    fn parse(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // id addr flags master ping pong epoch link slot...
        let (id, addr, flags, master, link) = (
            fields.first()?,
            fields.get(1)?,
            fields.get(2)?,
            fields.get(3)?,
            fields.get(7)?,
        );
        // 127.0.0.1:PORT@BUSPORT[,hostname]
        let port = addr.split('@').next()?.rsplit(':').next()?.parse().ok()?;
        let slots = fields[8..]
            .iter()
            .filter(|s| !s.starts_with('['))
            .filter_map(|s| match s.split_once('-') {
                Some((a, b)) => Some(a.parse().ok()?..=b.parse().ok()?),
                None => s.parse().ok().map(|n| n..=n),
            })
            .collect();
        Some(NodeInfo {
            id: (*id).to_owned(),
            port,
            flags: flags.split(',').map(str::to_owned).collect(),
            master_id: (*master != "-").then(|| (*master).to_owned()),
            connected: *link == "connected",
            slots,
        })
    }
}

fn bulk_text(reply: Reply) -> String {
    match reply {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

impl RedisCluster {
    /// Starts 6 nodes, creates the cluster with `redis-cli --cluster create
    /// --cluster-replicas 1`, and waits until every node sees the same healthy cluster
    /// (`cluster_state:ok`, every slot served, each master's replica synced).
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..MASTERS * 2)
            .map(|_| {
                let timeout = NODE_TIMEOUT_MS.to_string();
                RedisServer::start_cluster_node(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    &timeout,
                    // A replica's first sync starts at once, not after Redis' 5 s wait for
                    // more replicas to share the snapshot.
                    "--repl-diskless-sync-delay",
                    "0",
                ])
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-cli ({e}): the cluster tests need redis-cli 7")
            });
        let cluster = RedisCluster { nodes };
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed ({}):\n{}{}",
            created.status,
            String::from_utf8_lossy(&created.stdout),
            String::from_utf8_lossy(&created.stderr)
        );
        cluster.wait_until_formed(FORMING);
        cluster.wait_until_replicas_acknowledge();
        cluster
    }

    /// Writes (and deletes) a key on each master, then waits for its replica to acknowledge
    /// it. Right after the cluster forms, with every replica reported synced and online, a
    /// master's first `WAIT 1` was measured taking up to 766 ms (1-150 ms typically; 0.3 ms
    /// once it has answered); a test with a short `WAIT` timeout then failed its first write.
    fn wait_until_replicas_acknowledge(&self) {
        for master in self.masters() {
            let key = (0..)
                .map(|i| format!("test-support:probe:{i}"))
                .find(|key| self.master_of_key(key) == master)
                .expect("some key hashes to every master");
            let mut redis = self.nodes[master].client();
            redis.call(&cmd(&["SET", &key, "1"]));
            redis.call(&cmd(&["DEL", &key]));
            let acknowledged = redis.call(&cmd(&["WAIT", "1", "10000"]));
            assert_eq!(
                acknowledged,
                Reply::Int(1),
                "master {master}'s replica did not acknowledge a write within 10 s"
            );
        }
    }

    /// Every node, by index (a killed one too: its port stays).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    pub fn node(&self, index: usize) -> &RedisServer {
        &self.nodes[index]
    }

    /// `redis://127.0.0.1:PORT` of every node: seeds for a cluster client.
    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...`: every node as a seed, in the
    /// syntax the host accepts for a cluster.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    fn index_of_port(&self, port: u16) -> usize {
        self.nodes
            .iter()
            .position(|n| n.port() == port)
            .unwrap_or_else(|| panic!("no node on port {port}"))
    }

    fn is_alive(&self, index: usize) -> bool {
        Resp::connect(self.nodes[index].port()).is_ok()
    }

    /// A connection to some node that is up.
    fn any_live_client(&self) -> Resp {
        self.nodes
            .iter()
            .find_map(|n| Resp::connect(n.port()).ok())
            .expect("every node of the cluster is down")
    }

    /// `CLUSTER NODES` as node `index` sees it.
    pub fn topology_seen_by(&self, index: usize) -> Vec<NodeInfo> {
        let text = bulk_text(self.nodes[index].client().call(&cmd(&["CLUSTER", "NODES"])));
        text.lines().filter_map(NodeInfo::parse).collect()
    }

    /// `CLUSTER NODES` as some live node sees it.
    pub fn topology(&self) -> Vec<NodeInfo> {
        let text = bulk_text(self.any_live_client().call(&cmd(&["CLUSTER", "NODES"])));
        text.lines().filter_map(NodeInfo::parse).collect()
    }

    /// The hash slot of `key`, as Redis computes it (`CLUSTER KEYSLOT`).
    pub fn slot(&self, key: &str) -> u16 {
        match self
            .any_live_client()
            .call(&cmd(&["CLUSTER", "KEYSLOT", key]))
        {
            Reply::Int(n) => u16::try_from(n).unwrap(),
            other => panic!("CLUSTER KEYSLOT {key}: {other:?}"),
        }
    }

    /// The node that serves `slot` now, as some live node sees it; `None` while none does
    /// (its master failed and no replica has taken over yet).
    pub fn try_master_of_slot(&self, slot: u16) -> Option<usize> {
        let master = self.topology().into_iter().find(|n| {
            n.is_master() && !n.is_failing() && n.slots.iter().any(|r| r.contains(&slot))
        })?;
        Some(self.index_of_port(master.port))
    }

    /// The node that serves `slot` now, as some live node sees it.
    pub fn master_of_slot(&self, slot: u16) -> usize {
        self.try_master_of_slot(slot)
            .unwrap_or_else(|| panic!("no live master serves slot {slot}: {:#?}", self.topology()))
    }

    /// The node that serves `key`'s slot now.
    pub fn master_of_key(&self, key: &str) -> usize {
        self.master_of_slot(self.slot(key))
    }

    /// The indices of the masters that serve slots now.
    pub fn masters(&self) -> Vec<usize> {
        let mut masters: Vec<usize> = self
            .topology()
            .iter()
            .filter(|n| n.is_master() && !n.is_failing() && !n.slots.is_empty())
            .map(|n| self.index_of_port(n.port))
            .collect();
        masters.sort_unstable();
        masters
    }

    /// The replica of master `index`.
    pub fn replica_of(&self, index: usize) -> usize {
        let topology = self.topology();
        let port = self.nodes[index].port();
        let master = topology
            .iter()
            .find(|n| n.port == port)
            .unwrap_or_else(|| panic!("node {index} is not in {topology:#?}"));
        let replica = topology
            .iter()
            .find(|n| n.master_id.as_deref() == Some(&master.id) && !n.is_failing())
            .unwrap_or_else(|| panic!("node {index} has no live replica: {topology:#?}"));
        self.index_of_port(replica.port)
    }

    /// Whether node `index` says it is a master (`ROLE`), `false` when it is down.
    pub fn is_master(&self, index: usize) -> bool {
        let Ok(mut redis) = Resp::connect(self.nodes[index].port()) else {
            return false;
        };
        matches!(
            redis.call(&cmd(&["ROLE"])),
            Reply::Array(role) if role.first() == Some(&Reply::Bulk(b"master".to_vec()))
        )
    }

    /// `DBSIZE` of node `index`.
    pub fn dbsize(&self, index: usize) -> i64 {
        match self.nodes[index].client().call(&cmd(&["DBSIZE"])) {
            Reply::Int(n) => n,
            other => panic!("DBSIZE on node {index}: {other:?}"),
        }
    }

    /// Node `index`'s `INFO section`.
    pub fn info(&self, index: usize, section: &str) -> String {
        bulk_text(self.nodes[index].client().call(&cmd(&["INFO", section])))
    }

    /// Waits (blocking, up to 10 s) until the replica of master `index` has received every
    /// write the master took so far. Replication is asynchronous: a test whose point is not
    /// what a failover loses calls this before killing a master.
    pub fn wait_for_replica(&self, index: usize) {
        let offset = |node: usize, field: &str| -> i64 {
            let info = self.info(node, "replication");
            info.lines()
                .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("node {node}: no {field} in {info}"))
        };
        let written = offset(index, "master_repl_offset");
        let replica = self.replica_of(index);
        let deadline = Instant::now() + Duration::from_secs(10);
        while offset(replica, "slave_repl_offset") < written {
            assert!(
                Instant::now() < deadline,
                "node {replica} did not receive master {index}'s writes within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills node `index` at once (SIGKILL), as a crash would; its data is lost.
    pub fn kill(&mut self, index: usize) {
        self.nodes[index].stop();
    }

    /// Kills master `index` as [`kill`](Self::kill) does and waits (blocking, up to 30 s)
    /// until its replica is promoted; returns the moment of the promotion.
    pub fn kill_until_promoted(&mut self, index: usize) -> Instant {
        let replica = self.replica_of(index);
        self.kill(index);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.is_master(replica) {
            assert!(Instant::now() < deadline, "no promotion within 30 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        Instant::now()
    }

    /// Panics unless every live node, within `timeout`, sees the same healthy cluster: state
    /// ok, [`MASTERS`] masters serving all [`SLOTS`] slots, every live node known and none
    /// failing, each master's replica synced.
    fn wait_until_formed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let problem = self.formation_problem();
            match problem {
                None => return,
                Some(problem) if Instant::now() >= deadline => {
                    panic!("the cluster did not form within {timeout:?}: {problem}")
                }
                Some(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// What keeps the cluster from being formed, or `None`.
    fn formation_problem(&self) -> Option<String> {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.is_alive(i))
            .collect();
        let live_ports: HashSet<u16> = live.iter().map(|&i| self.nodes[i].port()).collect();
        for &i in &live {
            let mut redis = self.nodes[i].client();
            let info = bulk_text(redis.call(&cmd(&["CLUSTER", "INFO"])));
            if !info.contains("cluster_state:ok") {
                return Some(format!("node {i} is not in cluster_state:ok"));
            }
            let view = self.topology_seen_by(i);
            let known: HashSet<u16> = view.iter().map(|n| n.port).collect();
            if known != live_ports {
                return Some(format!(
                    "node {i} knows ports {known:?}, not {live_ports:?}"
                ));
            }
            if let Some(bad) = view.iter().find(|n| n.is_failing()) {
                return Some(format!("node {i} sees {bad:?} failing"));
            }
            let masters: Vec<&NodeInfo> = view.iter().filter(|n| n.is_master()).collect();
            let served: usize = masters
                .iter()
                .flat_map(|m| m.slots.iter())
                .map(|r| usize::from(r.end() - r.start()) + 1)
                .sum();
            if masters.len() != MASTERS || served != usize::from(SLOTS) {
                return Some(format!(
                    "node {i} sees {} masters serving {served} slots",
                    masters.len()
                ));
            }
            for master in masters {
                if !view
                    .iter()
                    .any(|n| n.master_id.as_deref() == Some(&master.id))
                {
                    return Some(format!("node {i} sees no replica of {}", master.port));
                }
            }
            // Both ends: a replica that loaded the master's snapshot is not yet sent the
            // writes made meanwhile until its master marks it online.
            let replication = bulk_text(redis.call(&cmd(&["INFO", "replication"])));
            let synced = if replication.contains("role:master") {
                replication.contains("state=online")
            } else {
                replication.contains("master_link_status:up")
                    && replication.contains("master_sync_in_progress:0")
            };
            if !synced {
                return Some(format!("node {i}'s replication is not in sync"));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_forms_serves_every_slot_and_reports_its_masters() {
        let mut cluster = RedisCluster::start();
        let masters = cluster.masters();
        assert_eq!(masters.len(), MASTERS);
        let url = cluster.url();
        assert!(url.starts_with("redis+cluster://127.0.0.1:"));
        assert_eq!(url.matches(',').count(), MASTERS * 2 - 1);

        // A key written on its master is there and nowhere else; other masters redirect.
        let key = "harness-key";
        let master = cluster.master_of_key(key);
        assert!(masters.contains(&master));
        let mut on_master = cluster.node(master).client();
        assert_eq!(
            on_master.call(&cmd(&["SET", key, "v"])),
            Reply::Status("OK".into())
        );
        for &other in masters.iter().filter(|&&m| m != master) {
            assert!(matches!(
                cluster.node(other).client().call(&cmd(&["GET", key])),
                Reply::Error(e) if e.starts_with("MOVED")
            ));
            assert_eq!(cluster.dbsize(other), 0);
        }
        assert_eq!(cluster.dbsize(master), 1);
        // Replication is asynchronous: without WAIT (on the connection that wrote: it waits
        // for that connection's writes), the kill below could lose the key.
        assert_eq!(on_master.call(&cmd(&["WAIT", "1", "5000"])), Reply::Int(1));

        // Killing a master promotes its replica, which already holds the key.
        let replica = cluster.replica_of(master);
        assert!(!cluster.is_master(replica));
        cluster.kill(master);
        let deadline = Instant::now() + FORMING;
        while !cluster.is_master(replica) {
            assert!(Instant::now() < deadline, "no promotion within {FORMING:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let deadline = Instant::now() + FORMING;
        while cluster.try_master_of_slot(cluster.slot(key)) != Some(replica) {
            assert!(
                Instant::now() < deadline,
                "the topology never showed the promotion"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            cluster.node(replica).client().call(&cmd(&["GET", key])),
            Reply::Bulk(b"v".to_vec())
        );
    }

    #[test]
    fn cluster_nodes_lines_parse() {
        let master = NodeInfo::parse(
            "07c3 127.0.0.1:30004@31004,host master - 0 1426238316232 2 connected 5461-10922 7 [8->-e]",
        )
        .unwrap();
        assert_eq!(master.port, 30004);
        assert!(master.is_master() && !master.is_failing() && master.connected);
        assert_eq!(master.slots, vec![5461..=10922, 7..=7]);
        let replica = NodeInfo::parse(
            "e7d1 127.0.0.1:30005@31005 myself,slave,fail? 07c3 0 0 2 disconnected",
        )
        .unwrap();
        assert_eq!(replica.master_id.as_deref(), Some("07c3"));
        assert!(!replica.is_master() && replica.is_failing() && !replica.connected);
        assert!(replica.slots.is_empty());
    }
}
