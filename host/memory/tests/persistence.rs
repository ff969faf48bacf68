//! Snapshots: round trip, atomic replacement, and corrupt or foreign files refused.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
use redis_sessions_memory::{MemoryStore, ServerError, Value};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rsm-persist-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn filled() -> MemoryStore {
    let store = MemoryStore::new();
    let run = |c: Vec<Vec<u8>>| store.execute(&c).unwrap();
    run(cmd(&["SET", "s", "v"]));
    run(vec![b"SET".to_vec(), vec![0, 255], vec![1, 2, 0, 13, 10]]);
    run(cmd(&["SET", "", ""]));
    run(cmd(&["HSET", "h", "z", "1", "a", "2", "m", "3"]));
    run(cmd(&["HDEL", "h", "a"]));
    run(cmd(&["HSET", "h", "a", "4"]));
    run(cmd(&["SADD", "ints", "10", "-5", "3"]));
    run(cmd(&["SADD", "words", "b", "a", "c"]));
    run(cmd(&["SADD", "mixed", "1", "x"]));
    run(cmd(&["SREM", "mixed", "x"]));
    run(cmd(&[
        "ZADD",
        "z",
        "1800000000",
        "m",
        "1.5",
        "n",
        "inf",
        "i",
        "-inf",
        "j",
        "-0.0",
        "zero",
    ]));
    run(cmd(&["ZADD", "z", "0.1", "p", "1.5", "a"]));
    run(cmd(&["EVAL", "return 1", "0"]));
    store
}

/// Every key's content, as commands read it (orders included).
fn contents(store: &MemoryStore) -> Vec<(String, Result<Value, ServerError>)> {
    let Ok(Value::Array(keys)) = store.execute(&cmd(&["KEYS", "*"])) else {
        panic!()
    };
    let mut keys: Vec<Vec<u8>> = keys
        .into_iter()
        .map(|k| match k {
            Value::Bulk(k) => k,
            other => panic!("{other:?}"),
        })
        .collect();
    keys.sort();
    let mut out = Vec::new();
    for k in keys {
        let t = store.execute(&[b"TYPE".to_vec(), k.clone()]).unwrap();
        let read = match &t {
            Value::Status(t) if t == "string" => vec![b"GET".to_vec(), k.clone()],
            Value::Status(t) if t == "hash" => vec![b"HGETALL".to_vec(), k.clone()],
            Value::Status(t) if t == "set" => vec![b"SMEMBERS".to_vec(), k.clone()],
            _ => vec![
                b"ZRANGE".to_vec(),
                k.clone(),
                b"0".to_vec(),
                b"-1".to_vec(),
                b"WITHSCORES".to_vec(),
            ],
        };
        out.push((format!("{k:?} {t:?}"), store.execute(&read)));
    }
    out
}

#[test]
fn round_trip() {
    let dir = TempDir::new("round-trip");
    let path = dir.0.join("dump.rsm");
    let store = filled();
    store.save(&path).unwrap();
    let loaded = MemoryStore::load(&path).unwrap();
    assert_eq!(contents(&loaded), contents(&store));
    assert_eq!(loaded.execute(&cmd(&["DBSIZE"])), Ok(Value::Int(8)));
    assert_eq!(
        loaded.execute(&cmd(&["SMEMBERS", "ints"])),
        store.execute(&cmd(&["SMEMBERS", "ints"]))
    );
    // Scripts are not part of a snapshot (as in Redis): EVALSHA says NOSCRIPT.
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(
        store.execute(&cmd(&["EVALSHA", sha, "0"])),
        Ok(Value::Int(1))
    );
    assert!(
        loaded
            .execute(&cmd(&["EVALSHA", sha, "0"]))
            .unwrap_err()
            .0
            .starts_with("NOSCRIPT")
    );
    // An empty store round-trips too, and saving again replaces the file.
    MemoryStore::new().save(&path).unwrap();
    assert_eq!(
        MemoryStore::load(&path).unwrap().execute(&cmd(&["DBSIZE"])),
        Ok(Value::Int(0))
    );
    assert_eq!(dir.files(), ["dump.rsm"]);
}

