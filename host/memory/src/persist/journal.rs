//! The journal: every write the store applies, appended as it happens (Redis' append-only
//! file). Each command's writes are handed to the OS before its caller gets the reply, so
//! a crash of the process loses nothing acknowledged; the file is fsynced at least once a
//! second by whoever calls [`Writer::sync`] (Redis' `appendfsync everysec`), so a power
//! loss loses at most that second.
//!
//! What is written is a command's effects, not the command: the write commands that ran,
//! those inside a script included (Redis' effects replication). Replaying them needs no
//! Lua and gives the same result, because every write command is deterministic.
//!
//! Journals are numbered files beside the snapshot, `FILE.journal.N`. The snapshot records
//! the highest N it includes (its generation); at start the journals above it are replayed
//! in order, and a new one is started. Compaction starts a new journal, rebuilds a snapshot
//! from the old snapshot and the finished journals, then deletes them.
//!
//! ```text
//! "RSJOURNL"   magic (8 bytes)
//! u32 LE       format version (1)
//! records:     u32 LE body length, u32 LE CRC32 of the body, body
//! body:        u32 LE command count; per command u32 LE argument count; per argument
//!              u32 LE length, then its bytes
//! ```
//! A record is one command of the store (a script's writes, a transaction's) and replays
//! whole or not at all: a last record cut short by a crash is dropped, and the file cut back
//! to the record before it.

use super::snapshot::SnapshotError;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

const MAGIC: &[u8; 8] = b"RSJOURNL";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 8 + 4;

/// The write commands of one record, each `[name, args...]`.
pub(crate) type Commands = Vec<Vec<Vec<u8>>>;

/// The journal numbered `number` for the snapshot at `base`.
pub(crate) fn path(base: &Path, number: u64) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".journal.{number}"));
    PathBuf::from(name)
}

/// The numbers of the journals beside `base`, in order.
pub(crate) fn numbers(base: &Path) -> io::Result<Vec<u64>> {
    let dir = match base.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = base.file_name() else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}.journal.", name.to_string_lossy());
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let number = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok());
        found.extend(number);
    }
    found.sort_unstable();
    Ok(found)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appends the record of `commands` to `out`.
pub(crate) fn encode_record(commands: &[Vec<Vec<u8>>], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    put(out, commands.len());
    for command in commands {
        put(out, command.len());
        for arg in command {
            put(out, arg.len());
            out.extend_from_slice(arg);
        }
    }
    let body = &out[start + 8..];
    let (len, crc) = (body.len() as u32, crc32fast::hash(body));
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Reads a record's body front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn count(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }
}

/// The commands of a record's body, or `None` when it is not one. Nothing is reserved
/// from a count: each item must be there before it is kept.
fn decode_body(body: &[u8]) -> Option<Commands> {
    let mut cursor = Cursor(body);
    let mut commands = Vec::new();
    for _ in 0..cursor.count()? {
        let mut command = Vec::new();
        for _ in 0..cursor.count()? {
            let len = cursor.count()?;
            command.push(cursor.take(len)?.to_vec());
        }
        commands.push(command);
    }
    cursor.0.is_empty().then_some(commands)
}

/// What replaying one journal found.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Replayed {
    pub(crate) records: u64,
    /// Bytes of a torn last record that were cut off.
    pub(crate) torn_bytes: u64,
}

/// Replays the journal at `path` through `apply`, record by record. A damaged record with
/// nothing after it (a write cut short by a crash) is cut off the file when
/// `tail_may_be_torn` (the last journal), and an error otherwise; damage anywhere else is
/// an error. A file too short for its header is an empty journal cut short the same way.
pub(crate) fn replay(
    path: &Path,
    tail_may_be_torn: bool,
    mut apply: impl FnMut(&[Vec<u8>]) -> Result<(), String>,
) -> Result<Replayed, SnapshotError> {
    let damaged = |offset: u64, reason: &str| SnapshotError::Journal {
        path: path.to_owned(),
        offset,
        reason: reason.into(),
    };
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    let size = file.metadata()?.len();
    let mut reader = BufReader::new(&file);
    let mut replayed = Replayed::default();
    let mut offset = 0;
    // Where the file stops making sense, and whether that is a torn tail.
    let torn_at = loop {
        if offset == 0 {
            let mut header = [0; HEADER_LEN as usize];
            if size < HEADER_LEN {
                break 0;
            }
            reader.read_exact(&mut header)?;
            if header[..8] != *MAGIC {
                return Err(damaged(0, "not a redis-sessions journal"));
            }
            let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
            if version != VERSION {
                return Err(damaged(8, &format!("unknown journal version {version}")));
            }
            offset = HEADER_LEN;
            continue;
        }
        if offset == size {
            return Ok(replayed);
        }
        if size - offset < 8 {
            break offset;
        }
        let mut head = [0; 8];
        reader.read_exact(&mut head)?;
        let len = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let end = offset + 8 + len;
        if end > size {
            break offset;
        }
        let mut body = vec![0; len as usize];
        reader.read_exact(&mut body)?;
        if crc32fast::hash(&body) != crc {
            if end == size {
                break offset;
            }
            return Err(damaged(offset, "checksum mismatch before the last record"));
        }
        let commands = decode_body(&body).ok_or_else(|| damaged(offset, "malformed record"))?;
        for command in &commands {
            apply(command).map_err(|e| damaged(offset, &format!("a command failed: {e}")))?;
        }
        replayed.records += 1;
        offset = end;
    };
    if !tail_may_be_torn {
        return Err(damaged(torn_at, "cut short before its last record"));
    }
    drop(reader);
    file.set_len(torn_at)?;
    file.sync_all()?;
    replayed.torn_bytes = size - torn_at;
    Ok(replayed)
}

