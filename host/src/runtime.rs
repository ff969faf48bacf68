//! The compiled component, built once: `Engine`, WASI and the capabilities linked,
//! `InstancePre`.
//!
//! Compiling the component costs ~115 ms, so with the `cache` feature (which the
//! `redis-sessions` binary turns on) the compiled artifact is kept in wasmtime's own
//! compilation cache and later processes (every CLI call) load it from there.

use crate::bindings::SessionStorePre;
use crate::instance::InstanceState;
use std::path::PathBuf;
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Result};

/// The session component built from `guest/component`, embedded at build time.
pub const BUILTIN_COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/redis_sessions_guest.wasm"));

/// Which component to run.
#[derive(Debug, Clone, Default)]
pub enum ComponentSource {
    /// The component embedded in this binary.
    #[default]
    Builtin,
    /// A component's bytes (any component of the `session-store` world).
    Bytes(Vec<u8>),
    /// A component file.
    File(PathBuf),
}

/// How to build a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub component: ComponentSource,
    /// Where compiled components are cached (an absolute path; with the `cache` feature);
    /// `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            component: ComponentSource::Builtin,
            cache_dir: default_cache_dir(),
        }
    }
}

/// `$RS_CACHE_DIR`, else `$XDG_CACHE_HOME/redis-sessions`, else `~/.cache/redis-sessions`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("RS_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("redis-sessions")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/redis-sessions")))
}

/// A compiled, linked component, ready to instantiate. Build it once and share it.
pub struct Runtime {
    engine: Engine,
    pre: SessionStorePre<InstanceState>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// Compiles (or loads from the cache) and links the component.
    pub fn new(options: &RuntimeOptions) -> Result<Self> {
        let mut config = Config::new();
        // Lets a call be stopped at its CPU limit (see `limits`).
        config.epoch_interruption(true);
        configure_cache(&mut config, options.cache_dir.as_deref());
        // `perf` can name the component's functions (docs/PERFORMANCE.md): wasmtime writes
        // /tmp/perf-PID.map for the code it compiles or loads.
        if std::env::var_os("REDIS_SESSIONS_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        crate::limits::start_epoch_ticker(&engine);
        let component = match &options.component {
            ComponentSource::Builtin => Component::new(&engine, BUILTIN_COMPONENT)?,
            ComponentSource::Bytes(b) => Component::new(&engine, b)?,
            ComponentSource::File(path) => Component::from_file(&engine, path)
                .with_context(|| format!("loading component {}", path.display()))?,
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::capability::add_to_linker(&mut linker, |state: &mut InstanceState| {
            &mut state.redis
        })?;
        crate::config::add_to_linker(&mut linker, |state: &mut InstanceState| &mut state.config)?;
        let pre = SessionStorePre::new(linker.instantiate_pre(&component)?)
            .context("the component does not implement the session-store world")?;
        Ok(Self { engine, pre })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn pre(&self) -> &SessionStorePre<InstanceState> {
        &self.pre
    }
}

/// wasmtime's compilation cache in `dir`. A cache that cannot be set up only costs a
/// compile per process, so it is a warning, not an error.
#[cfg(feature = "cache")]
fn configure_cache(config: &mut Config, dir: Option<&std::path::Path>) {
    let Some(dir) = dir.and_then(|d| std::path::absolute(d).ok()) else {
        return;
    };
    let mut cache_config = wasmtime::CacheConfig::new();
    cache_config.with_directory(&dir);
    match wasmtime::Cache::new(cache_config) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => tracing::warn!(dir = %dir.display(), "compiling without a cache: {e:#}"),
    }
}

#[cfg(not(feature = "cache"))]
fn configure_cache(_: &mut Config, _: Option<&std::path::Path>) {}
