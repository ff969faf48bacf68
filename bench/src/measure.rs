//! What every measurement shares: the arguments, the timing loop, medians.

use clap::Parser;
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

impl Args {
    /// The measurements asked for: (op, concurrent callers, calls), `--only`/`--conc` applied.
    /// 32 callers make 8x as many calls as one, so each measurement lasts about as long.
    pub(crate) fn measurements(&self) -> Vec<(&'static str, usize, usize)> {
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
