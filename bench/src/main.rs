//! `redis-sessions-bench`: the component path (host library → component → Redis) against a
//! native-Rust baseline sending the same commands, side by side in one run.
//!
//! For create, get, set and kill at 1 and 32 concurrent callers it prints ops/s and
//! latency percentiles of both, their ratio, and the PING round trip for reference.
//! `--json` adds one JSON object as the last line. `--embedded` runs the component on the
//! embedded store instead (no Redis), for comparing the two backends; `--cluster-vs-one`
//! on one Redis against a 3-master Redis Cluster, both started by the benchmark.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: any failure should stop it loudly"
)]

mod cluster;
mod embedded;
mod measure;
mod native;

use clap::Parser;
use measure::{APP, Args, NAMESPACE, Stats, measure, median};
use native::Native;
use redis_sessions::{DataValue, Sessions};
use redis_sessions_core as core;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

async fn tokens(native: &Native, n: usize) -> Arc<Vec<String>> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(
            native
                .create(APP, &format!("user{}", i % 100), "127.0.0.1", 7200)
                .await
                .unwrap(),
        );
    }
    Arc::new(v)
}

/// One measurement of `op` on the component (`component == true`) or the native path.
async fn run(
    op: &str,
    conc: usize,
    total: usize,
    component: bool,
    s: &Sessions,
    n: &Native,
) -> Stats {
    let (s, n) = (s.clone(), n.clone());
    match op {
        "create" => {
            measure(conc, total, move |i| {
                let (s, n) = (s.clone(), n.clone());
                async move {
                    let id = format!("user{}", i % 100);
                    if component {
                        s.create(APP, &id, "127.0.0.1", Some(7200), None, false)
                            .await
                            .unwrap();
                    } else {
                        n.create(APP, &id, "127.0.0.1", 7200).await.unwrap();
                    }
                }
            })
            .await
        }
        "get" | "set" | "kill" => {
            let pool = if op == "kill" { total } else { 1000 };
            let toks = tokens(&n, pool).await;
            let op = op.to_owned();
            measure(conc, total, move |i| {
                let (s, n, toks, op) = (s.clone(), n.clone(), toks.clone(), op.clone());
                async move {
                    let t = &toks[i % toks.len()];
                    match (op.as_str(), component) {
                        ("get", true) => assert!(s.get(APP, t).await.unwrap().is_some()),
                        ("get", false) => assert!(n.get(APP, t).await.unwrap().is_some()),
                        ("set", _) => {
                            let (key, value) = (format!("k{}", i % 10), i as i64);
                            let done = if component {
                                let d = vec![(key, Some(DataValue::Integer(value)))];
                                s.set(APP, t, &d).await.unwrap().is_some()
                            } else {
                                let d = vec![(key, Some(core::DataValue::Integer(value)))];
                                n.set(APP, t, &d).await.unwrap().is_some()
                            };
                            assert!(done);
                        }
                        (_, true) => assert_eq!(s.kill(APP, t).await.unwrap(), 1),
                        (_, false) => assert_eq!(n.kill(APP, t).await.unwrap(), 1),
                    }
                }
            })
            .await
        }
        other => unreachable!("unknown op {other}"),
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.embedded {
        return embedded::main(&args).await;
    }
    if args.cluster_vs_one {
        return cluster::main(&args).await;
    }
    let sessions = Sessions::connect(&args.redis, NAMESPACE)
        .await
        .unwrap_or_else(|e| {
            eprintln!("redis-sessions-bench: {e}");
            std::process::exit(1);
        });
    let conn = redis_sessions::capability::connect(&args.redis, Default::default())
        .await
        .unwrap();
    let native = Native::new(conn.clone(), NAMESPACE);

    // Warm up both paths (instance pool, script cache, connections).
    let warm = tokens(&native, 100).await;
    for t in warm.iter().cycle().take(2000) {
        sessions.get(APP, t).await.unwrap();
        native.get(APP, t).await.unwrap();
    }

    let mut ping = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let s = Instant::now();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn.clone())
            .await
            .unwrap();
        ping.push(s.elapsed().as_secs_f64() * 1e6);
    }
    let ping_p50 = median(ping);

    println!(
        "redis-sessions-bench: {} rounds, medians; PING p50 {ping_p50:.1} µs",
        args.rounds
    );
    println!(
        "{:<7} {:>4} {:>13} {:>13} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "op",
        "conc",
        "component/s",
        "native/s",
        "ratio",
        "c p50 µs",
        "c p99 µs",
        "n p50 µs",
        "n p99 µs"
    );
    let mut rows = Vec::new();
    for (op, conc, total) in args.measurements() {
        let (mut c, mut n) = (Vec::new(), Vec::new());
        for round in 0..args.rounds {
            // Alternate which path goes first, so neither always runs on a warmer Redis.
            if round % 2 == 0 {
                c.push(run(op, conc, total, true, &sessions, &native).await);
                n.push(run(op, conc, total, false, &sessions, &native).await);
            } else {
                n.push(run(op, conc, total, false, &sessions, &native).await);
                c.push(run(op, conc, total, true, &sessions, &native).await);
            }
            sessions.killall(APP).await.unwrap();
        }
        let m = |v: &[Stats], f: fn(&Stats) -> f64| median(v.iter().map(f).collect());
        let (c_ops, n_ops) = (m(&c, |s| s.ops_s), m(&n, |s| s.ops_s));
        let (c50, c99, n50, n99) = (
            m(&c, |s| s.p50_us),
            m(&c, |s| s.p99_us),
            m(&n, |s| s.p50_us),
            m(&n, |s| s.p99_us),
        );
        println!(
            "{op:<7} {conc:>4} {c_ops:>13.0} {n_ops:>13.0} {:>6.2} {c50:>9.1} {c99:>9.1} {n50:>9.1} {n99:>9.1}",
            c_ops / n_ops
        );
        rows.push(json!({
            "op": op, "conc": conc,
            "component_ops_s": c_ops, "native_ops_s": n_ops,
            "component_p50_us": c50, "component_p99_us": c99,
            "native_p50_us": n50, "native_p99_us": n99,
        }));
        if op == "get" && conc == 1 {
            println!(
                "        get p50 at 1 caller = {:.2} × PING p50",
                c50 / ping_p50
            );
        }
    }
    sessions.killall(APP).await.unwrap();
    if args.json {
        println!("{}", json!({ "ping_p50_us": ping_p50, "ops": rows }));
    }
}
