//! Sessions on a real Redis Cluster (3 masters, 3 replicas, started per test): the sharded
//! layout spreads them evenly over the masters, a master's death costs at most a few
//! seconds (and, writes waiting for a replica, no acknowledged write), the CLI and the HTTP
//! suite work on it. The API,
//! concurrency, rotate, capped and max-age suites also run on a cluster (their
//! `redis_cluster::` tests); these are the cluster's own.

use crate::common;
use common::service::Service;
use common::{T0, TestStore, d, runtime, suite};
use redis_sessions::{
    ConfigError, DEFAULT_CLUSTER_SHARDS, Error, ManualClock, ReplicaAcks, SessionError, Sessions,
};
use redis_sessions_core::keys::Layout;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use test_support::cluster::RedisCluster;
use test_support::{RedisServer, Reply, cmd};

const APP: &str = "app";

async fn sessions(cluster: &RedisCluster, clock: &Arc<ManualClock>) -> Sessions {
    Sessions::builder()
        .runtime(runtime())
        .clock(clock.clone())
        .connect(&cluster.url())
        .await
        .unwrap()
}

/// The sessions of `app` a master holds: the members of its shards' `_sessions`.
fn sessions_on(cluster: &RedisCluster, master: usize, app: &str) -> i64 {
    let mut redis = cluster.node(master).client();
    let pattern = format!("*:{app}:_sessions");
    let Reply::Array(keys) = redis.call(&cmd(&["KEYS", &pattern])) else {
        panic!("KEYS {pattern}");
    };
    keys.into_iter()
        .map(|key| {
            let Reply::Bulk(key) = key else { panic!() };
            match redis.call(&cmd(&["ZCARD", &String::from_utf8(key).unwrap()])) {
                Reply::Int(n) => n,
                other => panic!("ZCARD: {other:?}"),
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_spread_evenly_over_the_masters() {
    let cluster = RedisCluster::start();
    let clock = ManualClock::new(T0);
    let s = sessions(&cluster, &clock).await;
    assert_eq!(s.shards(), DEFAULT_CLUSTER_SHARDS);

    const CREATES: usize = 100_000;
    const USERS: usize = 1_000;
    const TASKS: usize = 64;
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in (t..CREATES).step_by(TASKS) {
                    let user = format!("user{}", i % USERS);
                    s.create(APP, &user, "10.0.0.1", None, None, false)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();

    let masters = cluster.masters();
    let held: Vec<i64> = masters
        .iter()
        .map(|&m| sessions_on(&cluster, m, APP))
        .collect();
    assert_eq!(held.iter().sum::<i64>(), CREATES as i64);
    let shares: Vec<f64> = held
        .iter()
        .map(|&n| 100.0 * n as f64 / CREATES as f64)
        .collect();
    eprintln!(
        "{CREATES} creates over {USERS} users in {elapsed:?} ({:.0}/s); sessions per master \
         {held:?}, shares {shares:.1?} %",
        CREATES as f64 / elapsed.as_secs_f64()
    );
    for share in shares {
        assert!(
            (100.0 / 3.0 - share).abs() <= 10.0,
            "a master holds {share:.1} % of the sessions"
        );
    }
    // The methods that walk an app fan out over every shard.
    assert_eq!(s.activity(APP, 60).await.unwrap(), USERS as u64);
    assert_eq!(s.soid(APP, "user7").await.unwrap().len(), CREATES / USERS);
    let started = Instant::now();
    assert_eq!(s.killall(APP).await.unwrap(), CREATES as u64);
    eprintln!("killall of {CREATES} sessions: {:?}", started.elapsed());
    for m in masters {
        assert_eq!(cluster.dbsize(m), 0, "master {m} kept keys");
    }
}

/// node's layout cannot run on a cluster (a script's keys span slots): asking for it is a
/// typed store error naming Redis' CROSSSLOT, never a wrong answer.
#[tokio::test]
async fn node_s_layout_on_a_cluster_is_refused_by_redis() {
    let cluster = RedisCluster::start();
    let s = Sessions::builder()
        .runtime(runtime())
        .shards(0)
        .connect(&cluster.url())
        .await
        .unwrap();
    assert_eq!(s.shards(), 0);
    let error = s
        .create_with(
            APP,
            "u1",
            "ip",
            &redis_sessions::CreateOptions {
                ttl: None,
                d: None,
                no_resave: false,
                max_per_user: Some(2),
                max_age: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Session(SessionError::Store(m)) if m.contains("CROSSSLOT")),
        "{error:?}"
    );
}

/// What a master's death under steady sets did.
struct Failover {
    /// When sets succeeded again after the promotion, if they did.
    resumed: Option<Duration>,
    /// Acknowledged sets the session does not have.
    lost: usize,
}

/// Under steady sets of one session (every 5 ms), its shard's master dies. No answer is
/// wrong: a live session is never reported missing, `w` never goes back.
async fn failover_under_sets(acks: Option<ReplicaAcks>) -> Failover {
    let cluster = RedisCluster::start();
    let clock = ManualClock::new(T0);
    let s = Sessions::builder()
        .runtime(runtime())
        .clock(clock.clone())
        .wait_for_replicas(acks)
        .connect(&cluster.url())
        .await
        .unwrap();
    let token = s.create(APP, "u1", "ip", None, None, false).await.unwrap();
    // The master holding the session's shard.
    let victim = cluster
        .masters()
        .into_iter()
        .find(|&m| {
            matches!(
                cluster.node(m).client().call(&cmd(&["KEYS", &format!("*{token}")])),
                Reply::Array(k) if !k.is_empty()
            )
        })
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (s, token, stop) = (s.clone(), token.clone(), stop.clone());
        async move {
            // (n, when the call ended, acknowledged w or the error)
            let mut log = Vec::new();
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let result = s.set(APP, &token, &d(json!({ "n": n }))).await;
                let ack = match result {
                    Ok(Some(session)) => Ok(session.w),
                    Ok(None) => panic!("set {n}: the live session was reported missing"),
                    Err(e) => Err(e.to_string()),
                };
                log.push((n, Instant::now(), ack));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            log
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed = Instant::now();
    let (cluster, promoted) = common::fail_over(cluster, victim).await;
    tokio::time::sleep_until((promoted + Duration::from_secs(6)).into()).await;
    stop.store(true, Ordering::Relaxed);
    let log = writer.await.unwrap();

    let failed: Vec<_> = log.iter().filter(|(_, _, a)| a.is_err()).collect();
    let last_failure = failed.iter().map(|(_, t, _)| *t).max().unwrap_or(promoted);
    let resumed = log
        .iter()
        .filter(|(_, t, a)| a.is_ok() && *t >= last_failure.max(promoted))
        .map(|(_, t, _)| t.saturating_duration_since(promoted))
        .min();
    let acked: Vec<(i64, u64)> = log
        .iter()
        .filter_map(|(n, _, a)| a.as_ref().ok().map(|w| (*n, *w)))
        .collect();
    assert!(acked.windows(2).all(|p| p[1].1 > p[0].1), "w went back");
    // Read as it is, without touching it (a get writes, and might wait for a replica).
    let layout = Layout::sharded("rs", DEFAULT_CLUSTER_SHARDS);
    let key = layout
        .shard(layout.token_shard(&token).unwrap())
        .session(APP, &token);
    let master = cluster.master_of_key(&key);
    let Reply::Array(d) = cluster
        .node(master)
        .client()
        .call(&cmd(&["HMGET", &key, "d"]))
    else {
        panic!("HMGET d");
    };
    let Some(Reply::Bulk(d)) = d.first() else {
        panic!("the session did not survive: {d:?}")
    };
    let kept = serde_json::from_slice::<serde_json::Value>(d).unwrap()["n"]
        .as_i64()
        .unwrap();
    let last_acked = acked.last().unwrap().0;
    let lost = acked.iter().filter(|(n, _)| *n > kept).count();
    eprintln!(
        "failover (waiting for replicas: {acks:?}): promoted {:?} after the kill; {} sets, {} \
         failed (first: {:?}, last: {:?}); sets succeeding again {resumed:?} after the \
         promotion; last acknowledged n {last_acked}, kept n {kept}: {lost} acknowledged \
         set(s) lost",
        promoted - killed,
        log.len(),
        failed.len(),
        failed.first().map(|f| &f.2),
        failed.last().map(|f| &f.2),
    );
    Failover { resumed, lost }
}

/// Without waiting for replicas: sets succeed again within 5 s of the promotion. An
/// acknowledged set can be lost (replication is asynchronous); the count is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masters_death_costs_seconds() {
    let failover = failover_under_sets(None).await;
    let resumed = failover.resumed.expect("sets never succeeded again");
    assert!(
        resumed <= Duration::from_secs(5),
        "sets succeeded again only {resumed:?} after the promotion"
    );
}

/// Waiting for one replica: no acknowledged set is lost. The promoted replica has no
/// replica of its own until the dead master comes back, so sets fail after it (naming
/// WAIT) rather than be acknowledged unreplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_replica_a_masters_death_loses_no_acknowledged_set() {
    let acks = ReplicaAcks {
        replicas: 1,
        timeout: Duration::from_millis(200),
    };
    let failover = failover_under_sets(Some(acks)).await;
    assert_eq!(failover.lost, 0, "acknowledged sets were lost");
    assert_eq!(failover.resumed, None, "acknowledged without a replica");
}

#[tokio::test]
async fn the_cli_creates_and_reads_sessions_on_a_cluster() {
    let cluster = RedisCluster::start();
    let cli = |args: &[&str]| {
        let out = common::succeeds(common::cli().arg("--redis").arg(cluster.url()).args(args));
        String::from_utf8(out.stdout).unwrap()
    };
    let created: serde_json::Value =
        serde_json::from_str(&cli(&["create", APP, "u1", "10.0.0.1"])).unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let got: serde_json::Value = serde_json::from_str(&cli(&["get", APP, &token])).unwrap();
    assert_eq!(got["id"], "u1");
    let keys: usize = cluster
        .masters()
        .into_iter()
        .map(|m| usize::try_from(cluster.dbsize(m)).unwrap())
        .sum();
    assert_eq!(keys, 5, "node's five keys of a session, in one shard");

    // `--shards`: the layout is fixed per namespace, so another count finds nothing.
    let created: serde_json::Value =
        serde_json::from_str(&cli(&["--shards", "3", "create", APP, "u2", "10.0.0.1"])).unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let got = cli(&["--shards", "3", "get", APP, &token]);
    assert!(got.contains("\"id\":\"u2\""), "{got}");
    assert_eq!(cli(&["get", APP, &token]).trim(), "null", "with 16 shards");
    let refused = Sessions::builder()
        .runtime(runtime())
        .shards(3845)
        .build_with(redis_sessions::MemoryStore::new())
        .unwrap_err();
    assert!(
        matches!(refused, Error::Config(ConfigError::Shards(3845))),
        "{refused:?}"
    );
    let out = common::cli()
        .args(["--shards", "3845", "ping"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("3845 is not in 0..=3844"), "{stderr}");
    let out = common::cli()
        .args([
            "serve",
            "--redis",
            &cluster.url(),
            "--shards",
            "3",
            "--tenants",
            "t.toml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("with --tenants, give each tenant's `shards`"),
        "{stderr}"
    );
}

/// rest-sessions' routes through `serve` on a cluster: the HTTP suite shared with
/// `http.rs`, one case after another on one cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_suite_passes_on_a_cluster() {
    let store = TestStore::cluster();
    let clock = ManualClock::new(T0);
    let svc = Service::start(store.sessions(&clock).await, None).await;
    let mut raw = store.raw().await;
    suite::every_route_answers_like_rest_sessions(&svc, &mut raw, || {
        clock.advance(2);
        Some(2)
    })
    .await;
    suite::percent_encoded_utf8_ids_are_decoded(&svc, &mut raw).await;
    let svc = Arc::new(svc);
    suite::parallel_creates_get_distinct_tokens_and_are_all_counted(svc.clone()).await;
    suite::validation_errors_are_400_with_nodes_names_and_messages(&svc).await;
    suite::malformed_json_oversized_bodies_and_unknown_routes(&svc).await;
}

/// A create is a transaction, which the cluster client neither redirects nor waits out
/// (EXECABORT). The cluster is down for half a second (as while nodes settle on a
/// failover): the create answered `CLUSTERDOWN` is sent again, since nothing ran, and
/// succeeds once the cluster is back; it was neither failed nor run twice.
#[tokio::test]
async fn a_create_waits_out_a_moment_of_clusterdown() {
    let node = RedisServer::start_cluster_node(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "1000",
    ]);
    let mut redis = node.client();
    let info = |redis: &mut test_support::Resp| match redis.call(&cmd(&["CLUSTER", "INFO"])) {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("CLUSTER INFO: {other:?}"),
    };
    let wait_for_state = |redis: &mut test_support::Resp, state: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !info(redis).contains(&format!("cluster_state:{state}")) {
            assert!(Instant::now() < deadline, "no cluster_state:{state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // One master serving every slot.
    redis.call(&cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]));
    wait_for_state(&mut redis, "ok");
    let s = Sessions::builder()
        .runtime(runtime())
        .connect(&format!("redis+cluster://127.0.0.1:{}", node.port()))
        .await
        .unwrap();
    s.create(APP, "u1", "ip", None, None, false).await.unwrap();
    // u1's shard: the one slot of the keys just written.
    let Reply::Array(keys) = redis.call(&cmd(&["KEYS", "*"])) else {
        panic!("KEYS");
    };
    let slot_of = |redis: &mut test_support::Resp, key: Reply| {
        let Reply::Bulk(key) = key else { panic!() };
        match redis.call(&[b"CLUSTER".to_vec(), b"KEYSLOT".to_vec(), key]) {
            Reply::Int(slot) => slot,
            other => panic!("KEYSLOT: {other:?}"),
        }
    };
    let used: Vec<i64> = keys.into_iter().map(|k| slot_of(&mut redis, k)).collect();
    let other = (0..16384)
        .find(|slot| !used.contains(slot))
        .unwrap()
        .to_string();

    // Another slot left unserved takes the whole cluster down (full coverage required).
    redis.call(&cmd(&["CLUSTER", "DELSLOTS", &other]));
    wait_for_state(&mut redis, "fail");
    let down = Instant::now();
    let restore = std::thread::spawn({
        let mut redis = node.client();
        move || {
            std::thread::sleep(Duration::from_millis(500));
            redis.call(&cmd(&["CLUSTER", "ADDSLOTS", &other]));
        }
    });
    let created = s.create(APP, "u1", "ip", None, None, false).await;
    let waited = down.elapsed();
    restore.join().unwrap();
    eprintln!("a create sent while the cluster was down succeeded after {waited:?}");
    created.unwrap();
    assert!(
        waited >= Duration::from_millis(400),
        "{waited:?}: never down?"
    );
    assert_eq!(s.soid(APP, "u1").await.unwrap().len(), 2, "run once");
}
