//! What the tests of the composed component under another runtime share (`wasi_http.rs`:
//! `wasmtime serve`; `spin.rs`: the Spin-semantics test host): the runtime as a process
//! serving on a free port, the shared suite as `#[ignore]`d tests of it
//! ([`runtime_suite!`](crate::runtime_suite)), and the failure checks every runtime passes.

use super::RedisServer;
use super::service::Service;
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;
use test_support::Spawned;

/// A runtime serving the composition, stopped when dropped.
pub struct Served {
    pub svc: Service,
    _process: Spawned,
}

/// An environment variable `scripts/test-runtimes` sets (a tool's or an artifact's path).
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through scripts/test-runtimes")
    })
}

/// Starts `command`, which serves on loopback `port`, and waits for it to answer HTTP.
pub fn serve(command: &mut Command, port: u16) -> Served {
    let mut process = Spawned::spawn(command.stdout(Stdio::null()));
    // Compiling the component comes first: allow for a cold cache on a busy machine.
    process.wait_for_http(port, Duration::from_secs(60));
    Served {
        svc: Service::at(format!("http://127.0.0.1:{port}")),
        _process: process,
    }
}

/// The `redis-sessions` CLI on `server`, in node's namespace: its JSON output.
pub fn cli_json(server: &RedisServer, args: &[&str]) -> serde_json::Value {
    let out = super::succeeds(
        super::cli()
            .args(args)
            .env("REDIS_URL", server.url())
            .env_remove("RS_NAMESPACE"),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The shared suite (`common/suite.rs`) as `#[ignore]`d tests, each on its own
/// redis-server and runtime: `$serve` makes a [`Served`] from `&RedisServer`.
#[macro_export]
macro_rules! runtime_suite {
    ($ignore:literal, $serve:expr) => {
        $crate::runtime_suite!(@test $ignore, $serve, tokio::test, |served, server|
            suite::validation_errors_are_400_with_nodes_names_and_messages(&served.svc));
        $crate::runtime_suite!(@test $ignore, $serve, tokio::test, |served, server|
            suite::malformed_json_oversized_bodies_and_unknown_routes(&served.svc));
        $crate::runtime_suite!(@test $ignore, $serve, tokio::test, |served, server|
            suite::percent_encoded_utf8_ids_are_decoded(&served.svc, &mut server.raw().await));
        $crate::runtime_suite!(@test $ignore, $serve,
            tokio::test(flavor = "multi_thread", worker_threads = 2), |served, server|
            suite::parallel_creates_get_distinct_tokens_and_are_all_counted(
                std::sync::Arc::new(served.svc)));
        // The routes in one pass, on the real clock.
        $crate::runtime_suite!(@test $ignore, $serve, tokio::test, |served, server|
            suite::every_route_answers_like_rest_sessions(&served.svc, &mut server.raw().await, || None));
        $crate::runtime_suite!(@test $ignore, $serve, tokio::test, |served, server|
            runtime::redis_going_away_answers_503_naming_the_address_and_serving_resumes(&served.svc, &mut server));
    };
    // One test: `common::$module::$name` called with `$served` and `$server` in scope (the
    // names come from the caller so that its arguments can see them).
    (@test $ignore:literal, $serve:expr, $test:meta, |$served:ident, $server:ident|
        $module:ident :: $name:ident($($arg:expr),*)) => {
        #[$test]
        #[ignore = $ignore]
        async fn $name() {
            #[allow(unused_mut, reason = "one test stops and restarts the server")]
            let mut $server = $crate::common::RedisServer::start();
            let $served = ($serve)(&$server);
            $crate::common::$module::$name($($arg),*).await;
        }
    };
}

/// `svc` answers `path` with 503 `redisUnavailable`, its message holding each of `shown`
/// and none of `hidden`.
pub async fn assert_unavailable(svc: &Service, path: &str, shown: &[&str], hidden: &[&str]) {
    let (status, value) = svc.call("GET", path, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{value}");
    assert_eq!(value["name"], "redisUnavailable");
    let message = value["message"].as_str().unwrap();
    assert!(message.starts_with("Redis is unavailable: "), "{message}");
    for text in shown {
        assert!(message.contains(text), "{message} lacks {text}");
    }
    for text in hidden {
        assert!(!message.contains(text), "{message} shows {text}");
    }
}

/// Redis stops: 503 naming its address; Redis is back (empty): the same runtime serves
/// again, without a restart.
pub async fn redis_going_away_answers_503_naming_the_address_and_serving_resumes(
    svc: &Service,
    server: &mut RedisServer,
) {
    svc.ok("GET", "/ping", None).await;
    server.stop();
    let address = format!("127.0.0.1:{}", server.port());
    let path = format!("/myapp/get/{}", "x".repeat(64));
    assert_unavailable(svc, &path, &[&address], &[]).await;
    server.restart();
    assert_eq!(svc.ok("GET", "/ping", None).await, json!("PONG"));
    svc.ok("PUT", "/myapp/create/u?ip=1", None).await;
}

/// What a burst got: how many requests, how many failed, and the first failures.
pub struct Burst {
    pub sent: usize,
    pub failed: usize,
    pub samples: Vec<String>,
}

impl std::fmt::Display for Burst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} failed", self.failed, self.sent)?;
        for sample in &self.samples {
            write!(f, "\n  {sample}")?;
        }
        Ok(())
    }
}

/// `connections` clients at once, each on a connection of its own, each reading the same
/// session: a request fails on anything but 200 with the session (a refused or reset
/// connection, a 5xx, a timeout).
pub async fn burst(svc: &Service, connections: usize) -> Burst {
    let created = svc.ok("PUT", "/myapp/create/burst?ip=1", None).await;
    let url = format!(
        "{}/myapp/get/{}",
        svc.base,
        created["token"].as_str().unwrap()
    );
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(connections));
    let requests: Vec<_> = (0..connections)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            tokio::spawn(async move {
                // A client each: no connection is shared or reused.
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .timeout(Duration::from_secs(60))
                    .build()
                    .unwrap();
                barrier.wait().await;
                let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response.text().await.map_err(|e| e.to_string())?;
                if status == StatusCode::OK && body.contains("\"id\":\"burst\"") {
                    Ok(())
                } else {
                    Err(format!("{status}: {body}"))
                }
            })
        })
        .collect();
    let mut errors = Vec::new();
    for request in requests {
        if let Err(e) = request.await.unwrap() {
            errors.push(e);
        }
    }
    Burst {
        sent: connections,
        failed: errors.len(),
        samples: errors.into_iter().take(5).collect(),
    }
}
