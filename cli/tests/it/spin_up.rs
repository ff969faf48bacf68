//! The Spin composition under real Spin: `spin up` of `deploy/spin/spin.toml` as a user runs
//! it (stock runtime settings, the Redis address given once as `SPIN_VARIABLE_REDIS_HOST`),
//! each test on its own redis-server and Spin on free ports. The shared HTTP suite; sessions
//! read back by the `redis-sessions` CLI and by node redis-sessions; the other Redis
//! variables of the manifest; a burst of 512 concurrent connections.
//!
//! `#[ignore]`d: Spin is built from source (`scripts/build-spin`), which CI cannot afford.
//! `scripts/test-spin SPIN` (`make test-spin SPIN=...`) builds the composition and runs them
//! with `RS_SPIN=...`.

use crate::common;
use common::runtime::{self, Served, required_env};
use common::suite::token;
use common::{RedisServer, free_port};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// `deploy/spin/spin.toml`, or, with `RS_SPIN_WASM` set, a copy of it next to that
/// component with `source` naming it (the composition: `scripts/test-spin --composed`).
fn manifest() -> PathBuf {
    static MANIFEST: OnceLock<PathBuf> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let deployed =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/spin/spin.toml");
            let Ok(wasm) = std::env::var("RS_SPIN_WASM") else {
                return deployed;
            };
            let wasm = PathBuf::from(wasm);
            let text = std::fs::read_to_string(&deployed).unwrap();
            let source = r#"source = "../../target/wasm/redis-sessions-spin.wasm""#;
            assert!(
                text.contains(source),
                "{} lacks {source}",
                deployed.display()
            );
            let file_name = wasm.file_name().unwrap().to_str().unwrap();
            let copy = wasm.with_extension("spin.toml");
            std::fs::write(
                &copy,
                text.replace(source, &format!("source = {file_name:?}")),
            )
            .unwrap();
            copy
        })
        .clone()
}

/// `spin up` of the manifest with these `SPIN_VARIABLE_*` settings, no state directory.
fn spin_up(variables: &[(&str, String)]) -> Served {
    let port = free_port();
    let mut command = Command::new(required_env("RS_SPIN"));
    command
        .arg("up")
        .arg("-f")
        .arg(manifest())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--state-dir=");
    for (name, value) in variables {
        command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
    }
    runtime::serve(&mut command, port)
}

fn address(server: &RedisServer) -> String {
    format!("127.0.0.1:{}", server.port())
}

/// As the README's command: the address, nothing else.
fn on(server: &RedisServer) -> Served {
    spin_up(&[("redis_host", address(server))])
}

crate::runtime_suite!("needs Spin built from source: scripts/test-spin", on);

/// node redis-sessions 4's `get` of `token` on the Redis at `port` (tests/interop's
/// node_modules, which scripts/test-spin installs).
fn node_get(port: u16, app: &str, token: &str) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/read-session.js");
    let out =
        common::succeeds(
            Command::new("node")
                .arg(script)
                .args([&port.to_string(), app, token]),
        );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
#[ignore = "needs Spin built from source: scripts/test-spin"]
async fn sessions_cross_between_spin_the_cli_and_node() {
    let server = RedisServer::start();
    let served = on(&server);
    let svc = &served.svc;
    let body = Some(r#"{"n":20.5,"s":"x"}"#);
    let from_spin = token(
        &svc.ok("PUT", "/myapp/create/j%C3%B6hn?ip=10.0.0.1&ttl=600", body)
            .await,
    );

    let by_cli = runtime::cli_json(&server, &["get", "myapp", &from_spin]);
    assert_eq!(
        (&by_cli["id"], &by_cli["d"]),
        (&json!("jöhn"), &json!({"n": 20.5, "s": "x"}))
    );
    let by_node = node_get(server.port(), "myapp", &from_spin);
    assert_eq!(
        (&by_node["id"], &by_node["ttl"]),
        (&json!("jöhn"), &json!(600))
    );
    assert_eq!(
        (&by_node["ip"], &by_node["d"]),
        (&json!("10.0.0.1"), &json!({"n": 20.5, "s": "x"}))
    );

    let from_cli = runtime::cli_json(&server, &["create", "myapp", "bob", "1.2.3.4"]);
    let from_cli = from_cli["token"].as_str().unwrap();
    let read = svc.ok("GET", &format!("/myapp/get/{from_cli}"), None).await;
    assert_eq!(read["id"], "bob");
}

#[tokio::test]
#[ignore = "needs Spin built from source: scripts/test-spin"]
async fn password_database_and_namespace_are_variables_of_their_own() {
    let server = RedisServer::start_with(&["--requirepass", "s3cr3t"]);
    let served = spin_up(&[
        ("redis_host", address(&server)),
        ("redis_password", "s3cr3t".into()),
        ("redis_database", "3".into()),
        ("namespace", "spinapp".into()),
    ]);
    let token = token(&served.svc.ok("PUT", "/myapp/create/u?ip=1", None).await);
    let mut redis = server.client();
    let auth = redis.call(&test_support::cmd(&["AUTH", "s3cr3t"]));
    assert_eq!(auth, test_support::Reply::Status("OK".into()));
    redis.call(&test_support::cmd(&["SELECT", "3"]));
    let key = format!("spinapp:myapp:{token}");
    let exists = redis.call(&test_support::cmd(&["EXISTS", &key]));
    assert_eq!(exists, test_support::Reply::Int(1), "{key} in database 3");
}

#[tokio::test]
#[ignore = "needs Spin built from source: scripts/test-spin"]
async fn a_wrong_password_is_503_without_the_password() {
    let server = RedisServer::start_with(&["--requirepass", "right"]);
    let served = spin_up(&[
        ("redis_host", address(&server)),
        ("redis_password", "wrong-never-shown".into()),
    ]);
    let shown = [address(&server)];
    let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
    runtime::assert_unavailable(&served.svc, "/ping", &shown, &["wrong-never-shown"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Spin built from source: scripts/test-spin"]
async fn a_burst_of_512_connections_gets_no_error() {
    let server = RedisServer::start();
    let served = on(&server);
    let burst = runtime::burst(&served.svc, 512).await;
    assert_eq!(burst.failed, 0, "{burst}");
}
