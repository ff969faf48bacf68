//! Writes acknowledged only once replicated: [`ReplicaWait`] follows every write with
//! Redis' `WAIT`, so a call succeeds once `replicas` replicas have its writes, and a
//! failover that promotes one of them loses none. Otherwise Redis replicates
//! asynchronously: a write acknowledged just before its master dies can be lost.

use super::backend::{Backend, BackendFuture, Command, ReplicaAcks, pass_on_to_inner};
use super::cluster::keys;
use crate::bindings::redis::{Error, Reply};

/// A backend whose writes wait for [`ReplicaAcks`].
#[derive(Debug)]
pub struct ReplicaWait<B> {
    inner: B,
    acks: ReplicaAcks,
}

impl<B> ReplicaWait<B> {
    pub fn new(inner: B, acks: ReplicaAcks) -> Self {
        Self { inner, acks }
    }
}

/// The allowed commands that never write: nothing to wait for after them.
const READS: [&str; 3] = ["PING", "ZCOUNT", "HMGET"];

/// The first key of each command that may write (a script may: any script).
fn written(commands: &[Command]) -> Vec<Vec<u8>> {
    commands
        .iter()
        .filter(|c| {
            c.first().is_some_and(|name| {
                !READS
                    .iter()
                    .any(|r| name.eq_ignore_ascii_case(r.as_bytes()))
            })
        })
        .filter_map(|c| keys(c).first().cloned())
        .collect()
}

impl<B: Backend> ReplicaWait<B> {
    /// Waits for the replicas of what `written` names; an error when too few acknowledged.
    async fn wait(&self, written: Vec<Vec<u8>>) -> Result<(), Error> {
        if written.is_empty() {
            return Ok(());
        }
        let (replicas, ms) = (self.acks.replicas, self.acks.timeout_ms());
        let acknowledged = self.inner.wait_for_replicas(written, self.acks).await?;
        if acknowledged < i64::from(replicas) {
            return Err(Error::Server(format!(
                "WAIT {replicas}: {acknowledged} replicas acknowledged the write within {ms} ms; \
                 it is done on the master, but a failover could lose it"
            )));
        }
        Ok(())
    }
}

impl<B: Backend> Backend for ReplicaWait<B> {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        Box::pin(async move {
            let written = written(std::slice::from_ref(&command));
            let reply = self.inner.execute(command).await?;
            self.wait(written).await?;
            Ok(reply)
        })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        Box::pin(async move {
            let written = written(&commands);
            let replies = self.inner.batch(commands, atomic).await?;
            self.wait(written).await?;
            Ok(replies)
        })
    }

    pass_on_to_inner!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Command {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn scripts_and_writes_are_waited_for_reads_are_not() {
        let batch = [
            cmd(&["PING"]),
            cmd(&["ZCOUNT", "z", "1", "+inf"]),
            cmd(&["hmget", "h", "id"]),
            cmd(&["EVALSHA", "abc", "2", "k1", "k2", "a"]),
            cmd(&["ZADD", "z2", "1", "m"]),
        ];
        assert_eq!(written(&batch), [b"k1".to_vec(), b"z2".to_vec()]);
        assert!(written(&batch[..3]).is_empty());
    }
}
