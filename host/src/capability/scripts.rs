//! Which Lua reaches Redis for a tenant: only scripts the host registered. Redis runs Lua
//! on its one thread, outside `maxmemory` and until `SCRIPT KILL`, so a tenant's own Lua
//! could freeze or bloat Redis for everyone; ACLs cannot stop that.
//!
//! [`ScriptGate`] wraps a tenant's connection: `EVAL` is refused (`denied`), `EVALSHA` passes
//! only for a registered script. The host loads the registered scripts itself, through the
//! operator's connection, at start and again whenever Redis answers `NOSCRIPT` (after a
//! restart or `SCRIPT FLUSH`), so a tenant's ACL user needs neither `+eval` nor `+script`.

use super::backend::{Backend, BackendFuture, Command, pass_on_to_inner};
use super::cluster::cluster_nodes;
use super::cluster_url::{is_cluster_url, redact_cluster_url};
use super::server::{RedisTimeouts, connect};
use crate::bindings::redis::{Error, Reply};
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Arc;

/// The operator's connection, which loads the scripts: to one Redis, or to every node of a
/// Redis Cluster, replicas included, so that a replica promoted by a failover has them.
#[derive(Clone)]
pub enum ScriptLoader {
    Server(ConnectionManager),
    /// The cluster's URL: its nodes are listed afresh at each load.
    Cluster(String),
}

impl std::fmt::Debug for ScriptLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Server(_) => f.write_str("ScriptLoader::Server"),
            Self::Cluster(url) => {
                let url = redact_cluster_url(url).unwrap_or_default();
                write!(f, "ScriptLoader::Cluster({url})")
            }
        }
    }
}

/// Why scripts could not be loaded, and on which node of a cluster.
#[derive(Debug, thiserror::Error)]
#[error("{}{source}", node.as_ref().map(|n| format!("on node {n}: ")).unwrap_or_default())]
pub struct ScriptLoadError {
    /// `HOST:PORT` of the cluster node that failed.
    pub node: Option<String>,
    pub source: redis::RedisError,
}

impl From<redis::RedisError> for ScriptLoadError {
    fn from(source: redis::RedisError) -> Self {
        Self { node: None, source }
    }
}

impl ScriptLoader {
    /// Connects to a server URL, or checks that a `redis+cluster://` one answers.
    pub async fn connect(url: &str) -> Result<Self, ScriptLoadError> {
        Ok(if is_cluster_url(url) {
            cluster_nodes(url).await?;
            Self::Cluster(url.to_owned())
        } else {
            Self::Server(connect(url, RedisTimeouts::default()).await?)
        })
    }

    /// Loads `sources`; their SHA1s as Redis reports them, in order. On a cluster, on
    /// every node not marked failing.
    async fn load(&self, sources: &[&str]) -> Result<Vec<String>, ScriptLoadError> {
        match self {
            Self::Server(conn) => Ok(load_each(&mut conn.clone(), sources).await?),
            Self::Cluster(url) => {
                let mut shas = Vec::new();
                for node in cluster_nodes(url).await? {
                    if node.failing {
                        continue;
                    }
                    let on_node = |source| ScriptLoadError {
                        node: Some(node.address.clone()),
                        source,
                    };
                    let mut conn = connect(&node.url, RedisTimeouts::default())
                        .await
                        .map_err(on_node)?;
                    shas = load_each(&mut conn, sources).await.map_err(on_node)?;
                }
                Ok(shas)
            }
        }
    }
}

async fn load_each(
    conn: &mut ConnectionManager,
    sources: &[&str],
) -> Result<Vec<String>, redis::RedisError> {
    let mut shas = Vec::with_capacity(sources.len());
    for source in sources {
        shas.push(
            redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(source)
                .query_async(conn)
                .await?,
        );
    }
    Ok(shas)
}

