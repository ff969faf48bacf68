//! The redis capability as the plugs implement it; a plug exports it through its own
//! bindings with [`export_redis!`](crate::export_redis).

use crate::codec::{Command, Reply};
use crate::error::Error;

/// The three calls of the WIT `redis` interface, in this crate's types: the
/// [`Client`](crate::Client) of RESP over a socket, the [`Scripted`](crate::lua::Scripted)
/// calls through Lua.
pub trait Capability {
    fn execute(&mut self, command: &[Vec<u8>]) -> Result<Reply, Error>;
    fn pipeline(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error>;
    fn transaction(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error>;
}
