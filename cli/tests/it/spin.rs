//! The same session component with Spin's Redis, by composition:
//! `target/wasm/redis-sessions-spin.wasm` is the `wasi:http` front, the session component
//! and the Spin plug (`scripts/build-wasm`). Spin cannot be installed here, so it runs in
//! the Spin-semantics test host (`test-crates/spin-host`: `fermyon:spin/redis@2.0.0` with Spin's
//! own reply conversion, and Spin variables). The shared HTTP suite runs under Spin 3.4's
//! conversion (nil and `OK` dropped) and 3.5's (kept); then the plug's configuration and
//! failures.
//!
//! `#[ignore]`d: they need the test host and the composed artifact, which
//! `scripts/test-runtimes` builds before running them with
//! `RS_SPIN_HOST=... RS_SPIN_WASM=... cargo test --test spin -- --ignored`.

use crate::common;
use common::runtime::{self, Served, required_env};
use common::{RedisServer, free_port};
use std::process::Command;

/// The test host serving the composition under `semantics`, allowed to open `allowed`,
/// with these Spin variables.
fn serve(semantics: &str, allowed: &str, variables: &[String]) -> Served {
    let port = free_port();
    let mut command = Command::new(required_env("RS_SPIN_HOST"));
    command
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(["--spin-semantics", semantics])
        .args(["--allowed-outbound-host", allowed]);
    for variable in variables {
        command.args(["--variable", variable]);
    }
    command.arg(required_env("RS_SPIN_WASM"));
    runtime::serve(&mut command, port)
}

fn allowed(server: &RedisServer) -> String {
    format!("redis://127.0.0.1:{}", server.port())
}

/// Served on `server` as `spin.toml` sets it up: the URL a variable, its host allowed.
fn on(semantics: &'static str) -> impl Fn(&RedisServer) -> Served {
    move |server| {
        serve(
            semantics,
            &allowed(server),
            &[format!("redis_url={}", server.url())],
        )
    }
}

mod spin_3_4 {
    use super::on;
    crate::runtime_suite!(
        "needs the Spin test host and the composed component: scripts/test-runtimes",
        on("3.4")
    );
}

mod spin_3_5 {
    use super::on;
    crate::runtime_suite!(
        "needs the Spin test host and the composed component: scripts/test-runtimes",
        on("3.5")
    );
}

#[tokio::test]
#[ignore = "needs the Spin test host and the composed component: scripts/test-runtimes"]
async fn the_namespace_variable_prefixes_every_key() {
    let server = RedisServer::start();
    let url = format!("redis_url={}", server.url());
    let served = serve("3.4", &allowed(&server), &[url, "namespace=spinapp".into()]);
    served.svc.ok("PUT", "/myapp/create/u?ip=1", None).await;
    let keys = common::keys(&mut server.raw().await).await;
    let all_prefixed = keys.iter().all(|k| k.starts_with("spinapp:"));
    assert!(!keys.is_empty() && all_prefixed, "{keys:?}");
}

#[tokio::test]
#[ignore = "needs the Spin test host and the composed component: scripts/test-runtimes"]
async fn a_missing_redis_url_is_503_naming_the_variable() {
    let served = serve("3.5", "redis://127.0.0.1:6379", &[]);
    let shown = ["Spin variable `redis_url` is not set"];
    runtime::assert_unavailable(&served.svc, "/ping", &shown, &[]).await;
}

/// A Redis at `address` (none listening, or one not allowed), reached with a password.
async fn unavailable_with_password(semantics: &str, address: &str, allowed: &str, shown: &str) {
    let url = format!("redis_url=redis://:pw-never-shown@{address}");
    let served = serve(semantics, allowed, &[url]);
    let shown = [address, shown];
    runtime::assert_unavailable(&served.svc, "/ping", &shown, &["pw-never-shown"]).await;
}

#[tokio::test]
#[ignore = "needs the Spin test host and the composed component: scripts/test-runtimes"]
async fn a_host_outside_allowed_outbound_hosts_is_503() {
    let server = RedisServer::start();
    let address = format!("127.0.0.1:{}", server.port());
    let refused = "allowed_outbound_hosts";
    unavailable_with_password("3.5", &address, "redis://127.0.0.1:1", refused).await;
}

#[tokio::test]
#[ignore = "needs the Spin test host and the composed component: scripts/test-runtimes"]
async fn an_unreachable_redis_is_503_naming_the_address_without_the_password() {
    let address = format!("127.0.0.1:{}", free_port());
    let allowed = format!("redis://{address}");
    unavailable_with_password("3.4", &address, &allowed, "cannot connect").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Spin test host and the composed component: scripts/test-runtimes"]
async fn a_burst_of_512_connections_gets_no_error() {
    let server = RedisServer::start();
    let served = on("3.5")(&server);
    let burst = runtime::burst(&served.svc, 512).await;
    assert_eq!(burst.failed, 0, "{burst}");
}
