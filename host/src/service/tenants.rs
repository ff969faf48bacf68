//! Several tenants in one host: the tenants file, API-key checks, per-tenant session stores
//! ([`Tenancy`]) and the Redis ACL users that confine them.
//!
//! Isolation in depth: (1) each tenant's connections authenticate as its own Redis ACL
//! user, allowed only `NS:*` keys and the commands the session logic needs — Redis checks
//! this inside Lua scripts too, so not even EVAL with undeclared keys gets out; (2) the
//! host refuses any command outside [`crate::redis::commands`]' allowlist before it reaches
//! Redis; (3) every call runs under the tenant's memory and CPU limits, and a trap or a
//! limit hit discards only that instance.

use crate::limits::Limits;
use crate::runtime::{ComponentSource, Runtime, RuntimeOptions};
use crate::{Error, Sessions};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Why the tenants could not be loaded, connected or provisioned. Each message is one line
/// naming the file or the tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenantsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    /// The file parsed but says something that cannot work (the message names the tenant).
    #[error("{0}")]
    Invalid(String),
    #[error("tenant {tenant}: environment variable {var} is not set")]
    MissingPassword { tenant: String, var: String },
    #[error("tenant {tenant}: {source}")]
    Component {
        tenant: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("tenant {tenant}: {source}{hint}")]
    Connect {
        tenant: String,
        source: Error,
        hint: &'static str,
    },
    #[error("cannot connect to Redis at {url}: {source}")]
    AdminConnect {
        url: String,
        source: redis::RedisError,
    },
    #[error("ACL SETUSER {user}: {source}")]
    Provision {
        user: String,
        source: redis::RedisError,
    },
}

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
    /// The tenant's own component (of the session-store world); relative paths are from
    /// the tenants file's folder. Default: the built-in component.
    pub component: Option<PathBuf>,
    /// The Redis ACL user the tenant's connections authenticate as.
    pub redis_user: String,
    /// Its password, inline...
    pub redis_password: Option<String>,
    /// ...or from this environment variable.
    pub redis_password_env: Option<String>,
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `[tenant.limits]`; unset fields keep [`Limits::default`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub memory_mib: Option<usize>,
    pub cpu_ms: Option<u64>,
    pub instances: Option<usize>,
}

impl LimitsConfig {
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            memory_bytes: self.memory_mib.map_or(d.memory_bytes, |m| m << 20),
            cpu_time: self.cpu_ms.map_or(d.cpu_time, Duration::from_millis),
            max_instances: self.instances.unwrap_or(d.max_instances),
        }
    }
}

impl TenantConfig {
    /// The password, from the file or the environment.
    pub fn password(&self) -> Result<String, TenantsError> {
        match (&self.redis_password, &self.redis_password_env) {
            (Some(p), None) => Ok(p.clone()),
            (None, Some(var)) => std::env::var(var).map_err(|_| TenantsError::MissingPassword {
                tenant: self.name.clone(),
                var: var.clone(),
            }),
            _ => Err(TenantsError::Invalid(format!(
                "tenant {}: give exactly one of redis_password and redis_password_env",
                self.name
            ))),
        }
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

fn plain_name(what: &str, s: &str) -> Result<(), TenantsError> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(TenantsError::Invalid(format!(
            "{what} {s:?} must be [A-Za-z0-9_-]+"
        )))
    }
}

/// Reads and checks a tenants file. Component paths come back absolute.
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
    let mut namespaces = HashMap::new();
    let mut keys = HashMap::new();
    let mut tenants = Vec::with_capacity(file.tenants.len());
    for mut t in file.tenants {
        plain_name("tenant name", &t.name)?;
        plain_name("namespace", &t.namespace)?;
        plain_name("redis_user", &t.redis_user)?;
        if let Some(other) = namespaces.insert(t.namespace.clone(), t.name.clone()) {
            return Err(TenantsError::Invalid(format!(
                "tenants {other} and {} share namespace {}",
                t.name, t.namespace
            )));
        }
        if t.api_keys.is_empty() {
            return Err(TenantsError::Invalid(format!(
                "tenant {} has no api_keys",
                t.name
            )));
        }
        for k in &t.api_keys {
            let hex = k.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(TenantsError::Invalid(format!(
                    "tenant {}: api key {k:?} is not a sha256:HEX hash (make one with `redis-sessions tenants hash-key KEY`)",
                    t.name
                )));
            }
            if let Some(other) = keys.insert(k.to_ascii_lowercase(), t.name.clone()) {
                return Err(TenantsError::Invalid(format!(
                    "tenants {other} and {} share an api key",
                    t.name
                )));
            }
        }
        t.password()?;
        t.component = t.component.map(|c| base.join(c));
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

