//! A tenant's ACL user outlives a Redis restart (provision saves it to the aclfile), and a
//! tenant whose user went missing is served again, by itself, as soon as the user is back;
//! meanwhile its requests answer 503 `redisUnavailable`.

use super::fixture::{Fixture, GOOD};
use crate::common::RedisServer;
use redis_sessions_cli::service::tenants;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// Calls the good tenant's `activity` until it answers 200, at most 10 s; every other
/// answer must be 503 `redisUnavailable`. Returns how long it took.
async fn until_served(f: &Fixture) -> Duration {
    let start = Instant::now();
    loop {
        let (status, body) = f
            .svc
            .call_as(Some(GOOD), "GET", "/myapp/activity?dt=60", None)
            .await;
        if status == StatusCode::OK {
            return start.elapsed();
        }
        assert_eq!(
            (status, body["name"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("redisUnavailable")),
            "{body}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never served again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_is_served_again_once_its_acl_user_is_back() {
    let f = Fixture::start().await;
    let mut raw = f.server.raw().await;
    // Deleting the user closes its connections; reconnecting is then refused.
    let _: i64 = redis::cmd("ACL")
        .arg("DELUSER")
        .arg("good")
        .query_async(&mut raw)
        .await
        .unwrap();
    for _ in 0..3 {
        let (status, body) = f
            .svc
            .call_as(Some(GOOD), "GET", "/myapp/activity?dt=60", None)
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["name"], "redisUnavailable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = tenants::load(&f.file).unwrap();
    tenants::provision(&f.server.url(), &list).await.unwrap();
    let took = until_served(&f).await;
    eprintln!("served again {took:?} after its ACL user was provisioned again");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_users_survive_a_redis_restart_with_an_aclfile() {
    // It must exist before Redis starts.
    let aclfile = std::env::temp_dir().join(format!(
        "rs-tenants-{}-{}.acl",
        std::process::id(),
        test_support::free_port()
    ));
    std::fs::write(&aclfile, "").unwrap();
    let server = RedisServer::start_with(&["--aclfile", aclfile.to_str().unwrap()]);
    let mut f = Fixture::on(server, None).await;
    let list = tenants::load(&f.file).unwrap();
    let report = tenants::provision(&f.server.url(), &list).await.unwrap();
    assert!(report.last().unwrap().contains("saved"), "{report:?}");
    until_served(&f).await;

    tokio::task::block_in_place(|| f.server.restart());
    let took = until_served(&f).await;
    eprintln!("served again {took:?} after Redis restarted");
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(f);
    let _ = std::fs::remove_file(&aclfile);
}
