//! What every handler can reach: the tenants and the service's own counters.

use crate::service::tenants::Tenancy;
use std::sync::atomic::AtomicU64;

#[derive(Debug)]
pub(crate) struct ServiceState {
    pub(crate) tenancy: Tenancy,
    /// Requests refused for a missing or unknown API key.
    pub(crate) unauthorized: AtomicU64,
}
