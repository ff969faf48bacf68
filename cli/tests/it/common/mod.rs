//! What the integration tests share on top of the `test-support` crate: the component on a
//! real `redis-server` or on the embedded store beside it (see [`backends`]), the service
//! (see [`service`]), and helpers around them.

pub mod backends;
pub mod runtime;
pub mod service;
pub mod suite;

pub use backends::{Raw, TestStore};

use redis_sessions::{ManualClock, Runtime, RuntimeOptions, Sessions};
use std::ops::{Deref, DerefMut};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use test_support::cluster::RedisCluster;

pub use test_support::free_port;

/// A fixed "now" for tests that drive the clock: 2027-01-15.
pub const T0: u64 = 1_800_000_000;

/// A `redis-server` owned by one test ([`test_support::RedisServer`]), with the clients
/// these tests use.
pub struct RedisServer(test_support::RedisServer);

impl Deref for RedisServer {
    type Target = test_support::RedisServer;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for RedisServer {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl RedisServer {
    pub fn start() -> Self {
        Self(test_support::RedisServer::start())
    }

    /// With extra `redis-server` arguments.
    pub fn start_with(extra: &[&str]) -> Self {
        Self(test_support::RedisServer::start_with(extra))
    }

    /// A plain client to check the layout with.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The component on this server, with a clock the test controls.
    pub async fn sessions(&self, clock: &Arc<ManualClock>) -> Sessions {
        self.sessions_in("rs", clock).await
    }

    pub async fn sessions_in(&self, namespace: &str, clock: &Arc<ManualClock>) -> Sessions {
        Sessions::builder()
            .runtime(runtime())
            .namespace(namespace)
            .clock(clock.clone())
            .connect(&self.url())
            .await
            .unwrap()
    }
}

/// The built-in component, compiled once per test binary.
pub fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(Runtime::new(&RuntimeOptions::default()).unwrap()))
        .clone()
}

/// A session's `d` from JSON, for tests.
pub fn d(json: serde_json::Value) -> redis_sessions::DataInput {
    redis_sessions::json::input_from_json(&json).unwrap()
}

/// A session's `d` field as stored (namespace `rs`).
pub async fn stored_d(raw: &mut impl redis::aio::ConnectionLike, app: &str, token: &str) -> String {
    redis::cmd("HGET")
        .arg(format!("rs:{app}:{token}"))
        .arg("d")
        .query_async(raw)
        .await
        .unwrap()
}

/// All keys on the server, sorted.
pub async fn keys(raw: &mut impl redis::aio::ConnectionLike) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(raw).await.unwrap();
    keys.sort();
    keys
}

/// The one key of `keys` ending with `suffix` (`:APP:_sessions`, `:SESSIONS`...), so one
/// test finds node's `rs:APP:_sessions` and a shard's `{rs:s3.7}:APP:_sessions` alike,
/// when its sessions are of one user (one shard).
pub fn key_ending(keys: &[String], suffix: &str) -> String {
    let found: Vec<&String> = keys.iter().filter(|k| k.ends_with(suffix)).collect();
    assert_eq!(found.len(), 1, "keys ending with {suffix}: {found:?}");
    found[0].clone()
}

/// Every member of the sorted set `key`, lowest score first.
pub async fn zset_members(raw: &mut impl redis::aio::ConnectionLike, key: &str) -> Vec<String> {
    redis::cmd("ZRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async(raw)
        .await
        .unwrap()
}

/// Builds the hostile component once per test run, in the guest's target directory
/// (`host/build.rs`): the outer cargo's lock is not in the way, and the wasm dependencies
/// are already built there.
pub fn hostile_component() -> std::path::PathBuf {
    static BUILT: OnceLock<std::path::PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .to_path_buf();
            let target = root.join("target/wasm-guest");
            let mut cmd = std::process::Command::new(
                std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            );
            cmd.current_dir(&root)
                .args([
                    "build",
                    "-p",
                    "hostile-component",
                    "--target",
                    "wasm32-wasip2",
                    "--profile",
                    "guest",
                ])
                .arg("--target-dir")
                .arg(&target);
            for var in [
                "CARGO_TARGET_DIR",
                "RUSTFLAGS",
                "CARGO_ENCODED_RUSTFLAGS",
                "CARGO_BUILD_TARGET",
                "RUSTC_WORKSPACE_WRAPPER",
                "RUSTC_WRAPPER",
            ] {
                cmd.env_remove(var);
            }
            assert!(
                cmd.status().unwrap().success(),
                "building test-crates/hostile-component failed"
            );
            target.join("wasm32-wasip2/guest/hostile_component.wasm")
        })
        .clone()
}

/// The `redis-sessions` command, to add arguments to.
pub fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
}

/// Runs `command`, which must succeed (else the test fails with its stderr).
pub fn succeeds(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Kills `victim` (a master) and waits for a replica's promotion, off the runtime's threads;
/// the cluster (kept: dropping it stops its nodes) and when the promotion was seen.
pub async fn fail_over(cluster: RedisCluster, victim: usize) -> (RedisCluster, Instant) {
    tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        let promoted = cluster.kill_until_promoted(victim);
        (cluster, promoted)
    })
    .await
    .unwrap()
}