/// Percent-encodes a URL userinfo part.
fn userinfo(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `base` with the tenant's ACL user and password in place of any credentials.
pub fn tenant_url(base: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("redis", base));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!(
        "{scheme}://{}:{}@{host}",
        userinfo(user),
        userinfo(password)
    )
}

/// One tenant, ready to serve.
#[derive(Debug)]
pub struct Tenant {
    pub name: String,
    pub sessions: Sessions,
    /// Authenticated HTTP requests.
    pub requests: AtomicU64,
}

impl Tenant {
    pub fn new(name: impl Into<String>, sessions: Sessions) -> Self {
        Self {
            name: name.into(),
            sessions,
            requests: Default::default(),
        }
    }
}

/// Whom the service serves: one implicit tenant (no API keys), or tenants by API key.
#[derive(Debug, Clone)]
pub enum Tenancy {
    Single(Arc<Tenant>),
    /// Tenants by the hash of their API keys (`sha256:HEX`).
    Keyed(Arc<HashMap<String, Arc<Tenant>>>),
}

impl Tenancy {
    /// Tenants from `(key hashes, tenant)` pairs, as [`connect`] gives them.
    pub fn keyed(tenants: Vec<(Vec<String>, Arc<Tenant>)>) -> Self {
        let map = tenants
            .into_iter()
            .flat_map(|(keys, t)| keys.into_iter().map(move |k| (k, t.clone())))
            .collect();
        Tenancy::Keyed(Arc::new(map))
    }

    /// Every tenant once, by name.
    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        match self {
            Tenancy::Single(t) => vec![t.clone()],
            Tenancy::Keyed(map) => {
                let mut by_name: Vec<Arc<Tenant>> = Vec::new();
                for t in map.values() {
                    if !by_name.iter().any(|x| Arc::ptr_eq(x, t)) {
                        by_name.push(t.clone());
                    }
                }
                by_name.sort_by(|a, b| a.name.cmp(&b.name));
                by_name
            }
        }
    }

    /// The tenant an `Authorization` header value names; without tenants, the one tenant.
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<Arc<Tenant>> {
        match self {
            Tenancy::Single(t) => Some(t.clone()),
            Tenancy::Keyed(map) => authorization
                .and_then(|v| v.strip_prefix("Bearer "))
                .and_then(|key| map.get(&hash_key(key.trim())))
                .cloned(),
        }
    }
}

impl From<Sessions> for Tenancy {
    fn from(sessions: Sessions) -> Self {
        Tenancy::Single(Arc::new(Tenant::new("default", sessions)))
    }
}

/// Connects every tenant to Redis at `base_url` as its ACL user. Tenants on the built-in
/// component share one compiled runtime.
pub async fn connect(
    tenants: &[TenantConfig],
    base_url: &str,
) -> Result<Vec<(Vec<String>, Arc<Tenant>)>, TenantsError> {
    let runtime = |tenant: &str, options: &RuntimeOptions| {
        Runtime::new(options)
            .map(Arc::new)
            .map_err(|e| TenantsError::Component {
                tenant: tenant.to_owned(),
                source: e.into_boxed_dyn_error(),
            })
    };
    let builtin = runtime("(built-in)", &RuntimeOptions::default())?;
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        let runtime = match &t.component {
            None => builtin.clone(),
            Some(path) => runtime(
                &t.name,
                &RuntimeOptions {
                    component: ComponentSource::File(path.clone()),
                    ..Default::default()
                },
            )?,
        };
        let url = tenant_url(base_url, &t.redis_user, &t.password()?);
        let sessions = Sessions::builder()
            .runtime(runtime)
            .namespace(&t.namespace)
            .limits(t.limits.limits())
            .connect(&url)
            .await
            .map_err(|source| TenantsError::Connect {
                tenant: t.name.clone(),
                hint: match source {
                    Error::Connect { .. } => {
                        ". Is its ACL user provisioned? `redis-sessions tenants provision`"
                    }
                    _ => "",
                },
                source,
            })?;
        let keys = t.api_keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        out.push((keys, Arc::new(Tenant::new(&t.name, sessions))));
    }
    Ok(out)
}

