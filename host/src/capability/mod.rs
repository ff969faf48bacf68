//! The `redis` capability of the `session-store` world: its context and linking
//! ([`context`]), the backends it sends commands to ([`Backend`]: a Redis server, a Redis
//! Cluster or the embedded store), and the one table of commands it allows ([`commands`]).

mod backend;
mod cluster;
mod context;
// pub(crate) for `error::redact_url`: reached through this module instead, it would close a
// module cycle (capability → context → limits → error).
pub(crate) mod cluster_url;
pub mod commands;
mod embedded;
mod replicas;
mod reply;
mod scripts;
mod server;

pub use crate::bindings::redis::{Element, Error, Reply};
pub use backend::{Backend, BackendFuture, Command, Keys, ReplicaAcks};
pub use cluster::{CROSSSLOT, cluster_nodes, connect_cluster};
pub use cluster_url::{ClusterNode, is_cluster_url, with_cluster_userinfo};
pub(crate) use context::{RedisCtx, add_to_linker};
pub use replicas::ReplicaWait;
pub use scripts::{ScriptGate, ScriptLoadError, ScriptLoader, ScriptRegistry};
pub use server::{Reconnecting, RedisTimeouts, connect};
