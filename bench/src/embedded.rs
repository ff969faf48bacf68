//! `--embedded`: the component on the embedded store (no Redis), same operations and
//! concurrencies as the Redis run, so the two backends' figures can be compared. There is
//! no native baseline here: it would measure the store, not the capability path.

use crate::measure::{APP, Args, NAMESPACE, Stats, component, component_tokens, median};
use redis_sessions::{MemoryStore, Sessions};
use serde_json::json;

pub async fn main(args: &Args) {
    let sessions = Sessions::builder()
        .namespace(NAMESPACE)
        .build_with(MemoryStore::new())
        .unwrap();
    // Warm up (instance pool, script cache).
    let warm = component_tokens(&sessions, 100).await;
    for t in warm.iter().cycle().take(2000) {
        sessions.get(APP, t).await.unwrap();
    }
    println!(
        "redis-sessions-bench --embedded: {} rounds, medians",
        args.rounds
    );
    println!(
        "{:<7} {:>4} {:>13} {:>9} {:>9}",
        "op", "conc", "embedded/s", "p50 µs", "p99 µs"
    );
    let mut rows = Vec::new();
    for (op, conc, total) in args.measurements() {
        let mut stats = Vec::new();
        for _ in 0..args.rounds {
            stats.push(component(op, conc, total, &sessions, || ()).await);
            sessions.killall(APP).await.unwrap();
        }
        let m = |f: fn(&Stats) -> f64| median(stats.iter().map(f).collect());
        let (ops_s, p50, p99) = (m(|s| s.ops_s), m(|s| s.p50_us), m(|s| s.p99_us));
        println!("{op:<7} {conc:>4} {ops_s:>13.0} {p50:>9.1} {p99:>9.1}");
        rows.push(json!({
            "op": op, "conc": conc, "embedded_ops_s": ops_s,
            "embedded_p50_us": p50, "embedded_p99_us": p99,
        }));
    }
    if args.json {
        println!("{}", json!({ "backend": "embedded", "ops": rows }));
    }
}
