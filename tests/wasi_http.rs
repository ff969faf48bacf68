//! The same session component under the real `wasmtime serve` (49), by composition:
//! `target/wasm/redis-sessions-http.wasm` is the `wasi:http` front, the session component
//! and the wasi:sockets plug (`scripts/build-wasm`). Each test starts its own redis-server
//! and `wasmtime serve` on free ports, runs the shared HTTP suite (`common/suite.rs`, also
//! run against the host's service by `http.rs`) or a test of this runtime, and stops both.
//!
//! `#[ignore]`d: they need the wasmtime CLI and the composed artifact, which
//! `scripts/test-runtimes` installs and builds before running them with
//! `RS_WASMTIME=... RS_HTTP_WASM=... cargo test --test wasi_http -- --ignored`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::RedisServer;
use common::free_port;
use common::service::Service;
use common::suite::{self, token};
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use test_support::Spawned;

/// `wasmtime serve` of the composed component, stopped when dropped.
struct Served {
    svc: Service,
    _process: Spawned,
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through scripts/test-runtimes")
    })
}

/// Serves the composition with `redis_url` (none: the key is not set).
fn serve(redis_url: Option<&str>) -> Served {
    let port = free_port();
    let mut command = Command::new(required_env("RS_WASMTIME"));
    command.args([
        "serve",
        "-S",
        "cli",
        "-S",
        "inherit-network",
        "-S",
        "config",
    ]);
    if let Some(url) = redis_url {
        command.args(["-S", &format!("config-var=redis_url={url}")]);
    }
    // Each request is an instance of the three components (a dozen core instances): under
    // the suite's 300 parallel creates, wasmtime's pooling allocator runs out of its 1000
    // core instances and answers 500 (`--max-concurrent-requests` does not prevent it), so
    // instances are allocated on demand.
    command
        .args(["-O", "pooling-allocator=n"])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg(required_env("RS_HTTP_WASM"))
        .stdout(Stdio::null());
    let mut process = Spawned::spawn(&mut command);
    // Compiling the component comes first: allow for a cold cache on a busy machine.
    process.wait_for_port(port, Duration::from_secs(60));
    Served {
        svc: Service::at(format!("http://127.0.0.1:{port}")),
        _process: process,
    }
}

fn on(server: &RedisServer) -> Served {
    serve(Some(&server.url()))
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn validation_errors_are_400_with_nodes_names_and_messages() {
    let server = RedisServer::start();
    let served = on(&server);
    suite::validation_errors_are_400_with_nodes_names_and_messages(&served.svc).await;
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn malformed_json_oversized_bodies_and_unknown_routes() {
    let server = RedisServer::start();
    let served = on(&server);
    suite::malformed_json_oversized_bodies_and_unknown_routes(&served.svc).await;
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn percent_encoded_utf8_ids_are_decoded() {
    let server = RedisServer::start();
    let served = on(&server);
    suite::percent_encoded_utf8_ids_are_decoded(&served.svc, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn parallel_creates_get_distinct_tokens_and_are_all_counted() {
    let server = RedisServer::start();
    let served = on(&server);
    suite::parallel_creates_get_distinct_tokens_and_are_all_counted(Arc::new(served.svc)).await;
}

/// The routes in one pass, on the real clock.
#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn every_route_answers_like_rest_sessions() {
    let server = RedisServer::start();
    let served = on(&server);
    suite::every_route_answers_like_rest_sessions(&served.svc, &server, || None).await;
}

/// The `redis-sessions` CLI on the same Redis.
fn cli(server: &RedisServer, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args(args)
        .env("REDIS_URL", server.url())
        .env_remove("RS_NAMESPACE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn sessions_cross_between_wasmtime_serve_and_the_cli() {
    let server = RedisServer::start();
    let served = on(&server);
    let svc = &served.svc;
    let from_http = token(
        &svc.ok(
            "PUT",
            "/myapp/create/j%C3%B6hn?ip=10.0.0.1&ttl=600",
            Some(r#"{"n":20.5,"s":"x"}"#),
        )
        .await,
    );
    let read = cli(&server, &["get", "myapp", &from_http]);
    assert_eq!(
        (read["id"].clone(), read["ip"].clone(), read["d"].clone()),
        (
            json!("jöhn"),
            json!("10.0.0.1"),
            json!({"n": 20.5, "s": "x"})
        )
    );

    let from_cli = token(&cli(
        &server,
        &["create", "myapp", "user2", "::1", "--d", r#"{"k":true}"#],
    ));
    let read = svc.ok("GET", &format!("/myapp/get/{from_cli}"), None).await;
    assert_eq!(
        (read["id"].clone(), read["r"].clone(), read["d"].clone()),
        (json!("user2"), json!(1), json!({"k": true}))
    );
    assert_eq!(
        cli(&server, &["activity", "myapp", "--dt", "600"]),
        json!({"activity": 2})
    );
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn redis_going_away_answers_503_naming_the_address_and_serving_resumes() {
    let mut server = RedisServer::start();
    let served = on(&server);
    let svc = &served.svc;
    svc.ok("GET", "/ping", None).await;
    server.stop();
    let (status, value) = svc
        .call("GET", &format!("/myapp/get/{}", "x".repeat(64)), None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(value["name"], "redisUnavailable");
    let message = value["message"].as_str().unwrap();
    assert!(
        message.starts_with("Redis is unavailable: ")
            && message.contains(&format!("127.0.0.1:{}", server.port())),
        "{message}"
    );
    server.restart();
    assert_eq!(svc.ok("GET", "/ping", None).await, json!("PONG"));
    svc.ok("PUT", "/myapp/create/u?ip=1", None).await;
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn a_missing_redis_url_is_503_naming_the_key() {
    let served = serve(None);
    let (status, value) = served.svc.call("GET", "/ping", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(value["name"], "redisUnavailable");
    let message = value["message"].as_str().unwrap();
    assert!(message.contains("`redis_url` is not set"), "{message}");
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn an_unreachable_redis_is_503_naming_the_address_without_the_password() {
    let dead = free_port();
    let served = serve(Some(&format!("redis://:pw-never-shown@127.0.0.1:{dead}")));
    let (status, value) = served.svc.call("PUT", "/myapp/create/u?ip=1", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = value["message"].as_str().unwrap();
    assert!(message.contains(&format!("127.0.0.1:{dead}")), "{message}");
    assert!(!message.contains("pw-never-shown"), "{message}");
}
