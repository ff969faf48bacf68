//! Every session method through the host and the component, on a real redis-server and on
//! the embedded store (one suite, two backends: see `on_both_backends!`).

use crate::common;
use common::{RedisServer, T0, TestStore, d};
use redis_sessions::{DataValue, Error, ManualClock, SessionError};
use serde_json::json;

const APP: &str = "myapp";

fn message(e: Error) -> (String, &'static str) {
    (e.to_string(), e.name())
}

async fn create_and_get_return_nodes_session_shape(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = s
        .create(APP, "user1", "127.0.0.1", Some(3600), None, false)
        .await
        .unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));

    let first = s.get(APP, &token).await.unwrap().unwrap();
    assert_eq!(
        first.to_json().to_string(),
        r#"{"id":"user1","r":1,"w":1,"ttl":3600,"idle":0,"ip":"127.0.0.1"}"#
    );
    clock.advance(5);
    let second = s.get(APP, &token).await.unwrap().unwrap();
    assert_eq!((second.r, second.w, second.idle), (2, 1, 5));
    assert_eq!(s.ping().await.unwrap(), "PONG");
}

async fn tokens_are_distinct(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..50 {
        tokens.insert(s.create(APP, "u", "::1", None, None, false).await.unwrap());
    }
    assert_eq!(tokens.len(), 50);
}

async fn create_validation_follows_nodes_order_and_messages(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let create = |app: &'static str, id: &'static str, ip: &'static str, ttl: Option<i64>| {
        let s = s.clone();
        async move { s.create(app, id, ip, ttl, None, false).await.unwrap_err() }
    };
    let cases = [
        (
            create("", "", "", None).await,
            "No app supplied",
            "missingParameter",
        ),
        (
            create("a", "u", "ip", None).await,
            "Invalid app format",
            "invalidFormat",
        ),
        (
            create("a.b.c", "u", "ip", None).await,
            "Invalid app format",
            "invalidFormat",
        ),
        (
            create(APP, "", "", None).await,
            "No id supplied",
            "missingParameter",
        ),
        (
            create(APP, "a\nb", "ip", None).await,
            "Invalid id format",
            "invalidFormat",
        ),
        (
            create(APP, "u\u{2028}", "ip", None).await,
            "Invalid id format",
            "invalidFormat",
        ),
        (
            create(APP, "u", "", None).await,
            "No ip supplied",
            "missingParameter",
        ),
        (
            create(APP, "u", "1234567890123456789012345678901234567890", None).await,
            "Invalid ip format",
            "invalidFormat",
        ),
        (
            create(APP, "u", "ip", Some(9)).await,
            "ttl must be a positive integer >= 10",
            "invalidValue",
        ),
        (
            create(APP, "u", "ip", Some(-100)).await,
            "ttl must be a positive integer >= 10",
            "invalidValue",
        ),
    ];
    for (err, text, name) in cases {
        assert_eq!(message(err), (text.to_owned(), name));
    }
    let long_id = "x".repeat(129);
    let err = s
        .create(APP, &long_id, "ip", None, None, false)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid id format");

    let err = s
        .create(APP, "u", "ip", None, Some(&vec![]), false)
        .await
        .unwrap_err();
    assert_eq!(
        message(err),
        ("d must containt at least one key.".into(), "invalidValue")
    );
    let nan = vec![("x".to_owned(), Some(DataValue::Float(f64::NAN)))];
    let err = s
        .create(APP, "u", "ip", None, Some(&nan), false)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "d.x must be a finite number");

    // Nothing was written by any failed call.
    let mut raw = server.raw().await;
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn other_methods_validate_app_token_id_and_delta_time(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let bad_token = "x".repeat(63);
    let ok_token = "x".repeat(64);
    let dd = d(json!({"a": 1}));
    let errors = vec![
        (s.get(APP, "").await.unwrap_err(), "No token supplied"),
        (
            s.get(APP, &bad_token).await.unwrap_err(),
            "Invalid token format",
        ),
        (s.get("", &ok_token).await.unwrap_err(), "No app supplied"),
        (
            s.set(APP, &bad_token, &dd).await.unwrap_err(),
            "Invalid token format",
        ),
        (
            s.set(APP, &ok_token, &vec![]).await.unwrap_err(),
            "d must containt at least one key.",
        ),
        (
            s.kill(APP, "tok-en").await.unwrap_err(),
            "Invalid token format",
        ),
        (
            s.activity(APP, 9).await.unwrap_err(),
            "deltaTime must be a positive integer >= 10",
        ),
        (
            s.soapp(APP, 0).await.unwrap_err(),
            "deltaTime must be a positive integer >= 10",
        ),
        (s.soid(APP, "").await.unwrap_err(), "No id supplied"),
        (
            s.killsoid(APP, "a\rb").await.unwrap_err(),
            "Invalid id format",
        ),
        (s.killall("x").await.unwrap_err(), "Invalid app format"),
    ];
    for (err, text) in errors {
        assert!(err.is_validation(), "{err:?}");
        assert_eq!(err.to_string(), text);
    }
    // A valid but unknown token is not an error.
    assert_eq!(s.get(APP, &ok_token).await.unwrap(), None);
    assert_eq!(s.set(APP, &ok_token, &dd).await.unwrap(), None);
    assert_eq!(s.kill(APP, &ok_token).await.unwrap(), 0);
}

