//! The capability on the embedded [`MemoryStore`], in process.
//!
//! Replies map to the WIT `Reply` exactly as Redis' do (see [`super::server`]): a command's
//! error, an error element inside an array, or any command's error in a pipeline or a
//! transaction is the WIT `server` error with Redis' text. The store never becomes
//! unreachable, so `unavailable` is never reported from here. Calls are in-process and short
//! (scripts have their own budget), so they run inline.

use super::backend::{Backend, BackendFuture, Command};
use super::reply::reply;
use crate::bindings::redis::{Error, Reply};
use redis_sessions_memory::{MemoryStore, ServerError};

fn server_error(e: ServerError) -> Error {
    Error::Server(e.0)
}

fn execute(store: &MemoryStore, command: &[Vec<u8>]) -> Result<Reply, Error> {
    reply(store.execute(command).map_err(server_error)?)
}

fn batch(store: &MemoryStore, commands: &[Command], atomic: bool) -> Result<Vec<Reply>, Error> {
    let results = if atomic {
        store.transaction(commands).map_err(server_error)?
    } else {
        store.pipeline(commands)
    };
    results
        .into_iter()
        .map(|r| reply(r.map_err(server_error)?))
        .collect()
}

/// The work runs when the future is first polled, not when it is made: the capability
/// checks the call's command budget and starts timing host time between the two, so an
/// eager call would run past the budget and count as the guest's CPU time.
impl Backend for MemoryStore {
    fn execute(&self, command: Command) -> BackendFuture<'_, Reply> {
        Box::pin(async move { execute(self, &command) })
    }

    fn batch(&self, commands: Vec<Command>, atomic: bool) -> BackendFuture<'_, Vec<Reply>> {
        Box::pin(async move { batch(self, &commands, atomic) })
    }

    fn can_wait_for_replicas(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::redis::Element;

    fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn replies_map_like_redis() {
        let store = MemoryStore::new();
        assert!(matches!(execute(&store, &cmd(&["PING"])), Ok(Reply::Status(s)) if s == "PONG"));
        assert!(matches!(
            execute(&store, &cmd(&["ZADD", "z", "1", "m"])),
            Ok(Reply::Integer(1))
        ));
        assert!(matches!(
            execute(&store, &cmd(&["HMGET", "h", "a"])),
            Ok(Reply::Array(v)) if matches!(&v[..], [Element::Nil])
        ));
        assert!(matches!(
            execute(&store, &cmd(&["HSET", "z", "f", "v"])),
            Err(Error::Server(e)) if e.starts_with("WRONGTYPE")
        ));
        assert!(matches!(
            execute(&store, &cmd(&["EVALSHA", "0000000000000000000000000000000000000000", "0"])),
            Err(Error::Server(e)) if e.starts_with("NOSCRIPT")
        ));
        assert!(matches!(
            execute(&store, &cmd(&["EVAL", "return {1, {err='boom'}}", "0"])),
            Err(Error::Server(e)) if e == "boom"
        ));
    }

    #[test]
    fn an_error_in_a_batch_is_a_server_error() {
        let store = MemoryStore::new();
        let ok = batch(&store, &[cmd(&["SADD", "s", "a"]), cmd(&["PING"])], true);
        assert!(matches!(
            &ok.as_deref(),
            Ok([Reply::Integer(1), Reply::Status(_)])
        ));
        for atomic in [false, true] {
            let bad = batch(
                &store,
                &[cmd(&["PING"]), cmd(&["ZADD", "s", "1", "m"])],
                atomic,
            );
            assert!(matches!(bad, Err(Error::Server(e)) if e.starts_with("WRONGTYPE")));
        }
        let aborted = batch(&store, &[cmd(&["ZADD", "s"])], true);
        assert!(matches!(aborted, Err(Error::Server(e)) if e.starts_with("EXECABORT")));
    }
}
