//! The Redis ACL users that confine tenants: their rules, and `tenants provision`, which
//! creates them and makes them outlive a Redis restart.

use super::error::TenantsError;
use super::file::TenantConfig;
use super::urls::selects_database;
use crate::redis::commands;

/// The `ACL SETUSER` arguments that confine a tenant: its keys, its cache channel, and only
/// the commands the session logic sends or its scripts call — never `EVAL` or `SCRIPT` (the host loads the
/// registered scripts itself), `SELECT` only when `select` (the URL picks a database).
pub fn acl_rules(t: &TenantConfig, password: &str, select: bool) -> Vec<String> {
    let mut rules = vec![
        t.redis_user.clone(),
        "reset".into(),
        "on".into(),
        format!(">{password}"),
        format!("~{}:*", t.namespace),
        "resetchannels".into(),
        // The one channel its scripts announce writes on, for node's read caches.
        format!("&{}:cache", t.namespace),
        "-@all".into(),
    ];
    rules.extend(commands::tenant_acl(select).map(|c| format!("+{}", c.to_ascii_lowercase())));
    rules
}

/// Redis' answer to `ACL SAVE` without an `aclfile`.
const NO_ACL_FILE: &str = "not configured to use an ACL file";

/// Creates or updates every tenant's ACL user on the Redis at `admin_url` (connected as a
/// user allowed ACL SETUSER and ACL SAVE), then saves them to Redis' aclfile. Returns one
/// line per tenant, and one saying where the users are kept.
pub async fn provision(
    admin_url: &str,
    tenants: &[TenantConfig],
) -> Result<Vec<String>, TenantsError> {
    let admin_error = |source| TenantsError::AdminConnect {
        url: crate::redact_url(admin_url),
        source,
    };
    let client = redis::Client::open(admin_url).map_err(admin_error)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(admin_error)?;
    let select = selects_database(admin_url);
    let mut report = Vec::with_capacity(tenants.len() + 1);
    for t in tenants {
        let rules = acl_rules(t, &t.password()?, select);
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&rules)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|source| TenantsError::Provision {
                user: t.redis_user.clone(),
                source,
            })?;
        report.push(format!(
            "tenant {}: ACL user {} may use keys {}:* and {} commands",
            t.name,
            t.redis_user,
            t.namespace,
            commands::tenant_acl(select).count()
        ));
    }
    // Users made by ACL SETUSER live in memory only: without this they vanish on a restart
    // and every tenant fails until someone provisions again.
    match redis::cmd("ACL")
        .arg("SAVE")
        .query_async::<()>(&mut conn)
        .await
    {
        Ok(()) => report.push("ACL users saved to Redis' aclfile (ACL SAVE)".into()),
        Err(e) if e.to_string().contains(NO_ACL_FILE) => report.push(
            "warning: Redis has no aclfile, so these ACL users will be lost when it restarts: \
             start Redis with `aclfile /path/users.acl` and provision again, or provision after \
             every restart"
                .into(),
        ),
        Err(e) => return Err(TenantsError::AclSave(e)),
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_may_not_run_its_own_lua_nor_pick_a_database() {
        let t: TenantConfig = toml::from_str(
            "name = \"acme\"\napi_keys = []\nnamespace = \"acme\"\nredis_user = \"acme\"\n",
        )
        .unwrap();
        let rules = acl_rules(&t, "pw", false);
        assert!(rules.contains(&"~acme:*".to_owned()));
        assert!(
            rules.contains(&"&acme:cache".to_owned()),
            "only its cache channel"
        );
        assert!(rules.contains(&"+evalsha".to_owned()));
        assert!(!rules.contains(&"+eval".to_owned()) && !rules.contains(&"+select".to_owned()));
        assert!(acl_rules(&t, "pw", true).contains(&"+select".to_owned()));
    }
}
