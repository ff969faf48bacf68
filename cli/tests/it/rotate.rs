//! `rotate`: a new token for a live session, the old one dead at once, everything else kept;
//! alone and racing get, set and kill. On a real redis-server and on the embedded store.

use crate::common;
use common::{Raw, T0, TestStore, d};
use redis_sessions::ManualClock;
use serde_json::json;
use std::collections::BTreeMap;

const APP: &str = "myapp";

/// Everything the layout holds about one session: its hash, and the score of each index
/// entry (`None` when missing) with whether the user's set has the token.
#[derive(Debug, PartialEq)]
struct Layout {
    hash: BTreeMap<String, String>,
    sessions: Option<f64>,
    expiry: Option<f64>,
    in_user_set: bool,
}

async fn layout(raw: &mut Raw, token: &str, id: &str) -> Layout {
    let hash = redis::cmd("HGETALL")
        .arg(format!("rs:{APP}:{token}"))
        .query_async(raw)
        .await
        .unwrap();
    let sessions = redis::cmd("ZSCORE")
        .arg(format!("rs:{APP}:_sessions"))
        .arg(format!("{token}:{id}"))
        .query_async(raw)
        .await
        .unwrap();
    let expiry = redis::cmd("ZSCORE")
        .arg("rs:SESSIONS")
        .arg(format!("{APP}:{token}:{id}"))
        .query_async(raw)
        .await
        .unwrap();
    let in_user_set = redis::cmd("SISMEMBER")
        .arg(format!("rs:{APP}:us:{id}"))
        .arg(token)
        .query_async(raw)
        .await
        .unwrap();
    Layout {
        hash,
        sessions,
        expiry,
        in_user_set,
    }
}

async fn rotate_moves_everything_to_the_new_token(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let data = d(json!({ "role": "guest", "n": 1 }));
    let token = s
        .create(APP, "u1", "10.0.0.1", Some(600), Some(&data), false)
        .await
        .unwrap();
    let other = s.create(APP, "u1", "::1", None, None, false).await.unwrap();
    clock.advance(3);
    s.get(APP, &token).await.unwrap().unwrap();
    clock.advance(20);
    let mut raw = server.raw().await;
    let before = layout(&mut raw, &token, "u1").await;

    let new = s.rotate(APP, &token).await.unwrap().unwrap();
    assert_eq!(new.len(), 64);
    assert_ne!(new, token);
    // The same hash and index scores, under the new token only: rotating is not activity.
    assert_eq!(layout(&mut raw, &new, "u1").await, before);
    let old = layout(&mut raw, &token, "u1").await;
    assert_eq!(
        old,
        Layout {
            hash: BTreeMap::new(),
            sessions: None,
            expiry: None,
            in_user_set: false
        }
    );
    assert_eq!(s.get(APP, &token).await.unwrap(), None);
    assert_eq!(s.kill(APP, &token).await.unwrap(), 0);
    assert_eq!(s.rotate(APP, &token).await.unwrap(), None);

    let got = s.get(APP, &new).await.unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.ip.as_str(), got.ttl, got.idle),
        ("u1", "10.0.0.1", 600, 20)
    );
    assert_eq!((got.r, got.w), (2, 1), "counters carry on");
    assert_eq!(
        got.to_json()["d"],
        json!({ "role": "guest", "n": 1 }),
        "d kept"
    );
    let listed: Vec<String> = s
        .soid(APP, "u1")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.ip)
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(s.activity(APP, 600).await.unwrap(), 1);
    assert_eq!(s.kill(APP, &new).await.unwrap(), 1);
    assert_eq!(s.kill(APP, &other).await.unwrap(), 1);
    assert!(
        common::keys(&mut raw).await.is_empty(),
        "nothing left behind"
    );
}

async fn rotate_keeps_a_no_resave_deadline(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = s
        .create(APP, "u", "ip", Some(60), None, true)
        .await
        .unwrap();
    clock.advance(30);
    let new = s.rotate(APP, &token).await.unwrap().unwrap();
    clock.advance(29);
    assert!(s.get(APP, &new).await.unwrap().unwrap().no_resave);
    clock.advance(2);
    assert_eq!(
        s.get(APP, &new).await.unwrap(),
        None,
        "dead 60 s after creation"
    );
}

