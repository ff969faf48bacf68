//! The integration tests of the workspace's Rust code, in one binary: the library through
//! [`redis_sessions::Sessions`] on a real `redis-server`, a local Redis Cluster and the
//! embedded store; the `redis-sessions` command, its HTTP service and tenants; the composed
//! components under `wasmtime serve` and the Spin-semantics host (`#[ignore]`d, run by
//! `scripts/test-runtimes`) and under real Spin (`#[ignore]`d, run by `scripts/test-spin`).
//! A file here is a module of this binary, so cargo compiles a new one as soon as it is
//! declared below.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

mod api;
mod bigapps;
mod capped;
mod cli;
mod cluster;
mod cluster_sessions;
mod concurrency;
mod embedded;
mod http;
mod layout;
mod max_age;
mod model;
mod replicas;
mod rotate;
mod spin;
mod spin_up;
mod tenants;
mod wasi_http;
