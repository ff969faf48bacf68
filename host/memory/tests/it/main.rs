//! The embedded store's integration tests, in one binary: its commands and Lua against a
//! real `redis-server` (differential), the session scripts on it, persistence and
//! durability of its data file, and what a hostile caller can do. A file here is a module of
//! this binary.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

mod bench;
mod commands;
mod differential;
mod durability;
mod fan_out;
mod hostile;
mod persistence;
mod scripts;
mod sessions;
mod stall;
mod surface;
