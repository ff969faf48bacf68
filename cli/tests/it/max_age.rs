//! `create-with`'s `max_age`: an absolute lifetime next to the sliding idle ttl. On a real
//! redis-server and on the embedded store.

use crate::common;
use common::{Raw, T0, TestStore};
use redis_sessions::{CreateOptions, ManualClock, Sessions};

const APP: &str = "myapp";

async fn create(s: &Sessions, ttl: i64, max_age: i64) -> String {
    let options = CreateOptions {
        ttl: Some(ttl),
        d: None,
        no_resave: false,
        max_per_user: None,
        max_age: Some(max_age),
    };
    s.create_with(APP, "u", "ip", &options).await.unwrap()
}

/// `SESSIONS`' score of the session, as seconds after T0.
async fn expiry_score(raw: &mut Raw, token: &str) -> Option<i64> {
    let score: Option<i64> = redis::cmd("ZSCORE")
        .arg("rs:SESSIONS")
        .arg(format!("{APP}:{token}:u"))
        .query_async(raw)
        .await
        .unwrap();
    score.map(|s| s - T0 as i64)
}

async fn it_dies_at_max_age_however_active(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = create(&s, 600, 60).await;
    let mut raw = server.raw().await;
    assert_eq!(
        expiry_score(&mut raw, &token).await,
        Some(60),
        "the earlier deadline"
    );
    for (at, left) in [(20, 40), (40, 20), (60, 0)] {
        clock.set(T0 + at);
        let got = s.get(APP, &token).await.unwrap().unwrap();
        assert_eq!((got.idle, got.max_age), (20, Some(left)), "at +{at}");
        assert_eq!(got.ttl, 600, "the idle ttl is still its own");
        assert_eq!(
            expiry_score(&mut raw, &token).await,
            Some(60),
            "activity does not move it past max-age"
        );
    }
    clock.set(T0 + 61);
    assert_eq!(s.get(APP, &token).await.unwrap(), None);
    assert_eq!(
        s.set(APP, &token, &common::d(serde_json::json!({"a": 1})))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.rotate(APP, &token).await.unwrap(), None);
    assert_eq!(
        s.kill(APP, &token).await.unwrap(),
        0,
        "dead, left for the wipe"
    );
    assert!(s.soid(APP, "u").await.unwrap().is_empty());
    assert_eq!(s.wipe().await.unwrap(), 1);
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn the_idle_ttl_still_ends_it_earlier(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = create(&s, 10, 600).await;
    let mut raw = server.raw().await;
    assert_eq!(expiry_score(&mut raw, &token).await, Some(10));
    clock.set(T0 + 8);
    assert_eq!(
        s.get(APP, &token).await.unwrap().unwrap().max_age,
        Some(592)
    );
    clock.set(T0 + 19);
    assert_eq!(s.get(APP, &token).await.unwrap(), None, "idle 11 > ttl 10");
}

async fn rotate_keeps_the_deadline(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = create(&s, 600, 30).await;
    clock.set(T0 + 20);
    let new = s.rotate(APP, &token).await.unwrap().unwrap();
    assert_eq!(s.get(APP, &new).await.unwrap().unwrap().max_age, Some(10));
    clock.set(T0 + 31);
    assert_eq!(s.get(APP, &new).await.unwrap(), None);
}

async fn max_age_below_ten_is_nodes_kind_of_error(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    for bad in [9, 0, -1] {
        let options = CreateOptions {
            ttl: None,
            d: None,
            no_resave: false,
            max_per_user: None,
            max_age: Some(bad),
        };
        let e = s.create_with(APP, "u", "ip", &options).await.unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.name()),
            ("max_age must be a positive integer >= 10", "invalidValue")
        );
    }
    // A session without max_age reports none.
    let token = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    assert_eq!(s.get(APP, &token).await.unwrap().unwrap().max_age, None);
}

crate::on_both_backends!(
    #[tokio::test]
    it_dies_at_max_age_however_active,
    the_idle_ttl_still_ends_it_earlier,
    rotate_keeps_the_deadline,
    max_age_below_ten_is_nodes_kind_of_error,
);

// What does not read node's key names runs on a Redis Cluster too (the sharded layout).
crate::on_redis_cluster!(
    #[tokio::test]
    rotate_keeps_the_deadline,
    max_age_below_ten_is_nodes_kind_of_error,
);
