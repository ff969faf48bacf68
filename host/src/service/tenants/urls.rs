//! The Redis URLs of tenants: the operator's base URL with a tenant's ACL user in it.

use super::error::TenantsError;
use crate::redact_url;

/// `base` with the tenant's ACL user and password in place of any credentials.
pub fn tenant_url(base: &str, user: &str, password: &str) -> Result<String, TenantsError> {
    let mut url = url::Url::parse(base).map_err(|e| TenantsError::Url(redact_url(base), e))?;
    // Both fail only for URLs that cannot have credentials (no host), which Redis URLs
    // always have.
    let credentials = url
        .set_username(user)
        .and_then(|()| url.set_password(Some(password)));
    if credentials.is_err() {
        return Err(TenantsError::Url(
            redact_url(base),
            url::ParseError::EmptyHost,
        ));
    }
    Ok(url.to_string())
}

/// Whether `base` selects a database (`redis://host/2`): its users then need `SELECT`.
pub fn selects_database(base: &str) -> bool {
    url::Url::parse(base).is_ok_and(|u| !matches!(u.path().trim_matches('/'), "" | "0"))
}
