//! Correctness under concurrency (not timing): atomic scripts, compare-and-set of `d`.

use crate::common;
use common::{T0, TestStore, d};
use redis_sessions::{Limits, ManualClock, Sessions};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const APP: &str = "myapp";

async fn concurrent_sets_of_distinct_keys_lose_nothing(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let token = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (s, token) = (s.clone(), token.clone());
            tokio::spawn(async move { s.set(APP, &token, &d(json!({ format!("k{i}"): i }))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap().unwrap();
    }
    let got = s.get(APP, &token).await.unwrap().unwrap();
    assert_eq!(got.d.len(), 64);
    for i in 0..64 {
        assert!(
            got.d
                .contains(&(format!("k{i}"), redis_sessions::DataValue::Integer(i)))
        );
    }
    assert_eq!(got.w, 65);
}

async fn gets_and_sets_racing_a_kill_never_resurrect_the_session(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let token = s
        .create(APP, "victim", "ip", None, None, false)
        .await
        .unwrap();
    // Another session of the same user keeps `_users` and the `us:` set alive, so any
    // resurrected entry of the killed token would show.
    let other = s
        .create(APP, "victim", "ip", None, None, false)
        .await
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    const TOTAL: usize = 10_000;
    const TASKS: usize = 16;
    let workers: Vec<_> = (0..TASKS)
        .map(|w| {
            let (s, token, done) = (s.clone(), token.clone(), done.clone());
            tokio::spawn(async move {
                for i in 0..TOTAL / TASKS {
                    if (w + i) % 2 == 0 {
                        s.get(APP, &token).await.unwrap();
                    } else {
                        s.set(APP, &token, &d(json!({ "n": i }))).await.unwrap();
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Kill mid-way through the traffic.
    while done.load(Ordering::Relaxed) < TOTAL / 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(s.kill(APP, &token).await.unwrap(), 1);
    for w in workers {
        w.await.unwrap();
    }
    let mut raw = server.raw().await;
    // Found by their ends, so the same checks read node's layout and a cluster's shard.
    let keys = common::keys(&mut raw).await;
    assert!(
        !keys.iter().any(|k| k.contains(&token)),
        "the hash came back"
    );
    let member = format!("{token}:victim");
    let score: Option<f64> = redis::cmd("ZSCORE")
        .arg(common::key_ending(&keys, &format!(":{APP}:_sessions")))
        .arg(&member)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(score, None, "the _sessions entry came back");
    let expiry: Option<f64> = redis::cmd("ZSCORE")
        .arg(common::key_ending(&keys, ":SESSIONS"))
        .arg(format!("{APP}:{member}"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(expiry, None, "the SESSIONS entry came back");
    let in_set: bool = redis::cmd("SISMEMBER")
        .arg(common::key_ending(&keys, &format!(":{APP}:us:victim")))
        .arg(&token)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(!in_set, "the token came back into the user's set");
    assert!(s.get(APP, &other).await.unwrap().is_some());
}

async fn concurrent_creates_for_one_user_are_all_listed(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.create(APP, "many", "ip", None, None, false)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap());
    }
    assert_eq!(tokens.len(), 100);
    assert_eq!(s.soid(APP, "many").await.unwrap().len(), 100);
    assert_eq!(s.activity(APP, 600).await.unwrap(), 1);
    assert_eq!(s.killsoid(APP, "many").await.unwrap(), 100);
}

/// Calls that gave up (their futures dropped while Redis was paused) free their instances'
/// slots and wake the calls queued behind them: a queued call runs as soon as Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_calls_wake_the_queued_ones() {
    let server = common::RedisServer::start();
    let limits = Limits {
        max_instances: 2,
        ..Limits::default()
    };
    let s = Sessions::builder()
        .runtime(common::runtime())
        .limits(limits)
        .connect(&server.url())
        .await
        .unwrap();
    s.ping().await.unwrap();
    let pause = Duration::from_secs(3);
    let mut raw = server.raw().await;
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(pause.as_millis() as u64)
        .arg("ALL")
        .query_async(&mut raw)
        .await
        .unwrap();
    let paused_at = Instant::now();
    // Two callers take both instances and give up after 1 s (their futures are dropped);
    // a third, queued behind them meanwhile, must get an instance then.
    let give_up = |s: Sessions| async move {
        let token = "t".repeat(64);
        let call = s.get(APP, &token);
        tokio::time::timeout(Duration::from_secs(1), call)
            .await
            .is_err()
    };
    let queued = {
        let s = s.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tokio::time::timeout(Duration::from_secs(20), s.ping()).await
        }
    };
    let (a, b, third) = tokio::join!(give_up(s.clone()), give_up(s.clone()), queued);
    assert!(
        a && b,
        "the calls were expected to still wait on the paused Redis"
    );
    let third = third.expect("the queued call was never woken");
    assert_eq!(third.unwrap(), "PONG");
    let late = paused_at.elapsed().saturating_sub(pause);
    assert!(
        late < Duration::from_secs(1),
        "answered {late:?} after Redis resumed"
    );
}

crate::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    concurrent_sets_of_distinct_keys_lose_nothing,
    gets_and_sets_racing_a_kill_never_resurrect_the_session,
    concurrent_creates_for_one_user_are_all_listed,
);

// What does not read node's key names runs on a Redis Cluster too (the sharded layout).
crate::on_redis_cluster!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    concurrent_sets_of_distinct_keys_lose_nothing,
    gets_and_sets_racing_a_kill_never_resurrect_the_session,
    concurrent_creates_for_one_user_are_all_listed,
);