/// The scripts one tenant may run, by SHA1 (lowercase hex), and the connection that
/// loads them.
pub struct ScriptRegistry {
    scripts: HashMap<String, String>,
    loader: ScriptLoader,
}

impl std::fmt::Debug for ScriptRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptRegistry")
            .field("scripts", &self.scripts.len())
            .finish_non_exhaustive()
    }
}

impl ScriptRegistry {
    /// Loads the built-in session scripts and `extra` into Redis through `loader` (a
    /// connection allowed `SCRIPT LOAD`), and registers them by the SHA1 Redis reports.
    pub async fn load(
        loader: ScriptLoader,
        extra: impl IntoIterator<Item = String>,
    ) -> Result<Self, ScriptLoadError> {
        let sources: Vec<String> = redis_sessions_core::scripts::ALL
            .iter()
            .map(|s| s.source.to_owned())
            .chain(extra)
            .collect();
        let shas = loader
            .load(&sources.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        let scripts = shas
            .into_iter()
            .map(|sha| sha.to_ascii_lowercase())
            .zip(sources)
            .collect();
        Ok(Self { scripts, loader })
    }

    /// Whether `sha` (any case) names a registered script.
    pub fn contains(&self, sha: &[u8]) -> bool {
        std::str::from_utf8(sha).is_ok_and(|s| self.scripts.contains_key(&s.to_ascii_lowercase()))
    }

    /// How many scripts are registered.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Whether none is (never: the built-in scripts always are).
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Loads every registered script again (Redis forgot them).
    async fn reload(&self) -> Result<(), Error> {
        let sources: Vec<&str> = self.scripts.values().map(String::as_str).collect();
        self.loader
            .load(&sources)
            .await
            .map_err(|e| Error::Unavailable(format!("reloading the session scripts: {e}")))?;
        tracing::info!(
            scripts = self.scripts.len(),
            "Redis had no scripts: reloaded"
        );
        Ok(())
    }
}

/// A tenant's backend behind the script rules of [`ScriptRegistry`].
#[derive(Debug)]
pub struct ScriptGate<B> {
    inner: B,
    registry: Arc<ScriptRegistry>,
}

impl<B> ScriptGate<B> {
    pub fn new(inner: B, registry: Arc<ScriptRegistry>) -> Self {
        Self { inner, registry }
    }

    /// Refuses tenant-supplied Lua before it reaches Redis.
    fn check(&self, command: &[Vec<u8>]) -> Result<(), Error> {
        let Some(name) = command.first() else {
            return Ok(());
        };
        if name.eq_ignore_ascii_case(b"EVAL") {
            return Err(Error::Denied(
                "EVAL is not allowed: a tenant runs only registered scripts, by EVALSHA".into(),
            ));
        }
        if name.eq_ignore_ascii_case(b"EVALSHA") {
            let sha = command.get(1).map_or(&[][..], Vec::as_slice);
            if !self.registry.contains(sha) {
                return Err(Error::Denied(format!(
                    "script {} is not registered for this tenant",
                    String::from_utf8_lossy(sha)
                )));
            }
        }
        Ok(())
    }
}

fn is_noscript(e: &Error) -> bool {
    matches!(e, Error::Server(m) if m.starts_with("NOSCRIPT"))
}

impl<B: Backend> Backend for ScriptGate<B> {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        Box::pin(async move {
            self.check(&command)?;
            match self.inner.execute(command.clone()).await {
                Err(e) if is_noscript(&e) => {
                    self.registry.reload().await?;
                    self.inner.execute(command).await
                }
                result => result,
            }
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        Box::pin(async move {
            for command in &commands {
                self.check(command)?;
            }
            let result = self.inner.batch(commands, atomic).await;
            // Other commands of the batch may have run: it is not sent again. The scripts
            // are there for the component's next try.
            if let Err(e) = &result
                && is_noscript(e)
            {
                self.registry.reload().await?;
            }
            result
        })
    }

    pass_on_to_inner!();
}
