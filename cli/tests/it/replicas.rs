//! `wait_for_replicas` (`--wait-replicas`): a call is acknowledged only once replicas have
//! its writes (Redis' `WAIT` on the node that took them), and fails, naming `WAIT`, when
//! too few do in time.

use crate::common;
use common::{RedisServer, T0, d, runtime};
use redis_sessions::{
    ConfigError, DEFAULT_CLUSTER_SHARDS, Error, ManualClock, MemoryStore, ReplicaAcks,
    SessionError, Sessions,
};
use redis_sessions_core::keys::Layout;
use serde_json::json;
use std::time::{Duration, Instant};
use test_support::cluster::RedisCluster;
use test_support::{Reply, cmd};

const APP: &str = "app";

fn one_replica(timeout_ms: u64) -> ReplicaAcks {
    ReplicaAcks {
        replicas: 1,
        timeout: Duration::from_millis(timeout_ms),
    }
}

fn is_wait_error(e: &Error) -> bool {
    matches!(e, Error::Session(SessionError::Store(m))
        if m.starts_with("WAIT 1: 0 replicas acknowledged the write"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_its_masters_replica_and_fails_without_it() {
    let mut cluster = RedisCluster::start();
    let s = Sessions::builder()
        .runtime(runtime())
        .clock(ManualClock::new(T0))
        .wait_for_replicas(one_replica(500))
        .connect(&cluster.url())
        .await
        .unwrap();
    let token = s.create(APP, "u1", "ip", None, None, false).await.unwrap();
    let layout = Layout::sharded("rs", DEFAULT_CLUSTER_SHARDS);
    let key = layout
        .shard(layout.token_shard(&token).unwrap())
        .session(APP, &token);
    let master = cluster.master_of_key(&key);
    let replica = cluster.replica_of(master);
    // Acknowledged: already on the replica.
    let mut on_replica = cluster.node(replica).client();
    assert_eq!(
        on_replica.call(&cmd(&["READONLY"])),
        Reply::Status("OK".into())
    );
    assert_eq!(
        on_replica.call(&cmd(&["HMGET", &key, "id"])),
        Reply::Array(vec![Reply::Bulk(b"u1".to_vec())])
    );
    let set = s
        .set(APP, &token, &d(json!({"n": 1})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.w, 2);

    cluster.kill(replica);
    let started = Instant::now();
    let error = s.set(APP, &token, &d(json!({"n": 2}))).await.unwrap_err();
    let waited = started.elapsed();
    assert!(is_wait_error(&error), "{error:?}");
    assert!(waited >= Duration::from_millis(500), "{waited:?}");
    eprintln!("with its replica dead, a set failed after {waited:?}: {error}");
    // Done on the master all the same, as the error says.
    let got = s.get(APP, &token).await;
    assert!(
        got.is_err(),
        "a get writes too (activity), so it waits as well"
    );
    let mut on_master = cluster.node(master).client();
    assert_eq!(
        on_master.call(&cmd(&["HMGET", &key, "d"])),
        Reply::Array(vec![Reply::Bulk(br#"{"n":2}"#.to_vec())])
    );
}

#[tokio::test]
async fn waiting_needs_replicas_and_says_so() {
    // One Redis without replicas: every write fails after the timeout, naming WAIT.
    let server = RedisServer::start();
    let s = Sessions::builder()
        .runtime(runtime())
        .wait_for_replicas(one_replica(50))
        .connect(&server.url())
        .await
        .unwrap();
    let error = s
        .create(APP, "u1", "ip", None, None, false)
        .await
        .unwrap_err();
    assert!(is_wait_error(&error), "{error:?}");
    assert_eq!(s.ping().await.unwrap(), "PONG", "reads do not wait");

    let refused = |acks| {
        Sessions::builder()
            .runtime(runtime())
            .wait_for_replicas(acks)
            .build_with(MemoryStore::new())
            .unwrap_err()
    };
    assert!(matches!(
        refused(one_replica(50)),
        Error::Config(ConfigError::NoReplicas)
    ));
    let no_replicas = ReplicaAcks {
        replicas: 0,
        timeout: Duration::from_millis(50),
    };
    assert!(matches!(
        refused(no_replicas),
        Error::Config(ConfigError::ReplicaAcks)
    ));

    let out = common::cli()
        .args([
            "--redis",
            &server.url(),
            "--wait-replicas",
            "1",
            "--wait-timeout",
            "50",
        ])
        .args(["create", APP, "u1", "10.0.0.1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("WAIT 1: 0 replicas acknowledged"),
        "{stderr}"
    );
}
