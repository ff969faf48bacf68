//! The `redis` capability of the `session-store` world: its context and linking
//! ([`capability`]), the backends it sends commands to ([`Backend`]: a Redis server, a Redis
//! Cluster or the embedded store), and the one table of commands it allows ([`commands`]).

mod backend;
mod capability;
mod cluster;
// pub(crate) for `error::redact_url`: reached through this module instead, it would close a
// module cycle (redis → capability → limits → error).
pub(crate) mod cluster_url;
pub mod commands;
mod embedded;
mod replicas;
mod scripts;
mod server;

pub use crate::bindings::redis::{Element, Error, Reply};
pub use backend::{Backend, BackendFuture, Command};
pub use capability::{RedisCtx, add_to_linker};
pub use cluster::{CROSSSLOT, cluster_nodes, connect_cluster};
pub use cluster_url::{ClusterNode, is_cluster_url, with_cluster_userinfo};
pub use replicas::{ReplicaAcks, ReplicaWait};
pub use scripts::{ScriptGate, ScriptLoadError, ScriptLoader, ScriptRegistry};
pub use server::{CONNECT_TIMEOUT, RESPONSE_TIMEOUT, Reconnecting, connect};
