//! Snapshots: a versioned binary format, written to a temporary file that is synced and
//! renamed over the target, and read back with every length and invariant checked.
//!
//! ```text
//! "RSMEMDB\0"  magic (8 bytes)
//! u32 LE       format version (1)
//! u64 LE       key count, then per key:
//!   u8 type    0 string, 1 hash, 2 set, 3 sorted set
//!   bytes      the key             (bytes = u64 LE length, then the bytes)
//!   string:    bytes
//!   hash:      u64 count, then field bytes, value bytes (in HGETALL order)
//!   set:       u8 intset flag, u64 count, then member bytes
//!   sorted set: u64 count, then member bytes, f64 LE score (lowest first)
//! [20]         SHA1 of everything before it
//! ```
//! Scripts are not saved (Redis does not persist them either): clients reload them on
//! NOSCRIPT.

use crate::keyspace::{Entry, Hash, Keyspace, Set, ZSet};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 8] = b"RSMEMDB\0";
const VERSION: u32 = 1;
const DIGEST_LEN: usize = 20;

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

/// The snapshot of `db`.
pub(crate) fn encode(db: &Keyspace) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_len(&mut out, db.len());
    for (key, entry) in db.entries() {
        let tag = match entry {
            Entry::Str(_) => 0,
            Entry::Hash(_) => 1,
            Entry::Set(_) => 2,
            Entry::ZSet(_) => 3,
        };
        out.push(tag);
        put_bytes(&mut out, key);
        match entry {
            Entry::Str(v) => put_bytes(&mut out, v),
            Entry::Hash(h) => {
                put_len(&mut out, h.len());
                for (f, v) in h {
                    put_bytes(&mut out, f);
                    put_bytes(&mut out, v);
                }
            }
            Entry::Set(s) => {
                out.push(u8::from(s.intset));
                put_len(&mut out, s.members.len());
                for m in &s.members {
                    put_bytes(&mut out, m);
                }
            }
            Entry::ZSet(z) => {
                put_len(&mut out, z.len());
                for (m, score) in z.iter() {
                    put_bytes(&mut out, m);
                    out.extend_from_slice(&score.to_le_bytes());
                }
            }
        }
    }
    let digest = sha1_smol::Sha1::from(&out).digest().bytes();
    out.extend_from_slice(&digest);
    out
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not a valid redis-sessions-memory snapshot: {what}"),
    )
}

/// A cursor over the snapshot's body that never reads past its end.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if n > self.data.len() {
            return Err(corrupt("truncated"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| corrupt("truncated"))?,
        ))
    }

    /// A count of items each at least `min_size` bytes long, checked against what is left.
    fn count(&mut self, min_size: usize) -> io::Result<usize> {
        let n = self.u64()?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_size) <= self.data.len() => Ok(n),
            _ => Err(corrupt("a count runs past the end")),
        }
    }

    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| corrupt("a length runs past the end"))?;
        Ok(self.take(n)?.to_vec())
    }
}

/// Reads a snapshot; anything malformed is an `InvalidData` error.
pub(crate) fn decode(data: &[u8]) -> io::Result<Keyspace> {
    if data.len() < MAGIC.len() + 4 + 8 + DIGEST_LEN || !data.starts_with(MAGIC) {
        return Err(corrupt("bad magic"));
    }
    let (body, digest) = data.split_at(data.len() - DIGEST_LEN);
    let mut r = Reader {
        data: &body[MAGIC.len()..],
    };
    let version = u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| corrupt("truncated"))?);
    if version != VERSION {
        return Err(corrupt(&format!("unsupported format version {version}")));
    }
    if sha1_smol::Sha1::from(body).digest().bytes() != digest {
        return Err(corrupt("checksum mismatch"));
    }
    let mut db = Keyspace::default();
    let keys = r.count(1 + 8 + 8)?;
    for _ in 0..keys {
        let tag = r.u8()?;
        let key = r.bytes()?;
        if db.contains(&key) {
            return Err(corrupt("duplicate key"));
        }
        let entry = match tag {
            0 => Entry::Str(r.bytes()?),
            1 => Entry::Hash(read_hash(&mut r)?),
            2 => Entry::Set(read_set(&mut r)?),
            3 => Entry::ZSet(read_zset(&mut r)?),
            _ => return Err(corrupt("unknown value type")),
        };
        db.insert(&key, entry);
    }
    if !r.data.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(db)
}

fn read_hash(r: &mut Reader<'_>) -> io::Result<Hash> {
    let n = r.count(16)?;
    let mut h = Hash::with_capacity(n);
    for _ in 0..n {
        let field = r.bytes()?;
        if h.insert(field, r.bytes()?).is_some() {
            return Err(corrupt("duplicate hash field"));
        }
    }
    if h.is_empty() {
        return Err(corrupt("empty hash"));
    }
    Ok(h)
}

fn read_set(r: &mut Reader<'_>) -> io::Result<Set> {
    let intset = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(corrupt("bad set encoding")),
    };
    let n = r.count(8)?;
    let mut s = Set::new();
    for _ in 0..n {
        if !s.insert(&r.bytes()?) {
            return Err(corrupt("duplicate set member"));
        }
    }
    if s.members.is_empty() || (intset && !s.intset) {
        return Err(corrupt("bad set"));
    }
    if !intset {
        s.intset = false;
    }
    Ok(s)
}

fn read_zset(r: &mut Reader<'_>) -> io::Result<ZSet> {
    let n = r.count(16)?;
    let mut z = ZSet::default();
    for _ in 0..n {
        let member = r.bytes()?;
        let bits = r.take(8)?.try_into().map_err(|_| corrupt("truncated"))?;
        let score = f64::from_le_bytes(bits);
        if score.is_nan() || !z.insert(&member, score) {
            return Err(corrupt("bad sorted set member"));
        }
    }
    if z.is_empty() {
        return Err(corrupt("empty sorted set"));
    }
    Ok(z)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over `path` (and the directory synced, on Unix).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result
}
