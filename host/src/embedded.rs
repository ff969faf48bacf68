//! The `redis` capability's second backend: the embedded [`MemoryStore`], in process.
//!
//! Replies map to the WIT `Reply` exactly as Redis' do (see [`crate::redis`]): a command's
//! error, an error element inside an array, or any command's error in a pipeline or a
//! transaction is the WIT `server` error with Redis' text. The store never becomes
//! unreachable, so `unavailable` is never reported from here.
//!
//! Also the `--data FILE` persistence `serve` and the one-shot commands share: load at
//! start, snapshots written atomically by the store's `save` (temp file, fsync, rename).

use crate::bindings::redis::{self as wit, Element, Reply};
use redis_sessions_memory::{MemoryStore, ServerError, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn server_error(e: ServerError) -> wit::Error {
    wit::Error::Server(e.0)
}

fn element(v: Value) -> Result<Element, wit::Error> {
    Ok(match v {
        Value::Nil => Element::Nil,
        Value::Int(n) => Element::Integer(n),
        Value::Bulk(b) => Element::Bulk(b),
        Value::Status(s) => Element::Status(s),
        // What the Redis path does with the same reply (redis-rs reads it as an error).
        Value::Error(e) => return Err(wit::Error::Server(e)),
        Value::Array(_) => {
            return Err(wit::Error::UnsupportedReply(
                "nested deeper than one array level".into(),
            ));
        }
    })
}

fn reply(v: Value) -> Result<Reply, wit::Error> {
    Ok(match v {
        Value::Array(items) => {
            Reply::Array(items.into_iter().map(element).collect::<Result<_, _>>()?)
        }
        Value::Nil => Reply::Nil,
        Value::Int(n) => Reply::Integer(n),
        Value::Bulk(b) => Reply::Bulk(b),
        Value::Status(s) => Reply::Status(s),
        Value::Error(e) => return Err(wit::Error::Server(e)),
    })
}

/// One command (already allowed by the caller).
pub(crate) fn execute(store: &MemoryStore, command: &[Vec<u8>]) -> Result<Reply, wit::Error> {
    reply(store.execute(command).map_err(server_error)?)
}

/// A pipeline, or with `atomic` a MULTI/EXEC transaction (commands already allowed).
pub(crate) fn batch(
    store: &MemoryStore,
    commands: &[Vec<Vec<u8>>],
    atomic: bool,
) -> Result<Vec<Reply>, wit::Error> {
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

/// The embedded store of `--data FILE`: read from `file` when it exists, else empty. A
/// file that cannot be read or is not a snapshot is a one-line error.
pub fn open(file: Option<&Path>) -> Result<Arc<MemoryStore>, String> {
    let Some(file) = file else {
        return Ok(Arc::new(MemoryStore::new()));
    };
    match MemoryStore::load(file) {
        Ok(store) => Ok(Arc::new(store)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Arc::new(MemoryStore::new())),
        Err(e) => Err(format!(
            "cannot load the data file {}: {e}. Move it away to start empty.",
            file.display()
        )),
    }
}

/// Writes a snapshot of `store` to `file`, off the async threads (it fsyncs).
pub async fn save(store: &Arc<MemoryStore>, file: &Path) -> Result<(), String> {
    let (store, path) = (store.clone(), file.to_path_buf());
    let result = tokio::task::spawn_blocking(move || store.save(&path)).await;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot write the data file {}: {e}",
            file.display()
        )),
        Err(e) => Err(format!("writing the data file {}: {e}", file.display())),
    }
}

/// Saves `store` to `file` every `every`, until the task is aborted. A failed snapshot
/// is logged and retried at the next tick: the service keeps serving.
pub fn spawn_snapshots(
    store: Arc<MemoryStore>,
    file: PathBuf,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate: nothing to save yet
        loop {
            tick.tick().await;
            match save(&store, &file).await {
                Ok(()) => tracing::debug!("snapshot written to {}", file.display()),
                Err(e) => tracing::warn!("{e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(wit::Error::Server(e)) if e.starts_with("WRONGTYPE")
        ));
        assert!(matches!(
            execute(&store, &cmd(&["EVALSHA", "0000000000000000000000000000000000000000", "0"])),
            Err(wit::Error::Server(e)) if e.starts_with("NOSCRIPT")
        ));
        assert!(matches!(
            execute(&store, &cmd(&["EVAL", "return {1, {err='boom'}}", "0"])),
            Err(wit::Error::Server(e)) if e == "boom"
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
            assert!(matches!(bad, Err(wit::Error::Server(e)) if e.starts_with("WRONGTYPE")));
        }
        let aborted = batch(&store, &[cmd(&["ZADD", "s"])], true);
        assert!(matches!(aborted, Err(wit::Error::Server(e)) if e.starts_with("EXECABORT")));
    }

    #[test]
    fn a_missing_data_file_starts_empty_and_a_corrupt_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("rs-embedded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let missing = dir.join("missing.rsdb");
        assert!(open(Some(&missing)).is_ok());
        let corrupt = dir.join("corrupt.rsdb");
        std::fs::write(&corrupt, b"not a snapshot").unwrap_or_default();
        let e = open(Some(&corrupt)).err().unwrap_or_default();
        assert!(e.contains("cannot load the data file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
