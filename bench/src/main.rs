//! `redis-sessions-bench`: the component path (host library → component → Redis) against a
//! native-Rust baseline sending the same commands, side by side in one run.
//!
//! For create, get, set and kill at 1 and 32 concurrent callers it prints ops/s and
//! latency percentiles of both, their ratio, and the PING round trip for reference.
//! `--json` adds one JSON object as the last line. `--embedded` runs the component on the
//! embedded store instead (no Redis), for comparing the two backends.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: any failure should stop it loudly"
)]

mod embedded;
mod native;

use clap::Parser;
use native::Native;
use redis_sessions::{DataValue, Sessions};
use redis_sessions_core as core;
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "redis-sessions-bench")]
struct Args {
    /// Redis to run against (keys go to namespace `rsbench`, removed at the end)
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Run the component on the embedded store instead of Redis (no native baseline)
    #[arg(long)]
    embedded: bool,
    /// Print one JSON object as the last line
    #[arg(long)]
    json: bool,
    /// Operations per measurement with 1 caller (32 callers run 8x as many)
    #[arg(long, default_value_t = 3000)]
    ops: usize,
    /// Rounds; medians are reported
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Only these operations (comma-separated), e.g. `--only get` for profiling
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Only these numbers of concurrent callers (comma-separated)
    #[arg(long, value_delimiter = ',')]
    conc: Vec<usize>,
}

const NAMESPACE: &str = "rsbench";
const APP: &str = "benchapp";
const OPS: [&str; 4] = ["create", "get", "set", "kill"];
const CONCURRENCY: [usize; 2] = [1, 32];

impl Args {
    /// The measurements asked for: (op, concurrent callers, calls), `--only`/`--conc` applied.
    /// 32 callers make 8x as many calls as one, so each measurement lasts about as long.
    fn measurements(&self) -> Vec<(&'static str, usize, usize)> {
        let ops = OPS
            .iter()
            .filter(|op| self.only.is_empty() || self.only.iter().any(|o| o == *op));
        ops.flat_map(|&op| {
            CONCURRENCY
                .iter()
                .filter(|c| self.conc.is_empty() || self.conc.contains(c))
                .map(move |&conc| (op, conc, if conc == 1 { self.ops } else { self.ops * 8 }))
        })
        .collect()
    }
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    ops_s: f64,
    p50_us: f64,
    p99_us: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `total` calls of `f(i)` spread over `conc` tasks; each task runs its share in turn.
async fn measure<F, Fut>(conc: usize, total: usize, f: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let start = Instant::now();
    let tasks: Vec<_> = (0..conc)
        .map(|t| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(total / conc + 1);
                for i in (t..total).step_by(conc) {
                    let s = Instant::now();
                    f(i).await;
                    lat.push(s.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = Vec::with_capacity(total);
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let wall = start.elapsed();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    Stats {
        ops_s: total as f64 / wall.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

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
    let sessions = Sessions::connect(&args.redis, NAMESPACE)
        .await
        .unwrap_or_else(|e| {
            eprintln!("redis-sessions-bench: {e}");
            std::process::exit(1);
        });
    let conn = redis_sessions::redis::connect(&args.redis).await.unwrap();
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
