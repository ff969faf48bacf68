//! What every handler can reach: the tenants and the service's own counters.

use super::error::ApiError;
use crate::Sessions;
use crate::service::tenants::{Tenancy, Tenant};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

#[derive(Debug)]
pub(crate) struct ServiceState {
    pub(crate) tenancy: Tenancy,
    /// Requests refused for a missing or unknown API key.
    pub(crate) unauthorized: AtomicU64,
}

/// The authenticated tenant's session store, for handlers.
pub(crate) struct TenantSessions(pub Sessions);

impl<S: Send + Sync> FromRequestParts<S> for TenantSessions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Arc<Tenant>>()
            .map(|t| TenantSessions(t.sessions.clone()))
            .ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no tenant")
            })
    }
}
