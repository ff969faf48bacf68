//! The tenants file: its `[[tenant]]` tables, and the checks that catch, before anything
//! connects, what would weaken one tenant's isolation from another's or Redis'.

use super::error::TenantsError;
use redis_sessions::limits::Limits;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A password shorter than this could be guessed by anyone who can reach Redis.
pub const MIN_PASSWORD_LEN: usize = 16;

/// The tenants file: `[[tenant]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsFile {
    #[serde(rename = "tenant", default)]
    tenants: Vec<TenantConfig>,
}

/// One `[[tenant]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// A name for logs and metrics: `[A-Za-z0-9_-]+`.
    pub name: String,
    /// Hashes of the tenant's API keys, `sha256:HEX` (see [`hash_key`]); never the keys.
    pub api_keys: Vec<String>,
    /// The key namespace: `[A-Za-z0-9_-]+`, distinct per tenant.
    pub namespace: String,
    /// The key layout's shard count (see [`redis_sessions::SessionsBuilder::shards`]); default 0
    /// (node's layout) on one Redis, [`redis_sessions::DEFAULT_CLUSTER_SHARDS`] on a Redis Cluster.
    pub shards: Option<u16>,
    /// The tenant's own component (of the session-store world); relative paths are from
    /// the tenants file's folder. Default: the built-in component.
    pub component: Option<PathBuf>,
    /// Lua scripts the tenant's component may run by EVALSHA, besides the built-in
    /// session scripts (relative paths as `component`'s). No other Lua reaches Redis.
    #[serde(default)]
    pub scripts: Vec<PathBuf>,
    /// The Redis ACL user the tenant's connections authenticate as: its own.
    pub redis_user: String,
    /// Its password, inline...
    pub redis_password: Option<String>,
    /// ...or from this environment variable.
    pub redis_password_env: Option<String>,
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `[tenant.limits]`; unset fields keep [`Limits::tenant_default`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub memory_mib: Option<usize>,
    /// Memory of all the tenant's instances together (default 1024).
    pub memory_total_mib: Option<usize>,
    pub cpu_ms: Option<u64>,
    pub instances: Option<usize>,
    /// Wall-clock time per call (default 5000).
    pub deadline_ms: Option<u64>,
    /// Redis commands per call (default 1000).
    pub commands: Option<u64>,
    /// Requests a second, on average (default: no limit); beyond, 429 with Retry-After.
    pub requests_per_second: Option<NonZeroU32>,
    /// Requests at once above that rate (default: `requests_per_second`).
    pub burst: Option<NonZeroU32>,
}

impl LimitsConfig {
    /// The request rate limit, `(per second, burst)`, if any.
    pub fn rate(&self) -> Option<(NonZeroU32, NonZeroU32)> {
        self.requests_per_second
            .map(|rps| (rps, self.burst.unwrap_or(rps)))
    }

    pub fn limits(&self) -> Limits {
        let d = Limits::tenant_default();
        Limits {
            memory_bytes: self.memory_mib.map_or(d.memory_bytes, |m| m << 20),
            cpu_time: self.cpu_ms.map_or(d.cpu_time, Duration::from_millis),
            max_instances: self.instances.unwrap_or(d.max_instances),
            deadline: self.deadline_ms.map(Duration::from_millis).or(d.deadline),
            max_commands: self.commands.or(d.max_commands),
            total_memory_bytes: self
                .memory_total_mib
                .map(|m| m << 20)
                .or(d.total_memory_bytes),
        }
    }
}

impl TenantConfig {
    /// The password, from the file or the environment.
    pub fn password(&self) -> Result<String, TenantsError> {
        let password = match (&self.redis_password, &self.redis_password_env) {
            (Some(p), None) => p.clone(),
            (None, Some(var)) => std::env::var(var).map_err(|_| TenantsError::MissingPassword {
                tenant: self.name.clone(),
                var: var.clone(),
            })?,
            _ => {
                return Err(self
                    .invalid("give exactly one of redis_password and redis_password_env".into()));
            }
        };
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(self.invalid(format!(
                "its Redis password must have at least {MIN_PASSWORD_LEN} characters"
            )));
        }
        Ok(password)
    }

    /// Its shard count on one Redis (`cluster` false) or a Redis Cluster.
    pub fn shards(&self, cluster: bool) -> u16 {
        self.shards
            .unwrap_or_else(|| redis_sessions::default_shards(cluster))
    }

    fn invalid(&self, what: String) -> TenantsError {
        TenantsError::Invalid(format!("tenant {}: {what}", self.name))
    }

    /// The tenant's extra scripts' sources.
    pub fn script_sources(&self) -> Result<Vec<String>, TenantsError> {
        self.scripts
            .iter()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map_err(|e| self.invalid(format!("script {}: {e}", path.display())))
            })
            .collect()
    }
}

