//! The session logic under the real `wasmtime serve` (49): `RS_HTTP_WASM` is
//! `target/wasm/redis-sessions-http.wasm` (the `wasi:http` bundle: the HTTP API, the session
//! logic and Redis over wasi:sockets as one component) or `redis-sessions-http-composed.wasm`
//! (the same parts as three composed components; `scripts/build-wasm`). Each test starts its own redis-server
//! and `wasmtime serve` on free ports, runs the shared HTTP suite (`common/suite.rs`, also
//! run against the host's service by `http.rs`) or a test of this runtime, and stops both.
//!
//! `#[ignore]`d: they need the wasmtime CLI and the artifacts, which
//! `scripts/test-runtimes` installs and builds before running them with
//! `RS_WASMTIME=... RS_HTTP_WASM=... cargo test --release -p redis-sessions-cli --test it -- wasi_http:: --ignored`.

use crate::common;
use common::runtime::{self, Served, required_env};
use common::suite::token;
use common::{RedisServer, free_port};
use serde_json::json;
use std::process::Command;

/// Serves the artifact with `redis_url` (none: the key is not set).
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
    // Each request is an instance: 3 core instances for the bundle, 9 for the composition.
    // Under the suite's 300 parallel creates, wasmtime's pooling allocator runs out of its
    // 1000 core instances with either and answers 500 (`--max-concurrent-requests` does not
    // prevent it), so instances are allocated on demand.
    command
        .args(["-O", "pooling-allocator=n"])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg(required_env("RS_HTTP_WASM"));
    runtime::serve(&mut command, port)
}

fn on(server: &RedisServer) -> Served {
    serve(Some(&server.url()))
}

crate::runtime_suite!(
    "needs wasmtime and the composed component: scripts/test-runtimes",
    on
);

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
    let read = runtime::cli_json(&server, &["get", "myapp", &from_http]);
    assert_eq!(
        (read["id"].clone(), read["ip"].clone(), read["d"].clone()),
        (
            json!("jöhn"),
            json!("10.0.0.1"),
            json!({"n": 20.5, "s": "x"})
        )
    );

    let from_cli = token(&runtime::cli_json(
        &server,
        &["create", "myapp", "user2", "::1", "--d", r#"{"k":true}"#],
    ));
    let read = svc.ok("GET", &format!("/myapp/get/{from_cli}"), None).await;
    assert_eq!(
        (read["id"].clone(), read["r"].clone(), read["d"].clone()),
        (json!("user2"), json!(1), json!({"k": true}))
    );
    assert_eq!(
        runtime::cli_json(&server, &["activity", "myapp", "--dt", "600"]),
        json!({"activity": 2})
    );
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn a_missing_redis_url_is_503_naming_the_key() {
    let served = serve(None);
    runtime::assert_unavailable(&served.svc, "/ping", &["`redis_url` is not set"], &[]).await;
}

#[tokio::test]
#[ignore = "needs wasmtime and the composed component: scripts/test-runtimes"]
async fn an_unreachable_redis_is_503_naming_the_address_without_the_password() {
    let dead = free_port();
    let served = serve(Some(&format!("redis://:pw-never-shown@127.0.0.1:{dead}")));
    let address = format!("127.0.0.1:{dead}");
    runtime::assert_unavailable(&served.svc, "/ping", &[&address], &["pw-never-shown"]).await;
}
