//! Where the capability's commands go: the [`Backend`] trait, implemented by a Redis
//! server connection ([`super::server`]) and by the embedded store ([`super::embedded`]).

use crate::bindings::redis::{Error, Reply};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One command: its name and arguments, binary safe.
pub type Command = Vec<Vec<u8>>;

/// Redis keys, binary safe.
pub type Keys = Vec<Vec<u8>>;

/// What a backend call returns: boxed so backends can sit behind one `dyn Backend`.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// How many replicas must have each write, and how long to wait for them
/// ([`super::ReplicaWait`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaAcks {
    /// At least 1.
    pub replicas: u16,
    /// At least 1 ms (`WAIT` with 0 would wait forever).
    pub timeout: Duration,
}

impl ReplicaAcks {
    /// `WAIT`'s timeout argument.
    pub fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)
    }
}

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

    /// Whether it has replicas to wait for (Redis may; the embedded store has none).
    fn can_wait_for_replicas(&self) -> bool {
        true
    }

    /// `WAIT replicas timeout_ms` where the keys `written` went: on one Redis, once, on
    /// the connection the writes took; on a cluster, on each of their masters. The fewest
    /// replicas that acknowledged them.
    fn wait_for_replicas(&self, written: Keys, acks: ReplicaAcks) -> BackendFuture<'_, i64> {
        let _ = written;
        let wait = vec![
            b"WAIT".to_vec(),
            acks.replicas.to_string().into_bytes(),
            acks.timeout_ms().to_string().into_bytes(),
        ];
        Box::pin(async move {
            match self.execute(wait).await? {
                Reply::Integer(n) => Ok(n),
                other => Err(Error::UnsupportedReply(format!("WAIT answered {other:?}"))),
            }
        })
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

    fn can_wait_for_replicas(&self) -> bool {
        (**self).can_wait_for_replicas()
    }

    fn wait_for_replicas(&self, written: Keys, acks: ReplicaAcks) -> BackendFuture<'_, i64> {
        (**self).wait_for_replicas(written, acks)
    }
}

/// The [`Backend`] methods a wrapping backend passes on to its `self.inner` unchanged.
macro_rules! pass_on_to_inner {
    () => {
        fn is_cluster(&self) -> bool {
            self.inner.is_cluster()
        }

        fn can_wait_for_replicas(&self) -> bool {
            self.inner.can_wait_for_replicas()
        }

        fn wait_for_replicas(
            &self,
            written: super::backend::Keys,
            acks: super::backend::ReplicaAcks,
        ) -> super::backend::BackendFuture<'_, i64> {
            self.inner.wait_for_replicas(written, acks)
        }
    };
}
pub(super) use pass_on_to_inner;
