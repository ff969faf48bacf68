//! The HTTP tests that need nothing but a server of the API and its Redis, written once
//! and run against each server: the host's service (`http.rs`) and the composed
//! component under `wasmtime serve` (`wasi_http.rs`). Tests that drive the clock or
//! the host's internals stay beside their server.

use super::service::Service;
use redis::aio::ConnectionLike;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub fn token(v: &Value) -> String {
    v["token"].as_str().unwrap().to_owned()
}

pub async fn validation_errors_are_400_with_nodes_names_and_messages(svc: &Service) {
    let tok = "t".repeat(64);
    let set_path = format!("/myapp/set/{tok}");
    let cases: Vec<(&str, String, Option<&str>, &str, &str)> = vec![
        (
            "PUT",
            "/myapp/create/u".into(),
            None,
            "missingParameter",
            "No ip supplied",
        ),
        (
            "PUT",
            "/my.app/create/u?ip=1".into(),
            None,
            "invalidFormat",
            "Invalid app format",
        ),
        (
            "PUT",
            "/myapp/create/u?ip=1&ttl=5".into(),
            None,
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            "PUT",
            "/myapp/create/u?ip=1&ttl=abc".into(),
            None,
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            "PUT",
            "/myapp/create/u?ip=1".into(),
            Some("[1]"),
            "invalidValue",
            "d must be an object",
        ),
        (
            "PUT",
            "/myapp/create/u?ip=1".into(),
            Some(r#"{"o":{"k":1}}"#),
            "invalidValue",
            "d.o has a forbidden type. Only strings, numbers, boolean and null are allowed.",
        ),
        (
            "PUT",
            "/myapp/create/a%0Ab?ip=1".into(),
            None,
            "invalidFormat",
            "Invalid id format",
        ),
        (
            "GET",
            "/myapp/get/short".into(),
            None,
            "invalidFormat",
            "Invalid token format",
        ),
        (
            "POST",
            set_path.clone(),
            None,
            "invalidValue",
            "d must containt at least one key.",
        ),
        (
            "POST",
            set_path.clone(),
            Some("{}"),
            "invalidValue",
            "d must containt at least one key.",
        ),
        (
            "POST",
            set_path,
            Some("[1]"),
            "invalidValue",
            "d must be an object",
        ),
        // Several parameters wrong at once: node reports the first in its own order (app,
        // token or id, ip, ttl, then d), and reads a given number as `parseInt(text, 10)`.
        (
            "POST",
            "/myapp/set/!!!".into(),
            Some("[]"),
            "invalidFormat",
            "Invalid token format",
        ),
        (
            "PUT",
            "/myapp/create/u1".into(),
            Some(r#"{"nested":{"k":1}}"#),
            "missingParameter",
            "No ip supplied",
        ),
        (
            "PUT",
            "/myapp/create/u1?ip=1&ttl=0x20".into(),
            Some("[1]"),
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            "PUT",
            "/myapp/create/u1?ip=1&ttl=1e3".into(),
            None,
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            "GET",
            "/myapp/activity".into(),
            None,
            "invalidValue",
            "deltaTime must be a positive integer >= 10",
        ),
        (
            "GET",
            "/myapp/soapp?dt=9".into(),
            None,
            "invalidValue",
            "deltaTime must be a positive integer >= 10",
        ),
    ];
    for (method, path, body, name, message) in cases {
        let (status, value) = svc.call(method, &path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert_eq!(
            value,
            json!({"name": name, "message": message}),
            "{method} {path}"
        );
    }
}

pub async fn malformed_json_oversized_bodies_and_unknown_routes(svc: &Service) {
    let t = token(&svc.ok("PUT", "/myapp/create/u?ip=1", None).await);
    let (status, value) = svc
        .call("POST", &format!("/myapp/set/{t}"), Some("{bad"))
        .await;
    assert_eq!(
        (status, value["name"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalidJson"))
    );

    let fits = format!(r#"{{"a":"{}"}}"#, "x".repeat(60_000 - 8));
    assert_eq!(fits.len(), 60_000);
    assert_eq!(
        svc.call("POST", &format!("/myapp/set/{t}"), Some(&fits))
            .await
            .0,
        StatusCode::OK
    );
    let over = format!(r#"{{"a":"{}"}}"#, "x".repeat(60_000 - 7));
    let (status, value) = svc
        .call("POST", &format!("/myapp/set/{t}"), Some(&over))
        .await;
    assert_eq!(
        (status, value["name"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("payloadTooLarge"))
    );
    // A declared length over the limit is refused without waiting for the body.
    let head = declared_but_not_sent(&svc.base, &format!("/myapp/set/{t}"), 100_000_000).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");

    let (status, value) = svc.call("GET", "/nope", None).await;
    assert_eq!(
        (status, value),
        (
            StatusCode::NOT_FOUND,
            json!({"name": "notFound", "message": "Cannot GET /nope"})
        )
    );
    let (status, value) = svc.call("GET", "/myapp/create/u", None).await;
    assert_eq!(
        (status, value["message"].clone()),
        (StatusCode::NOT_FOUND, json!("Cannot GET /myapp/create/u"))
    );
}

pub async fn percent_encoded_utf8_ids_are_decoded(svc: &Service, raw: &mut impl ConnectionLike) {
    svc.ok(
        "PUT",
        "/myapp/create/j%C3%B6hn%3Adoe%40example.com?ip=%3A%3Affff%3A10.0.0.1",
        None,
    )
    .await;
    let list = svc
        .ok("GET", "/myapp/soid/j%C3%B6hn%3Adoe%40example.com", None)
        .await;
    assert_eq!(list["sessions"][0]["id"], "jöhn:doe@example.com");
    assert_eq!(list["sessions"][0]["ip"], "::ffff:10.0.0.1");
    let keys = super::keys(raw).await;
    // node's `rs:myapp:us:ID`, or a shard's on a cluster.
    super::key_ending(&keys, ":myapp:us:jöhn:doe@example.com");
    assert_eq!(
        svc.ok(
            "DELETE",
            "/myapp/killsoid/j%C3%B6hn%3Adoe%40example.com",
            None
        )
        .await,
        json!({"kill": 1})
    );
}

pub async fn parallel_creates_get_distinct_tokens_and_are_all_counted(svc: Arc<Service>) {
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let svc = svc.clone();
            tokio::spawn(async move {
                token(
                    &svc.ok("PUT", &format!("/myapp/create/user{i}?ip=1"), None)
                        .await,
                )
            })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap());
    }
    assert_eq!(tokens.len(), 300);
    assert_eq!(
        svc.ok("GET", "/myapp/activity?dt=600", None).await,
        json!({"activity": 300})
    );
}

/// Every route once, as rest-sessions answers it. `pass_time` runs after the first
/// create: a server on a manual clock moves it and returns the idle seconds the next `get`
/// must report exactly; on the real clock it returns `None` (idle is then 0 or 1).
pub async fn every_route_answers_like_rest_sessions(
    svc: &Service,
    raw: &mut impl ConnectionLike,
    pass_time: impl FnOnce() -> Option<i64>,
) {
    let t = token(
        &svc.ok(
            "PUT",
            "/myapp/create/user1?ip=127.0.0.1&ttl=3600",
            Some(r#"{"a":1,"c":"x"}"#),
        )
        .await,
    );
    assert_eq!(t.len(), 64);
    let idle = pass_time();
    let mut got = svc.ok("GET", &format!("/myapp/get/{t}"), None).await;
    match idle {
        Some(idle) => assert_eq!(got["idle"], json!(idle), "{got}"),
        None => assert!(got["idle"].as_i64().unwrap() <= 1, "{got}"),
    }
    got["idle"] = json!(0);
    assert_eq!(
        got,
        json!({"id":"user1","r":1,"w":1,"ttl":3600,"idle":0,"ip":"127.0.0.1","d":{"a":1,"c":"x"}})
    );
    let set = svc
        .ok(
            "POST",
            &format!("/myapp/set/{t}"),
            Some(r#"{"a":null,"b":true}"#),
        )
        .await;
    assert_eq!(
        (set["w"].clone(), set["d"].clone()),
        (json!(2), json!({"c":"x","b":true}))
    );
    // This project's rotate: a new token, the old one dead at once.
    let rotated = token(&svc.ok("POST", &format!("/myapp/rotate/{t}"), None).await);
    assert_ne!(rotated, t);
    assert_eq!(
        svc.ok("GET", &format!("/myapp/get/{t}"), None).await,
        json!({})
    );
    assert_eq!(
        svc.ok("POST", &format!("/myapp/rotate/{t}"), None).await,
        json!({})
    );
    let t = rotated;

    let nr = token(
        &svc.ok("PUT", "/myapp/create/user2?ip=::1&no_resave=true", None)
            .await,
    );
    let got = svc.ok("GET", &format!("/myapp/get/{nr}"), None).await;
    assert_eq!(
        (got["no_resave"].clone(), got.get("d")),
        (json!(true), None)
    );

    assert_eq!(
        svc.ok("GET", "/myapp/activity?dt=600", None).await,
        json!({"activity": 2})
    );
    let recent = svc.ok("GET", "/myapp/soapp?dt=600", None).await;
    assert_eq!(recent["sessions"].as_array().unwrap().len(), 2);
    let mine = svc.ok("GET", "/myapp/soid/user1", None).await;
    assert_eq!(mine["sessions"][0]["id"], "user1");
    assert_eq!(
        svc.ok("DELETE", &format!("/myapp/kill/{t}"), None).await,
        json!({"kill": 1})
    );
    assert_eq!(
        svc.ok("DELETE", "/myapp/killsoid/user2", None).await,
        json!({"kill": 1})
    );
    svc.ok("PUT", "/myapp/create/user3?ip=::1", Some("{}"))
        .await;
    svc.ok("PUT", "/myapp/create/user3?ip=::1&max_per_user=1", None)
        .await;
    assert_eq!(
        svc.ok("DELETE", "/myapp/killall", None).await,
        json!({"kill": 1})
    );
    assert_eq!(svc.ok("GET", "/ping", None).await, json!("PONG"));
    assert!(super::keys(raw).await.is_empty());
}

/// Sends a POST declaring `length` bytes of body and none of them; returns the first bytes
/// of the answer (empty when none came within 5 s).
async fn declared_but_not_sent(base: &str, path: &str, length: u64) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut head)).await;
    let n = read.map_or(0, |r| r.unwrap_or(0));
    String::from_utf8_lossy(&head[..n]).into_owned()
}
