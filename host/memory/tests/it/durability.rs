//! A store kept in a file (`MemoryStore::open`): every write journaled and replayed after a
//! crash, a torn last record dropped and nothing before it, compaction and checkpoints
//! folding the journal into the snapshot, and damage refused rather than guessed around.

use redis_sessions_memory::{MemoryStore, Opened, SnapshotError, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// The files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn journal(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("db.journal.{n}"))
}

/// A script's writes and plain writes of every kind the session scripts make.
fn write_some(store: &MemoryStore, round: usize) {
    let r = round.to_string();
    store
        .execute(&cmd(&["HSET", &format!("h{r}"), "f", &r, "g", "x"]))
        .unwrap();
    store
        .execute(&cmd(&[
            "EVAL",
            "redis.call('HINCRBY', KEYS[1], 'n', 2) redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) \
             redis.call('SADD', KEYS[3], ARGV[2]) return redis.call('HDEL', KEYS[1], 'g')",
            "3",
            "counter",
            "z",
            "s",
            &r,
            &format!("m{r}"),
        ]))
        .unwrap();
    store
        .transaction(&[
            cmd(&["ZADD", "z", "INCR", "0.5", "m0"]),
            cmd(&["SREM", "s", "m1"]),
        ])
        .unwrap();
}

/// What a store holds, read with the commands `execute` has.
fn contents(
    store: &MemoryStore,
    rounds: usize,
) -> Vec<Result<Value, redis_sessions_memory::ServerError>> {
    let mut out = vec![
        store.execute(&cmd(&["HMGET", "counter", "n"])),
        store.execute(&cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"])),
        store.execute(&cmd(&["SMEMBERS", "s"])),
    ];
    for round in 0..rounds {
        out.push(store.execute(&cmd(&["HMGET", &format!("h{round}"), "f", "g"])));
    }
    out
}

#[test]
fn writes_survive_a_crash_and_a_torn_last_record_is_dropped_alone() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("db");
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert_eq!(opened, Opened::default(), "nothing there yet");
    for round in 0..20 {
        write_some(&store, round);
    }
    let expected = contents(&store, 20);
    // A crash: no checkpoint, no sync; what was handed to the OS is all there is.
    drop(store);
    assert_eq!(files(dir.path()), ["db.journal.1"]);
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert_eq!(
        (
            opened.snapshot,
            opened.journals,
            opened.records,
            opened.torn_bytes
        ),
        (false, 1, 60, 0)
    );
    assert_eq!(contents(&store, 20), expected);
    drop(store);
    assert_eq!(
        files(dir.path()),
        ["db.journal.1", "db.journal.2"],
        "each open starts a journal"
    );

    // The last record cut short, as a crash mid-write leaves it: that record alone is lost.
    let (store, _) = MemoryStore::open(&file).unwrap();
    store.execute(&cmd(&["HSET", "last", "f", "v"])).unwrap();
    drop(store);
    let last = journal(dir.path(), 3);
    let size = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(size - 3)
        .unwrap();
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert!(opened.torn_bytes > 0, "{opened:?}");
    assert_eq!(contents(&store, 20), expected);
    assert_eq!(
        store.execute(&cmd(&["HMGET", "last", "f"])),
        Ok(Value::Array(vec![Value::Nil]))
    );
    // The cut is written back: the next open finds a whole journal.
    store.checkpoint().unwrap();
    drop(store);
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert_eq!(
        (opened.snapshot, opened.records, opened.torn_bytes),
        (true, 0, 0)
    );
    assert_eq!(contents(&store, 20), expected);
}

#[test]
fn damage_before_the_last_record_is_an_error() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("db");
    let (store, _) = MemoryStore::open(&file).unwrap();
    for round in 0..3 {
        write_some(&store, round);
    }
    drop(store);
    let path = journal(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff; // inside the first record's body
    std::fs::write(&path, &bytes).unwrap();
    let e = MemoryStore::open(&file).map(drop).unwrap_err();
    assert!(
        matches!(&e, SnapshotError::Journal { reason, .. } if reason.contains("checksum")),
        "{e}"
    );
    // A foreign file under a journal's name.
    std::fs::write(&path, b"not a journal at all").unwrap();
    let e = MemoryStore::open(&file).map(drop).unwrap_err();
    assert!(
        e.to_string().contains("not a redis-sessions journal"),
        "{e}"
    );
    // A gap: journal 2 missing between the snapshot (none: generation 0) and journal 3.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(journal(dir.path(), 3), b"RSJOURNL\x01\0\0\0").unwrap();
    let e = MemoryStore::open(&file).map(drop).unwrap_err();
    assert!(e.to_string().contains("journal 1 is missing"), "{e}");
}

#[test]
fn compaction_folds_the_journal_into_the_snapshot_and_is_skipped_when_nothing_changed() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("db");
    let (store, _) = MemoryStore::open(&file).unwrap();
    assert!(!store.compact().unwrap(), "nothing written yet");
    assert_eq!(files(dir.path()), ["db.journal.1"]);
    for round in 0..10 {
        write_some(&store, round);
    }
    assert!(store.compact().unwrap());
    assert_eq!(files(dir.path()), ["db", "db.journal.2"]);
    let snapshot_written = std::fs::metadata(&file).unwrap().modified().unwrap();
    assert!(!store.compact().unwrap(), "skipped: nothing changed");
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        snapshot_written
    );
    write_some(&store, 10);
    let expected = contents(&store, 11);
    drop(store);
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert_eq!(
        (opened.snapshot, opened.journals, opened.records),
        (true, 1, 3)
    );
    assert_eq!(contents(&store, 11), expected);

    // A crash after a snapshot's rename but before its journals were deleted: the next
    // open deletes them rather than replaying them twice.
    store.checkpoint().unwrap();
    drop(store);
    std::fs::write(journal(dir.path(), 2), b"RSJOURNL\x01\0\0\0garbage").unwrap();
    let (store, opened) = MemoryStore::open(&file).unwrap();
    assert_eq!(opened.records, 0);
    assert_eq!(contents(&store, 11), expected);
    assert!(!journal(dir.path(), 2).exists());
}

#[test]
fn compaction_beside_concurrent_writers_loses_nothing() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("db");
    let store = Arc::new(MemoryStore::open(&file).unwrap().0);
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    let key = format!("t{t}:{i}");
                    store.execute(&cmd(&["HSET", &key, "v", "1"])).unwrap();
                    store
                        .execute(&cmd(&["HINCRBY", "total", "n", "1"]))
                        .unwrap();
                }
            })
        })
        .collect();
    let mut compactions = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        compactions += usize::from(store.compact().unwrap());
        store.sync().unwrap();
    }
    for w in writers {
        w.join().unwrap();
    }
    assert!(compactions > 0);
    drop(store);
    let (store, _) = MemoryStore::open(&file).unwrap();
    assert_eq!(
        store.execute(&cmd(&["HMGET", "total", "n"])),
        Ok(Value::Array(vec![Value::Bulk(b"2000".to_vec())]))
    );
    for t in 0..4 {
        for i in 0..500 {
            assert_eq!(
                store.execute(&cmd(&["EXISTS", &format!("t{t}:{i}")])),
                Ok(Value::Integer(1))
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn every_file_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("db");
    let (store, _) = MemoryStore::open(&file).unwrap();
    write_some(&store, 0);
    store.sync().unwrap();
    store.compact().unwrap();
    for name in files(dir.path()) {
        let mode = std::fs::metadata(dir.path().join(&name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}