/// The journal being appended to.
#[derive(Debug)]
struct Active {
    file: File,
    number: u64,
    /// The length of whole records written: a failed write is cut back to it.
    len: u64,
    /// Written since the last fsync.
    unsynced: bool,
}

/// A journal just finished by [`Writer::rotate`]: every record is written, not yet synced.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) number: u64,
    pub(crate) file: File,
}

/// Appends records to the current journal. Records are encoded into `pending` under the
/// store's lock (so they are in the order the store applied them) and written to the file
/// after it, by whichever caller gets the file first: concurrent writers share one write.
#[derive(Debug)]
pub(crate) struct Writer {
    base: PathBuf,
    pending: Mutex<Vec<u8>>,
    active: Mutex<Active>,
}

/// Creates journal `number` (owner-only, like the snapshot) with its header, synced.
fn create(base: &Path, number: u64) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path(base, number))?;
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&VERSION.to_le_bytes());
    file.write_all(&header)?;
    file.sync_all()?;
    Ok(file)
}

impl Writer {
    /// Starts journal `number` beside `base`.
    pub(crate) fn start(base: &Path, number: u64) -> io::Result<Self> {
        let file = create(base, number)?;
        Ok(Writer {
            base: base.to_owned(),
            pending: Mutex::new(Vec::new()),
            active: Mutex::new(Active {
                file,
                number,
                len: HEADER_LEN,
                unsynced: false,
            }),
        })
    }

    /// The snapshot this journal belongs to.
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// Queues one record. Called under the store's lock, so records keep its order.
    pub(crate) fn append(&self, commands: &[Vec<Vec<u8>>]) {
        encode_record(commands, &mut lock(&self.pending));
    }

    /// Writes the queued records to the file. On failure they stay queued (the file cut
    /// back to its last whole record) and the next write or sync tries again.
    pub(crate) fn write_pending(&self) -> io::Result<()> {
        let mut active = lock(&self.active);
        self.write_locked(&mut active)
    }

    fn write_locked(&self, active: &mut Active) -> io::Result<()> {
        let bytes = std::mem::take(&mut *lock(&self.pending));
        if bytes.is_empty() {
            return Ok(());
        }
        let written = active
            .file
            .seek(SeekFrom::Start(active.len))
            .and_then(|_| active.file.write_all(&bytes));
        match written {
            Ok(()) => {
                active.len += bytes.len() as u64;
                active.unsynced = true;
                Ok(())
            }
            Err(e) => {
                let _ = active.file.set_len(active.len);
                let mut pending = lock(&self.pending);
                let newer = std::mem::replace(&mut *pending, bytes);
                pending.extend_from_slice(&newer);
                Err(e)
            }
        }
    }

    /// Writes what is queued and fsyncs the journal if anything was written since the
    /// last sync. The fsync runs outside the file's lock: writers are not held up by it.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let file = {
            let mut active = lock(&self.active);
            self.write_locked(&mut active)?;
            if !active.unsynced {
                return Ok(());
            }
            active.unsynced = false;
            active.file.try_clone()?
        };
        file.sync_data()
            .inspect_err(|_| lock(&self.active).unsynced = true)
    }

    /// Finishes the current journal and starts the next. Called under the store's lock,
    /// so the finished journal holds exactly the writes applied so far. With `force`
    /// false, a journal without records is kept going and `None` returned.
    pub(crate) fn rotate(&self, force: bool) -> io::Result<Option<Finished>> {
        let mut active = lock(&self.active);
        self.write_locked(&mut active)?;
        if active.len == HEADER_LEN && !force {
            return Ok(None);
        }
        let number = active.number + 1;
        let file = create(&self.base, number)?;
        let old = std::mem::replace(
            &mut *active,
            Active {
                file,
                number,
                len: HEADER_LEN,
                unsynced: false,
            },
        );
        Ok(Some(Finished {
            number: old.number,
            file: old.file,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_garbage() {
        let commands: Commands = vec![
            vec![b"HSET".to_vec(), b"h".to_vec(), b"f".to_vec(), vec![0, 255]],
            vec![b"DEL".to_vec(), Vec::new()],
        ];
        let mut out = Vec::new();
        encode_record(&commands, &mut out);
        assert_eq!(decode_body(&out[8..]), Some(commands));
        assert_eq!(decode_body(&out[8..out.len() - 1]), None);
        assert_eq!(decode_body(&[&out[8..], &[0][..]].concat()), None);
        assert_eq!(decode_body(&[255, 255, 255, 255]), None);
    }
}
