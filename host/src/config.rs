//! The `config` capability: the instance's key namespace and layout, fixed by the host.

use crate::bindings::config as wit;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// The configuration one instance sees; every instance of a pool the same.
#[derive(Debug, Clone)]
pub struct ConfigCtx {
    namespace: Arc<str>,
    shards: u16,
}

impl ConfigCtx {
    /// `shards`: 0 for node's layout, else the sharded layout's shard count.
    pub fn new(namespace: Arc<str>, shards: u16) -> Self {
        Self { namespace, shards }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn shards(&self) -> u16 {
        self.shards
    }
}

impl wit::Host for ConfigCtx {
    async fn namespace(&mut self) -> String {
        self.namespace.to_string()
    }

    async fn shards(&mut self) -> u16 {
        self.shards
    }
}

struct HasConfig;

impl HasData for HasConfig {
    type Data<'a> = &'a mut ConfigCtx;
}

/// Links the `config` interface; `get` finds the instance's [`ConfigCtx`] in its state.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut ConfigCtx,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasConfig>(linker, get)
}
