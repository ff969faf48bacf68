//! Several tenants in one host: the tenants file, API-key checks, per-tenant session stores
//! ([`Tenancy`]) and the Redis ACL users that confine them.
//!
//! Isolation in depth: (1) each tenant's connections authenticate as its own Redis ACL
//! user, allowed only `NS:*` keys and the commands the session logic needs — Redis checks
//! this inside Lua scripts too; (2) the host refuses any command outside
//! [`redis_sessions::capability::commands`]' allowlist before it reaches Redis, and any Lua but the
//! scripts it registered ([`redis_sessions::capability::ScriptGate`]); (3) every call runs under the
//! tenant's memory, CPU, deadline and command limits, and a trap or a limit hit discards
//! only that instance.

mod acl;
mod error;
mod file;
mod urls;

pub use acl::{acl_rules, provision};
pub use error::TenantsError;
pub use file::{LimitsConfig, MIN_PASSWORD_LEN, TenantConfig, hash_key, load};
pub use urls::{selects_database, tenant_url};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use redis_sessions::capability::{
    Reconnecting, RedisTimeouts, ScriptGate, ScriptLoader, ScriptRegistry, connect_cluster,
    is_cluster_url,
};
use redis_sessions::runtime::{ComponentSource, Runtime, RuntimeOptions};
use redis_sessions::{Error, Sessions, redact_url};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One tenant, ready to serve.
#[derive(Debug)]
pub struct Tenant {
    pub name: String,
    pub sessions: Sessions,
    /// Authenticated HTTP requests.
    pub requests: AtomicU64,
    /// Requests refused by the rate limit.
    pub rate_limited: AtomicU64,
    /// The request rate limit: a token bucket (none: unlimited).
    rate: Option<DefaultDirectRateLimiter>,
}

impl Tenant {
    pub fn new(name: impl Into<String>, sessions: Sessions) -> Self {
        Self {
            name: name.into(),
            sessions,
            requests: Default::default(),
            rate_limited: Default::default(),
            rate: None,
        }
    }

    /// At most `per_second` requests a second on average, `burst` at once.
    pub fn with_rate_limit(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.rate = Some(RateLimiter::direct(
            Quota::per_second(per_second).allow_burst(burst),
        ));
        self
    }

    /// Takes a request from the tenant's bucket; `Err(wait)` when it is empty, `wait` being
    /// when the next request would be let in.
    pub fn admit(&self) -> Result<(), Duration> {
        match &self.rate {
            None => Ok(()),
            Some(limiter) => limiter.check().map_err(|not_until| {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
                not_until.wait_time_from(DefaultClock::default().now())
            }),
        }
    }
}

/// Whom the service serves: one implicit tenant (no API keys), or tenants by API key.
#[derive(Debug, Clone)]
pub enum Tenancy {
    Single(Arc<Tenant>),
    /// Tenants by the hash of their API keys (`sha256:HEX`).
    Keyed(Arc<HashMap<String, Arc<Tenant>>>),
}

impl Tenancy {
    /// Tenants from `(key hashes, tenant)` pairs, as [`connect`] gives them.
    pub fn keyed(tenants: Vec<(Vec<String>, Arc<Tenant>)>) -> Self {
        let map = tenants
            .into_iter()
            .flat_map(|(keys, t)| keys.into_iter().map(move |k| (k, t.clone())))
            .collect();
        Tenancy::Keyed(Arc::new(map))
    }

    /// Every tenant once, by name.
    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        match self {
            Tenancy::Single(t) => vec![t.clone()],
            Tenancy::Keyed(map) => {
                let mut by_name: Vec<Arc<Tenant>> = Vec::new();
                for t in map.values() {
                    if !by_name.iter().any(|x| Arc::ptr_eq(x, t)) {
                        by_name.push(t.clone());
                    }
                }
                by_name.sort_by(|a, b| a.name.cmp(&b.name));
                by_name
            }
        }
    }

    /// The tenant an `Authorization` header value names; without tenants, the one tenant.
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<Arc<Tenant>> {
        match self {
            Tenancy::Single(t) => Some(t.clone()),
            Tenancy::Keyed(map) => authorization
                .and_then(bearer)
                .and_then(|key| map.get(&hash_key(key)))
                .cloned(),
        }
    }
}

/// The credentials of `Bearer CREDENTIALS`; the scheme is case-insensitive (RFC 9110).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, key) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim())
        .filter(|k| !k.is_empty())
}

impl From<Sessions> for Tenancy {
    fn from(sessions: Sessions) -> Self {
        Tenancy::Single(Arc::new(Tenant::new("default", sessions)))
    }
}