/// The `ACL SETUSER` arguments that confine a tenant.
pub fn acl_rules(t: &TenantConfig, password: &str) -> Vec<String> {
    let mut rules = vec![
        t.redis_user.clone(),
        "reset".into(),
        "on".into(),
        format!(">{password}"),
        format!("~{}:*", t.namespace),
        "resetchannels".into(),
        "-@all".into(),
    ];
    rules.extend(crate::redis::commands::acl().map(|c| format!("+{}", c.to_ascii_lowercase())));
    rules
}

/// Creates or updates every tenant's ACL user on the Redis at `admin_url` (connected as a
/// user allowed to run ACL SETUSER). Returns one line per tenant.
pub async fn provision(
    admin_url: &str,
    tenants: &[TenantConfig],
) -> Result<Vec<String>, TenantsError> {
    let admin_error = |source| TenantsError::AdminConnect {
        url: crate::redact_url(admin_url),
        source,
    };
    let client = redis::Client::open(admin_url).map_err(admin_error)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(admin_error)?;
    let mut report = Vec::with_capacity(tenants.len());
    for t in tenants {
        let rules = acl_rules(t, &t.password()?);
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&rules)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|source| TenantsError::Provision {
                user: t.redis_user.clone(),
                source,
            })?;
        report.push(format!(
            "tenant {}: ACL user {} may use keys {}:* and {} commands",
            t.name,
            t.redis_user,
            t.namespace,
            crate::redis::commands::acl().count()
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_as_sha256_hashes() {
        assert_eq!(
            hash_key("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tenant_urls_carry_the_acl_user() {
        assert_eq!(
            tenant_url("redis://127.0.0.1:6379", "acme", "p@ss:w"),
            "redis://acme:p%40ss%3Aw@127.0.0.1:6379"
        );
        assert_eq!(
            tenant_url("redis://old:pw@h:1/2", "t", "x"),
            "redis://t:x@h:1/2"
        );
    }

    #[test]
    fn a_tenants_file_is_checked() {
        let dir = std::env::temp_dir().join(format!("rs-tenants-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tenants.toml");
        let key = hash_key("k1");
        std::fs::write(
            &path,
            format!(
                r#"
[[tenant]]
name = "acme"
api_keys = ["{key}"]
namespace = "acme"
component = "acme.wasm"
redis_user = "acme"
redis_password = "pw"
[tenant.limits]
memory_mib = 16
cpu_ms = 50
"#
            ),
        )
        .unwrap();
        let t = load(&path).unwrap();
        assert_eq!(
            t[0].component.as_deref(),
            Some(dir.join("acme.wasm").as_path())
        );
        let limits = t[0].limits.limits();
        assert_eq!(
            (limits.memory_bytes, limits.cpu_time),
            (16 << 20, Duration::from_millis(50))
        );
        assert!(acl_rules(&t[0], "pw").contains(&"~acme:*".to_owned()));

        std::fs::write(&path, "[[tenant]]\nname = \"x\"\napi_keys = [\"plain\"]\nnamespace = \"x\"\nredis_user = \"x\"\nredis_password = \"p\"\n").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("hash-key"));
        std::fs::write(&path, "[[tenant]]\nname = \"x\"\napi_keys = []\nnamespace = \"a:b\"\nredis_user = \"x\"\nredis_password = \"p\"\n").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("namespace"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
