//! Several tenants in one service: API keys, Redis ACL users, host allowlist and wasmtime
//! limits, with a hostile component (test-crates/hostile-component) beside a well-behaved one.

mod attacks;
mod cluster;
mod fixture;
mod recovery;

use crate::common;
use fixture::{EVIL, Fixture, GOOD};
use redis_sessions_cli::service::tenants::{self, hash_key};
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::test]
async fn requests_need_a_known_api_key_and_touch_nothing_without_one() {
    let f = Fixture::start().await;
    let before = f.snapshot().await;
    for key in [None, Some("wrong"), Some(""), Some(&hash_key(GOOD)[7..])] {
        let (status, body) = f
            .svc
            .call_as(key, "PUT", "/myapp/create/u?ip=1", None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["name"], "unauthorized");
    }
    assert_eq!(f.snapshot().await, before);
    let (status, _) = f
        .svc
        .call_as(Some(GOOD), "PUT", "/myapp/create/u?ip=1", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut raw = f.server.raw().await;
    assert!(
        common::keys(&mut raw)
            .await
            .iter()
            .all(|k| k.starts_with("good:"))
    );
    // The scheme is case-insensitive.
    let response = reqwest::Client::new()
        .get(format!("{}/myapp/activity?dt=60", f.svc.base))
        .header("authorization", format!("bearer {GOOD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Metrics name every tenant: on their own port only, never on the API's.
    let (status, _) = f.svc.call_as(None, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = f.svc.call_as(Some(GOOD), "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    f.assert_metrics(&[
        "redis_sessions_unauthorized_total 5",
        "redis_sessions_requests_total{tenant=\"good\"} 3",
    ])
    .await;
}

#[tokio::test]
async fn a_hostile_component_cannot_read_or_write_another_tenants_keys() {
    let f = Fixture::start().await;
    let created = f
        .svc
        .call_as(
            Some(GOOD),
            "PUT",
            "/myapp/create/u1?ip=1",
            Some(r#"{"secret":"x"}"#),
        )
        .await
        .1;
    let token = created["token"].as_str().unwrap().to_owned();
    let before = f.snapshot().await;

    let target = format!("myapp:{token}");
    for (method, path) in [
        ("GET", format!("/good/get/{target}")),
        ("POST", format!("/good/set/{target}")),
    ] {
        let (status, body) = f
            .svc
            .call_as(Some(EVIL), method, &path, Some(r#"{"a":1}"#))
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["name"], "storeError");
    }
    // What each attempt got, through the library (the HTTP answer hides details).
    let evil = f.tenant("evil");
    let read = evil
        .sessions
        .get("good", &target)
        .await
        .unwrap_err()
        .to_string();
    let write = evil
        .sessions
        .set("good", &target, &common::d(json!({"a": 1})))
        .await
        .unwrap_err()
        .to_string();
    for report in [&read, &write] {
        assert!(!report.contains("ok:"), "an attempt got through: {report}");
        assert_eq!(report.matches("refused").count(), 5, "{report}");
    }
    // Allowed commands on another tenant's keys: Redis' ACL (`~NS:*`) refuses them.
    let refusals = |r: &str| r.split(" | ").map(str::to_owned).collect::<Vec<_>>();
    let (read, write) = (refusals(&read), refusals(&write));
    let denied_key =
        |r: &str| r.contains("NOPERM this user has no permissions to access one of the keys");
    assert!(denied_key(&read[0]), "{}", read[0]);
    assert!(denied_key(&write[0]), "{}", write[0]);
    let says = |report: &str, text: &str| assert!(report.contains(text), "{report}");
    // The tenant's own Lua never reaches Redis, keys declared or not.
    for i in [2, 3] {
        says(&read[i], "Denied(\"EVAL is not allowed");
        says(&write[i], "Denied(\"EVAL is not allowed");
    }
    says(&read[4], "Denied(\"EVAL is not allowed");
    // Commands the session logic never sends: the host's allowlist, before Redis.
    says(&read[1], "Denied(\"HGETALL is not an allowed command\")");
    says(&write[1], "Denied(\"DEL is not an allowed command\")");
    says(&write[4], "Denied(\"FLUSHALL is not an allowed command\")");
    assert_eq!(f.snapshot().await, before, "the good tenant's data changed");

    let got = f
        .svc
        .call_as(Some(GOOD), "GET", &format!("/myapp/get/{token}"), None)
        .await
        .1;
    assert_eq!(got["d"], json!({"secret": "x"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_calls_are_stopped_while_another_tenant_is_served() {
    let f = Arc::new(Fixture::start().await);
    let stop = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    // A well-behaved tenant's traffic, all along.
    let traffic: Vec<_> = (0..4)
        .map(|i| {
            let (f, stop, served) = (f.clone(), stop.clone(), served.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while stop.load(Ordering::Relaxed) == 0 {
                    let (status, body) = f
                        .svc
                        .call_as(Some(GOOD), "PUT", &format!("/myapp/create/u{i}?ip=1"), None)
                        .await;
                    if status != StatusCode::OK {
                        failures.push(format!("create: {status} {body}"));
                        continue;
                    }
                    let token = body["token"].as_str().unwrap().to_owned();
                    let (status, body) = f
                        .svc
                        .call_as(Some(GOOD), "GET", &format!("/myapp/get/{token}"), None)
                        .await;
                    if status != StatusCode::OK || body["id"] != format!("u{i}") {
                        failures.push(format!("get: {status} {body}"));
                    }
                    served.fetch_add(2, Ordering::Relaxed);
                }
                failures
            })
        })
        .collect();

    for round in 0..2 {
        // The snooping attempts of the other test, during the traffic too.
        let (status, _) = f
            .svc
            .call_as(Some(EVIL), "GET", "/good/get/myapp:x", None)
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let start = Instant::now();
        let (status, body) = f.svc.call_as(Some(EVIL), "GET", "/ping", None).await;
        let stopped_after = start.elapsed();
        assert_eq!(
            (status, body["name"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("limitExceeded")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("CPU time limit of 100 ms"),
            "{body}"
        );
        assert!(
            stopped_after < Duration::from_secs(5),
            "runaway call ran {stopped_after:?}"
        );
        eprintln!(
            "round {round}: the endless loop was stopped after {stopped_after:?} (limit 100 ms)"
        );

        let (status, body) = f
            .svc
            .call_as(
                Some(EVIL),
                "DELETE",
                &format!("/a/kill/{}", "t".repeat(64)),
                None,
            )
            .await;
        assert_eq!(
            (status, body["name"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("limitExceeded")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("memory limit of 32 MiB"),
            "{body}"
        );

        let (status, body) = f
            .svc
            .call_as(Some(EVIL), "DELETE", "/a/killall", None)
            .await;
        assert_eq!(
            (status, body["name"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("componentError")),
            "{body}"
        );
    }
    // The hostile tenant's well-formed calls still work on fresh instances.
    let (status, body) = f
        .svc
        .call_as(Some(EVIL), "GET", "/a/activity?dt=60", None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"activity": 0})));

    stop.store(1, Ordering::Relaxed);
    for t in traffic {
        let failures = t.await.unwrap();
        assert!(
            failures.is_empty(),
            "the good tenant saw failures: {failures:?}"
        );
    }
    assert!(served.load(Ordering::Relaxed) > 0);
    let evil = f.tenant("evil");
    assert_eq!(
        evil.sessions.metrics().limit_hits.load(Ordering::Relaxed),
        4,
        "two CPU and two memory limit hits; snooping and traps are not limit hits"
    );
    assert!(evil.sessions.instances() <= 4);
    assert_eq!(
        f.tenant("good")
            .sessions
            .metrics()
            .errors
            .load(Ordering::Relaxed),
        0
    );
    f.assert_metrics(&[
        "redis_sessions_limit_hits_total{tenant=\"evil\"} 4",
        "redis_sessions_errors_total{tenant=\"good\"} 0",
    ])
    .await;
}

#[tokio::test]
async fn provision_and_hash_key_from_the_command_line() {
    let f = Fixture::start().await;
    let bin = env!("CARGO_BIN_EXE_redis-sessions");
    let out = Command::new(bin)
        .args(["tenants", "hash-key", GOOD])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        hash_key(GOOD)
    );

    let mut raw = f.server.raw().await;
    let _: () = redis::cmd("ACL")
        .arg("DELUSER")
        .arg("good")
        .arg("evil")
        .query_async(&mut raw)
        .await
        .unwrap();
    let out = Command::new(bin)
        .args([
            "tenants",
            "provision",
            "--admin-redis",
            &f.server.url(),
            "--tenants",
        ])
        .arg(&f.file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.lines().count(), 4, "{report}");
    assert!(
        report.lines().last().unwrap().contains("no aclfile"),
        "{report}"
    );
    let rules: String = redis::cmd("ACL")
        .arg("LIST")
        .query_async::<Vec<String>>(&mut raw)
        .await
        .unwrap()
        .join("\n");
    assert!(
        rules.contains("user good on") && rules.contains("~good:*"),
        "{rules}"
    );
    assert!(
        rules.contains("user evil on") && rules.contains("~evil:*"),
        "{rules}"
    );
    assert!(
        !rules.contains("good-secret"),
        "passwords are stored hashed by Redis"
    );
}

/// A tenant whose component is not of the session-store world is refused at start, in one
/// line naming it.
#[tokio::test]
async fn a_component_of_another_kind_is_refused_naming_its_tenant() {
    let server = common::RedisServer::start();
    let dir = server.dir().join("odd");
    std::fs::create_dir_all(&dir).unwrap();
    // A core module: WebAssembly, but no component at all.
    std::fs::write(dir.join("odd.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let file = dir.join("tenants.toml");
    std::fs::write(
        &file,
        format!(
            "[[tenant]]\nname = \"odd\"\napi_keys = [\"{}\"]\nnamespace = \"odd\"\n\
             component = \"odd.wasm\"\nredis_user = \"odd\"\n\
             redis_password = \"odd-secret-0123456789\"\n",
            hash_key("odd")
        ),
    )
    .unwrap();
    let list = tenants::load(&file).unwrap();
    let error = tenants::connect(&list, &server.url())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("tenant odd: "), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

/// `serve --tenants --metrics-listen`: metrics on their own port, not on the API's.
#[tokio::test]
async fn serve_puts_metrics_on_their_own_port_only() {
    let f = Fixture::start().await;
    let (api, metrics) = (test_support::free_port(), test_support::free_port());
    let mut serve = test_support::Spawned::spawn(
        Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
            .args([
                "serve",
                "--wipe",
                "0",
                "--redis",
                &f.server.url(),
                "--tenants",
            ])
            .arg(&f.file)
            .args(["--listen", &format!("127.0.0.1:{api}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics}")]),
    );
    serve.wait_for_http(api, Duration::from_secs(20));
    serve.wait_for_http(metrics, Duration::from_secs(5));
    let get = |url: String| tokio::task::spawn_blocking(move || test_support::http_get(&url));
    let (status, body) = get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("redis_sessions_requests_total{tenant=\"good\"} 0"),
        "{body}"
    );
    let (status, _) = get(format!("http://127.0.0.1:{api}/metrics"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 401);
}
