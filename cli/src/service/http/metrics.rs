//! `GET /metrics`: per-tenant counters in Prometheus' text format.

use super::state::ServiceState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One metric family: its help, type, and a value per tenant.
fn family(out: &mut String, name: &str, kind: &str, help: &str, values: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (tenant, value) in values {
        let _ = writeln!(out, "{name}{{tenant=\"{tenant}\"}} {value}");
    }
}

pub(super) async fn render(State(state): State<Arc<ServiceState>>) -> impl IntoResponse {
    let tenants = state.tenancy.tenants();
    let per = |f: &dyn Fn(&crate::service::tenants::Tenant) -> u64| -> Vec<(String, u64)> {
        tenants.iter().map(|t| (t.name.clone(), f(t))).collect()
    };
    let mut out = String::new();
    let relaxed = Ordering::Relaxed;
    family(
        &mut out,
        "redis_sessions_requests_total",
        "counter",
        "Authenticated HTTP requests.",
        &per(&|t| t.requests.load(relaxed)),
    );
    family(
        &mut out,
        "redis_sessions_calls_total",
        "counter",
        "Session calls run by the component.",
        &per(&|t| t.sessions.metrics().calls.load(relaxed)),
    );
    family(
        &mut out,
        "redis_sessions_errors_total",
        "counter",
        "Calls that failed other than by validation (store, Redis, traps, limits).",
        &per(&|t| t.sessions.metrics().errors.load(relaxed)),
    );
    family(
        &mut out,
        "redis_sessions_limit_hits_total",
        "counter",
        "Calls stopped at a limit: CPU, memory, deadline or command budget.",
        &per(&|t| t.sessions.metrics().limit_hits.load(relaxed)),
    );
    family(
        &mut out,
        "redis_sessions_rate_limited_total",
        "counter",
        "Requests refused (429) by the tenant's request rate limit.",
        &per(&|t| t.rate_limited.load(relaxed)),
    );
    family(
        &mut out,
        "redis_sessions_instances",
        "gauge",
        "Component instances alive (busy or idle).",
        &per(&|t| t.sessions.instances() as u64),
    );
    let _ = writeln!(
        out,
        "# HELP redis_sessions_unauthorized_total Requests refused for a missing or unknown API key."
    );
    let _ = writeln!(out, "# TYPE redis_sessions_unauthorized_total counter");
    let _ = writeln!(
        out,
        "redis_sessions_unauthorized_total {}",
        state.unauthorized.load(relaxed)
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
