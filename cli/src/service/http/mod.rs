//! The session API over HTTP, a drop-in for rest-sessions 2.0.1: [`router`] to mount or
//! [`serve`]. Requests run in parallel on each tenant's [`redis_sessions::Sessions`] instance pool;
//! with tenants, each request names its tenant by `Authorization: Bearer KEY`. `/metrics`
//! (per-tenant counters in Prometheus' text format) is served on its own address only.

mod connections;
mod error;
mod metrics;
mod response;
mod router;
mod routes;
mod state;

pub use connections::ConnectionLimits;
pub use error::ErrorResponse;
pub use router::{BODY_LIMIT, router, routers, serve};
pub use routes::ACCESS_LOG;
