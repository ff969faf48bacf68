//! A store kept in a file: the snapshot, plus the journal of every write since it. Opening
//! loads the snapshot and replays the journals after it; compaction folds finished
//! journals into a new snapshot without holding the store's lock (it rebuilds from the
//! files, not from the live data); a checkpoint snapshots the live data (under the lock:
//! for shutdown and one-shot commands, when nobody waits).

use super::journal::{self, Finished, Writer};
use super::snapshot::{SnapshotError, encode, read, write_atomic};
use crate::commands;
use crate::keyspace::Keyspace;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What opening a kept store found, for the operator's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Whether there was a snapshot.
    pub snapshot: bool,
    /// Journals replayed on top of it, and their records (one per store command).
    pub journals: u64,
    pub records: u64,
    /// Bytes of a last record cut short by a crash, dropped (nothing before it was).
    pub torn_bytes: u64,
}

/// The journal and the lock that keeps compactions and checkpoints one at a time.
#[derive(Debug)]
pub(crate) struct Durable {
    pub(crate) journal: Writer,
    persisting: Mutex<()>,
}

fn journal_error(base: &Path, number: u64, reason: String) -> SnapshotError {
    SnapshotError::Journal {
        path: journal::path(base, number),
        offset: 0,
        reason,
    }
}

/// Replays the journals numbered after `generation` up to `upto` (all when `None`) into
/// `db`; they must follow each other without a gap. Only the very last may end torn.
fn replay_after(
    base: &Path,
    db: &mut Keyspace,
    generation: u64,
    upto: Option<u64>,
    opened: &mut Opened,
) -> Result<u64, SnapshotError> {
    let numbers: Vec<u64> = journal::numbers(base)?
        .into_iter()
        .filter(|&n| n > generation && upto.is_none_or(|upto| n <= upto))
        .collect();
    let mut expected = generation + 1;
    for (i, &number) in numbers.iter().enumerate() {
        if number != expected {
            return Err(journal_error(
                base,
                number,
                format!("journal {expected} is missing before it"),
            ));
        }
        let last = upto.is_none() && i + 1 == numbers.len();
        let replayed = journal::replay(&journal::path(base, number), last, |command| {
            commands::replay(db, command)
        })?;
        opened.journals += 1;
        opened.records += replayed.records;
        opened.torn_bytes += replayed.torn_bytes;
        expected += 1;
    }
    Ok(expected - 1)
}

/// The snapshot at `base` and its generation; an empty store when there is none.
fn read_or_empty(base: &Path) -> Result<(Keyspace, u64, bool), SnapshotError> {
    match read(base) {
        Ok((db, generation)) => Ok((db, generation, true)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Keyspace::default(), 0, false)),
        Err(e) => Err(e),
    }
}

/// Deletes the journals a snapshot of `generation` includes.
fn remove_included(base: &Path, generation: u64) -> Result<(), SnapshotError> {
    for number in journal::numbers(base)? {
        if number <= generation {
            match std::fs::remove_file(journal::path(base, number)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
    }
    Ok(())
}

impl Durable {
    /// Loads the store kept at `base` and starts its next journal. Journals a snapshot
    /// already includes (left by a crash during compaction) are deleted.
    pub(crate) fn open(base: &Path) -> Result<(Keyspace, Durable, Opened), SnapshotError> {
        let (mut db, generation, snapshot) = read_or_empty(base)?;
        remove_included(base, generation)?;
        let mut opened = Opened {
            snapshot,
            ..Opened::default()
        };
        let last = replay_after(base, &mut db, generation, None, &mut opened)?;
        db.record_changes();
        let durable = Durable {
            journal: Writer::start(base, last + 1)?,
            persisting: Mutex::new(()),
        };
        Ok((db, durable, opened))
    }

    /// Held for a whole compaction or checkpoint.
    pub(crate) fn one_at_a_time(&self) -> MutexGuard<'_, ()> {
        self.persisting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds `finished` (and any journal a failed compaction left) into a new snapshot,
    /// from the files alone: the live store is not touched.
    pub(crate) fn rebuild(&self, finished: Finished) -> Result<(), SnapshotError> {
        let base = self.journal.base();
        finished.file.sync_data()?;
        drop(finished.file);
        let (mut db, generation, _) = read_or_empty(base)?;
        let mut opened = Opened::default();
        replay_after(
            base,
            &mut db,
            generation,
            Some(finished.number),
            &mut opened,
        )?;
        self.install(&encode(&db, finished.number)?, finished.number)
    }

    /// Writes the snapshot `bytes` of generation `generation`, then deletes the journals it
    /// includes (after the rename: a crash in between leaves journals the next open deletes).
    pub(crate) fn install(&self, bytes: &[u8], generation: u64) -> Result<(), SnapshotError> {
        let base = self.journal.base();
        write_atomic(base, bytes)?;
        remove_included(base, generation)
    }
}
