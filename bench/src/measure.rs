//! What every measurement shares: the arguments, the timing loop, medians.

use clap::Parser;
use redis_sessions::{DataValue, Sessions};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "redis-sessions-bench")]
pub(crate) struct Args {
    /// Redis to run against (keys go to namespace `rsbench`, removed at the end)
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub(crate) redis: String,
    /// Run the component on the embedded store instead of Redis (no native baseline)
    #[arg(long)]
    pub(crate) embedded: bool,
    /// Start one redis-server and a local Redis Cluster of 3 masters (and 3 replicas) and
    /// run the component on each: get/create/set at 32 and 128 callers, with each Redis'
    /// CPU per operation (needs redis-server and redis-cli; ignores --redis)
    #[arg(long, conflicts_with = "embedded")]
    pub(crate) cluster_vs_one: bool,
    /// Print one JSON object as the last line
    #[arg(long)]
    pub(crate) json: bool,
    /// Operations per measurement with 1 caller (32 callers run 8x as many)
    #[arg(long, default_value_t = 3000)]
    pub(crate) ops: usize,
    /// Rounds; medians are reported
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    /// Only these operations (comma-separated), e.g. `--only get` for profiling
    #[arg(long, value_delimiter = ',')]
    pub(crate) only: Vec<String>,
    /// Only these numbers of concurrent callers (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub(crate) conc: Vec<usize>,
}

pub(crate) const NAMESPACE: &str = "rsbench";
pub(crate) const APP: &str = "benchapp";
const OPS: [&str; 4] = ["create", "get", "set", "kill"];
const CONCURRENCY: [usize; 2] = [1, 32];
/// `--cluster-vs-one`'s: what a cluster is for, many callers.
const CLUSTER_OPS: [&str; 3] = ["create", "get", "set"];
const CLUSTER_CONCURRENCY: [usize; 2] = [32, 128];

impl Args {
    /// The measurements asked for: (op, concurrent callers, calls), `--only`/`--conc` applied.
    /// 32 callers make 8x as many calls as one, so each measurement lasts about as long.
    /// `--cluster-vs-one` measures create/get/set at 32 and 128 callers, `ops * 8` calls each.
    pub(crate) fn measurements(&self) -> Vec<(&'static str, usize, usize)> {
        let (ops, concurrency): (&[&'static str], &[usize]) = match self.cluster_vs_one {
            true => (&CLUSTER_OPS, &CLUSTER_CONCURRENCY),
            false => (&OPS, &CONCURRENCY),
        };
        let ops = ops
            .iter()
            .filter(|op| self.only.is_empty() || self.only.iter().any(|o| o == *op));
        ops.flat_map(|&op| {
            concurrency
                .iter()
                .filter(|c| self.conc.is_empty() || self.conc.contains(c))
                .map(move |&conc| (op, conc, if conc == 1 { self.ops } else { self.ops * 8 }))
        })
        .collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) ops_s: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `total` calls of `f(i)` spread over `conc` tasks; each task runs its share in turn.
pub(crate) async fn measure<F, Fut>(conc: usize, total: usize, f: F) -> Stats
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

/// `n` sessions made through the component, of 100 users.
pub(crate) async fn component_tokens(s: &Sessions, n: usize) -> Arc<Vec<String>> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("user{}", i % 100);
        v.push(
            s.create(APP, &id, "127.0.0.1", Some(7200), None, false)
                .await
                .unwrap(),
        );
    }
    Arc::new(v)
}

/// One measurement of `op` through the component alone (no native baseline), on whatever
/// store `s` runs on. `start` runs just before the timed calls, after any set-up (the
/// sessions get, set and kill need), so what it starts counting leaves the set-up out.
pub(crate) async fn component(
    op: &str,
    conc: usize,
    total: usize,
    s: &Sessions,
    start: impl FnOnce(),
) -> Stats {
    let s = s.clone();
    if op == "create" {
        start();
        return measure(conc, total, move |i| {
            let s = s.clone();
            async move {
                let id = format!("user{}", i % 100);
                s.create(APP, &id, "127.0.0.1", Some(7200), None, false)
                    .await
                    .unwrap();
            }
        })
        .await;
    }
    let toks = component_tokens(&s, if op == "kill" { total } else { 1000 }).await;
    let op = op.to_owned();
    start();
    measure(conc, total, move |i| {
        let (s, toks, op) = (s.clone(), toks.clone(), op.clone());
        async move {
            let t = &toks[i % toks.len()];
            match op.as_str() {
                "get" => assert!(s.get(APP, t).await.unwrap().is_some()),
                "set" => {
                    let d = vec![(format!("k{}", i % 10), Some(DataValue::Integer(i as i64)))];
                    assert!(s.set(APP, t, &d).await.unwrap().is_some());
                }
                _ => assert_eq!(s.kill(APP, t).await.unwrap(), 1),
            }
        }
    })
    .await
}
