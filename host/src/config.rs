//! The `config` capability: the instance's key namespace, fixed by the host.

use crate::bindings::config as wit;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// The configuration one instance sees.
#[derive(Debug, Clone)]
pub struct ConfigCtx {
    namespace: Arc<str>,
}

impl ConfigCtx {
    pub fn new(namespace: Arc<str>) -> Self {
        Self { namespace }
    }
}

impl wit::Host for ConfigCtx {
    async fn namespace(&mut self) -> String {
        self.namespace.to_string()
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
