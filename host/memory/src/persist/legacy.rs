//! Reads snapshots of format version 1 (before serde), so a data file written by an older
//! build still loads; the next save rewrites it as the current version.
//!
//! ```text
//! "RSMEMDB\0"  magic (8 bytes)
//! u32 LE       format version (1)
//! u64 LE       key count, then per key:
//!   u8 type    0 string (no longer supported), 1 hash, 2 set, 3 sorted set
//!   bytes      the key             (bytes = u64 LE length, then the bytes)
//!   hash:      u64 count, then field bytes, value bytes (in HGETALL order)
//!   set:       u8 intset flag, u64 count, then member bytes
//!   sorted set: u64 count, then member bytes, f64 LE score (lowest first)
//! [20]         SHA1 of everything before it
//! ```

use super::format::{Snapshot, Stored};

/// The length of the magic and the version, which the caller has checked.
const HEADER_LEN: usize = 12;
const DIGEST_LEN: usize = 20;

/// A cursor over the body that never reads past its end.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.data.len() {
            return Err("truncated");
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        let bytes = self.take(8)?.try_into().map_err(|_| "truncated")?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// A count of items each at least `min_size` bytes long, checked against what is left.
    fn count(&mut self, min_size: usize) -> Result<usize, &'static str> {
        match usize::try_from(self.u64()?) {
            Ok(n) if n.saturating_mul(min_size) <= self.data.len() => Ok(n),
            _ => Err("a count runs past the end"),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], &'static str> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a length runs past the end")?;
        self.take(n)
    }

    fn value(&mut self, tag: u8) -> Result<Stored<'a>, &'static str> {
        Ok(match tag {
            0 => return Err("a string value (SET): no command of this version writes strings"),
            1 => {
                let n = self.count(16)?;
                Stored::Hash(
                    (0..n)
                        .map(|_| Ok((self.bytes()?, self.bytes()?)))
                        .collect::<Result<_, &str>>()?,
                )
            }
            2 => {
                let intset = match self.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err("bad set encoding"),
                };
                let n = self.count(8)?;
                let members = (0..n).map(|_| self.bytes()).collect::<Result<_, _>>()?;
                Stored::Set { intset, members }
            }
            3 => {
                let n = self.count(16)?;
                Stored::ZSet(
                    (0..n)
                        .map(|_| {
                            let member = self.bytes()?;
                            let bits = self.take(8)?.try_into().map_err(|_| "truncated")?;
                            Ok((member, f64::from_le_bytes(bits)))
                        })
                        .collect::<Result<_, &str>>()?,
                )
            }
            _ => return Err("unknown value type"),
        })
    }
}

/// Decodes a whole version 1 file (magic and version already checked).
pub(super) fn decode(data: &[u8]) -> Result<Snapshot<'_>, &'static str> {
    if data.len() < HEADER_LEN + 8 + DIGEST_LEN {
        return Err("truncated");
    }
    let (body, digest) = data.split_at(data.len() - DIGEST_LEN);
    if sha1_smol::Sha1::from(body).digest().bytes() != digest {
        return Err("checksum mismatch");
    }
    let mut r = Reader {
        data: &body[HEADER_LEN..],
    };
    let n = r.count(1 + 8 + 8)?;
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        let tag = r.u8()?;
        let key = r.bytes()?;
        keys.push((key, r.value(tag)?));
    }
    if !r.data.is_empty() {
        return Err("trailing bytes");
    }
    Ok(Snapshot { keys })
}
