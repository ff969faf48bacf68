//! The snapshot file: its header, its body, and the atomic write (see the format in
//! `persist`'s docs).

use super::format::Snapshot;
use super::legacy;
use crate::keyspace::Keyspace;
use std::fs::File;
use std::io::{self, Read, Seek as _, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"RSMEMDB\0";
const VERSION: u32 = 3;
/// Version 2: the same without the generation.
const VERSION_2: u32 = 2;
const LEGACY_VERSION: u32 = 1;

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file system's error: `kind()` tells a missing file (`NotFound`) apart.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Not a snapshot, or a damaged one: bad magic, truncated, checksum mismatch, or
    /// data no command could have made (a duplicate key, an empty set...).
    #[error("not a valid redis-sessions-memory snapshot: {reason}")]
    Corrupt { reason: String },
    /// The body passed its checksum but does not decode (or could not be encoded).
    #[error("not a valid redis-sessions-memory snapshot: {0}")]
    Format(#[source] postcard::Error),
    /// A journal that cannot be replayed: foreign, damaged before its last record, or with
    /// a command this store refuses (it was written for other data).
    #[error("cannot replay the journal {}: {reason} (at byte {offset})", path.display())]
    Journal {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A snapshot of a format this build does not know (a newer build wrote it).
    #[error("snapshot format version {found} is not supported: this build reads versions 1 to 3")]
    UnsupportedVersion { found: u32 },
}

impl SnapshotError {
    /// As an `io::Error` would say: the I/O error's own kind, else `InvalidData`.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            SnapshotError::Io(e) => e.kind(),
            _ => io::ErrorKind::InvalidData,
        }
    }
}

fn corrupt(reason: impl Into<String>) -> SnapshotError {
    SnapshotError::Corrupt {
        reason: reason.into(),
    }
}

/// The whole file for `db`, which includes the journals numbered up to `generation`.
pub(crate) fn encode(db: &Keyspace, generation: u64) -> Result<Vec<u8>, SnapshotError> {
    let body = postcard::to_allocvec(&Snapshot::of(db)).map_err(SnapshotError::Format)?;
    let mut out = Vec::with_capacity(8 + 4 + 8 + 8 + 4 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(generation, &body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The CRC32 of a version 3 file: the generation's bytes then the body, so a damaged
/// generation (which decides what journals are replayed or deleted) is caught too.
fn checksum(generation: u64, body: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&generation.to_le_bytes());
    crc.update(body);
    crc.finalize()
}

/// Reads the exact number of header bytes, or says the file is too short.
fn read_header<const N: usize>(file: &mut File) -> Result<[u8; N], SnapshotError> {
    let mut buf = [0; N];
    match file.read_exact(&mut buf) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(corrupt("truncated header")),
        other => other.map(|()| buf).map_err(SnapshotError::Io),
    }
}

/// Reads the snapshot at `path`, and the generation of journals it includes.
pub(crate) fn read(path: &Path) -> Result<(Keyspace, u64), SnapshotError> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let [m0, m1, m2, m3, m4, m5, m6, m7, v0, v1, v2, v3] = read_header::<12>(&mut file)?;
    if [m0, m1, m2, m3, m4, m5, m6, m7] != *MAGIC {
        return Err(corrupt("bad magic"));
    }
    let generation = match u32::from_le_bytes([v0, v1, v2, v3]) {
        VERSION => Some(u64::from_le_bytes(read_header::<8>(&mut file)?)),
        VERSION_2 => None,
        LEGACY_VERSION => {
            let mut data = [m0, m1, m2, m3, m4, m5, m6, m7, v0, v1, v2, v3].to_vec();
            file.read_to_end(&mut data)?;
            let db = legacy::decode(&data)
                .and_then(Snapshot::into_keyspace)
                .map_err(corrupt)?;
            return Ok((db, 0));
        }
        found => return Err(SnapshotError::UnsupportedVersion { found }),
    };
    let [l0, l1, l2, l3, l4, l5, l6, l7, c0, c1, c2, c3] = read_header::<12>(&mut file)?;
    let declared = u64::from_le_bytes([l0, l1, l2, l3, l4, l5, l6, l7]);
    let header_len = file.stream_position()?;
    // Checked before reading: a damaged length never makes us allocate or read past the file.
    if Some(size) != declared.checked_add(header_len) {
        return Err(corrupt(format!(
            "the file has {size} bytes, its header declares {declared} + {header_len}"
        )));
    }
    let mut body = Vec::with_capacity(usize::try_from(declared).map_err(|_| corrupt("too large"))?);
    file.read_to_end(&mut body)?;
    if body.len() as u64 != declared {
        return Err(corrupt("the file changed while being read"));
    }
    let crc = match generation {
        Some(generation) => checksum(generation, &body),
        None => crc32fast::hash(&body),
    };
    if crc != u32::from_le_bytes([c0, c1, c2, c3]) {
        return Err(corrupt("checksum mismatch"));
    }
    let (snapshot, rest) =
        postcard::take_from_bytes::<Snapshot<'_>>(&body).map_err(SnapshotError::Format)?;
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes after the body"));
    }
    let db = snapshot.into_keyspace().map_err(corrupt)?;
    Ok((db, generation.unwrap_or(0)))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over `path` (and the directory synced, on Unix, so the rename survives a
/// crash).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}