async fn set_merges_like_node_and_null_deletes(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = s
        .create(
            APP,
            "u1",
            "::1",
            None,
            Some(&d(json!({"c": 1, "a": 2}))),
            false,
        )
        .await
        .unwrap();
    clock.advance(3);
    let after = s
        .set(APP, &token, &d(json!({"a": null, "b": 3, "c": 4})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.to_json()["d"], json!({"c": 4, "b": 3}));
    assert_eq!((after.r, after.w, after.idle), (1, 2, 3));

    let mut raw = server.raw().await;
    let key = format!("rs:{APP}:{token}");
    let stored: String = redis::cmd("HGET")
        .arg(&key)
        .arg("d")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(stored, r#"{"c":4,"b":3}"#);

    // Deleting every key removes the field (never stored as {}).
    let emptied = s
        .set(APP, &token, &d(json!({"c": null, "b": null})))
        .await
        .unwrap()
        .unwrap();
    assert!(emptied.d.is_empty());
    assert_eq!(emptied.w, 3);
    let field: Option<String> = redis::cmd("HGET")
        .arg(&key)
        .arg("d")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(field, None);
    // A create whose d is all null stores no d either.
    let t2 = s
        .create(APP, "u2", "::1", None, Some(&d(json!({"x": null}))), false)
        .await
        .unwrap();
    let field: Option<String> = redis::cmd("HGET")
        .arg(format!("rs:{APP}:{t2}"))
        .arg("d")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(field, None);
}

async fn d_values_round_trip_with_their_types(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let data = json!({
        "unicode": "Grüße 😀 \u{2028} 中文",
        "quotes": "\"q\" 'single' \\ back/slash",
        "control": "nl\n tab\t cr\r nul\u{0} bell\u{7} esc\u{1b}",
        "int": 42, "neg": -7, "max": i64::MAX, "min": i64::MIN,
        "f": 20.212, "big": 1e21, "small": 1e-7, "sum": 0.1 + 0.2,
        "t": true, "f2": false, "empty": "",
    });
    let token = s
        .create(APP, "u", "::1", None, Some(&d(data.clone())), false)
        .await
        .unwrap();
    let got = s.get(APP, &token).await.unwrap().unwrap();
    assert_eq!(got.to_json()["d"], data);
    assert_eq!(got.d[3], ("int".to_owned(), DataValue::Integer(42)));
    assert_eq!(got.d[7], ("f".to_owned(), DataValue::Float(20.212)));

    // Stored exactly as node's JSON.stringify writes it.
    let mut raw = server.raw().await;
    let stored = common::stored_d(&mut raw, APP, &token).await;
    assert!(
        stored.contains(r#""control":"nl\n tab\t cr\r nul\u0000 bell\u0007 esc\u001b""#),
        "{stored}"
    );
    assert!(
        stored.contains("\"unicode\":\"Grüße 😀 \u{2028} 中文\""),
        "{stored}"
    );
    assert!(
        stored.contains(r#""big":1e+21,"small":1e-7,"sum":0.30000000000000004"#),
        "{stored}"
    );
    assert!(
        stored.contains(r#""max":9223372036854775807,"min":-9223372036854775808"#),
        "{stored}"
    );
}

async fn ids_with_colons_and_utf8_are_listed_and_killed_without_leaks(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let ids = ["a:b:c", "jöhn@exämple.com", "😀:1"];
    for id in ids {
        s.create(APP, id, "::ffff:10.0.0.1", None, None, false)
            .await
            .unwrap();
        s.create(APP, id, "::ffff:10.0.0.1", None, None, false)
            .await
            .unwrap();
    }
    for id in ids {
        let list = s.soid(APP, id).await.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|x| x.id == id));
    }
    assert_eq!(s.killsoid(APP, ids[0]).await.unwrap(), 2);
    assert_eq!(s.killsoid(APP, ids[0]).await.unwrap(), 0);
    assert_eq!(s.activity(APP, 600).await.unwrap(), 2);
    assert_eq!(s.killall(APP).await.unwrap(), 4);
    let mut raw = server.raw().await;
    assert!(
        common::keys(&mut raw).await.is_empty(),
        "killall leaves nothing behind"
    );
}

async fn expiry_follows_the_clock_and_wipe_removes_expired_sessions(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let short = s
        .create(APP, "a:1", "ip", Some(10), None, false)
        .await
        .unwrap();
    let long = s
        .create(APP, "b", "ip", Some(100), None, false)
        .await
        .unwrap();
    let other_app = s
        .create("otherapp", "c", "ip", Some(10), None, false)
        .await
        .unwrap();

    clock.advance(10);
    assert!(
        s.get(APP, &short).await.unwrap().is_some(),
        "idle == ttl is still live"
    );
    clock.advance(11);
    assert_eq!(s.get(APP, &short).await.unwrap(), None);
    assert_eq!(
        s.kill(APP, &short).await.unwrap(),
        0,
        "node cannot kill an expired session"
    );
    assert_eq!(s.soid(APP, "a:1").await.unwrap(), vec![]);
    assert_eq!(s.soapp(APP, 600).await.unwrap().len(), 1);
    // node counts users until wipe removes them.
    assert_eq!(s.activity(APP, 600).await.unwrap(), 2);

    assert_eq!(s.wipe().await.unwrap(), 2, "the short session of each app");
    assert_eq!(s.wipe().await.unwrap(), 0);
    assert_eq!(s.activity(APP, 600).await.unwrap(), 1);
    assert!(s.get(APP, &long).await.unwrap().is_some());
    assert_eq!(s.get("otherapp", &other_app).await.unwrap(), None);

    let mut raw = server.raw().await;
    let expected = vec![
        "rs:SESSIONS".to_owned(),
        format!("rs:{APP}:_sessions"),
        format!("rs:{APP}:_users"),
        format!("rs:{APP}:{long}"),
        format!("rs:{APP}:us:b"),
    ];
    let mut expected = expected;
    expected.sort();
    assert_eq!(common::keys(&mut raw).await, expected);
}

async fn get_slides_the_expiry_window(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = s
        .create(APP, "u", "ip", Some(100), None, false)
        .await
        .unwrap();
    for _ in 0..3 {
        clock.advance(60);
        let got = s.get(APP, &token).await.unwrap().unwrap();
        assert_eq!((got.ttl, got.idle), (100, 60));
    }
    clock.advance(101);
    assert_eq!(s.get(APP, &token).await.unwrap(), None);
}

async fn no_resave_sessions_expire_ttl_after_creation(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    let token = s
        .create(APP, "u", "ip", Some(100), None, true)
        .await
        .unwrap();
    clock.advance(30);
    let got = s.get(APP, &token).await.unwrap().unwrap();
    assert!(got.no_resave);
    assert_eq!((got.ttl, got.idle), (70, 30));
    // idle == 1 is where node drifts a second early; here the deadline stays.
    clock.advance(1);
    assert_eq!(s.get(APP, &token).await.unwrap().unwrap().ttl, 69);
    clock.advance(29);
    let set = s
        .set(APP, &token, &d(json!({"k": "v"})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (set.ttl, set.w),
        (40, 2),
        "set returns the real w (node says 0)"
    );
    assert_eq!(set.to_json()["no_resave"], json!(true));

    let mut raw = server.raw().await;
    let score: f64 = redis::cmd("ZSCORE")
        .arg("rs:SESSIONS")
        .arg(format!("{APP}:{token}:u"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(score, (T0 + 100) as f64);
    clock.advance(40);
    assert_eq!(s.get(APP, &token).await.unwrap().unwrap().ttl, 0);
    clock.advance(1);
    assert_eq!(s.get(APP, &token).await.unwrap(), None);
}

async fn activity_and_soapp_count_the_window(server: TestStore) {
    let clock = ManualClock::new(T0);
    let s = server.sessions(&clock).await;
    s.create(APP, "old", "ip", None, None, false).await.unwrap();
    clock.advance(100);
    s.create(APP, "new", "ip", None, None, false).await.unwrap();
    s.create(APP, "new", "ip", None, None, false).await.unwrap();
    clock.advance(10);
    assert_eq!(
        s.activity(APP, 10).await.unwrap(),
        1,
        "the lower bound is inclusive"
    );
    assert_eq!(s.activity(APP, 110).await.unwrap(), 2);
    let recent = s.soapp(APP, 10).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert!(recent.iter().all(|x| x.id == "new"));
    let all = s.soapp(APP, 600).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, "old", "most recent first");
    assert_eq!(s.activity("emptyapp", 600).await.unwrap(), 0);
    assert_eq!(s.soapp("emptyapp", 600).await.unwrap(), vec![]);
}

async fn kill_removes_the_session_and_its_index_entries(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let t1 = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    let t2 = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    assert_eq!(s.kill(APP, &t1).await.unwrap(), 1);
    assert_eq!(s.kill(APP, &t1).await.unwrap(), 0);
    assert_eq!(
        s.activity(APP, 600).await.unwrap(),
        1,
        "the user still has a session"
    );
    assert_eq!(s.kill(APP, &t2).await.unwrap(), 1);
    assert_eq!(s.activity(APP, 600).await.unwrap(), 0);
    let mut raw = server.raw().await;
    assert!(common::keys(&mut raw).await.is_empty());
}

async fn namespaces_are_separate(server: TestStore) {
    let clock = ManualClock::new(T0);
    let a = server.sessions_in("rs", &clock).await;
    let b = server.sessions_in("tenant2", &clock).await;
    let token = a.create(APP, "u", "ip", None, None, false).await.unwrap();
    assert_eq!(b.get(APP, &token).await.unwrap(), None);
    assert_eq!(b.killall(APP).await.unwrap(), 0);
    assert!(a.get(APP, &token).await.unwrap().is_some());
    let mut raw = server.raw().await;
    b.create(APP, "u", "ip", None, None, false).await.unwrap();
    assert!(
        common::keys(&mut raw)
            .await
            .iter()
            .any(|k| k.starts_with("tenant2:"))
    );
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_hang() {
    let mut server = RedisServer::start();
    let s = server.sessions(&ManualClock::new(T0)).await;
    s.ping().await.unwrap();
    server.stop();
    let err = s.get(APP, &"x".repeat(64)).await.unwrap_err();
    assert_eq!(err.name(), "redisUnavailable", "{err:?}");
    let err = s
        .create(APP, "u", "ip", None, None, false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    // Validation still answers without Redis.
    let err = s.get(APP, "bad").await.unwrap_err();
    assert_eq!(err.to_string(), "Invalid token format");
    assert!(matches!(
        err,
        Error::Session(SessionError::InvalidFormat(_))
    ));
}

async fn no_input_traps_the_component(server: TestStore) {
    let s = server.sessions(&ManualClock::new(T0)).await;
    let token = s.create(APP, "u", "ip", None, None, false).await.unwrap();
    let long = "x".repeat(100_000);
    let weird = [
        "",
        " ",
        "\0",
        "\n",
        "a\u{0}b",
        "😀",
        "\u{2028}",
        ":",
        "::",
        "*",
        "?",
        "[",
        "\\",
        "'",
        "\"",
        "rs:SESSIONS",
        "_sessions",
        "us:",
        long.as_str(),
        token.as_str(),
    ];
    let ttls = [
        None,
        Some(0),
        Some(-1),
        Some(i64::MIN),
        Some(i64::MAX),
        Some(10),
    ];
    let odd_d = vec![
        ("".to_owned(), Some(DataValue::Text(long.clone()))),
        ("\0".to_owned(), Some(DataValue::Float(-0.0))),
        ("k".to_owned(), Some(DataValue::Float(f64::INFINITY))),
        ("n".to_owned(), Some(DataValue::Integer(i64::MIN))),
    ];
    let mut calls = 0;
    for a in weird {
        for b in weird {
            let results = [
                s.get(a, b).await.map(|_| ()),
                s.set(a, b, &odd_d).await.map(|_| ()),
                s.kill(a, b).await.map(|_| ()),
                s.soid(a, b).await.map(|_| ()),
                s.killsoid(a, b).await.map(|_| ()),
                s.activity(a, i64::MIN).await.map(|_| ()),
                s.soapp(a, i64::MAX).await.map(|_| ()),
                s.killall(b).await.map(|_| ()),
            ];
            for ttl in ttls {
                let r = s
                    .create(APP, a, b, ttl, Some(&odd_d), true)
                    .await
                    .map(|_| ());
                assert!(
                    !matches!(r, Err(Error::Component(_))),
                    "create {a:?} {b:?} {ttl:?}: {r:?}"
                );
                calls += 1;
            }
            for r in results {
                // Typed errors are fine; a trap or a store failure is not.
                assert!(
                    matches!(r, Ok(()) | Err(Error::Session(_))),
                    "{a:?} {b:?}: {r:?}"
                );
                if let Err(Error::Session(e)) = &r {
                    assert!(e.is_validation(), "{a:?} {b:?}: {e:?}");
                }
                calls += 1;
            }
        }
    }
    assert!(calls > 3000);
    // The session store still works.
    assert!(s.get(APP, &token).await.unwrap().is_some());
}

crate::on_both_backends!(
    #[tokio::test]
    create_and_get_return_nodes_session_shape,
    tokens_are_distinct,
    create_validation_follows_nodes_order_and_messages,
    other_methods_validate_app_token_id_and_delta_time,
    set_merges_like_node_and_null_deletes,
    d_values_round_trip_with_their_types,
    ids_with_colons_and_utf8_are_listed_and_killed_without_leaks,
    expiry_follows_the_clock_and_wipe_removes_expired_sessions,
    get_slides_the_expiry_window,
    no_resave_sessions_expire_ttl_after_creation,
    activity_and_soapp_count_the_window,
    kill_removes_the_session_and_its_index_entries,
    namespaces_are_separate,
    no_input_traps_the_component,
);

// What does not read node's key names runs on a Redis Cluster too (the sharded layout).
crate::on_redis_cluster!(
    #[tokio::test]
    create_and_get_return_nodes_session_shape,
    tokens_are_distinct,
    create_validation_follows_nodes_order_and_messages,
    other_methods_validate_app_token_id_and_delta_time,
    ids_with_colons_and_utf8_are_listed_and_killed_without_leaks,
    get_slides_the_expiry_window,
    activity_and_soapp_count_the_window,
    kill_removes_the_session_and_its_index_entries,
    no_input_traps_the_component,
);