#[test]
fn writes_are_atomic() {
    let dir = TempDir::new("atomic");
    let path = dir.0.join("dump.rsm");
    filled().save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A save that cannot complete leaves the old file as it was, and no temporary file.
    std::fs::create_dir(dir.0.join("taken")).unwrap();
    std::fs::write(dir.0.join("taken").join("inside"), b"x").unwrap();
    let e = filled().save(&dir.0.join("taken")).unwrap_err();
    assert_ne!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(dir.files(), ["dump.rsm", "taken"]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let e = filled()
        .save(&dir.0.join("missing-dir").join("dump.rsm"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // Concurrent saves of one store never leave a torn file.
    let store = std::sync::Arc::new(filled());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (store, path) = (store.clone(), path.clone());
            std::thread::spawn(move || {
                for j in 0..10 {
                    store
                        .execute(&cmd(&["SET", &format!("t{i}"), &j.to_string()]))
                        .unwrap();
                    store.save(&path).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let loaded = MemoryStore::load(&path).unwrap();
    assert_eq!(loaded.execute(&cmd(&["DBSIZE"])), Ok(Value::Int(12)));
    assert_eq!(dir.files(), ["dump.rsm", "taken"]);
}

fn load_bytes(dir: &Path, bytes: &[u8]) -> std::io::Result<MemoryStore> {
    let path = dir.join("candidate");
    std::fs::write(&path, bytes).unwrap();
    MemoryStore::load(&path)
}

#[test]
fn corrupt_and_foreign_files_are_errors() {
    let dir = TempDir::new("corrupt");
    let path = dir.0.join("dump.rsm");
    filled().save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(load_bytes(&dir.0, &good).is_ok());
    let invalid = |r: std::io::Result<MemoryStore>| {
        assert_eq!(r.map(|_| ()).unwrap_err().kind(), ErrorKind::InvalidData);
    };
    invalid(load_bytes(&dir.0, b""));
    invalid(load_bytes(&dir.0, b"REDIS0011\xfa\x09redis-ver"));
    invalid(load_bytes(&dir.0, b"{\"not\": \"a snapshot\"}"));
    invalid(load_bytes(&dir.0, &[0u8; 4096]));
    // Every truncation, and a flipped bit anywhere.
    for len in 0..good.len() {
        invalid(load_bytes(&dir.0, &good[..len]));
    }
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        invalid(load_bytes(&dir.0, &bad));
    }
    let mut longer = good.clone();
    longer.push(0);
    invalid(load_bytes(&dir.0, &longer));
    assert_eq!(
        MemoryStore::load(&dir.0.join("nope"))
            .map(|_| ())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn well_formed_but_inconsistent_files_are_errors() {
    // Hand-made snapshots with a valid checksum: bad versions, types, lengths, duplicates.
    fn snapshot(version: u32, body: &[u8]) -> Vec<u8> {
        let mut out = b"RSMEMDB\0".to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(body);
        let digest = sha1_smol::Sha1::from(&out).digest().bytes();
        out.extend_from_slice(&digest);
        out
    }
    fn len(n: u64) -> [u8; 8] {
        n.to_le_bytes()
    }
    let dir = TempDir::new("inconsistent");
    let key = |k: &[u8]| [len(k.len() as u64).as_slice(), k].concat();
    let one_string = [len(1).as_slice(), &[0], &key(b"k"), &key(b"v")].concat();
    assert!(load_bytes(&dir.0, &snapshot(1, &one_string)).is_ok());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("future version", snapshot(2, &one_string)),
        ("huge key count", snapshot(1, &len(u64::MAX))),
        (
            "huge length",
            snapshot(1, &[len(1).as_slice(), &[0], &len(u64::MAX)].concat()),
        ),
        (
            "unknown type",
            snapshot(
                1,
                &[len(1).as_slice(), &[7], &key(b"k"), &key(b"v")].concat(),
            ),
        ),
        (
            "duplicate key",
            snapshot(
                1,
                &[
                    len(2).as_slice(),
                    &[0],
                    &key(b"k"),
                    &key(b"v"),
                    &[0],
                    &key(b"k"),
                    &key(b"w"),
                ]
                .concat(),
            ),
        ),
        (
            "empty hash",
            snapshot(1, &[len(1).as_slice(), &[1], &key(b"h"), &len(0)].concat()),
        ),
        (
            "empty set",
            snapshot(
                1,
                &[len(1).as_slice(), &[2], &key(b"s"), &[0], &len(0)].concat(),
            ),
        ),
        (
            "bad intset flag",
            snapshot(
                1,
                &[
                    len(1).as_slice(),
                    &[2],
                    &key(b"s"),
                    &[1],
                    &len(1),
                    &key(b"x"),
                ]
                .concat(),
            ),
        ),
        (
            "NaN score",
            snapshot(
                1,
                &[
                    len(1).as_slice(),
                    &[3],
                    &key(b"z"),
                    &len(1),
                    &key(b"m"),
                    &f64::NAN.to_le_bytes(),
                ]
                .concat(),
            ),
        ),
        (
            "trailing bytes",
            snapshot(1, &[one_string.as_slice(), &[0]].concat()),
        ),
    ];
    for (what, bytes) in cases {
        let e = load_bytes(&dir.0, &bytes).map(|_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{what}: {e}");
    }
}
