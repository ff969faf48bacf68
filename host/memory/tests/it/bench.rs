//! Throughput of the embedded store against a real redis-server over loopback, in one run:
//! `cargo test --release -p redis-sessions-memory --test it -- bench:: --ignored --nocapture`.

use crate::support;
use redis_sessions_core::scripts;
use redis_sessions_memory::{MemoryStore, ServerError, Value};
use std::time::Instant;
use support::{RedisServer, cmd, redis, session_hash};

const N: usize = 20_000;

fn measure(label: &str, n: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..n / 10 {
        f(i); // warm-up
    }
    let started = Instant::now();
    for i in 0..n {
        f(i);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("{label:<48} {rate:>12.0} ops/s");
    rate
}

type Exec<'a> = dyn FnMut(&[Vec<u8>]) -> Result<Value, ServerError> + 'a;

fn setup(exec: &mut Exec<'_>) {
    exec(&session_hash(
        "rs:app:tok",
        "u1",
        "1800000000",
        "3600",
        Some(r#"{"plan":"pro"}"#),
    ))
    .unwrap();
    // EVAL caches the script (here on a missing session: nothing changes).
    exec(&cmd(&[
        "EVAL",
        scripts::GET.source,
        "4",
        "rs:app:none",
        "rs:app:_sessions",
        "rs:app:_users",
        "rs:SESSIONS",
        "1800000000",
        "app",
        "none",
    ]))
    .unwrap();
}

fn get_script(i: usize) -> Vec<Vec<u8>> {
    let now = (1_800_000_000 + i / 100).to_string();
    cmd(&[
        "EVALSHA",
        scripts::GET.sha1(),
        "4",
        "rs:app:tok",
        "rs:app:_sessions",
        "rs:app:_users",
        "rs:SESSIONS",
        &now,
        "app",
        "tok",
    ])
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn evalsha_get_store_vs_redis() {
    let server = RedisServer::start();
    let mut redis = redis(&server);
    let store = MemoryStore::new();
    setup(&mut |c| store.execute(c));
    setup(&mut |c| redis.call(c));
    let hmget = cmd(&["HMGET", "rs:app:tok", "id"]);

    println!("\n{N} sequential requests each (Redis 7.0 over loopback, one connection):");
    let s1 = measure("embedded store: EVALSHA get", N, |i| {
        store.execute(&get_script(i)).unwrap();
    });
    let r1 = measure("redis-server:   EVALSHA get", N, |i| {
        redis.call(&get_script(i)).unwrap();
    });
    let s2 = measure("embedded store: HMGET", N * 10, |_| {
        store.execute(&hmget).unwrap();
    });
    let r2 = measure("redis-server:   HMGET", N, |_| {
        redis.call(&hmget).unwrap();
    });
    let shared = std::sync::Arc::new(store);
    let started = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let store = shared.clone();
            std::thread::spawn(move || {
                for i in 0..N {
                    store.execute(&get_script(i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s3 = (2 * N) as f64 / started.elapsed().as_secs_f64();
    println!(
        "{:<48} {s3:>12.0} ops/s",
        "embedded store: EVALSHA get, 2 threads"
    );
    println!(
        "EVALSHA get: store/redis = {:.1}x; HMGET: {:.1}x",
        s1 / r1,
        s2 / r2
    );
    assert_eq!(shared.execute(&hmget), redis.call(&hmget));
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn script_overheads() {
    let store = MemoryStore::new();
    setup(&mut |c| store.execute(c));
    // EVAL once caches the script for EVALSHA.
    let sha = |body: &str| {
        store
            .execute(&cmd(&["EVAL", body, "1", "rs:app:tok"]))
            .unwrap();
        sha1_smol::Sha1::from(body).digest().to_string()
    };
    let ret1 = sha("return 1");
    let ping = sha("redis.call('ping') return 1");
    let six = sha("for i = 1, 6 do redis.call('hmget', KEYS[1], 'id') end return 1");
    let hmget = sha(
        "return redis.call('HMGET', KEYS[1], 'id', 'r', 'w', 'ttl', 'd', 'la', 'ip', 'no_resave')",
    );
    measure("EVALSHA return 1", N * 5, |_| {
        store.execute(&cmd(&["EVALSHA", &ret1, "0"])).unwrap();
    });
    measure("EVALSHA return 1, 4 keys 3 args", N * 5, |_| {
        store
            .execute(&cmd(&[
                "EVALSHA", &ret1, "4", "a", "b", "c", "d", "1", "2", "3",
            ]))
            .unwrap();
    });
    measure("EVALSHA one redis.call", N * 5, |_| {
        store.execute(&cmd(&["EVALSHA", &ping, "0"])).unwrap();
    });
    measure("EVALSHA six redis.call", N * 5, |_| {
        store
            .execute(&cmd(&["EVALSHA", &six, "1", "rs:app:tok"]))
            .unwrap();
    });
    measure("EVALSHA HMGET 8 fields", N * 5, |_| {
        store
            .execute(&cmd(&["EVALSHA", &hmget, "1", "rs:app:tok"]))
            .unwrap();
    });
}
