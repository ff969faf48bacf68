//! The Redis ACL users that confine tenants: their rules, and `tenants provision`, which
//! creates them and makes them outlive a Redis restart.

use super::error::TenantsError;
use super::file::TenantConfig;
use super::urls::selects_database;
use redis_sessions::capability::{cluster_nodes, commands, is_cluster_url};
use redis_sessions_core::keys;

/// The `ACL SETUSER` arguments that confine a tenant: its keys and cache channel, those of
/// its layout, and only the commands the session logic sends or its scripts call: never
/// `EVAL` or `SCRIPT` (the host loads the registered scripts itself), `SELECT` only when
/// `select` (the URL picks a database), the cluster client's only on a `cluster`.
pub fn acl_rules(t: &TenantConfig, password: &str, select: bool, cluster: bool) -> Vec<String> {
    let sharded = t.shards(cluster) > 0;
    let mut rules = vec![
        t.redis_user.clone(),
        "reset".into(),
        "on".into(),
        format!(">{password}"),
        format!("~{}", keys::key_glob(&t.namespace, sharded)),
        "resetchannels".into(),
        // The channel its scripts announce writes on (one per shard), for node's read caches.
        format!("&{}", keys::cache_channel_glob(&t.namespace, sharded)),
        "-@all".into(),
    ];
    rules.extend(
        commands::tenant_acl(select, cluster).map(|c| format!("+{}", c.to_ascii_lowercase())),
    );
    rules
}

/// Redis' answer to `ACL SAVE` without an `aclfile`.
const NO_ACL_FILE: &str = "not configured to use an ACL file";

/// Creates or updates every tenant's ACL user on the Redis at `admin_url` (connected as a
/// user allowed ACL SETUSER and ACL SAVE), then saves them to Redis' aclfile. On a Redis
/// Cluster (`redis+cluster://`) every node gets them, replicas included, each through its
/// own connection. Returns one line per tenant, and lines saying where the users are kept.
pub async fn provision(
    admin_url: &str,
    tenants: &[TenantConfig],
) -> Result<Vec<String>, TenantsError> {
    if !is_cluster_url(admin_url) {
        let select = selects_database(admin_url);
        let mut report = tenant_lines(tenants, select, false);
        let saved = set_users(admin_url, tenants, select, false).await?;
        report.push(saved_line(saved, "Redis"));
        return Ok(report);
    }
    let nodes = cluster_nodes(admin_url)
        .await
        .map_err(|source| TenantsError::AdminConnect {
            url: redis_sessions::redact_url(admin_url),
            source,
        })?;
    let (live, failing): (Vec<_>, Vec<_>) = nodes.into_iter().partition(|n| !n.failing);
    let mut report = vec![format!(
        "Redis Cluster: each of its {} nodes, masters and replicas, gets the ACL users (after \
         adding a node, provision again)",
        live.len()
    )];
    report.extend(failing.iter().map(|n| {
        format!(
            "warning: node {} is marked failing and was skipped: provision again once it is back",
            n.address
        )
    }));
    report.extend(tenant_lines(tenants, false, true));
    let mut unsaved = Vec::new();
    for node in &live {
        let saved = set_users(&node.url, tenants, false, true)
            .await
            .map_err(|e| TenantsError::OnNode {
                node: node.address.clone(),
                source: Box::new(e),
            })?;
        if !saved {
            unsaved.push(node.address.as_str());
        }
    }
    report.push(match unsaved.len() {
        0 => saved_line(true, "every node"),
        _ => saved_line(false, &format!("nodes {}", unsaved.join(", "))),
    });
    Ok(report)
}

/// What each tenant's user may do.
fn tenant_lines(tenants: &[TenantConfig], select: bool, cluster: bool) -> Vec<String> {
    tenants
        .iter()
        .map(|t| {
            format!(
                "tenant {}: ACL user {} may use keys {} and {} commands",
                t.name,
                t.redis_user,
                keys::key_glob(&t.namespace, t.shards(cluster) > 0),
                commands::tenant_acl(select, cluster).count()
            )
        })
        .collect()
}

/// Sets every tenant's user on the one Redis at `url`, then saves them to its aclfile:
/// `false` when it has none.
async fn set_users(
    url: &str,
    tenants: &[TenantConfig],
    select: bool,
    cluster: bool,
) -> Result<bool, TenantsError> {
    let admin_error = |source| TenantsError::AdminConnect {
        url: redis_sessions::redact_url(url),
        source,
    };
    let client = redis::Client::open(url).map_err(admin_error)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(admin_error)?;
    for t in tenants {
        let rules = acl_rules(t, &t.password()?, select, cluster);
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&rules)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|source| TenantsError::Provision {
                user: t.redis_user.clone(),
                source,
            })?;
    }
    // Users made by ACL SETUSER live in memory only: without this they vanish on a restart
    // and every tenant fails until someone provisions again.
    match redis::cmd("ACL")
        .arg("SAVE")
        .query_async::<()>(&mut conn)
        .await
    {
        Ok(()) => Ok(true),
        Err(e) if e.to_string().contains(NO_ACL_FILE) => Ok(false),
        Err(e) => Err(TenantsError::AclSave(e)),
    }
}

/// Whether the users outlive a restart of `place` ("Redis", "every node", "nodes A, B").
fn saved_line(saved: bool, place: &str) -> String {
    if saved {
        format!("ACL users saved to the aclfile on {place} (ACL SAVE)")
    } else {
        format!(
            "warning: no aclfile on {place}, so these ACL users will be lost when it restarts: \
             start Redis with `aclfile /path/users.acl` and provision again, or provision after \
             every restart"
        )
    }
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
        let rules = acl_rules(&t, "pw", false, false);
        assert!(rules.contains(&"~acme:*".to_owned()));
        assert!(
            rules.contains(&"&acme:cache".to_owned()),
            "only its cache channel"
        );
        assert!(rules.contains(&"+evalsha".to_owned()));
        assert!(!rules.contains(&"+eval".to_owned()) && !rules.contains(&"+select".to_owned()));
        assert!(acl_rules(&t, "pw", true, false).contains(&"+select".to_owned()));
        let on_cluster = acl_rules(&t, "pw", false, true);
        assert!(on_cluster.contains(&"~{acme:s*".to_owned()), "sharded");
        assert!(on_cluster.contains(&"&{acme:s*:cache".to_owned()));
        assert!(on_cluster.contains(&"+cluster|slots".to_owned()));
    }
}
