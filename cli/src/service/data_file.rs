//! `--data FILE`: the embedded store kept in a file, shared by `serve` and the one-shot
//! commands. At start the snapshot is loaded and the journal replayed; from then on every
//! write is journaled (`FILE.journal.N`) as it is acknowledged and fsynced once a second
//! (Redis' `appendfsync everysec`), and a periodic compaction folds the journal into the
//! snapshot without stopping requests. Every file is readable by the owner only (`0600`).
//! A process using the file holds an exclusive lock on `FILE.lock` meanwhile, so a second
//! server or a one-shot command on the same file fails at once instead of one erasing the
//! other's writes.

use redis_sessions_memory::{MemoryStore, SnapshotError};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
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
    #[error(
        "the data file {} is in use by another redis-sessions process{}",
        path.display(),
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    InUse { path: PathBuf, holder: Option<u32> },
    #[error("cannot lock the data file {} ({}): {source}", path.display(), lock.display())]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        source: std::io::Error,
    },
}

/// The exclusive hold on a data file, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DataFileLock {
    _file: File,
}

/// Takes the exclusive hold on `file`, through `FILE.lock` (the data file itself is
/// replaced at every snapshot, so it cannot carry the lock). The lock file holds the pid.
pub fn lock(file: &Path) -> Result<DataFileLock, DataFileError> {
    let mut lock_path = file.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let failed = |source| DataFileError::Lock {
        path: file.to_owned(),
        lock: lock_path.clone(),
        source,
    };
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut lock_file = options.open(&lock_path).map_err(failed)?;
    match lock_file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // Best effort: the pid helps the operator, its absence changes nothing.
            let _ = lock_file.read_to_string(&mut holder);
            return Err(DataFileError::InUse {
                path: file.to_owned(),
                holder: holder.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(failed(e)),
    }
    lock_file.set_len(0).map_err(failed)?;
    lock_file.rewind().map_err(failed)?;
    write!(lock_file, "{}", std::process::id()).map_err(failed)?;
    Ok(DataFileLock { _file: lock_file })
}

/// The embedded store kept in `file`, held exclusively for as long as the returned lock
/// lives: its snapshot and journal when they exist, else empty.
pub fn open(file: &Path) -> Result<(Arc<MemoryStore>, DataFileLock), DataFileError> {
    let held = lock(file)?;
    let (store, opened) = MemoryStore::open(file).map_err(|source| DataFileError::Load {
        path: file.to_owned(),
        source,
    })?;
    if opened.records > 0 || opened.torn_bytes > 0 {
        tracing::info!(
            "{}: replayed {} journaled writes{}",
            file.display(),
            opened.records,
            if opened.torn_bytes > 0 {
                format!(
                    "; dropped the last one, cut short by a crash ({} bytes)",
                    opened.torn_bytes
                )
            } else {
                String::new()
            }
        );
    }
    Ok((Arc::new(store), held))
}

/// Runs a blocking store operation (they read, write and fsync files) off the async
/// threads, its error naming `file`.
async fn blocking<T: Send + 'static>(
    store: &Arc<MemoryStore>,
    file: &Path,
    op: fn(&MemoryStore) -> Result<T, SnapshotError>,
) -> Result<T, DataFileError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || op(&store))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e).into()))
        .map_err(|source| DataFileError::Save {
            path: file.to_owned(),
            source,
        })
}

/// Snapshots the live data into `file` and deletes the journal: at shutdown and after a
/// one-shot command, when no request waits for the store.
pub async fn checkpoint(store: &Arc<MemoryStore>, file: &Path) -> Result<(), DataFileError> {
    blocking(store, file, MemoryStore::checkpoint).await
}

/// Until the task is aborted: fsyncs the journal every second, and folds it into the
/// snapshot every `compact_every` (when anything was written: an idle store is not
/// rewritten). A failure is logged and retried at the next tick: the service keeps serving.
pub fn spawn_persistence(
    store: Arc<MemoryStore>,
    file: PathBuf,
    compact_every: Option<Duration>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sync = tokio::time::interval(Duration::from_secs(1));
        sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut compact = compact_every.map(|every| {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        });
        loop {
            tokio::select! {
                _ = sync.tick() => {
                    if let Err(e) = blocking(&store, &file, MemoryStore::sync).await {
                        tracing::warn!("journal: {e}");
                    }
                }
                () = next_tick(&mut compact) => {
                    match blocking(&store, &file, MemoryStore::compact).await {
                        Ok(true) => tracing::debug!("journal folded into {}", file.display()),
                        Ok(false) => {}
                        Err(e) => tracing::warn!("{e}"),
                    }
                }
            }
        }
    })
}

/// The interval's next tick; never, without one.
async fn next_tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => drop(interval.tick().await),
        None => std::future::pending().await,
    }
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

    #[tokio::test]
    async fn the_file_is_the_owners_alone_and_held_by_one_process() {
        let dir = std::env::temp_dir().join(format!("rs-data-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sessions.rsdb");
        let (store, held) = open(&file).unwrap();
        checkpoint(&store, &file).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(&dir.join("sessions.rsdb.lock")), 0o600);
        }
        // A second hold (as a second process would take) is refused, naming the holder.
        let e = open(&file).err().unwrap().to_string();
        let pid = std::process::id();
        assert!(
            e.contains(&format!(
                "is in use by another redis-sessions process (pid {pid})"
            )),
            "{e}"
        );
        drop(held);
        assert!(open(&file).is_ok(), "released with its holder");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
