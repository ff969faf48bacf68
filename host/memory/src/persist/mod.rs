//! Persistence: snapshots, and the journal of writes since the last snapshot.
//!
//! A snapshot is a magic header, a format version, the journal generation it includes, the
//! body's length and CRC32, then the body (the keyspace as postcard). Written to a
//! temporary file in the same directory, synced, and renamed over the target; read back
//! header first, so a foreign or truncated file is refused before its body is read, and
//! every invariant of the data checked.
//!
//! ```text
//! "RSMEMDB\0"  magic (8 bytes)
//! u32 LE       format version (3; versions 1 and 2 still load, as generation 0)
//! u64 LE       generation: the journals numbered up to it are in this snapshot
//! u64 LE       body length
//! u32 LE       CRC32 of the generation's 8 bytes then the body
//! body         postcard of `format::Snapshot`
//! ```
//! Scripts are not saved (Redis does not persist them either): clients reload them on
//! NOSCRIPT. The journal is in `journal`.

mod durable;
mod format;
mod journal;
mod legacy;
mod snapshot;

pub(crate) use durable::Durable;
pub use durable::Opened;
pub use snapshot::SnapshotError;
pub(crate) use snapshot::{encode, read, write_atomic};
