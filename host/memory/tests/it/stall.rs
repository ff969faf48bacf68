//! How long a snapshot stops other commands, at 500k sessions in node's layout: the old way
//! (`save`: the keyspace encoded under the store's lock) against compaction (`compact`: a
//! new journal under the lock, the snapshot rebuilt from the files). A probe thread runs
//! HMGET in a loop meanwhile and reports its worst latency. A benchmark, not a test:
//! `cargo test --release -p redis-sessions-memory --test it -- stall:: --ignored --nocapture`
//! (`STALL_SESSIONS=N` for another size).

use crate::support::{cmd, session_hash};
use redis_sessions_memory::MemoryStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `n` sessions as node writes them: the hash, the app's and the global indexes.
fn fill(store: &MemoryStore, n: usize) {
    for i in 0..n {
        let token = format!("{i:064}");
        let user = format!("user{}", i % 50_000);
        store
            .execute(&session_hash(
                &format!("rs:app:{token}"),
                &user,
                "1800000000",
                "3600",
                Some(r#"{"plan":"pro"}"#),
            ))
            .unwrap();
        store
            .execute(&cmd(&[
                "ZADD",
                "rs:app:_sessions",
                "1800000000",
                &format!("{token}:{user}"),
            ]))
            .unwrap();
        store
            .execute(&cmd(&[
                "ZADD",
                "rs:SESSIONS",
                "1800003600",
                &format!("app:{token}:{user}"),
            ]))
            .unwrap();
        store
            .execute(&cmd(&["SADD", &format!("rs:app:us:{user}"), &token]))
            .unwrap();
    }
}

/// Runs `op` while a probe thread times HMGETs; the probe's worst latency and `op`'s time.
fn probed(store: &Arc<MemoryStore>, op: impl FnOnce()) -> (Duration, Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let probe = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            let probe = cmd(&["HMGET", "rs:app:probe", "id"]);
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                store.execute(&probe).unwrap();
                worst = worst.max(started.elapsed());
                std::thread::sleep(Duration::from_micros(200));
            }
            worst
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    op();
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(50));
    done.store(true, Ordering::Relaxed);
    (probe.join().unwrap(), took)
}

#[test]
#[ignore = "a benchmark: run it with --release -- --ignored --nocapture"]
fn snapshot_stall() {
    let n: usize = std::env::var("STALL_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("sessions.rsdb");
    let store = Arc::new(MemoryStore::open(&file).unwrap().0);
    fill(&store, n);
    store.sync().unwrap();
    println!("{n} sessions in node's layout");
    let copy = dir.path().join("copy.rsdb");
    let (save_stall, save_took) = probed(&store, || store.save(&copy).unwrap());
    let (compact_stall, compact_took) = probed(&store, || assert!(store.compact().unwrap()));
    let (idle_stall, _) = probed(&store, || assert!(!store.compact().unwrap()));
    println!(
        "save (encode under the lock):   worst probe {:>8.1} ms, took {:>7.0} ms",
        save_stall.as_secs_f64() * 1e3,
        save_took.as_secs_f64() * 1e3
    );
    println!(
        "compact (rebuilt off the lock): worst probe {:>8.1} ms, took {:>7.0} ms",
        compact_stall.as_secs_f64() * 1e3,
        compact_took.as_secs_f64() * 1e3
    );
    println!(
        "compact with nothing new:       worst probe {:>8.1} ms (skipped)",
        idle_stall.as_secs_f64() * 1e3
    );
    println!(
        "worst stall, save / compact: {:.0}x",
        save_stall.as_secs_f64() / compact_stall.as_secs_f64()
    );
}
