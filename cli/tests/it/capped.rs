//! `create-with`'s `max_per_user`: after creating, the user keeps at most that many live
//! sessions, the oldest last activity deleted first, in the same atomic step. On a real
//! redis-server and on the embedded store.

use crate::common;
use common::{T0, TestStore};
use redis_sessions::{CreateOptions, ManualClock, Sessions};
use std::collections::HashSet;

const APP: &str = "myapp";

fn capped(max: i64) -> CreateOptions {
    CreateOptions {
        ttl: None,
        d: None,
        no_resave: false,
        max_per_user: Some(max),
        max_age: None,
    }
}

async fn create(s: &Sessions, id: &str, max: i64) -> String {
    s.create_with(APP, id, "ip", &capped(max)).await.unwrap()
}

async fn the_oldest_activity_goes_first(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let a = create(&s, "u", 2).await;
    clock.advance(5);
    let b = create(&s, "u", 2).await;
    clock.advance(5);
    // a is the oldest by creation, but active now: b has the oldest last activity.
    s.get(APP, &a).await.unwrap().unwrap();
    clock.advance(5);
    let c = create(&s, "u", 2).await;
    assert!(s.get(APP, &a).await.unwrap().is_some());
    assert!(s.get(APP, &c).await.unwrap().is_some());
    assert_eq!(
        s.get(APP, &b).await.unwrap(),
        None,
        "b had the oldest activity"
    );
    assert_eq!(s.kill(APP, &b).await.unwrap(), 0);
    // Evicted whole: no index entry of b is left.
    let mut raw = server.raw().await;
    let keys = common::keys(&mut raw).await;
    assert!(!keys.iter().any(|k| k.contains(&b)), "{keys:?}");
    let expiries = common::zset_members(&mut raw, &common::key_ending(&keys, ":SESSIONS")).await;
    assert_eq!(expiries.len(), 2);
    assert!(!expiries.iter().any(|m| m.contains(&b)));
    // Other users and a cap of 1.
    create(&s, "other", 1).await;
    let last = create(&s, "u", 1).await;
    let left = s.soid(APP, "u").await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(s.get(APP, &last).await.unwrap().is_some());
    assert_eq!(s.soid(APP, "other").await.unwrap().len(), 1);
}

async fn expired_sessions_do_not_count_and_are_left_for_the_wipe(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let short = CreateOptions {
        ttl: Some(10),
        ..capped(2)
    };
    s.create_with(APP, "u", "ip", &short).await.unwrap();
    let live = create(&s, "u", 2).await;
    clock.advance(11);
    let new = create(&s, "u", 2).await;
    assert!(
        s.get(APP, &live).await.unwrap().is_some(),
        "the expired one did not count"
    );
    assert!(s.get(APP, &new).await.unwrap().is_some());
    assert_eq!(s.wipe().await.unwrap(), 1);
    // Without a cap, create is node's and deletes nothing.
    for _ in 0..3 {
        s.create(APP, "u", "ip", None, None, false).await.unwrap();
    }
    assert_eq!(s.soid(APP, "u").await.unwrap().len(), 5);
}

async fn a_cap_below_one_is_nodes_kind_of_error(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    for bad in [0, -3] {
        let e = s
            .create_with(APP, "u", "ip", &capped(bad))
            .await
            .unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.name()),
            (
                "max_per_user must be a positive integer >= 1",
                "invalidValue"
            )
        );
    }
    // node's checks come first.
    let e = s.create_with("a", "u", "ip", &capped(0)).await.unwrap_err();
    assert_eq!(e.to_string(), "Invalid app format");
    let mut raw = server.raw().await;
    assert!(common::keys(&mut raw).await.is_empty());
}

/// 100 concurrent creates for one user with a cap of 3 leave exactly 3, each whole.
async fn concurrent_creates_leave_exactly_the_cap(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { create(&s, "many", 3).await })
        })
        .collect();
    let mut created = HashSet::new();
    for t in tasks {
        created.insert(t.await.unwrap());
    }
    assert_eq!(created.len(), 100);
    let left = s.soid(APP, "many").await.unwrap();
    assert_eq!(left.len(), 3);
    let mut raw = server.raw().await;
    let keys = common::keys(&mut raw).await;
    let hashes: Vec<&String> = keys
        .iter()
        .filter(|k| created.iter().any(|t| k.ends_with(t.as_str())))
        .collect();
    assert_eq!(hashes.len(), 3, "{hashes:?}");
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(common::key_ending(&keys, &format!(":{APP}:us:many")))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    for suffix in [format!(":{APP}:_sessions"), ":SESSIONS".into()] {
        let key = common::key_ending(&keys, &suffix);
        let members = common::zset_members(&mut raw, &key).await;
        assert_eq!(members.len(), 3, "{key}: {members:?}");
    }
}

crate::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    the_oldest_activity_goes_first,
    expired_sessions_do_not_count_and_are_left_for_the_wipe,
    a_cap_below_one_is_nodes_kind_of_error,
    concurrent_creates_leave_exactly_the_cap,
);

// What does not read node's key names runs on a Redis Cluster too (the sharded layout).
crate::on_redis_cluster!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    expired_sessions_do_not_count_and_are_left_for_the_wipe,
    a_cap_below_one_is_nodes_kind_of_error,
    concurrent_creates_leave_exactly_the_cap,
    the_oldest_activity_goes_first,
);
