//! Which Lua reaches Redis for a tenant: only scripts the host registered. Redis runs Lua
//! on its one thread, outside `maxmemory` and until `SCRIPT KILL`, so a tenant's own Lua
//! could freeze or bloat Redis for everyone; ACLs cannot stop that.
//!
//! [`ScriptGate`] wraps a tenant's connection: `EVAL` is refused (`denied`), `EVALSHA` passes
//! only for a registered script. The host loads the registered scripts itself, through the
//! operator's connection, at start and again whenever Redis answers `NOSCRIPT` (after a
//! restart or `SCRIPT FLUSH`), so a tenant's ACL user needs neither `+eval` nor `+script`.

use super::backend::{Backend, BackendFuture, Command};
use crate::bindings::redis::{Error, Reply};
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Arc;

/// The scripts one tenant may run, by SHA1 (lowercase hex), and the connection that
/// loads them.
pub struct ScriptRegistry {
    scripts: HashMap<String, String>,
    loader: ConnectionManager,
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
        loader: ConnectionManager,
        extra: impl IntoIterator<Item = String>,
    ) -> Result<Self, redis::RedisError> {
        let sources = redis_sessions_core::scripts::ALL
            .iter()
            .map(|s| s.source.to_owned())
            .chain(extra);
        let mut scripts = HashMap::new();
        let mut conn = loader.clone();
        for source in sources {
            let sha: String = script_load(&mut conn, &source).await?;
            scripts.insert(sha.to_ascii_lowercase(), source);
        }
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
        let mut conn = self.loader.clone();
        for source in self.scripts.values() {
            script_load(&mut conn, source)
                .await
                .map_err(|e| Error::Unavailable(format!("reloading the session scripts: {e}")))?;
        }
        tracing::info!(
            scripts = self.scripts.len(),
            "Redis had no scripts: reloaded"
        );
        Ok(())
    }
}

async fn script_load(
    conn: &mut ConnectionManager,
    source: &str,
) -> Result<String, redis::RedisError> {
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(source)
        .query_async(conn)
        .await
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

    fn is_cluster(&self) -> bool {
        self.inner.is_cluster()
    }
}