/// Connects every tenant to Redis at `base_url` (a server or a `redis+cluster://` URL) as
/// its ACL user. Tenants on the built-in component share one compiled runtime. The session
/// scripts (and each tenant's own) are loaded through `base_url`'s own user, which must be
/// allowed `SCRIPT LOAD`.
pub async fn connect(
    tenants: &[TenantConfig],
    base_url: &str,
) -> Result<Vec<(Vec<String>, Arc<Tenant>)>, TenantsError> {
    let runtime = |tenant: &str, options: &RuntimeOptions| {
        Runtime::new(options)
            .map(Arc::new)
            .map_err(|e| TenantsError::Component {
                tenant: tenant.to_owned(),
                source: e.into_boxed_dyn_error(),
            })
    };
    let scripts_error = |source| TenantsError::Scripts {
        url: redact_url(base_url),
        source,
    };
    let cluster = is_cluster_url(base_url);
    let loader = ScriptLoader::connect(base_url)
        .await
        .map_err(scripts_error)?;
    let builtin = runtime("(built-in)", &RuntimeOptions::default())?;
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        let runtime = match &t.component {
            None => builtin.clone(),
            Some(path) => runtime(
                &t.name,
                &RuntimeOptions {
                    component: ComponentSource::File(path.clone()),
                    ..Default::default()
                },
            )?,
        };
        let registry = Arc::new(
            ScriptRegistry::load(loader.clone(), t.script_sources()?)
                .await
                .map_err(scripts_error)?,
        );
        let url = tenant_url(base_url, &t.redis_user, &t.password()?)?;
        let connect_error = |source| TenantsError::Connect {
            tenant: t.name.clone(),
            hint: match source {
                Error::Connect { .. } => {
                    ". Is its ACL user provisioned? `redis-sessions tenants provision`"
                }
                _ => "",
            },
            source,
        };
        let refused = |source| {
            connect_error(Error::Connect {
                url: redact_url(&url),
                source,
            })
        };
        let builder = Sessions::builder()
            .runtime(runtime)
            .namespace(&t.namespace)
            .shards(t.shards(cluster))
            .limits(t.limits.limits());
        let sessions = if cluster {
            let connection = connect_cluster(&url, RedisTimeouts::default())
                .await
                .map_err(refused)?;
            builder.build_with(ScriptGate::new(connection, registry))
        } else {
            let connection = Reconnecting::connect(&url, RedisTimeouts::default())
                .await
                .map_err(refused)?;
            builder.build_with(ScriptGate::new(connection, registry))
        }
        .map_err(connect_error)?;
        let keys = t.api_keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        let mut tenant = Tenant::new(&t.name, sessions);
        if let Some((per_second, burst)) = t.limits.rate() {
            tenant = tenant.with_rate_limit(per_second, burst);
        }
        out.push((keys, Arc::new(tenant)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_as_sha256_hashes() {
        assert_eq!(
            hash_key("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tenant_urls_carry_the_acl_user() {
        let url = |base, user, pw| tenant_url(base, user, pw).unwrap();
        assert_eq!(
            url("redis://127.0.0.1:6379", "acme", "p@ss:w"),
            "redis://acme:p%40ss%3Aw@127.0.0.1:6379"
        );
        assert_eq!(url("redis://old:pw@h:1/2", "t", "x"), "redis://t:x@h:1/2");
        assert_eq!(
            url("redis://old:p@ss@h:1", "t", "x"),
            "redis://t:x@h:1",
            "an @ in the old password"
        );
        assert!(tenant_url("h:1", "t", "x").is_err());
        assert_eq!(
            url("redis+cluster://old:pw@h1:1,h2:2", "acme", "p@ss:w"),
            "redis+cluster://acme:p%40ss%3Aw@h1:1,h2:2",
            "every node of a cluster"
        );
        assert_eq!(
            url("redis+cluster://h1:1", "t", "x"),
            "redis+cluster://t:x@h1:1"
        );
        assert!(tenant_url("redis+cluster://", "t", "x").is_err());
        assert!(!selects_database("redis+cluster://h:1/2"));
        assert!(selects_database("redis://h:1/2"));
        assert!(!selects_database("redis://h:1/0"));
        assert!(!selects_database("redis://h:1"));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer k1"), Some("k1"));
        assert_eq!(bearer("bearer k1"), Some("k1"));
        assert_eq!(bearer("BEARER  k1 "), Some("k1"));
        assert_eq!(bearer("Basic k1"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerk1"), None);
    }
}
