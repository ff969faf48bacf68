//! `redis-sessions serve`: rest-sessions' routes over real HTTP, against a real redis-server.
//! The tests that speak only HTTP are in `common/suite.rs`, shared with `wasi_http.rs`.

use crate::common;
use common::service::Service;
use common::suite::{self, token};
use common::{RedisServer, T0};
use redis_sessions::ManualClock;
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn setup(server: &RedisServer) -> (Service, Arc<ManualClock>) {
    let clock = ManualClock::new(T0);
    let service = Service::start(server.sessions(&clock).await, None).await;
    (service, clock)
}

#[tokio::test]
async fn every_route_answers_like_rest_sessions() {
    let server = RedisServer::start();
    let (svc, clock) = setup(&server).await;
    suite::every_route_answers_like_rest_sessions(&svc, &mut server.raw().await, || {
        clock.advance(2);
        Some(2)
    })
    .await;
}

#[tokio::test]
async fn a_missing_or_expired_session_is_an_empty_object() {
    let server = RedisServer::start();
    let (svc, clock) = setup(&server).await;
    let unknown = "x".repeat(64);
    assert_eq!(
        svc.ok("GET", &format!("/myapp/get/{unknown}"), None).await,
        json!({})
    );
    assert_eq!(
        svc.ok("POST", &format!("/myapp/set/{unknown}"), Some(r#"{"a":1}"#))
            .await,
        json!({})
    );
    let t = token(&svc.ok("PUT", "/myapp/create/u?ip=ip&ttl=10", None).await);
    clock.advance(11);
    assert_eq!(
        svc.ok("GET", &format!("/myapp/get/{t}"), None).await,
        json!({})
    );
    assert_eq!(
        svc.ok("DELETE", &format!("/myapp/kill/{t}"), None).await,
        json!({"kill": 0})
    );
}

#[tokio::test]
async fn validation_errors_are_400_with_nodes_names_and_messages() {
    let server = RedisServer::start();
    let (svc, _clock) = setup(&server).await;
    suite::validation_errors_are_400_with_nodes_names_and_messages(&svc).await;
}

#[tokio::test]
async fn malformed_json_oversized_bodies_and_unknown_routes() {
    let server = RedisServer::start();
    let (svc, _clock) = setup(&server).await;
    suite::malformed_json_oversized_bodies_and_unknown_routes(&svc).await;
}

#[tokio::test]
async fn percent_encoded_utf8_ids_are_decoded() {
    let server = RedisServer::start();
    let (svc, _clock) = setup(&server).await;
    suite::percent_encoded_utf8_ids_are_decoded(&svc, &mut server.raw().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_creates_get_distinct_tokens_and_are_all_counted() {
    let server = RedisServer::start();
    let (svc, _clock) = setup(&server).await;
    suite::parallel_creates_get_distinct_tokens_and_are_all_counted(Arc::new(svc)).await;
}

#[tokio::test]
async fn the_service_runs_the_wipe_on_its_interval() {
    let server = RedisServer::start();
    let clock = ManualClock::new(T0);
    let svc = Service::start(
        server.sessions(&clock).await,
        Some(Duration::from_millis(100)),
    )
    .await;
    svc.ok("PUT", "/myapp/create/a?ip=1&ttl=10", None).await;
    svc.ok("PUT", "/myapp/create/b?ip=1&ttl=10", None).await;
    let live = token(&svc.ok("PUT", "/myapp/create/c?ip=1&ttl=100", None).await);
    clock.advance(11);
    let mut raw = server.raw().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::keys(&mut raw).await.len() != 5 {
        assert!(
            Instant::now() < deadline,
            "the wiper did not run: {:?}",
            common::keys(&mut raw).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        svc.ok("GET", "/myapp/activity?dt=600", None).await,
        json!({"activity": 1})
    );
    assert_eq!(
        svc.ok("GET", &format!("/myapp/get/{live}"), None).await["id"],
        "c"
    );
}

#[tokio::test]
async fn redis_going_away_answers_503() {
    let mut server = RedisServer::start();
    let (svc, _clock) = setup(&server).await;
    svc.ok("GET", "/ping", None).await;
    server.stop();
    let (status, value) = svc
        .call("GET", &format!("/myapp/get/{}", "x".repeat(64)), None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        value,
        json!({"name": "redisUnavailable", "message": "Redis is unavailable"})
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_binary_serves_with_rest_sessions_environment_and_stops_on_sigterm() {
    let server = RedisServer::start();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .arg("serve")
        .env("RS_PORT", port.to_string())
        .env("RS_REDISPORT", server.port().to_string())
        .env_remove("REDIS_URL")
        .env_remove("RS_REDISHOST")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, body) =
        test_support::wait_for_ping(port, Duration::from_secs(10), || child.try_wait().unwrap())
            .unwrap_or_else(|e| panic!("serve did not come up: {e}"));
    assert_eq!((status, body.as_str()), (200, "PONG"));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("listening on http://127.0.0.1:{port}")),
        "{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        !log.contains("/ping"),
        "ping is not logged by default: {log}"
    );
}

#[test]
fn serve_without_redis_says_which_url_and_what_to_do_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args([
            "serve",
            "--redis",
            "redis://127.0.0.1:1",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("redis://127.0.0.1:1"), "{stderr}");
    assert!(lines[0].contains("--redis"), "{stderr}");
}
