//! `--cluster-vs-one`: the component on one redis-server against a local Redis Cluster of
//! 3 masters (with 3 replicas), both started here, taking turns: create/get/set at 32 and
//! 128 callers. Besides ops/s it reports each Redis' CPU per operation (`INFO cpu`, before
//! and after), so the capacity a cluster adds per master can be projected even on a
//! machine too small to show it: here every node and the benchmark share a few cores.

use crate::measure::{APP, Args, NAMESPACE, Stats, component, component_tokens, median};
use redis_sessions::Sessions;
use serde_json::json;
use test_support::cluster::RedisCluster;
use test_support::{RedisServer, Reply, cmd};

/// The CPU seconds a redis-server has used (user + system, all its threads).
fn cpu_seconds(server: &RedisServer) -> f64 {
    let Reply::Bulk(info) = server.client().call(&cmd(&["INFO", "cpu"])) else {
        panic!("INFO cpu did not answer a bulk string");
    };
    String::from_utf8_lossy(&info)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(':')?;
            matches!(name, "used_cpu_sys" | "used_cpu_user").then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// One measurement on one target: the calls' stats and each server's CPU µs per call.
async fn measured(
    op: &str,
    conc: usize,
    total: usize,
    sessions: &Sessions,
    servers: &[&RedisServer],
) -> (Stats, Vec<f64>) {
    let mut before = Vec::new();
    let stats = component(op, conc, total, sessions, || {
        before = servers.iter().map(|s| cpu_seconds(s)).collect();
    })
    .await;
    let cpu = servers
        .iter()
        .zip(before)
        .map(|(s, b)| (cpu_seconds(s) - b) * 1e6 / total as f64)
        .collect();
    sessions.killall(APP).await.unwrap();
    (stats, cpu)
}

async fn warm(sessions: &Sessions) {
    let tokens = component_tokens(sessions, 100).await;
    for t in tokens.iter().cycle().take(2000) {
        sessions.get(APP, t).await.unwrap();
    }
    sessions.killall(APP).await.unwrap();
}

pub async fn main(args: &Args) {
    let one = RedisServer::start();
    let cluster = RedisCluster::start();
    let masters: Vec<&RedisServer> = cluster
        .masters()
        .into_iter()
        .map(|m| cluster.node(m))
        .collect();
    let on_one = Sessions::builder()
        .namespace(NAMESPACE)
        .connect(&one.url())
        .await
        .unwrap();
    let on_cluster = Sessions::builder()
        .namespace(NAMESPACE)
        .connect(&cluster.url())
        .await
        .unwrap();
    warm(&on_one).await;
    warm(&on_cluster).await;

    println!(
        "redis-sessions-bench --cluster-vs-one: one redis-server against a cluster of {} \
         masters ({} shards), {} rounds, medians; Redis CPU in µs per operation",
        masters.len(),
        on_cluster.shards(),
        args.rounds
    );
    println!(
        "{:<7} {:>4} {:>9} {:>10} {:>6} | {:>7} | {:>23} {:>7}",
        "op", "conc", "one/s", "cluster/s", "ratio", "one µs", "per master µs", "sum µs"
    );
    let mut rows = Vec::new();
    for (op, conc, total) in args.measurements() {
        let (mut one_runs, mut cluster_runs) = (Vec::new(), Vec::new());
        for round in 0..args.rounds {
            // Taking turns, so neither always runs on a warmer machine.
            for is_one in [round % 2 == 0, round % 2 == 1] {
                if is_one {
                    one_runs.push(measured(op, conc, total, &on_one, &[&one]).await);
                } else {
                    cluster_runs.push(measured(op, conc, total, &on_cluster, &masters).await);
                }
            }
        }
        let ops = |runs: &[(Stats, Vec<f64>)]| median(runs.iter().map(|r| r.0.ops_s).collect());
        let cpu =
            |runs: &[(Stats, Vec<f64>)], i: usize| median(runs.iter().map(|r| r.1[i]).collect());
        let (one_ops, cluster_ops) = (ops(&one_runs), ops(&cluster_runs));
        let one_us = cpu(&one_runs, 0);
        let per_master: Vec<f64> = (0..masters.len()).map(|i| cpu(&cluster_runs, i)).collect();
        let sum: f64 = per_master.iter().sum();
        let shown: Vec<String> = per_master.iter().map(|us| format!("{us:.1}")).collect();
        println!(
            "{op:<7} {conc:>4} {one_ops:>9.0} {cluster_ops:>10.0} {:>6.2} | {one_us:>7.1} | {:>23} {sum:>7.1}",
            cluster_ops / one_ops,
            shown.join(" / "),
        );
        // A Redis core at 100% serves 1e6 / (µs per op) ops/s; the busiest master saturates
        // first, and with an even spread each master adds 1e6 / sum.
        let busiest = per_master.iter().copied().fold(0.0, f64::max);
        rows.push(json!({
            "op": op, "conc": conc,
            "one_ops_s": one_ops, "cluster_ops_s": cluster_ops,
            "one_redis_cpu_us_per_op": one_us,
            "cluster_master_cpu_us_per_op": per_master,
            "one_redis_capacity_ops_s": 1e6 / one_us,
            "cluster_capacity_ops_s": 1e6 / busiest,
            "capacity_per_master_ops_s": 1e6 / sum,
        }));
    }
    println!("projection, from Redis' CPU per operation (one Redis core at 100 %):");
    for row in &rows {
        println!(
            "  {:<6} {:>3} callers: one Redis ≈ {:.0} ops/s; this cluster ≈ {:.0} ops/s (its busiest \
             master saturates first); each master added ≈ +{:.0} ops/s",
            row["op"].as_str().unwrap(),
            row["conc"],
            row["one_redis_capacity_ops_s"].as_f64().unwrap(),
            row["cluster_capacity_ops_s"].as_f64().unwrap(),
            row["capacity_per_master_ops_s"].as_f64().unwrap(),
        );
    }
    if args.json {
        println!("{}", json!({ "backend": "cluster-vs-one", "ops": rows }));
    }
}
