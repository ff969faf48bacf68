//! Why the tenants could not be loaded, connected or provisioned.

use redis_sessions::Error;
use std::path::PathBuf;

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
    #[error("on node {node}: {source}")]
    OnNode {
        /// `HOST:PORT` of the cluster node.
        node: String,
        source: Box<TenantsError>,
    },
    #[error("ACL SETUSER {user}: {source}")]
    Provision {
        user: String,
        source: redis::RedisError,
    },
    #[error("ACL SAVE: {0}")]
    AclSave(redis::RedisError),
    #[error(
        "loading the session scripts through {url}: {source} (its user must be allowed SCRIPT \
         LOAD: tenants' users may not run their own Lua, the host loads it)"
    )]
    Scripts {
        url: String,
        source: redis_sessions::capability::ScriptLoadError,
    },
    #[error("{0:?} is not a Redis URL: {1}")]
    Url(String, url::ParseError),
    #[error("{url:?} is not a Redis Cluster URL: {source}")]
    ClusterUrl {
        url: String,
        source: redis::RedisError,
    },
}
