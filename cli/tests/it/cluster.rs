//! The host's Redis Cluster backend against a real local cluster of 3 masters and 3
//! replicas (`test_support::cluster`): commands and scripts routed to the master of their
//! key, a transaction on one hash tag, a transaction across slots refused, a failover under
//! steady writes, and the `redis+cluster://` URL in the library and the CLI.
//!
//! The session component's calls on a cluster (the sharded layout) are in
//! `cluster_sessions.rs` and the suites' `redis_cluster::` tests.

use crate::common::succeeds;
use redis_sessions::capability::{
    Backend, CROSSSLOT, Element, Error, RedisTimeouts, Reply, connect_cluster,
};
use redis_sessions::{Error as SessionsError, Sessions};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use test_support::cluster::RedisCluster;
use test_support::{Reply as RawReply, cmd};

/// `cmdstat_NAME`'s `calls=N` in node's `INFO commandstats`, 0 when never called.
fn calls(cluster: &RedisCluster, node: usize, name: &str) -> u64 {
    let stats = cluster.info(node, "commandstats");
    let prefix = format!("cmdstat_{name}:calls=");
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// How many commands node refused with a redirection (`MOVED`) or `CROSSSLOT`.
fn redirections(cluster: &RedisCluster, node: usize) -> String {
    cluster
        .info(node, "errorstats")
        .lines()
        .filter(|l| l.starts_with("errorstat_MOVED") || l.starts_with("errorstat_ASK"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key named `PREFIX:N` for each master, the first such name it serves.
fn one_key_per_master(cluster: &RedisCluster, prefix: &str) -> HashMap<usize, String> {
    let masters = cluster.masters().len();
    let mut keys = HashMap::new();
    for n in 0.. {
        let key = format!("{prefix}:{n}");
        keys.entry(cluster.master_of_key(&key)).or_insert(key);
        if keys.len() == masters {
            break;
        }
    }
    keys
}

const INCR: &str = "return redis.call('INCR', KEYS[1])";

#[tokio::test]
async fn commands_and_scripts_go_to_the_master_of_their_key_without_redirection() {
    let cluster = RedisCluster::start();
    let backend = connect_cluster(&cluster.url(), RedisTimeouts::default())
        .await
        .unwrap();
    let masters = cluster.masters();

    let mut expected: HashMap<usize, i64> = HashMap::new();
    for i in 0..60 {
        let key = format!("user:{i}");
        let written = backend.execute(cmd(&["HSET", &key, "f", "v"])).await;
        assert_eq!(written, Ok(Reply::Integer(1)), "{key}");
        let master = cluster.master_of_key(&key);
        *expected.entry(master).or_default() += 1;
        assert_eq!(
            cluster.node(master).client().call(&cmd(&["EXISTS", &key])),
            RawReply::Int(1),
            "{key} is not on its master"
        );
    }
    for &master in &masters {
        let count = expected.get(&master).copied().unwrap_or(0);
        assert!(count > 0, "60 keys, none on master {master}");
        assert_eq!(cluster.dbsize(master), count, "master {master}");
    }

    // EVAL then EVALSHA, by KEYS[1]: the script is cached on the node EVAL ran on, so
    // EVALSHA succeeds only there.
    let sha = redis::Script::new(INCR).get_hash().to_owned();
    let counters = one_key_per_master(&cluster, "counter");
    for key in counters.values() {
        let first = backend.execute(cmd(&["EVAL", INCR, "1", key])).await;
        assert_eq!(first, Ok(Reply::Integer(1)), "{key}");
        let second = backend.execute(cmd(&["EVALSHA", &sha, "1", key])).await;
        assert_eq!(second, Ok(Reply::Integer(2)), "{key}");
    }
    for (&master, key) in &counters {
        assert_eq!(calls(&cluster, master, "evalsha"), 1, "{key} on {master}");
        let hset = i64::try_from(calls(&cluster, master, "hset")).unwrap();
        assert_eq!(hset, expected[&master]);
    }
    // Routed by key, never sent to a wrong node and redirected.
    for &master in &masters {
        assert_eq!(redirections(&cluster, master), "", "master {master}");
    }

    // An unknown script is Redis' NOSCRIPT, as on one server (the guest then sends EVAL).
    let unknown = backend
        .execute(cmd(&["EVALSHA", &"0".repeat(40), "1", "user:1"]))
        .await;
    assert!(
        matches!(&unknown, Err(Error::Server(e)) if e.starts_with("NOSCRIPT")),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_transaction_runs_on_the_master_of_its_hash_tag_and_a_pipeline_spans_masters() {
    let cluster = RedisCluster::start();
    let backend = connect_cluster(&cluster.url(), RedisTimeouts::default())
        .await
        .unwrap();

    let tag = "{rs:app:s07}";
    let (token, users, sessions) = (
        format!("{tag}:tok"),
        format!("{tag}:_users"),
        format!("{tag}:_sessions"),
    );
    let read = "return redis.call('HGET', KEYS[1], 'f')";
    let replies = backend
        .batch(
            vec![
                cmd(&["HSET", &token, "f", "v"]),
                cmd(&["SADD", &users, "u1"]),
                cmd(&["ZADD", &sessions, "1", "tok"]),
                cmd(&["EVAL", read, "1", &token]),
                cmd(&["PING"]),
            ],
            true,
        )
        .await;
    assert_eq!(
        replies,
        Ok(vec![
            Reply::Integer(1),
            Reply::Integer(1),
            Reply::Integer(1),
            Reply::Bulk(b"v".to_vec()),
            Reply::Status("PONG".into()),
        ])
    );
    let master = cluster.master_of_key(tag);
    assert_eq!(cluster.dbsize(master), 3);
    assert_eq!(
        (
            calls(&cluster, master, "multi"),
            calls(&cluster, master, "exec")
        ),
        (1, 1)
    );
    for other in cluster.masters().into_iter().filter(|&m| m != master) {
        assert_eq!(cluster.dbsize(other), 0, "master {other}");
        assert_eq!(calls(&cluster, other, "multi"), 0, "master {other}");
    }

    // A pipeline over keys of every master: one part per slot, the replies in order.
    let keys: Vec<String> = one_key_per_master(&cluster, "piped")
        .into_values()
        .collect();
    let mut commands = Vec::new();
    let mut expected = Vec::new();
    for key in &keys {
        commands.push(cmd(&["HSET", key, "n", "1"]));
        expected.push(Reply::Integer(1));
    }
    commands.push(cmd(&["PING"]));
    expected.push(Reply::Status("PONG".into()));
    for key in &keys {
        commands.push(cmd(&["HMGET", key, "n", "missing"]));
        expected.push(Reply::Array(vec![
            Element::Bulk(b"1".to_vec()),
            Element::Nil,
        ]));
    }
    assert_eq!(backend.batch(commands, false).await, Ok(expected));
    // One command's error fails the whole pipeline, as on one server.
    let wrong_type = backend
        .batch(
            vec![
                cmd(&["HMGET", &keys[0], "n"]),
                cmd(&["ZCOUNT", &keys[1], "-inf", "+inf"]),
            ],
            false,
        )
        .await;
    assert!(
        // redis-rs' pipeline error text, as on one server ("Pipeline failure: [(Index 0,
        // error: \"WRONGTYPE\": ...)]"), its index counted within the failing slot's part.
        matches!(&wrong_type, Err(Error::Server(e)) if e.contains("WRONGTYPE")),
        "{wrong_type:?}"
    );
}

#[tokio::test]
async fn a_transaction_across_slots_is_refused_as_crossslot_and_writes_nothing() {
    let cluster = RedisCluster::start();
    let backend = connect_cluster(&cluster.url(), RedisTimeouts::default())
        .await
        .unwrap();
    let keys: Vec<String> = one_key_per_master(&cluster, "spread")
        .into_values()
        .collect();

    let across = backend
        .batch(
            vec![
                cmd(&["HSET", &keys[0], "f", "v"]),
                cmd(&["HSET", &keys[1], "f", "v"]),
            ],
            true,
        )
        .await;
    assert_eq!(across, Err(Error::Server(CROSSSLOT.into())));

    // Two slots of one master: Redis refuses those too, so the host does.
    let master = cluster.master_of_key(&keys[0]);
    let neighbour = (0..)
        .map(|n| format!("neighbour:{n}"))
        .find(|k| cluster.master_of_key(k) == master && cluster.slot(k) != cluster.slot(&keys[0]))
        .unwrap();
    let same_master = backend
        .batch(
            vec![
                cmd(&["SADD", &keys[0], "m"]),
                cmd(&["EVAL", INCR, "1", &neighbour]),
            ],
            true,
        )
        .await;
    assert_eq!(same_master, Err(Error::Server(CROSSSLOT.into())));

    // One script over two slots: Redis' own CROSSSLOT, through the error mapping.
    let script = backend
        .execute(cmd(&["EVAL", INCR, "2", &keys[0], &keys[1]]))
        .await;
    assert!(
        matches!(&script, Err(Error::Server(e)) if e.starts_with("CROSSSLOT")),
        "{script:?}"
    );

    for m in cluster.masters() {
        assert_eq!(cluster.dbsize(m), 0, "master {m}");
        assert_eq!(calls(&cluster, m, "multi"), 0, "nothing was sent to {m}");
    }
}

/// One call of a steady loop.
struct Call {
    started: Instant,
    ended: Instant,
    result: Result<Reply, Error>,
}

/// Calls INCR on `key` by script every 5 ms until `stop`.
async fn write_steadily(
    backend: Arc<impl Backend>,
    key: String,
    stop: Arc<AtomicBool>,
) -> Vec<Call> {
    let mut log = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let result = backend.execute(cmd(&["EVAL", INCR, "1", &key])).await;
        log.push(Call {
            started,
            ended: Instant::now(),
            result,
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    log
}

/// What a writer saw around the failover, printed.
struct Outage {
    failed: usize,
    acknowledged: usize,
    slowest: Duration,
    /// When calls succeeded again for good: the end of the first successful call that
    /// ended after both the promotion and the last failed call. (A call that waits out the
    /// failover inside redis-rs' retries ends when it succeeds.)
    resumed: Option<Instant>,
}

fn outage(name: &str, log: &[Call], promoted: Instant) -> Outage {
    let failures = || log.iter().filter(|c| c.result.is_err());
    let after = failures()
        .map(|c| c.ended)
        .max()
        .map_or(promoted, |t| t.max(promoted));
    let resumed = log
        .iter()
        .filter(|c| c.result.is_ok() && c.ended >= after)
        .map(|c| c.ended)
        .min();
    let acked: Vec<i64> = log
        .iter()
        .filter_map(|c| match c.result {
            Ok(Reply::Integer(n)) => Some(n),
            _ => None,
        })
        .collect();
    // An acknowledged INCR whose value comes again: writes were lost in the failover.
    let repeated = acked.windows(2).filter(|w| w[1] <= w[0]).count();
    let slowest = log
        .iter()
        .map(|c| c.ended - c.started)
        .max()
        .unwrap_or_default();
    let outage = Outage {
        failed: failures().count(),
        acknowledged: acked.len(),
        slowest,
        resumed,
    };
    eprintln!(
        "{name}: {} calls, {} failed (first error: {:?}), {} acknowledged, {repeated} \
         acknowledged value(s) repeated; slowest call {slowest:?}; calls succeeding for good \
         {} after the promotion",
        log.len(),
        outage.failed,
        failures().find_map(|c| c.result.as_ref().err()),
        outage.acknowledged,
        resumed.map_or("never".into(), |t| format!(
            "{:?}",
            t.saturating_duration_since(promoted)
        )),
    );
    outage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_master_dies_calls_succeed_again_within_5s_of_its_replicas_promotion() {
    let cluster = RedisCluster::start();
    let backend = Arc::new(
        connect_cluster(&cluster.url(), RedisTimeouts::default())
            .await
            .unwrap(),
    );
    let key = "failover:counter".to_owned();
    let victim = cluster.master_of_key(&key);
    let replica = cluster.replica_of(victim);
    let bystander = one_key_per_master(&cluster, "bystander")
        .into_iter()
        .find(|(m, _)| *m != victim)
        .unwrap()
        .1;

    let stop = Arc::new(AtomicBool::new(false));
    let writers = [key.clone(), bystander]
        .map(|k| tokio::spawn(write_steadily(backend.clone(), k, stop.clone())));
    tokio::time::sleep(Duration::from_secs(1)).await;

    let killed = Instant::now();
    let (cluster, promoted) = crate::common::fail_over(cluster, victim).await;
    tokio::time::sleep_until((promoted + Duration::from_secs(8)).into()).await;
    stop.store(true, Ordering::Relaxed);
    let [on_victim, on_bystander] = writers;
    let (on_victim, on_bystander) = (on_victim.await.unwrap(), on_bystander.await.unwrap());

    eprintln!(
        "failover: replica promoted {:?} after the kill",
        promoted - killed
    );
    let victim_outage = outage("the key on the killed master", &on_victim, promoted);
    outage("a key on another master", &on_bystander, promoted);
    let final_value = match cluster.node(replica).client().call(&cmd(&["GET", &key])) {
        RawReply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("GET {key}: {other:?}"),
    };
    // Each acknowledged INCR added one; a failed call may have added one too.
    eprintln!(
        "the counter on the new master: {final_value} after {} acknowledged INCRs \
         ({} failed calls)",
        victim_outage.acknowledged, victim_outage.failed
    );

    // The kill → promotion gap is at least the 2 s node timeout: some call must have
    // failed or waited it out.
    assert!(
        victim_outage.failed > 0 || victim_outage.slowest > Duration::from_secs(1),
        "the kill went unnoticed"
    );
    let resumed = victim_outage.resumed.expect("calls never succeeded again");
    assert!(
        resumed <= promoted + Duration::from_secs(5),
        "calls succeeded again only {:?} after the promotion",
        resumed - promoted
    );
    assert!(on_victim.iter().filter(|c| c.started > resumed).count() > 100);
}

#[tokio::test]
async fn the_library_and_the_cli_take_a_redis_cluster_url() {
    let cluster = RedisCluster::start();
    let sessions = Sessions::connect(&cluster.url(), "rs").await.unwrap();
    assert_eq!(sessions.ping().await.unwrap(), "PONG");

    let cli = succeeds(crate::common::cli().args(["--redis", &cluster.url(), "ping"]));
    assert_eq!(String::from_utf8(cli.stdout).unwrap(), "PONG\n");

    // Unreachable: the connect error names the URL, password redacted.
    let nowhere = format!(
        "redis+cluster://u:secret@127.0.0.1:{}",
        test_support::free_port()
    );
    let error = Sessions::connect(&nowhere, "rs").await.unwrap_err();
    assert!(matches!(error, SessionsError::Connect { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("redis+cluster://u:***@127.0.0.1:") && !message.contains("secret"),
        "{message}"
    );
}
