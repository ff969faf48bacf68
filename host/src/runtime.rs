//! The compiled component, built once: `Engine`, WASI and Redis linked, `InstancePre`.
//!
//! Compiling the component costs ~115 ms, so the compiled artifact is cached on disk and
//! later processes (every CLI call) map it in instead.

use crate::bindings::{SessionStore, SessionStorePre};
use crate::state::InstanceState;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Result;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine};

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
    /// Where compiled components are cached; `None` compiles every time.
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
        let engine = Engine::new(&config)?;
        crate::limits::start_epoch_ticker(&engine);
        let bytes = match &options.component {
            ComponentSource::Builtin => BUILTIN_COMPONENT.to_vec(),
            ComponentSource::Bytes(b) => b.clone(),
            ComponentSource::File(path) => std::fs::read(path)
                .with_context(|| format!("reading component {}", path.display()))?,
        };
        let component = load(&engine, &bytes, options.cache_dir.as_deref())?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        SessionStore::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
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

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!(
        "{}-{:016x}",
        sha1_smol::Sha1::from(bytes).digest(),
        h.finish()
    )
}

/// Loads the compiled component from `cache_dir`, or compiles and stores it there.
/// A cache that cannot be read or written only costs a compile.
fn load(engine: &Engine, bytes: &[u8], cache_dir: Option<&Path>) -> Result<Component> {
    let Some(dir) = cache_dir else {
        return Component::new(engine, bytes);
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
    if path.exists() {
        match deserialize_file(engine, &path) {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring unreadable compiled component: {e:#}")
            }
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    let component = deserialize(engine, &compiled)?;
    if let Err(e) = store_atomically(dir, &path, &compiled) {
        tracing::debug!(dir = %dir.display(), "not caching the compiled component: {e}");
    }
    Ok(component)
}

/// Compiled components kept in the cache directory; older ones are removed.
const CACHE_ENTRIES: usize = 8;

/// Write-then-rename, so a concurrent reader never maps a half-written file; then drop
/// the oldest entries so upgrades do not pile up artifacts.
fn store_atomically(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)?;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (_, old) in entries.into_iter().skip(CACHE_ENTRIES) {
        let _ = std::fs::remove_file(old);
    }
    Ok(())
}

#[expect(
    unsafe_code,
    reason = "the file was written by `precompile_component` of an engine with the same \
              compatibility hash (it is in the key) into the user's own cache directory: \
              the trust model of wasmtime's own compilation cache"
)]
fn deserialize_file(engine: &Engine, path: &Path) -> Result<Component> {
    // SAFETY: see the reason above.
    unsafe { Component::deserialize_file(engine, path) }
}

#[expect(unsafe_code, reason = "bytes just produced by `precompile_component`")]
fn deserialize(engine: &Engine, compiled: &[u8]) -> Result<Component> {
    // SAFETY: produced by this engine a moment ago.
    unsafe { Component::deserialize(engine, compiled) }
}
