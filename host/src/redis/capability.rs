//! The `redis` capability: the component's commands, checked against the allowlist, sent
//! to a [`Backend`]. The capability sees only its own context ([`RedisCtx`]), linked with a
//! private `HasData` marker as wasmtime's `wasi-keyvalue` does.

use super::backend::{Backend, Command};
use super::commands;
use crate::bindings::redis::{self as wit, Reply};
use crate::limits::HostTime;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasData, Linker};

/// The `redis` side of one component instance.
pub struct RedisCtx {
    backend: Arc<dyn Backend>,
    /// Time spent awaiting the backend is the host's, not the guest's: it does not count
    /// against the call's CPU budget.
    host_time: HostTime,
}

impl std::fmt::Debug for RedisCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCtx").finish_non_exhaustive()
    }
}

impl RedisCtx {
    pub fn new(backend: Arc<dyn Backend>, host_time: HostTime) -> Self {
        Self { backend, host_time }
    }
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
        let start = Instant::now();
        let result = self.backend.batch(commands, atomic).await;
        self.host_time.add(start.elapsed());
        result
    }
}

impl wit::Host for RedisCtx {
    async fn execute(&mut self, command: Command) -> Result<Reply, wit::Error> {
        check_allowed(&command)?;
        let start = Instant::now();
        let result = self.backend.execute(command).await;
        self.host_time.add(start.elapsed());
        result
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