async fn rotate_of_a_missing_or_expired_session_is_none(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    assert_eq!(s.rotate(APP, &"a".repeat(64)).await.unwrap(), None);
    let token = s
        .create(APP, "u", "ip", Some(10), None, false)
        .await
        .unwrap();
    clock.advance(11);
    assert_eq!(s.rotate(APP, &token).await.unwrap(), None);
    // Left for the wipe, as get and kill leave expired sessions.
    assert_eq!(s.wipe().await.unwrap(), 1);
    let mut raw = server.raw().await;
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn rotate_validates_like_kill(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    for (app, token, message, name) in [
        ("", "t", "No app supplied", "missingParameter"),
        (APP, "", "No token supplied", "missingParameter"),
        (APP, "short", "Invalid token format", "invalidFormat"),
    ] {
        let e = s.rotate(app, token).await.unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.name()),
            (message, name),
            "{app:?} {token:?}"
        );
    }
}

/// Sets of distinct keys and gets racing a rotation: each set either landed before it (its
/// key is in the rotated session) or found the old token dead (`None`); none is lost in
/// between, and no get or set brings back an index entry of the old token.
async fn sets_racing_a_rotation_lose_no_update(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let token = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    let gets: Vec<_> = (0..48)
        .map(|_| {
            let (s, token) = (s.clone(), token.clone());
            tokio::spawn(async move { s.get(APP, &token).await.unwrap().is_some() })
        })
        .collect();
    let sets: Vec<_> = (0..48)
        .map(|i| {
            let (s, token) = (s.clone(), token.clone());
            tokio::spawn(async move {
                let r = s.set(APP, &token, &d(json!({ format!("k{i}"): i }))).await;
                (i, r.unwrap().is_some())
            })
        })
        .collect();
    let rotation = {
        let (s, token) = (s.clone(), token.clone());
        tokio::spawn(async move { s.rotate(APP, &token).await.unwrap().unwrap() })
    };
    let new = rotation.await.unwrap();
    let mut landed = Vec::new();
    for t in sets {
        let (i, ok) = t.await.unwrap();
        if ok {
            landed.push(i);
        }
    }
    let got = s.get(APP, &new).await.unwrap().unwrap();
    let d = got.to_json()["d"].clone();
    for i in &landed {
        assert_eq!(
            d[format!("k{i}")],
            json!(i),
            "set {i} was acknowledged but lost"
        );
    }
    assert_eq!(got.w as usize, 1 + landed.len());
    for g in gets {
        g.await.unwrap();
    }
    let mut raw = server.raw().await;
    let keys = common::keys(&mut raw).await;
    assert!(
        !keys.iter().any(|k| k.contains(&token)),
        "the old token left {keys:?}"
    );
    for suffix in [format!(":{APP}:_sessions"), ":SESSIONS".into()] {
        let index = common::key_ending(&keys, &suffix);
        let members = common::zset_members(&mut raw, &index).await;
        assert_eq!(members.len(), 1, "{index}: {members:?}");
        assert!(members[0].contains(&new), "{index}: {members:?}");
    }
}

/// kill and rotate on one token: exactly one of them takes the session, and nothing of the
/// other token is left.
async fn kill_racing_rotate_leaves_one_outcome(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    for _ in 0..20 {
        let token = s.create(APP, "u", "ip", None, None, false).await.unwrap();
        let (killed, rotated) = tokio::join!(
            {
                let (s, token) = (s.clone(), token.clone());
                tokio::spawn(async move { s.kill(APP, &token).await.unwrap() })
            },
            {
                let (s, token) = (s.clone(), token.clone());
                tokio::spawn(async move { s.rotate(APP, &token).await.unwrap() })
            }
        );
        let (killed, rotated) = (killed.unwrap(), rotated.unwrap());
        let mut raw = server.raw().await;
        match rotated {
            Some(new) => {
                assert_eq!(killed, 0, "kill found the rotated token dead");
                assert_eq!(s.kill(APP, &new).await.unwrap(), 1);
            }
            None => assert_eq!(killed, 1),
        }
        assert!(common::keys(&mut raw).await.is_empty());
    }
}

crate::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    rotate_moves_everything_to_the_new_token,
    rotate_keeps_a_no_resave_deadline,
    rotate_of_a_missing_or_expired_session_is_none,
    rotate_validates_like_kill,
    sets_racing_a_rotation_lose_no_update,
    kill_racing_rotate_leaves_one_outcome,
);

// What does not read node's key names runs on a Redis Cluster too (the sharded layout).
crate::on_redis_cluster!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    rotate_keeps_a_no_resave_deadline,
    rotate_of_a_missing_or_expired_session_is_none,
    rotate_validates_like_kill,
    sets_racing_a_rotation_lose_no_update,
    kill_racing_rotate_leaves_one_outcome,
);
