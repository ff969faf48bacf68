//! The tenants the multi-tenant tests run: a well-behaved one on the built-in component,
//! and two on the hostile component (test-crates/hostile-component) with different limits.

use crate::common::service::Service;
use crate::common::{RedisServer, hostile_component};
use redis_sessions_cli::service::tenants::{self, Tenancy, hash_key};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub const GOOD: &str = "good-key-1";
pub const EVIL: &str = "evil-key-1";
pub const SLOW: &str = "slow-key-1";
/// The one script the evil tenant registers besides the session scripts.
pub const EXTRA_LUA: &str = "return 'extra'";

/// Tests that measure latencies run alone: every fixture holds this, shared or not.
static TURN: RwLock<()> = RwLock::const_new(());

enum Turn {
    Shared(#[allow(dead_code, reason = "held")] RwLockReadGuard<'static, ()>),
    Alone(#[allow(dead_code, reason = "held")] RwLockWriteGuard<'static, ()>),
}

pub struct Fixture {
    _turn: Turn,
    pub server: RedisServer,
    pub file: PathBuf,
    pub tenancy: Tenancy,
    pub svc: Service,
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_wiping(None).await
    }

    pub async fn start_wiping(wipe_every: Option<Duration>) -> Self {
        Self::on(RedisServer::start(), wipe_every).await
    }

    /// As [`Fixture::start`], while no other test of this binary runs.
    pub async fn start_alone() -> Self {
        let turn = Turn::Alone(TURN.write().await);
        Self::with_turn(turn, RedisServer::start(), None).await
    }

    /// The tenants on `server`, provisioned.
    pub async fn on(server: RedisServer, wipe_every: Option<Duration>) -> Self {
        let turn = Turn::Shared(TURN.read().await);
        Self::with_turn(turn, server, wipe_every).await
    }

    async fn with_turn(turn: Turn, server: RedisServer, wipe_every: Option<Duration>) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rs-tenants-test-{}-{}",
            std::process::id(),
            server.port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tenants.toml");
        std::fs::write(dir.join("extra.lua"), EXTRA_LUA).unwrap();
        // `slow`: the hostile component with a CPU limit it never reaches, so its calls
        // meet the deadline (or the command budget) first.
        std::fs::write(
            &file,
            format!(
                r#"
[[tenant]]
name = "good"
api_keys = ["{good}"]
namespace = "good"
redis_user = "good"
redis_password = "good-secret-0123456789"

[[tenant]]
name = "evil"
api_keys = ["{evil}"]
namespace = "evil"
component = "{component}"
scripts = ["extra.lua"]
redis_user = "evil"
redis_password = "evil-secret-0123456789"
[tenant.limits]
memory_mib = 32
cpu_ms = 100
instances = 4

[[tenant]]
name = "slow"
api_keys = ["{slow}"]
namespace = "slow"
component = "{component}"
redis_user = "slow"
redis_password = "slow-secret-0123456789"
[tenant.limits]
memory_total_mib = 16
cpu_ms = 60000
deadline_ms = 300
commands = 100000000
instances = 2
requests_per_second = 2
burst = 3
"#,
                good = hash_key(GOOD),
                evil = hash_key(EVIL),
                slow = hash_key(SLOW),
                component = hostile_component().display(),
            ),
        )
        .unwrap();
        let list = tenants::load(&file).unwrap();
        tenants::provision(&server.url(), &list).await.unwrap();
        let tenancy = Tenancy::keyed(tenants::connect(&list, &server.url()).await.unwrap());
        let svc = Service::start_with_metrics(tenancy.clone(), wipe_every).await;
        Self {
            _turn: turn,
            server,
            file,
            tenancy,
            svc,
        }
    }

    /// Checks that the service's `/metrics` text has each of `lines`.
    pub async fn assert_metrics(&self, lines: &[&str]) {
        let url = format!("{}/metrics", self.svc.metrics.as_ref().unwrap());
        let metrics = reqwest::get(url).await.unwrap().text().await.unwrap();
        for line in lines {
            assert!(metrics.contains(line), "{line} not in:\n{metrics}");
        }
    }

    pub fn tenant(&self, name: &str) -> Arc<tenants::Tenant> {
        self.tenancy
            .tenants()
            .into_iter()
            .find(|t| t.name == name)
            .unwrap()
    }

    pub async fn snapshot(&self) -> BTreeMap<String, String> {
        let mut raw = self.server.raw().await;
        let mut out = BTreeMap::new();
        for key in crate::common::keys(&mut raw).await {
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
