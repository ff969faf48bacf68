//! `--data FILE`: the embedded store kept in a file, shared by `serve` and the one-shot
//! commands. Loaded at start; snapshots written atomically by the store's `save`.

use redis_sessions_memory::{MemoryStore, SnapshotError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a data file could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    #[error("cannot load the data file {}: {source}. Move it away to start empty.", path.display())]
    Load {
        path: PathBuf,
        source: SnapshotError,
    },
    #[error("cannot write the data file {}: {source}", path.display())]
    Save {
        path: PathBuf,
        source: SnapshotError,
    },
}

/// The embedded store kept in `file`: read from it when it exists, else empty.
pub fn open(file: &Path) -> Result<Arc<MemoryStore>, DataFileError> {
    match MemoryStore::load(file) {
        Ok(store) => Ok(Arc::new(store)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Arc::new(MemoryStore::new())),
        Err(source) => Err(DataFileError::Load {
            path: file.to_owned(),
            source,
        }),
    }
}

/// Writes a snapshot of `store` to `file`, off the async threads (it fsyncs).
pub async fn save(store: &Arc<MemoryStore>, file: &Path) -> Result<(), DataFileError> {
    let (store, path) = (store.clone(), file.to_path_buf());
    let result = tokio::task::spawn_blocking(move || store.save(&path))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e).into()));
    result.map_err(|source| DataFileError::Save {
        path: file.to_owned(),
        source,
    })
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

    #[test]
    fn a_missing_data_file_starts_empty_and_a_corrupt_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("rs-data-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(open(&dir.join("missing.rsdb")).is_ok());
        let corrupt = dir.join("corrupt.rsdb");
        std::fs::write(&corrupt, b"not a snapshot").unwrap();
        let e = open(&corrupt).err().unwrap().to_string();
        assert!(e.contains("cannot load the data file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
