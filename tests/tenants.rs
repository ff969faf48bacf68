//! Several tenants in one service: API keys, Redis ACL users, host allowlist and wasmtime
//! limits, with a hostile component (tests/components/hostile) beside a well-behaved one.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::RedisServer;
use common::service::Service;
use redis_sessions::service::tenants::{self, Tenancy, hash_key};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const GOOD: &str = "good-key-1";
const EVIL: &str = "evil-key-1";

/// Builds the hostile component once per test run (its own target directory, so the
/// outer cargo's lock is not in the way).
fn hostile_component() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .to_path_buf();
            let target = root.join("target/test-components");
            let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
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
                "building tests/components/hostile failed"
            );
            target.join("wasm32-wasip2/guest/hostile_component.wasm")
        })
        .clone()
}

struct Fixture {
    server: RedisServer,
    file: PathBuf,
    tenancy: Tenancy,
    svc: Service,
}

impl Fixture {
    async fn start() -> Self {
        let server = RedisServer::start();
        let dir = std::env::temp_dir().join(format!(
            "rs-tenants-test-{}-{}",
            std::process::id(),
            server.port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tenants.toml");
        std::fs::write(
            &file,
            format!(
                r#"
[[tenant]]
name = "good"
api_keys = ["{good}"]
namespace = "good"
redis_user = "good"
redis_password = "good-secret"

[[tenant]]
name = "evil"
api_keys = ["{evil}"]
namespace = "evil"
component = "{component}"
redis_user = "evil"
redis_password = "evil-secret"
[tenant.limits]
memory_mib = 32
cpu_ms = 100
instances = 4
"#,
                good = hash_key(GOOD),
                evil = hash_key(EVIL),
                component = hostile_component().display(),
            ),
        )
        .unwrap();
        let list = tenants::load(&file).unwrap();
        tenants::provision(&server.url(), &list).await.unwrap();
        let tenancy = Tenancy::keyed(tenants::connect(&list, &server.url()).await.unwrap());
        let svc = Service::start(tenancy.clone(), None).await;
        Self {
            server,
            file,
            tenancy,
            svc,
        }
    }

    /// Checks that the service's `/metrics` text has each of `lines`.
    async fn assert_metrics(&self, lines: &[&str]) {
        let url = format!("{}/metrics", self.svc.base);
        let metrics = reqwest::get(url).await.unwrap().text().await.unwrap();
        for line in lines {
            assert!(metrics.contains(line), "{line} not in:\n{metrics}");
        }
    }

    fn tenant(&self, name: &str) -> Arc<tenants::Tenant> {
        self.tenancy
            .tenants()
            .into_iter()
            .find(|t| t.name == name)
            .unwrap()
    }

    async fn snapshot(&self) -> BTreeMap<String, String> {
        let mut raw = self.server.raw().await;
        let mut out = BTreeMap::new();
        for key in common::keys(&mut raw).await {
            let dump: Vec<u8> = redis::cmd("DUMP")
                .arg(&key)
                .query_async(&mut raw)
                .await
                .unwrap();
            out.insert(key, format!("{dump:?}"));
        }
        out
    }
}

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
    f.assert_metrics(&[
        "redis_sessions_unauthorized_total 4",
        "redis_sessions_requests_total{tenant=\"good\"} 1",
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
    // Allowed commands on another tenant's keys, plain or inside scripts with the key
    // declared or not: Redis' ACL (`~NS:*`) refuses them all.
    let refusals = |r: &str| r.split(" | ").map(str::to_owned).collect::<Vec<_>>();
    let (read, write) = (refusals(&read), refusals(&write));
    let denied_key = |r: &str| {
        r.contains("NOPERM this user has no permissions to access one of the keys")
            || r.contains("can't access at least one of the keys")
    };
    for i in [0, 2, 3] {
        assert!(denied_key(&read[i]), "{}", read[i]);
        assert!(denied_key(&write[i]), "{}", write[i]);
    }
    let says = |report: &str, text: &str| assert!(report.contains(text), "{report}");
    // Undeclared keys inside a script are checked when the script touches them.
    says(&read[2], "can't access at least one of the keys");
    // Commands the session logic never sends: the host's allowlist, before Redis.
    says(&read[1], "Denied(\"HGETALL is not an allowed command\")");
    says(&write[1], "Denied(\"DEL is not an allowed command\")");
    says(&write[4], "Denied(\"FLUSHALL is not an allowed command\")");
    // A script calling a command outside the ACL user's set: refused by Redis.
    says(&read[4], "can't run this command");
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
    assert_eq!(report.lines().count(), 2, "{report}");
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
