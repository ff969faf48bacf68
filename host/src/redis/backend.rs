//! Where the capability's commands go: the [`Backend`] trait, implemented by a Redis
//! server connection ([`super::server`]) and by the embedded store ([`super::embedded`]).

use crate::bindings::redis::{Error, Reply};
use std::future::Future;
use std::pin::Pin;

/// One command: its name and arguments, binary safe.
pub type Command = Vec<Vec<u8>>;

/// What a backend call returns: boxed so backends can sit behind one `dyn Backend`.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A store the `redis` capability sends commands to. Commands arrive already checked
/// against the allowlist; replies and errors are the WIT's, mapped exactly as Redis'
/// would be (so the component cannot tell the backends apart).
pub trait Backend: Send + Sync + 'static {
    /// Runs one command.
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply>;

    /// Runs `commands` in one round trip, as MULTI/EXEC when `atomic`. Any command's error
    /// fails the whole batch.
    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>>;

    /// A Redis Cluster, where node's layout cannot work (its scripts' keys span slots):
    /// sessions on it default to the sharded layout.
    fn is_cluster(&self) -> bool {
        false
    }
}

/// A backend shared with its owner (who snapshots an embedded store, say).
impl<B: Backend> Backend for std::sync::Arc<B> {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        (**self).execute(command)
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        (**self).batch(commands, atomic)
    }

    fn is_cluster(&self) -> bool {
        (**self).is_cluster()
    }
}
