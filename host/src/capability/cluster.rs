//! The capability on a Redis Cluster: redis-rs' cluster client ([`ClusterConnection`]),
//! which follows `MOVED`/`ASK`, reconnects and learns the new topology after a failover;
//! replies and errors mapped as on one server ([`super::server`]).
//!
//! A single command goes where redis-rs routes it: by its first key (EVAL/EVALSHA by
//! `KEYS[1]`). A batch is routed here, by hash slot: a transaction (MULTI/EXEC) runs on the
//! master of the one slot all its keys share, and is refused as Redis would refuse it
//! (`CROSSSLOT`) when they do not; a pipeline is split by slot, the parts sent in parallel
//! and the replies put back in order.
//!
//! The cluster is named by a URL ([`super::cluster_url`]).
//!
//! Beware: redis-rs sends a command again when its connection dropped before the reply
//! came, so a write cut off by a node's crash may run twice.

use super::backend::{Backend, BackendFuture, Command, Keys, ReplicaAcks};
use super::cluster_url::{ClusterNode, ClusterUrl, parse_cluster_nodes};
use super::reply::{from_redis, reply};
use super::server::{RedisTimeouts, replies, send_batch, send_one, to_wit_error};
use crate::bindings::redis::{Error, Reply};
use redis::aio::ConnectionLike;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};

/// Redis' own answer to a multi-key request whose keys live in different slots.
pub const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

/// The shortest and longest wait, in ms, before a call is tried again after a redirection
/// or a node's failure (jittered, growing with the attempts).
const RETRY_WAIT_MS: (u64, u64) = (100, 1000);

/// Every node of the cluster at `url`, masters and replicas, as one of them sees the
/// topology: for what each node must hold itself (ACL users, loaded scripts), which a
/// routed command would miss on a node the client has not met yet.
pub async fn cluster_nodes(url: &str) -> Result<Vec<ClusterNode>, RedisError> {
    let parsed = ClusterUrl::parse(url)?;
    let mut cluster = connect_cluster(url, RedisTimeouts::default()).await?;
    let listing: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut cluster)
        .await?;
    Ok(parse_cluster_nodes(&listing, |address| {
        parsed.node_url(address)
    }))
}

/// Connects to the cluster at `url` (a `redis+cluster://` URL): fails fast when no seed
/// answers; then the connection follows redirections, reconnects and refreshes its view of
/// the slots by itself, so a failover is survived. Reads go to masters only (no replica
/// reads: they could be stale).
pub async fn connect_cluster(
    url: &str,
    timeouts: RedisTimeouts,
) -> Result<ClusterConnection, RedisError> {
    let nodes = ClusterUrl::parse(url)?.node_urls();
    ClusterClient::builder(nodes)
        .connection_timeout(timeouts.connect)
        // Per attempt and, by default, for the whole call with its retries: a call during
        // a failover fails within this bound rather than hangs.
        .response_timeout(timeouts.response)
        // A call waiting out a failover (or a slot migration) tries again every 0.1 to 1 s,
        // not every 1.3 s or more (redis-rs' default): it is served within about a second
        // of the replica's promotion.
        .min_retry_wait(RETRY_WAIT_MS.0)
        .max_retry_wait(RETRY_WAIT_MS.1)
        .build()?
        .get_async_connection()
        .await
}

/// The keys of `command`, for routing: exact for the commands the capability allows
/// (`commands::allowed`, which a test checks against this) and for those the host sends
/// around a transaction; any other command is taken to have its key first.
pub(super) fn keys(command: &[Vec<u8>]) -> &[Vec<u8>] {
    let Some((name, args)) = command.split_first() else {
        return &[];
    };
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    if is("EVAL") || is("EVALSHA") {
        // SCRIPT-OR-SHA NUMKEYS KEY... ARG...
        let numkeys = args
            .get(1)
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
            .unwrap_or(0);
        return args
            .get(2..)
            .map_or(&[], |rest| &rest[..numkeys.min(rest.len())]);
    }
    if is("PING") || is("MULTI") || is("EXEC") || is("DISCARD") {
        return &[];
    }
    args.get(..1).unwrap_or(&[])
}

