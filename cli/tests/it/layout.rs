//! The store's state after each call is node redis-sessions' layout, checked with a raw
//! client, on a real redis-server and on the embedded store.

use crate::common;
use common::{Raw, T0, TestStore, d};
use redis_sessions::{ManualClock, Sessions};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const APP: &str = "myapp";

/// A clock at `T0`, the sessions on it, a raw client, and the token of `u1`'s session
/// (ttl 600) created then.
async fn u1_session(server: &TestStore) -> (Arc<ManualClock>, Sessions, Raw, String) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let raw = server.raw().await;
    let token = s
        .create(APP, "u1", "ip", Some(600), None, false)
        .await
        .unwrap();
    (clock, s, raw, token)
}

async fn hash(raw: &mut Raw, key: &str) -> BTreeMap<String, String> {
    redis::cmd("HGETALL")
        .arg(key)
        .query_async(raw)
        .await
        .unwrap()
}

async fn zset(raw: &mut Raw, key: &str) -> Vec<(String, f64)> {
    redis::cmd("ZRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(raw)
        .await
        .unwrap()
}

async fn set_members(raw: &mut Raw, key: &str) -> Vec<String> {
    let mut m: Vec<String> = redis::cmd("SMEMBERS")
        .arg(key)
        .query_async(raw)
        .await
        .unwrap();
    m.sort();
    m
}

fn fields(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

async fn create_writes_exactly_nodes_keys_fields_members_and_scores(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let mut raw = server.raw().await;
    let id = "user:1@ü";
    let token = s
        .create(
            APP,
            id,
            "::ffff:127.0.0.1",
            Some(3600),
            Some(&d(json!({"b": 1, "a": "x"}))),
            true,
        )
        .await
        .unwrap();

    let mut expected_keys = vec![
        "rs:SESSIONS".to_owned(),
        format!("rs:{APP}:_sessions"),
        format!("rs:{APP}:_users"),
        format!("rs:{APP}:{token}"),
        format!("rs:{APP}:us:{id}"),
    ];
    expected_keys.sort();
    assert_eq!(common::keys(&mut raw).await, expected_keys);

    let t0 = T0.to_string();
    assert_eq!(
        hash(&mut raw, &format!("rs:{APP}:{token}")).await,
        fields(&[
            ("id", id.into()),
            ("r", "1".into()),
            ("w", "1".into()),
            ("ip", "::ffff:127.0.0.1".into()),
            ("la", t0.clone()),
            ("ttl", "3600".into()),
            ("d", r#"{"b":1,"a":"x"}"#.into()),
            ("no_resave", "1".into()),
        ])
    );
    let t0f = T0 as f64;
    assert_eq!(
        zset(&mut raw, &format!("rs:{APP}:_sessions")).await,
        vec![(format!("{token}:{id}"), t0f)]
    );
    assert_eq!(
        zset(&mut raw, &format!("rs:{APP}:_users")).await,
        vec![(id.to_owned(), t0f)]
    );
    assert_eq!(
        zset(&mut raw, "rs:SESSIONS").await,
        vec![(format!("{APP}:{token}:{id}"), t0f + 3600.0)]
    );
    assert_eq!(
        set_members(&mut raw, &format!("rs:{APP}:us:{id}")).await,
        vec![token.clone()]
    );
    // No EXPIRE anywhere: node never uses Redis TTLs.
    for key in common::keys(&mut raw).await {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(ttl, -1, "{key}");
    }
}

async fn get_and_set_update_counters_activity_and_scores_like_node(server: TestStore) {
    let (clock, s, mut raw, token) = u1_session(&server).await;
    let key = format!("rs:{APP}:{token}");

    // idle 1: la is not rewritten (node rewrites it only when idle > 1), scores are.
    clock.advance(1);
    s.get(APP, &token).await.unwrap().unwrap();
    let h = hash(&mut raw, &key).await;
    assert_eq!((h["r"].as_str(), h["la"].clone()), ("2", T0.to_string()));
    let now = (T0 + 1) as f64;
    assert_eq!(
        zset(&mut raw, &format!("rs:{APP}:_users")).await,
        vec![("u1".to_owned(), now)]
    );
    assert_eq!(zset(&mut raw, "rs:SESSIONS").await[0].1, now + 600.0);

    clock.advance(5);
    s.set(APP, &token, &d(json!({"x": 1})))
        .await
        .unwrap()
        .unwrap();
    let h = hash(&mut raw, &key).await;
    assert_eq!(h["la"], (T0 + 6).to_string());
    assert_eq!(
        (h["r"].as_str(), h["w"].as_str(), h["d"].as_str()),
        ("2", "2", r#"{"x":1}"#)
    );
    assert_eq!(
        zset(&mut raw, &format!("rs:{APP}:_sessions")).await[0].1,
        (T0 + 6) as f64
    );
}

async fn a_session_written_by_node_is_read_updated_and_killed(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let mut raw = server.raw().await;
    // Exactly what node redis-sessions 4.0.0 sends for create (MONITOR), with a node token.
    let token = "iAD345vReWQNqodmY6fxrkeMaB8FlpdB0LlCwi3MMKilSX2ilTDcFLhZmwy50ujz";
    let (id, la) = ("node:user", T0 - 20);
    let node_d = r#"{"1":1,"n":1e+21,"s":"a\u2028b\n","f":20.212,"b":false}"#;
    redis::pipe()
        .atomic()
        .cmd("ZADD")
        .arg(format!("rs:{APP}:_sessions"))
        .arg(la)
        .arg(format!("{token}:{id}"))
        .cmd("ZADD")
        .arg(format!("rs:{APP}:_users"))
        .arg(la)
        .arg(id)
        .cmd("ZADD")
        .arg("rs:SESSIONS")
        .arg(la + 3600)
        .arg(format!("{APP}:{token}:{id}"))
        .cmd("SADD")
        .arg(format!("rs:{APP}:us:{id}"))
        .arg(token)
        .cmd("HSET")
        .arg(format!("rs:{APP}:{token}"))
        .arg(&["id", id, "r", "1", "w", "1", "ip", "127.0.0.1"])
        .arg("la")
        .arg(la)
        .arg("ttl")
        .arg("3600")
        .arg("d")
        .arg(node_d)
        .query_async::<()>(&mut raw)
        .await
        .unwrap();

    let got = s.get(APP, token).await.unwrap().unwrap();
    assert_eq!(
        got.to_json(),
        json!({"id": id, "r": 1, "w": 1, "ttl": 3600, "idle": 20, "ip": "127.0.0.1",
               "d": {"1": 1, "n": 1e21, "s": "a\u{2028}b\n", "f": 20.212, "b": false}})
    );
    let set = s
        .set(APP, token, &d(json!({"b": null, "new": "x"})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((set.r, set.w), (2, 2));
    let stored = common::stored_d(&mut raw, APP, token).await;
    assert_eq!(
        stored,
        r#"{"1":1,"n":1e+21,"s":"a\u2028b\n","f":20.212,"new":"x"}"#.replace("\\u2028", "\u{2028}")
    );
    assert_eq!(s.soid(APP, id).await.unwrap().len(), 1);
    assert_eq!(s.kill(APP, token).await.unwrap(), 1);
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn wipe_of_an_id_with_colons_leaves_no_index_entry(server: TestStore) {
    // node truncates such ids at the first ':' and leaks every index entry (Decisions table).
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let mut raw = server.raw().await;
    s.create(APP, "u:colon", "ip", Some(10), None, false)
        .await
        .unwrap();
    s.create("app2", "u:colon:2", "ip", Some(10), None, true)
        .await
        .unwrap();
    clock.advance(11);
    assert_eq!(s.wipe().await.unwrap(), 2);
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn wipe_works_through_more_than_one_batch(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let mut raw = server.raw().await;
    for i in 0..1203 {
        s.create(APP, &format!("user{}", i % 7), "ip", Some(10), None, false)
            .await
            .unwrap();
    }
    let live = s
        .create(APP, "stays", "ip", Some(1000), None, false)
        .await
        .unwrap();
    clock.advance(11);
    assert_eq!(s.wipe().await.unwrap(), 1203);
    assert!(s.get(APP, &live).await.unwrap().is_some());
    assert_eq!(
        common::keys(&mut raw).await.len(),
        5,
        "only the live session's keys"
    );
}

/// Redis' own count of ZADDs run so far (INFO commandstats), scripts' included.
async fn zadds_run(raw: &mut Raw) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(raw)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_zadd:calls="))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// Within the second of the last activity `la` and the index scores already hold what
/// node would write, so a get writes only the counter; the next second it refreshes the
/// scores as node does. Redis only: the count is Redis' own.
#[tokio::test]
async fn a_get_in_the_second_of_the_last_activity_writes_only_the_counter() {
    let server = TestStore::redis();
    let (clock, s, mut raw, token) = u1_session(&server).await;
    let scores = async |raw: &mut Raw| {
        let mut all = zset(raw, &format!("rs:{APP}:_sessions")).await;
        all.extend(zset(raw, &format!("rs:{APP}:_users")).await);
        all.extend(zset(raw, "rs:SESSIONS").await);
        all
    };
    let created = scores(&mut raw).await;

    let before = zadds_run(&mut raw).await;
    for _ in 0..3 {
        s.get(APP, &token).await.unwrap().unwrap();
    }
    assert_eq!(zadds_run(&mut raw).await, before, "idle 0: no ZADD");
    assert_eq!(scores(&mut raw).await, created);
    assert_eq!(hash(&mut raw, &format!("rs:{APP}:{token}")).await["r"], "4");

    clock.advance(1);
    s.get(APP, &token).await.unwrap().unwrap();
    assert_eq!(
        zadds_run(&mut raw).await,
        before + 3,
        "idle 1: node's three ZADDs"
    );
    assert_ne!(scores(&mut raw).await, created);
}

crate::on_both_backends!(
    #[tokio::test]
    create_writes_exactly_nodes_keys_fields_members_and_scores,
    get_and_set_update_counters_activity_and_scores_like_node,
    a_session_written_by_node_is_read_updated_and_killed,
    wipe_of_an_id_with_colons_leaves_no_index_entry,
    wipe_works_through_more_than_one_batch,
);
