//! Tenants on a Redis Cluster (3 masters, 3 replicas, started by the test).

use crate::common::service::Service;
use redis_sessions::DEFAULT_CLUSTER_SHARDS;
use redis_sessions_cli::service::tenants::{self, Tenancy, hash_key};
use redis_sessions_core::keys::Layout;
use serde_json::json;
use std::process::Command;
use std::time::Duration;
use test_support::cluster::RedisCluster;
use test_support::{Reply, cmd};

const APP: &str = "app";

/// A tenants file on a cluster: `tenants provision` gives every node (replicas included)
/// the ACL users, confined to their namespace's shards; the scripts are loaded on every
/// node; each tenant is served in its sharded layout and cannot reach another's keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_on_a_cluster_are_provisioned_on_every_node_and_confined() {
    let mut cluster = RedisCluster::start();
    let dir = std::env::temp_dir().join(format!("rs-cluster-tenants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tenants.toml");
    let tenant = |name: &str, extra: &str| {
        format!(
            "[[tenant]]\nname = \"{name}\"\napi_keys = [\"{}\"]\nnamespace = \"{name}\"\n\
             redis_user = \"{name}\"\nredis_password = \"{name}-secret-0123456789\"\n{extra}\n",
            hash_key(&format!("{name}-key"))
        )
    };
    std::fs::write(&file, tenant("acme", "") + &tenant("other", "shards = 5")).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args([
            "tenants",
            "provision",
            "--admin-redis",
            &cluster.url(),
            "--tenants",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.starts_with("Redis Cluster: each of its 6 nodes"),
        "{report}"
    );
    assert!(
        report.trim_end().ends_with("provision after every restart"),
        "{report}"
    );
    assert!(report.contains("may use keys {acme:s*"), "{report}");
    for node in cluster.nodes() {
        let Reply::Array(users) = node.client().call(&cmd(&["ACL", "LIST"])) else {
            panic!("ACL LIST");
        };
        let users: Vec<String> = users
            .into_iter()
            .map(|u| match u {
                Reply::Bulk(b) => String::from_utf8(b).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        let acme = users
            .iter()
            .find(|u| u.starts_with("user acme on"))
            .unwrap_or_else(|| panic!("node {}: {users:?}\n{report}", node.port()));
        assert!(
            acme.contains("~{acme:s*") && acme.contains("&{acme:s*:cache"),
            "node {}: {acme}",
            node.port()
        );
    }

    let list = tenants::load(&file).unwrap();
    let tenancy = Tenancy::keyed(tenants::connect(&list, &cluster.url()).await.unwrap());
    let shards: Vec<u16> = tenancy
        .tenants()
        .iter()
        .map(|t| t.sessions.shards())
        .collect();
    assert_eq!(shards, [DEFAULT_CLUSTER_SHARDS, 5], "acme, other");
    // Loaded on every node, so a replica promoted by a failover runs them at once.
    let sha = redis_sessions_core::scripts::ALL[0].sha1();
    for node in cluster.nodes() {
        let exists = node.client().call(&cmd(&["SCRIPT", "EXISTS", sha]));
        assert_eq!(exists, Reply::Array(vec![Reply::Int(1)]), "{}", node.port());
    }

    let svc = Service::start(tenancy, None).await;
    let mut tokens = Vec::new();
    for (i, name) in ["acme", "other"].iter().cycle().take(40).enumerate() {
        let key = format!("{name}-key");
        let (status, body) = svc
            .call_as(Some(&key), "PUT", &format!("/{APP}/create/u{i}?ip=1"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        tokens.push((key, body["token"].as_str().unwrap().to_owned()));
    }
    for (key, token) in &tokens {
        let (status, body) = svc
            .call_as(Some(key), "GET", &format!("/{APP}/get/{token}"), None)
            .await;
        assert_eq!(
            (status.as_u16(), body["id"].is_string()),
            (200, true),
            "{body}"
        );
    }
    // Another tenant's token is no session of this one.
    let (_, body) = svc
        .call_as(
            Some("acme-key"),
            "GET",
            &format!("/{APP}/get/{}", tokens[1].1),
            None,
        )
        .await;
    assert_eq!(body, json!({}), "acme reads other's session");

    // Redis itself keeps each ACL user to its shards, on every master.
    let (mut own, mut foreign) = (0, 0);
    for m in cluster.masters() {
        let Reply::Array(scan) = cluster
            .node(m)
            .client()
            .call(&cmd(&["SCAN", "0", "COUNT", "1000"]))
        else {
            panic!("SCAN");
        };
        let Reply::Array(keys) = &scan[1] else {
            panic!("SCAN")
        };
        let mut redis = cluster.node(m).client();
        let auth = redis.call(&cmd(&["AUTH", "acme", "acme-secret-0123456789"]));
        assert_eq!(auth, Reply::Status("OK".into()));
        for key in keys {
            let Reply::Bulk(key) = key else { panic!() };
            let key = String::from_utf8(key.clone()).unwrap();
            let reply = redis.call(&cmd(&["HMGET", &key, "id"]));
            let is_own = key.starts_with("{acme:s");
            *if is_own { &mut own } else { &mut foreign } += 1;
            assert_eq!(
                matches!(&reply, Reply::Error(e) if e.starts_with("NOPERM")),
                !is_own,
                "{key}: {reply:?}"
            );
        }
    }
    assert!(own > 0 && foreign > 0, "own {own}, foreign {foreign}");

    // A master dies: its replica, promoted, has the ACL users and the scripts, so tenants
    // are served again without provisioning or loading anything. Creates (transactions)
    // follow the moved slots too.
    let (key, token) = &tokens[0];
    let layout = Layout::sharded("acme", DEFAULT_CLUSTER_SHARDS);
    let shard = layout.shard(layout.token_shard(token).unwrap());
    let master = cluster.master_of_key(&shard.session(APP, token));
    // Not what a failover loses (replication is asynchronous; cli/tests/it/cluster_sessions.rs
    // measures that): the replica has the sessions before its master dies.
    cluster.wait_for_replica(master);
    let promoted = cluster.kill_until_promoted(master);
    loop {
        let (status, body) = svc
            .call_as(Some(key), "GET", &format!("/{APP}/get/{token}"), None)
            .await;
        if status == 200 {
            assert_eq!(body["id"], "u0");
            eprintln!(
                "a tenant's get answered {:?} after the promotion",
                promoted.elapsed()
            );
            break;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(10),
            "{status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Other nodes may still be settling on the new topology: a create refused
    // `CLUSTERDOWN` is sent again by the host for about 3.5 s; should one fail even so, it
    // is counted, and none fails past the bound.
    let mut failed = 0;
    for i in 0..20 {
        loop {
            let (status, body) = svc
                .call_as(Some(key), "PUT", &format!("/{APP}/create/n{i}?ip=1"), None)
                .await;
            if status == 200 {
                break;
            }
            failed += 1;
            assert!(
                promoted.elapsed() < Duration::from_secs(10),
                "{status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    eprintln!("20 creates after the promotion, {failed} failed attempt(s) before they succeeded");
    let (status, body) = svc
        .call_as(Some(key), "GET", &format!("/{APP}/activity?dt=600"), None)
        .await;
    assert_eq!((status.as_u16(), body), (200, json!({"activity": 40})));
    let (status, body) = svc
        .call_as(Some(key), "DELETE", &format!("/{APP}/killall"), None)
        .await;
    assert_eq!((status.as_u16(), body), (200, json!({"kill": 40})));
    std::fs::remove_dir_all(&dir).unwrap();
}