/// `sha256:` and the hex SHA-256 of an API key: what the tenants file stores.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn plain_name(tenant: &str, what: &str, s: &str) -> Result<(), TenantsError> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(TenantsError::Invalid(format!(
            "tenant {tenant}: {what} {s:?} must be [A-Za-z0-9_-]+"
        )))
    }
}

/// Reads and checks a tenants file. Component and script paths come back absolute.
pub fn load(path: &Path) -> Result<Vec<TenantConfig>, TenantsError> {
    let text = std::fs::read_to_string(path).map_err(|source| TenantsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: TenantsFile = toml::from_str(&text).map_err(|source| TenantsError::Parse {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen = Seen::default();
    let mut tenants = Vec::with_capacity(file.tenants.len());
    for mut t in file.tenants {
        check(&t, &mut seen)?;
        t.component = t.component.map(|c| base.join(c));
        t.scripts = t.scripts.iter().map(|s| base.join(s)).collect();
        if let Some(component) = &t.component
            && !component.is_file()
        {
            return Err(t.invalid(format!("component {} is not a file", component.display())));
        }
        t.script_sources()?;
        tenants.push(t);
    }
    if tenants.is_empty() {
        return Err(TenantsError::Invalid(format!(
            "{}: no [[tenant]]",
            path.display()
        )));
    }
    Ok(tenants)
}

/// What earlier tenants of the file took, each with the tenant that took it.
#[derive(Default)]
struct Seen {
    names: HashMap<String, String>,
    namespaces: HashMap<String, String>,
    users: HashMap<String, String>,
    keys: HashMap<String, String>,
}

/// Takes `value` for `tenant`, or says which tenant already has it.
fn take(
    seen: &mut HashMap<String, String>,
    value: &str,
    tenant: &str,
    what: &str,
) -> Result<(), TenantsError> {
    match seen.insert(value.to_owned(), tenant.to_owned()) {
        Some(other) => Err(TenantsError::Invalid(format!(
            "tenant {tenant}: {what} is tenant {other}'s already"
        ))),
        None => Ok(()),
    }
}

fn check(t: &TenantConfig, seen: &mut Seen) -> Result<(), TenantsError> {
    let name = &t.name;
    plain_name(name, "name", name)?;
    plain_name(name, "namespace", &t.namespace)?;
    plain_name(name, "redis_user", &t.redis_user)?;
    take(&mut seen.names, name, name, "the name")?;
    take(
        &mut seen.namespaces,
        &t.namespace,
        name,
        &format!("namespace {}", t.namespace),
    )?;
    // `provision` resets the user: a shared user would get the last tenant's key pattern,
    // and `default` is the administrator's.
    if t.redis_user == "default" {
        return Err(
            t.invalid("redis_user must not be \"default\" (Redis' administrator user)".into())
        );
    }
    take(
        &mut seen.users,
        &t.redis_user,
        name,
        &format!("redis_user {}", t.redis_user),
    )?;
    if t.api_keys.is_empty() {
        return Err(t.invalid("it has no api_keys".into()));
    }
    for k in &t.api_keys {
        let hex = k.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(t.invalid(format!(
                "api key {k:?} is not a sha256:HEX hash (make one with `redis-sessions tenants hash-key KEY`)"
            )));
        }
        take(&mut seen.keys, &k.to_ascii_lowercase(), name, "an api key")?;
    }
    if let Some(shards) = t.shards.filter(|&n| n > redis_sessions::MAX_SHARDS) {
        return Err(t.invalid(format!(
            "shards must be 0 (node's layout) to {}, not {shards}",
            redis_sessions::MAX_SHARDS
        )));
    }
    t.password()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "a-password-of-16+";

    /// A folder with a tenants file of `tenants` and the files it names.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("rs-tenants-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("acme.wasm"), b"").unwrap();
            std::fs::write(dir.join("extra.lua"), "return 1").unwrap();
            Self(dir)
        }

        fn load(&self, tenants: &str) -> Result<Vec<TenantConfig>, TenantsError> {
            let path = self.0.join("tenants.toml");
            std::fs::write(&path, tenants).unwrap();
            load(&path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tenant(name: &str, fields: &str) -> String {
        let key = hash_key(name);
        let mut t = format!(
            "[[tenant]]\nname = \"{name}\"\napi_keys = [\"{key}\"]\nnamespace = \"{name}\"\n\
             redis_user = \"{name}\"\nredis_password = \"{PW}\"\n"
        );
        // Later keys replace earlier ones: drop the defaults a case overrides.
        for line in fields.lines() {
            if let Some((field, _)) = line.split_once(" = ") {
                t = t
                    .lines()
                    .filter(|l| !l.starts_with(&format!("{field} = ")))
                    .map(|l| format!("{l}\n"))
                    .collect();
            }
        }
        t + fields + "\n"
    }

    #[test]
    fn a_good_tenants_file_loads() {
        let dir = Dir::new("good");
        let t = dir
            .load(&tenant(
                "acme",
                "component = \"acme.wasm\"\nscripts = [\"extra.lua\"]\n[tenant.limits]\nmemory_mib = 16\ncpu_ms = 50\ncommands = 10",
            ))
            .unwrap();
        assert_eq!(
            t[0].component.as_deref(),
            Some(dir.0.join("acme.wasm").as_path())
        );
        assert_eq!(t[0].script_sources().unwrap(), ["return 1"]);
        let limits = t[0].limits.limits();
        assert_eq!(
            (
                limits.memory_bytes,
                limits.cpu_time,
                limits.max_commands,
                limits.deadline
            ),
            (
                16 << 20,
                Duration::from_millis(50),
                Some(10),
                Some(Duration::from_secs(5))
            )
        );
    }

    /// Each mistake is one line naming the tenant.
    #[test]
    fn every_mistake_is_one_line_naming_the_tenant() {
        let dir = Dir::new("bad");
        let a = tenant("a", "");
        let cases = [
            (
                a.clone() + &tenant("b", "redis_user = \"a\""),
                "tenant b: redis_user a is tenant a's already",
            ),
            (
                a.clone() + &tenant("b", "namespace = \"a\""),
                "tenant b: namespace a is tenant a's already",
            ),
            (
                a.clone() + &tenant("a", "namespace = \"a2\"\nredis_user = \"a2\""),
                "tenant a: the name is tenant a's already",
            ),
            (
                tenant("a", "redis_user = \"default\""),
                "tenant a: redis_user must not be \"default\"",
            ),
            (
                tenant("a", "redis_password = \"short\""),
                "tenant a: its Redis password must have at least 16",
            ),
            (
                tenant("a", "redis_password = \"\""),
                "tenant a: its Redis password must have at least 16",
            ),
            (
                tenant("a", "component = \"missing.wasm\""),
                "tenant a: component",
            ),
            (
                tenant("a", "scripts = [\"missing.lua\"]"),
                "tenant a: script",
            ),
            (
                tenant("a", "api_keys = [\"plain\"]"),
                "tenant a: api key \"plain\" is not a sha256:HEX hash",
            ),
            (tenant("a", "api_keys = []"), "tenant a: it has no api_keys"),
            (
                tenant("a", "shards = 3845"),
                "tenant a: shards must be 0 (node's layout) to 3844, not 3845",
            ),
            (
                tenant("a", "namespace = \"a:b\""),
                "tenant a: namespace \"a:b\" must be",
            ),
            (
                tenant("a", "redis_password_env = \"RS_TEST_NO_SUCH_VAR\""),
                "tenant a: give exactly one of",
            ),
        ];
        for (file, expected) in cases {
            let message = dir.load(&file).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{message:?} for\n{file}");
            assert_eq!(message.lines().count(), 1, "{message}");
        }
        let message = dir
            .load(&(a + &tenant("b", "api_keys = [\"")))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(message.contains("tenants.toml"), "{message}");
    }
}
