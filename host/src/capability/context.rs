//! The `redis` capability: the component's commands, checked against the allowlist, sent
//! to a [`Backend`]. The capability sees only its own context ([`RedisCtx`]), linked with a
//! private `HasData` marker as wasmtime's `wasi-keyvalue` does.

use super::backend::{Backend, Command};
use super::commands;
use crate::bindings::redis::{self as wit, Reply};
use crate::limits::{CallBudget, HostTime};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasData, Linker};

/// The `redis` side of one component instance.
pub struct RedisCtx {
    backend: Arc<dyn Backend>,
    /// Time spent awaiting the backend is the host's, not the guest's: it does not count
    /// against the call's CPU budget.
    host_time: HostTime,
    /// The call's deadline and command budget.
    pub(crate) budget: CallBudget,
}

impl std::fmt::Debug for RedisCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCtx").finish_non_exhaustive()
    }
}

impl RedisCtx {
    pub(crate) fn new(backend: Arc<dyn Backend>, host_time: HostTime, budget: CallBudget) -> Self {
        Self {
            backend,
            host_time,
            budget,
        }
    }

    /// Sends `n` commands through `send`, within the call's command budget and deadline;
    /// host time is recorded so it is not taken for guest CPU time.
    async fn send<T>(
        &mut self,
        n: usize,
        send: impl Future<Output = Result<T, wit::Error>>,
    ) -> Result<T, wit::Error> {
        if !self.budget.take(n) {
            return Err(over_limit(&self.budget));
        }
        let start = Instant::now();
        let result = match self.budget.remaining() {
            None => send.await,
            Some(left) => match tokio::time::timeout(left, send).await {
                Ok(result) => result,
                Err(_) => {
                    self.budget.expire();
                    Err(over_limit(&self.budget))
                }
            },
        };
        self.host_time.add(start.elapsed());
        result
    }
}

/// What the component gets once its call is over a limit (the call then ends as
/// `limitExceeded` whatever the component makes of it).
fn over_limit(budget: &CallBudget) -> wit::Error {
    wit::Error::Denied(budget.hit.map_or_else(
        || "the call is over its limits".to_owned(),
        |hit| hit.to_string(),
    ))
}

/// Refuses a command the component may not send, before it reaches the backend.
fn check_allowed(command: &[Vec<u8>]) -> Result<(), wit::Error> {
    match command.first() {
        Some(name) if commands::is_allowed(name) => Ok(()),
        Some(name) => Err(wit::Error::Denied(format!(
            "{} is not an allowed command",
            String::from_utf8_lossy(name).to_ascii_uppercase()
        ))),
        None => Err(wit::Error::Denied("empty command".into())),
    }
}

impl RedisCtx {
    async fn batch(
        &mut self,
        commands: Vec<Command>,
        atomic: bool,
    ) -> Result<Vec<Reply>, wit::Error> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        for command in &commands {
            check_allowed(command)?;
        }
        let backend = self.backend.clone();
        self.send(commands.len(), backend.batch(commands, atomic))
            .await
    }
}

impl wit::Host for RedisCtx {
    async fn execute(&mut self, command: Command) -> Result<Reply, wit::Error> {
        check_allowed(&command)?;
        let backend = self.backend.clone();
        self.send(1, backend.execute(command)).await
    }

    async fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, wit::Error> {
        self.batch(commands, false).await
    }

    async fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, wit::Error> {
        self.batch(commands, true).await
    }
}

struct HasRedis;

impl HasData for HasRedis {
    type Data<'a> = &'a mut RedisCtx;
}

/// Links the `redis` interface; `get` finds the instance's [`RedisCtx`] in its state.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut RedisCtx,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasRedis>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_commands_pass() {
        let cmd =
            |args: &[&str]| -> Command { args.iter().map(|a| a.as_bytes().to_vec()).collect() };
        assert!(check_allowed(&cmd(&["evalsha", "x", "0"])).is_ok());
        assert!(matches!(
            check_allowed(&cmd(&["flushall"])),
            Err(wit::Error::Denied(m)) if m == "FLUSHALL is not an allowed command"
        ));
        assert!(matches!(check_allowed(&[]), Err(wit::Error::Denied(_))));
    }
}