/// The one slot of `command`'s keys: `Ok(None)` without keys, `Err` when they span slots.
fn command_slot(command: &[Vec<u8>]) -> Result<Option<Slot>, Error> {
    let mut slots = keys(command).iter().map(Slot::for_key);
    let first = slots.next();
    match first {
        Some(slot) if slots.any(|other| other != slot) => Err(Error::Server(CROSSSLOT.into())),
        first => Ok(first),
    }
}

/// The master of `slot`, or any master for keyless commands.
fn route(slot: Option<Slot>) -> SingleNodeRoutingInfo {
    match slot {
        Some(slot) => SingleNodeRoutingInfo::SpecificNode(Route::with_slot(slot, SlotAddr::Master)),
        None => SingleNodeRoutingInfo::RandomPrimary,
    }
}

/// The cluster connection with everything sent to one node, `route`'s, so that redis-rs'
/// pipeline code (MULTI/EXEC framing, error handling) runs unchanged on the slot we chose.
/// Redirections and reconnections stay redis-rs'.
struct OnNode {
    cluster: ClusterConnection,
    route: SingleNodeRoutingInfo,
}

impl ConnectionLike for OnNode {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let routing = RoutingInfo::SingleNode(self.route.clone());
        Box::pin(self.cluster.route_command(cmd.clone(), routing))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let route = self.route.clone();
        Box::pin(
            self.cluster
                .route_pipeline(pipeline.clone(), offset, count, route),
        )
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// How many times a refused transaction is sent again before its refusal is the answer:
/// with the waits of [`transaction_wait`], about 3.5 s of a cluster settling.
const MAX_TRANSACTION_RETRIES: u32 = 6;

/// A transaction: on the master of the one slot all its keys share.
///
/// redis-rs follows `MOVED` and waits out `CLUSTERDOWN`/`TRYAGAIN` for commands and
/// pipelines, but not inside MULTI/EXEC, where the queued commands are refused and EXEC
/// aborts: after a failover, every transaction on a moved slot, or sent while the nodes
/// still settle on the new topology, would fail. EXECABORT means nothing ran, so the
/// transaction is sent again: at once to the node `MOVED` names, or after a growing wait
/// by slot. One keyed command routed by slot lets redis-rs meet the refusal itself and
/// learn the new topology.
async fn transaction(
    cluster: ClusterConnection,
    commands: Vec<Command>,
) -> Result<Vec<Reply>, Error> {
    let mut slot = None;
    for command in &commands {
        match (slot, command_slot(command)?) {
            (Some(a), Some(b)) if a != b => return Err(Error::Server(CROSSSLOT.into())),
            (None, found) => slot = found,
            _ => {}
        }
    }
    let count = commands.len();
    let key = commands.iter().find_map(|c| keys(c).first());
    let mut node = route(slot);
    let mut retries = 0;
    let values = loop {
        let on_node = OnNode {
            cluster: cluster.clone(),
            route: node.clone(),
        };
        match send_batch(on_node, &commands, true).await {
            Err(e) if retries < MAX_TRANSACTION_RETRIES => {
                let Some(refused) = refusal(&e) else {
                    return Err(to_wit_error(e));
                };
                tracing::debug!(retries, error = %e, "transaction refused; sending it again");
                node = match refused {
                    Refusal::Moved { host, port } => {
                        if let Some(key) = key {
                            relearn_slot(cluster.clone(), key).await;
                        }
                        SingleNodeRoutingInfo::ByAddress { host, port }
                    }
                    Refusal::Settling => {
                        // The relearning (which redis-rs itself retries while the
                        // cluster is down) is cut short by the wait, never lengthens it.
                        let wait = transaction_wait(retries);
                        let relearn = async {
                            if let Some(key) = key {
                                let relearn = relearn_slot(cluster.clone(), key);
                                let _ = tokio::time::timeout(wait, relearn).await;
                            }
                        };
                        tokio::join!(tokio::time::sleep(wait), relearn);
                        route(slot)
                    }
                };
                retries += 1;
            }
            result => break result.map_err(to_wit_error)?,
        }
    };
    replies(count, values)
}

/// Why a transaction aborted (EXECABORT: nothing ran), when sending it again may succeed.
#[derive(Debug, PartialEq)]
enum Refusal {
    /// `MOVED`: the slot is served by the node named.
    Moved { host: String, port: u16 },
    /// `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `LOADING`: the cluster is settling after a
    /// failure; `READONLY`: the node was demoted. Later, by slot.
    Settling,
}

fn refusal(e: &RedisError) -> Option<Refusal> {
    if e.kind() != ErrorKind::Server(ServerErrorKind::ExecAbort) {
        return None;
    }
    let refused = e.clone().into_server_errors()?;
    let moved = refused.iter().find_map(|(_, refusal)| {
        if refusal.kind() != Some(ServerErrorKind::Moved) {
            return None;
        }
        // `SLOT HOST:PORT`
        let (_slot, address) = refusal.details()?.split_once(' ')?;
        let (host, port) = address.trim().rsplit_once(':')?;
        Some(Refusal::Moved {
            host: host.to_owned(),
            port: port.parse().ok()?,
        })
    });
    moved.or_else(|| {
        let settling = refused.iter().any(|(_, refusal)| {
            matches!(
                refusal.kind(),
                Some(
                    ServerErrorKind::ClusterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::BusyLoading
                        | ServerErrorKind::ReadOnly
                )
            )
        });
        settling.then_some(Refusal::Settling)
    })
}

/// The wait before a settling transaction's retry `n` (from 0): doubling from
/// [`RETRY_WAIT_MS`]'s shortest to its longest, as the cluster client waits for a command.
fn transaction_wait(n: u32) -> std::time::Duration {
    let (shortest, longest) = RETRY_WAIT_MS;
    std::time::Duration::from_millis(shortest.saturating_mul(1 << n.min(10)).min(longest))
}

/// Sends `EXISTS key` routed by its slot, for redis-rs to follow the `MOVED` (or wait out
/// the `CLUSTERDOWN`) it meets and rebuild its slot map. Its answer does not matter (a
/// tenant may even be refused it).
async fn relearn_slot(mut cluster: ClusterConnection, key: &[u8]) {
    let mut exists = Cmd::new();
    exists.arg("EXISTS").arg(key);
    let by_slot = RoutingInfo::SingleNode(route(Some(Slot::for_key(key))));
    let _ = cluster.route_command(exists, by_slot).await;
}

/// A pipeline: one per slot, sent in parallel, the replies put back in the commands' order.
/// A command whose own keys span slots goes by its first key (Redis answers it
/// `CROSSSLOT`). A failing command fails the whole pipeline with redis-rs' pipeline error,
/// as on one server, but the index that error names counts within its slot's part.
async fn pipeline(cluster: ClusterConnection, commands: Vec<Command>) -> Result<Vec<Reply>, Error> {
    let count = commands.len();
    // (slot, the positions of its commands, the commands), in order of first appearance.
    let mut parts: Vec<(Option<Slot>, Vec<usize>, Vec<Command>)> = Vec::new();
    for (position, command) in commands.into_iter().enumerate() {
        let slot = keys(&command).first().map(Slot::for_key);
        match parts.iter_mut().find(|(s, _, _)| *s == slot) {
            Some((_, positions, part)) => {
                positions.push(position);
                part.push(command);
            }
            None => parts.push((slot, vec![position], vec![command])),
        }
    }
    let sent = parts.iter_mut().map(|(slot, _, part)| {
        let on_node = OnNode {
            cluster: cluster.clone(),
            route: route(*slot),
        };
        send_batch(on_node, part, false)
    });
    let answers = futures_util::future::try_join_all(sent)
        .await
        .map_err(to_wit_error)?;
    let mut ordered: Vec<Option<Value>> = vec![None; count];
    for ((_, positions, _), values) in parts.iter().zip(answers) {
        if values.len() != positions.len() {
            return Err(Error::UnsupportedReply(format!(
                "{} commands got {} replies",
                positions.len(),
                values.len()
            )));
        }
        for (&position, value) in positions.iter().zip(values) {
            ordered[position] = Some(value);
        }
    }
    replies(count, ordered.into_iter().flatten().collect())
}

// The connection is a cheap handle onto the cluster client's task: each call clones it.
impl Backend for ClusterConnection {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        let cluster = self.clone();
        Box::pin(async move {
            from_redis(send_one(cluster, &command).await.map_err(to_wit_error)?).and_then(reply)
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        let cluster = self.clone();
        if atomic {
            Box::pin(transaction(cluster, commands))
        } else {
            Box::pin(pipeline(cluster, commands))
        }
    }

    fn is_cluster(&self) -> bool {
        true
    }

    /// One `WAIT` per slot written, on its master: each counts that node's replicas.
    fn wait_for_replicas(&self, written: Keys, acks: ReplicaAcks) -> BackendFuture<'_, i64> {
        let mut slots: Vec<Slot> = Vec::new();
        for slot in written.iter().map(Slot::for_key) {
            if !slots.contains(&slot) {
                slots.push(slot);
            }
        }
        let waits = slots.into_iter().map(move |slot| {
            let mut cluster = self.clone();
            let mut wait = Cmd::new();
            wait.arg("WAIT").arg(acks.replicas).arg(acks.timeout_ms());
            async move {
                let on_master = RoutingInfo::SingleNode(route(Some(slot)));
                match cluster.route_command(wait, on_master).await {
                    Ok(Value::Int(n)) => Ok(n),
                    Ok(other) => Err(Error::UnsupportedReply(format!("WAIT answered {other:?}"))),
                    Err(e) => Err(to_wit_error(e)),
                }
            }
        });
        Box::pin(async move {
            let acknowledged = futures_util::future::try_join_all(waits).await?;
            Ok(acknowledged
                .into_iter()
                .min()
                .unwrap_or(i64::from(acks.replicas)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn keys_are_found_for_every_allowed_command() {
        // Written for exactly these: a command added to the allowlist must be checked here.
        let allowed: Vec<&str> = super::super::commands::allowed().collect();
        assert_eq!(
            allowed,
            [
                "PING", "EVALSHA", "EVAL", "ZADD", "SADD", "HSET", "HMGET", "ZCOUNT"
            ]
        );
        assert!(keys(&cmd(&["PING"])).is_empty());
        assert!(keys(&cmd(&["ping", "hello"])).is_empty());
        assert_eq!(
            keys(&cmd(&["EVALSHA", "abc", "2", "k1", "k2", "a"])),
            cmd(&["k1", "k2"])
        );
        assert_eq!(
            keys(&cmd(&["eval", "return 1", "0", "a"])),
            Vec::<Vec<u8>>::new()
        );
        // A NUMKEYS past the arguments: Redis refuses it; routing takes what is there.
        assert_eq!(keys(&cmd(&["EVAL", "s", "3", "k1"])), cmd(&["k1"]));
        for name in ["ZADD", "SADD", "HSET", "HMGET", "ZCOUNT"] {
            assert_eq!(keys(&cmd(&[name, "k", "a", "b"])), cmd(&["k"]), "{name}");
        }
        for name in ["MULTI", "EXEC", "DISCARD"] {
            assert!(keys(&cmd(&[name])).is_empty());
        }
    }

    #[test]
    fn a_settling_transaction_waits_longer_each_time_within_the_bound() {
        let waits: Vec<u64> = (0..MAX_TRANSACTION_RETRIES)
            .map(|n| u64::try_from(transaction_wait(n).as_millis()).unwrap())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(transaction_wait(u32::MAX).as_millis(), 1000);
    }

    #[test]
    fn a_command_has_one_slot_or_is_crossslot() {
        let slot = |key: &str| Some(Slot::for_key(key));
        assert_eq!(command_slot(&cmd(&["PING"])), Ok(None));
        assert_eq!(
            command_slot(&cmd(&["HSET", "{a}x", "f", "v"])),
            Ok(slot("a"))
        );
        assert_eq!(
            command_slot(&cmd(&["EVALSHA", "s", "2", "{t}:1", "{t}:2"])),
            Ok(slot("t"))
        );
        assert_eq!(
            command_slot(&cmd(&["EVALSHA", "s", "2", "a", "b"])),
            Err(Error::Server(CROSSSLOT.into()))
        );
    }
}
