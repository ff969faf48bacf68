//! The Redis URLs of tenants: the operator's base URL with a tenant's ACL user in it.

use super::error::TenantsError;
use redis_sessions::capability::{is_cluster_url, with_cluster_userinfo};
use redis_sessions::redact_url;

/// `base` with the tenant's ACL user and password in place of any credentials: a server's
/// URL, or a `redis+cluster://` one (every node gets the same user).
pub fn tenant_url(base: &str, user: &str, password: &str) -> Result<String, TenantsError> {
    let url_error = |e| TenantsError::Url(redact_url(base), e);
    if is_cluster_url(base) {
        // The url crate cannot parse a list of hosts; it still encodes the credentials.
        let encoded = with_credentials("redis://h", user, password).map_err(url_error)?;
        let userinfo = format!(
            "{}:{}",
            encoded.username(),
            encoded.password().unwrap_or("")
        );
        return with_cluster_userinfo(base, &userinfo).map_err(|e| TenantsError::ClusterUrl {
            url: redact_url(base),
            source: e,
        });
    }
    Ok(with_credentials(base, user, password)
        .map_err(url_error)?
        .to_string())
}

fn with_credentials(base: &str, user: &str, password: &str) -> Result<url::Url, url::ParseError> {
    let mut url = url::Url::parse(base)?;
    // Both fail only for URLs that cannot have credentials (no host), which Redis URLs
    // always have.
    url.set_username(user)
        .and_then(|()| url.set_password(Some(password)))
        .map_err(|()| url::ParseError::EmptyHost)?;
    Ok(url)
}

/// Whether `base` selects a database (`redis://host/2`): its users then need `SELECT`. A
/// cluster has only database 0.
pub fn selects_database(base: &str) -> bool {
    !is_cluster_url(base)
        && url::Url::parse(base).is_ok_and(|u| !matches!(u.path().trim_matches('/'), "" | "0"))
}
