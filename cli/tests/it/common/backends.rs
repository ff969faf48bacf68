//! One suite, two backends: a test body written once runs against a real `redis-server`
//! and against the embedded store, like tower-sessions' `route_tests!` over its stores.
//! Tests that do not read node's key names also run on a real Redis Cluster
//! ([`on_redis_cluster!`]), where sessions take the sharded layout.
//!
//! [`TestStore`] gives the test its `Sessions` and a raw client ([`Raw`]) that implements
//! redis-rs' `ConnectionLike`, so `redis::cmd(..).query_async(&mut raw)` and
//! `redis::pipe()` read and write any backend unchanged (on a cluster, `KEYS *` asks
//! every master).

use super::{RedisServer, runtime};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use redis_sessions::{ManualClock, MemoryStore, Sessions};
use redis_sessions_memory::{INSPECT_COMMANDS, ServerError, Value as MemValue};
use std::sync::Arc;
use test_support::cluster::RedisCluster;

/// Generates, for each named `async fn name(server: TestStore)`, the test
/// `redis_server::name` on a real redis-server and `embedded::name` on the embedded store.
/// The attribute is the test's (`tokio::test`, or a multi-threaded flavour).
#[macro_export]
macro_rules! on_both_backends {
    (#[$attr:meta] $($name:ident),+ $(,)?) => {
        mod redis_server {
            $(
                #[$attr]
                async fn $name() {
                    let store = $crate::common::TestStore::redis();
                    super::$name(store).await;
                }
            )+
        }
        mod embedded {
            $(
                #[$attr]
                async fn $name() {
                    let store = $crate::common::TestStore::memory();
                    super::$name(store).await;
                }
            )+
        }
    };
}

/// Generates, for each named `async fn name(server: TestStore)`, the test
/// `redis_cluster::name` on a real Redis Cluster of 3 masters and 3 replicas.
#[macro_export]
macro_rules! on_redis_cluster {
    (#[$attr:meta] $($name:ident),+ $(,)?) => {
        mod redis_cluster {
            $(
                #[$attr]
                async fn $name() {
                    let store = $crate::common::TestStore::cluster();
                    super::$name(store).await;
                }
            )+
        }
    };
}

/// A fresh, empty store for one test.
pub enum TestStore {
    Redis(RedisServer),
    Memory(Arc<MemoryStore>),
    Cluster(RedisCluster),
}

impl TestStore {
    pub fn redis() -> Self {
        TestStore::Redis(RedisServer::start())
    }

    pub fn memory() -> Self {
        TestStore::Memory(Arc::new(MemoryStore::new()))
    }

    pub fn cluster() -> Self {
        TestStore::Cluster(RedisCluster::start())
    }

    /// The component on this store, with a clock the test controls.
    pub async fn sessions(&self, clock: &Arc<ManualClock>) -> Sessions {
        self.sessions_in("rs", clock).await
    }

    pub async fn sessions_in(&self, namespace: &str, clock: &Arc<ManualClock>) -> Sessions {
        match self {
            TestStore::Redis(server) => server.sessions_in(namespace, clock).await,
            TestStore::Memory(store) => Sessions::builder()
                .runtime(runtime())
                .namespace(namespace)
                .clock(clock.clone())
                .build_with(store.clone())
                .unwrap(),
            TestStore::Cluster(cluster) => Sessions::builder()
                .runtime(runtime())
                .namespace(namespace)
                .clock(clock.clone())
                .connect(&cluster.url())
                .await
                .unwrap(),
        }
    }

    /// A plain client to check the layout with.
    pub async fn raw(&self) -> Raw {
        match self {
            TestStore::Redis(server) => Raw::Redis(server.raw().await),
            TestStore::Memory(store) => Raw::Memory(store.clone()),
            TestStore::Cluster(cluster) => {
                let client = redis::cluster::ClusterClient::new(cluster.node_urls()).unwrap();
                Raw::Cluster(client.get_async_connection().await.unwrap())
            }
        }
    }
}

/// A raw client of either backend.
#[derive(Clone)]
pub enum Raw {
    Redis(MultiplexedConnection),
    Memory(Arc<MemoryStore>),
    Cluster(ClusterConnection),
}

fn args(cmd: &Cmd) -> Vec<Vec<u8>> {
    cmd.args_iter()
        .map(|a| match a {
            redis::Arg::Simple(bytes) => bytes.to_vec(),
            // A cursor argument (SCAN's); the tests send none.
            _ => b"0".to_vec(),
        })
        .collect()
}

/// RESP2 bytes of a reply, so redis-rs' own parser turns it into exactly the `Value` a
/// Redis server's reply would be (errors included).
fn resp(v: &MemValue, out: &mut Vec<u8>) {
    match v {
        MemValue::Nil => out.extend_from_slice(b"$-1\r\n"),
        MemValue::Status(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
        MemValue::Error(e) => out.extend_from_slice(format!("-{e}\r\n").as_bytes()),
        MemValue::Integer(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
        MemValue::Bulk(b) => {
            out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        MemValue::Array(items) => {
            out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
            for item in items {
                resp(item, out);
            }
        }
    }
}

fn value(result: Result<MemValue, ServerError>) -> Value {
    let v = result.unwrap_or_else(|e| MemValue::Error(e.0));
    let mut bytes = Vec::new();
    resp(&v, &mut bytes);
    redis::parse_redis_value(&bytes).unwrap()
}

/// The store takes only the component's commands; the tests' reads of its state (HGETALL,
/// KEYS, ...) go through its read-only inspection.
fn read_or_write(store: &MemoryStore, command: &[Vec<u8>]) -> Result<MemValue, ServerError> {
    let name = command
        .first()
        .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase());
    match name {
        Some(name) if INSPECT_COMMANDS.contains(&name.as_str()) => store.inspect(command),
        _ => store.execute(command),
    }
}

impl ConnectionLike for Raw {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Raw::Redis(conn) => conn.req_packed_command(cmd),
            Raw::Cluster(conn) => conn.req_packed_command(cmd),
            Raw::Memory(store) => {
                let args = args(cmd);
                let reply = value(read_or_write(store, &args));
                Box::pin(async move { Ok(reply) })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Raw::Redis(conn) => conn.req_packed_commands(pipeline, offset, count),
            Raw::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
            Raw::Memory(store) => {
                let commands: Vec<Vec<Vec<u8>>> = pipeline.cmd_iter().map(args).collect();
                // As Redis answers: a transaction is one reply, EXEC's array.
                let replies = if pipeline.is_transaction() {
                    let exec = match store.transaction(&commands) {
                        Ok(replies) => {
                            let items = replies
                                .into_iter()
                                .map(|r| r.unwrap_or_else(|e| MemValue::Error(e.0)))
                                .collect();
                            Ok(MemValue::Array(items))
                        }
                        Err(e) => Err(e),
                    };
                    vec![value(exec)]
                } else {
                    store.pipeline(&commands).into_iter().map(value).collect()
                };
                Box::pin(async move { Ok(replies) })
            }
        }
    }

    fn get_db(&self) -> i64 {
        0
    }
}
