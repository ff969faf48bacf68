//! Snapshots: round trip, atomic replacement, corrupt or foreign files refused, and files of
//! the previous formats (versions 1 and 2) still loaded.

use redis_sessions_memory::{MemoryStore, ServerError, SnapshotError, Value};
use std::io::ErrorKind;
use std::path::Path;
use tempfile::TempDir;

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("rsm-persist-")
        .tempdir()
        .unwrap()
}

fn files(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn filled() -> MemoryStore {
    let store = MemoryStore::new();
    let run = |c: Vec<Vec<u8>>| store.execute(&c).unwrap();
    run(vec![
        b"HSET".to_vec(),
        vec![0, 255],
        vec![1, 2, 0, 13, 10],
        b"".to_vec(),
    ]);
    run(cmd(&["HSET", "", "", ""]));
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
    let Ok(Value::Array(keys)) = store.inspect(&cmd(&["KEYS", "*"])) else {
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
        let t = store.inspect(&[b"TYPE".to_vec(), k.clone()]).unwrap();
        let read = match &t {
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
        out.push((format!("{k:?} {t:?}"), store.inspect(&read)));
    }
    out
}

fn key_count(store: &MemoryStore) -> usize {
    match store.inspect(&cmd(&["KEYS", "*"])) {
        Ok(Value::Array(keys)) => keys.len(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_trip() {
    let dir = temp_dir();
    let path = dir.path().join("dump.rsm");
    let store = filled();
    store.save(&path).unwrap();
    let loaded = MemoryStore::load(&path).unwrap();
    assert_eq!(contents(&loaded), contents(&store));
    assert_eq!(key_count(&loaded), 7);
    assert_eq!(
        loaded.execute(&cmd(&["SMEMBERS", "ints"])),
        store.execute(&cmd(&["SMEMBERS", "ints"]))
    );
    // Scripts are not part of a snapshot (as in Redis): EVALSHA says NOSCRIPT.
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(
        store.execute(&cmd(&["EVALSHA", sha, "0"])),
        Ok(Value::Integer(1))
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
    assert_eq!(key_count(&MemoryStore::load(&path).unwrap()), 0);
    assert_eq!(files(&dir), ["dump.rsm"]);
}

#[test]
fn writes_are_atomic() {
    let dir = temp_dir();
    let path = dir.path().join("dump.rsm");
    filled().save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A save that cannot complete leaves the old file as it was, and no temporary file.
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken").join("inside"), b"x").unwrap();
    let e = filled().save(&dir.path().join("taken")).unwrap_err();
    assert_ne!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(files(&dir), ["dump.rsm", "taken"]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let e = filled()
        .save(&dir.path().join("missing-dir").join("dump.rsm"))
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
                        .execute(&cmd(&["HSET", &format!("t{i}"), "f", &j.to_string()]))
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
    assert_eq!(key_count(&loaded), 11);
    assert_eq!(files(&dir), ["dump.rsm", "taken"]);
}

fn load_bytes(dir: &Path, bytes: &[u8]) -> Result<MemoryStore, SnapshotError> {
    let path = dir.join("candidate");
    std::fs::write(&path, bytes).unwrap();
    MemoryStore::load(&path)
}

#[test]
fn corrupt_and_foreign_files_are_errors() {
    let dir = temp_dir();
    let path = dir.path().join("dump.rsm");
    filled().save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(load_bytes(dir.path(), &good).is_ok());
    let invalid = |r: Result<MemoryStore, SnapshotError>| {
        assert_eq!(r.map(|_| ()).unwrap_err().kind(), ErrorKind::InvalidData);
    };
    invalid(load_bytes(dir.path(), b""));
    invalid(load_bytes(dir.path(), b"REDIS0011\xfa\x09redis-ver"));
    invalid(load_bytes(dir.path(), b"{\"not\": \"a snapshot\"}"));
    invalid(load_bytes(dir.path(), &[0u8; 4096]));
    // Every truncation, and a flipped bit anywhere.
    for len in 0..good.len() {
        invalid(load_bytes(dir.path(), &good[..len]));
    }
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        invalid(load_bytes(dir.path(), &bad));
    }
    let mut longer = good.clone();
    longer.push(0);
    invalid(load_bytes(dir.path(), &longer));
    assert_eq!(
        MemoryStore::load(&dir.path().join("nope"))
            .map(|_| ())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_file_of_the_previous_format_loads_and_the_next_save_upgrades_it() {
    // Written by the version 1 writer from these commands (see the fixture's commit).
    let expected = MemoryStore::new();
    for c in [
        &[
            "HSET",
            "rs:app:tok",
            "id",
            "user1",
            "r",
            "1",
            "w",
            "1",
            "ttl",
            "3600",
            "d",
            "{\"a\":1}",
            "la",
            "1800000000",
            "ip",
            "127.0.0.1",
            "no_resave",
            "0",
        ][..],
        &["HSET", "bin\u{0}key", "f\r\n", "\u{7f}\u{0}"],
        &["SADD", "ints", "3", "-1", "20", "1"],
        &["SADD", "rs:app:us:user1", "tok", "other"],
        &[
            "ZADD",
            "rs:app:_sessions",
            "1800000000",
            "tok:user1",
            "0.1",
            "b",
            "-inf",
            "low",
            "inf",
            "high",
            "-2.5",
            "neg",
        ],
        &["ZADD", "rs:SESSIONS", "1800003600", "app:tok:user1"],
    ] {
        expected.execute(&cmd(c)).unwrap();
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/legacy-v1.rsdb");
    assert_eq!(std::fs::read(&fixture).unwrap()[8..12], 1u32.to_le_bytes());
    let loaded = MemoryStore::load(&fixture).unwrap();
    assert_eq!(contents(&loaded), contents(&expected));

    let dir = temp_dir();
    let path = dir.path().join("upgraded.rsdb");
    loaded.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap()[8..12], 3u32.to_le_bytes());
    assert_eq!(
        contents(&MemoryStore::load(&path).unwrap()),
        contents(&expected)
    );

    // Strings (SET) existed in version 1; no command makes them now.
    let strings =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/legacy-v1-string.rsdb");
    let e = MemoryStore::load(&strings).unwrap_err();
    assert!(
        matches!(&e, SnapshotError::Corrupt { reason } if reason.contains("string")),
        "{e}"
    );
}

/// A version 2 file around `body`, its header consistent.
fn v2(body: &[u8]) -> Vec<u8> {
    let mut out = b"RSMEMDB\0".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// postcard's bytes (a varint length, here one byte).
fn b(bytes: &[u8]) -> Vec<u8> {
    [&[u8::try_from(bytes.len()).unwrap()], bytes].concat()
}

#[test]
fn well_formed_but_inconsistent_files_are_errors() {
    // Hand-made bodies with a valid header and checksum. In postcard a sequence is its
    // length then its items; an enum is its variant's index (Hash 0, Set 1, ZSet 2) then
    // its fields.
    let dir = temp_dir();
    let one_hash = [&[1u8][..], &b(b"h"), &[0, 1], &b(b"f"), &b(b"v")].concat();
    let store = load_bytes(dir.path(), &v2(&one_hash)).unwrap();
    assert_eq!(
        store.inspect(&cmd(&["HGET", "h", "f"])),
        Ok(Value::Bulk(b"v".to_vec()))
    );
    let nan = f64::NAN.to_le_bytes();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "duplicate key",
            [&[2u8][..], &one_hash[1..], &one_hash[1..]].concat(),
        ),
        ("empty hash", [&[1u8][..], &b(b"h"), &[0, 0]].concat()),
        (
            "duplicate field",
            [
                &[1u8][..],
                &b(b"h"),
                &[0, 2],
                &b(b"f"),
                &b(b"v"),
                &b(b"f"),
                &b(b"w"),
            ]
            .concat(),
        ),
        ("empty set", [&[1u8][..], &b(b"s"), &[1, 0, 0]].concat()),
        (
            "bad intset flag",
            [&[1u8][..], &b(b"s"), &[1, 1, 1], &b(b"x")].concat(),
        ),
        (
            "bad bool",
            [&[1u8][..], &b(b"s"), &[1, 2, 1], &b(b"1")].concat(),
        ),
        (
            "NaN score",
            [&[1u8][..], &b(b"z"), &[2, 1], &b(b"m"), &nan].concat(),
        ),
        ("empty sorted set", [&[1u8][..], &b(b"z"), &[2, 0]].concat()),
        (
            "unknown type",
            [&[1u8][..], &b(b"k"), &[7, 1], &b(b"v")].concat(),
        ),
        ("huge count", [0xff; 10].to_vec()),
        ("truncated body", one_hash[..one_hash.len() - 1].to_vec()),
        ("trailing bytes", [one_hash.as_slice(), &[0]].concat()),
    ];
    for (what, body) in cases {
        let e = load_bytes(dir.path(), &v2(&body)).map(|_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{what}: {e}");
    }
    // The header's length must be the file's: checked before the body is read.
    let mut longer_claim = v2(&one_hash);
    longer_claim[12] += 1;
    let e = load_bytes(dir.path(), &longer_claim)
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("header declares"), "{e}");
    let mut huge_claim = v2(&one_hash);
    huge_claim[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        load_bytes(dir.path(), &huge_claim)
            .map(|_| ())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidData
    );
    // A postcard failure keeps its source.
    let e = load_bytes(dir.path(), &v2(&[0xff; 10]))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, SnapshotError::Format(_)), "{e}");
    assert!(std::error::Error::source(&e).is_some());
    // A newer format is named as such.
    let mut future = v2(&one_hash);
    future[8..12].copy_from_slice(&4u32.to_le_bytes());
    let e = load_bytes(dir.path(), &future).map(|_| ()).unwrap_err();
    assert!(
        matches!(e, SnapshotError::UnsupportedVersion { found: 4 }),
        "{e}"
    );
}

#[test]
fn inconsistent_files_of_the_previous_format_are_errors() {
    // Hand-made version 1 files with a valid SHA1.
    fn v1(body: &[u8]) -> Vec<u8> {
        let mut out = b"RSMEMDB\0".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(body);
        let digest = sha1_smol::Sha1::from(&out).digest().bytes();
        out.extend_from_slice(&digest);
        out
    }
    fn len(n: u64) -> [u8; 8] {
        n.to_le_bytes()
    }
    let dir = temp_dir();
    let key = |k: &[u8]| [len(k.len() as u64).as_slice(), k].concat();
    let hash = [&[1u8][..], &key(b"h"), &len(1), &key(b"f"), &key(b"v")].concat();
    let one_hash = [len(1).as_slice(), &hash].concat();
    assert!(load_bytes(dir.path(), &v1(&one_hash)).is_ok());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("huge key count", v1(&len(u64::MAX))),
        (
            "huge length",
            v1(&[len(1).as_slice(), &[1], &len(u64::MAX)].concat()),
        ),
        (
            "unknown type",
            v1(&[len(1).as_slice(), &[7], &key(b"k"), &key(b"v")].concat()),
        ),
        (
            "duplicate key",
            v1(&[len(2).as_slice(), &hash, &hash].concat()),
        ),
        (
            "empty hash",
            v1(&[len(1).as_slice(), &[1], &key(b"h"), &len(0)].concat()),
        ),
        (
            "empty set",
            v1(&[len(1).as_slice(), &[2], &key(b"s"), &[0], &len(0)].concat()),
        ),
        (
            "bad intset flag",
            v1(&[
                len(1).as_slice(),
                &[2],
                &key(b"s"),
                &[1],
                &len(1),
                &key(b"x"),
            ]
            .concat()),
        ),
        (
            "NaN score",
            v1(&[
                len(1).as_slice(),
                &[3],
                &key(b"z"),
                &len(1),
                &key(b"m"),
                &f64::NAN.to_le_bytes(),
            ]
            .concat()),
        ),
        ("trailing bytes", v1(&[one_hash.as_slice(), &[0]].concat())),
    ];
    for (what, bytes) in cases {
        let e = load_bytes(dir.path(), &bytes).map(|_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{what}: {e}");
    }
    let mut flipped = v1(&one_hash);
    flipped[20] ^= 1;
    assert!(
        load_bytes(dir.path(), &flipped)
            .map(|_| ())
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
}
