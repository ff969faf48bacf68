//! Redis Cluster URLs: `redis+cluster://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]`
//! (`rediss+cluster://` for TLS, once redis-rs is built with it), each `HOST:PORT` a seed
//! from which the client discovers the other nodes; and the nodes `CLUSTER NODES` lists.

use redis::{ErrorKind, RedisError};

/// The URL scheme of a Redis Cluster, and its TLS variant.
const SCHEMES: [(&str, &str); 2] = [("redis+cluster", "redis"), ("rediss+cluster", "rediss")];

/// Whether `url` names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`).
pub fn is_cluster_url(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, _)| {
        SCHEMES
            .iter()
            .any(|(cluster, _)| scheme.eq_ignore_ascii_case(cluster))
    })
}

/// A cluster URL taken apart: what every seed node's own URL is made of.
pub(super) struct ClusterUrl<'a> {
    /// `redis+cluster` or `rediss+cluster`, as written.
    scheme: &'a str,
    /// `redis` or `rediss`.
    node_scheme: &'static str,
    /// `USER:PASSWORD`, as written (percent-encoded).
    userinfo: Option<&'a str>,
    seeds: Vec<&'a str>,
    /// The path and query, given to every node (`/?protocol=resp3`, say).
    rest: &'a str,
}

fn invalid_url(detail: String) -> RedisError {
    RedisError::from((
        ErrorKind::InvalidClientConfig,
        "Invalid Redis Cluster URL",
        detail,
    ))
}

impl<'a> ClusterUrl<'a> {
    pub(super) fn parse(url: &'a str) -> Result<Self, RedisError> {
        let (scheme, after) = url
            .split_once("://")
            .ok_or_else(|| invalid_url("no scheme".into()))?;
        let node_scheme = SCHEMES
            .iter()
            .find(|(cluster, _)| scheme.eq_ignore_ascii_case(cluster))
            .map(|&(_, node)| node)
            .ok_or_else(|| invalid_url(format!("the scheme is not redis+cluster: {scheme}")))?;
        let (authority, rest) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
        // The last `@`, as URL parsers do: a password may hold an unencoded one.
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let seeds: Vec<&str> = hosts.split(',').collect();
        if seeds.iter().any(|seed| seed.is_empty()) {
            return Err(invalid_url(
                "give the nodes as HOST:PORT[,HOST:PORT...], none empty".into(),
            ));
        }
        Ok(ClusterUrl {
            scheme,
            node_scheme,
            userinfo,
            seeds,
            rest,
        })
    }

    /// `redis://[USERINFO@]SEED[REST]` for every seed.
    pub(super) fn node_urls(&self) -> Vec<String> {
        self.seeds.iter().map(|seed| self.node_url(seed)).collect()
    }

    /// `redis://[USERINFO@]ADDRESS[REST]`: one node's own URL.
    pub(super) fn node_url(&self, address: &str) -> String {
        let userinfo = self.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        format!("{}://{userinfo}{address}{}", self.node_scheme, self.rest)
    }

    /// The URL again, with `userinfo` (`USER[:PASSWORD]`, percent-encoded) if any.
    fn render(&self, userinfo: Option<&str>) -> String {
        let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        format!(
            "{}://{userinfo}{}{}",
            self.scheme,
            self.seeds.join(","),
            self.rest
        )
    }
}

/// One node of a cluster, as `CLUSTER NODES` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterNode {
    /// `HOST:PORT`.
    pub address: String,
    /// Its own URL (`redis://`), with the cluster URL's credentials.
    pub url: String,
    /// Whether the cluster marks it failing (`fail`) or without an address (`noaddr`).
    pub failing: bool,
}

/// `CLUSTER NODES`' lines: `ID HOST:PORT@BUS[,HOSTNAME] FLAGS ...`.
pub(super) fn parse_cluster_nodes(listing: &str, url: impl Fn(&str) -> String) -> Vec<ClusterNode> {
    listing
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_id, endpoint, flags) = (fields.next()?, fields.next()?, fields.next()?);
            let address = endpoint.split(['@', ',']).next()?;
            // IPv6 hosts come bare (`::1:7000`); a URL needs them in brackets.
            let address = match address.rsplit_once(':') {
                Some((host, port)) if host.contains(':') && !host.starts_with('[') => {
                    format!("[{host}]:{port}")
                }
                _ => address.to_owned(),
            };
            let failing = flags.split(',').any(|f| f == "fail" || f == "noaddr");
            Some(ClusterNode {
                url: url(&address),
                address,
                failing,
            })
        })
        .collect()
}

/// `url` with its password replaced by `***`, or `None` if it is not a cluster URL.
pub(crate) fn redact_cluster_url(url: &str) -> Option<String> {
    let parsed = ClusterUrl::parse(url).ok()?;
    let userinfo = parsed
        .userinfo
        .map(|userinfo| match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***"),
            None => userinfo.to_owned(),
        });
    Some(parsed.render(userinfo.as_deref()))
}

/// The cluster URL `url` with `userinfo` (`USER:PASSWORD`, percent-encoded) in place of its
/// own credentials.
pub fn with_cluster_userinfo(url: &str, userinfo: &str) -> Result<String, RedisError> {
    Ok(ClusterUrl::parse(url)?.render(Some(userinfo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_gives_one_node_url_per_seed() {
        let url = ClusterUrl::parse(
            "redis+cluster://u:p%40w@10.0.0.1:7000,h2:7001,[::1]:7002/?protocol=resp3",
        )
        .unwrap();
        assert_eq!(
            url.node_urls(),
            [
                "redis://u:p%40w@10.0.0.1:7000/?protocol=resp3",
                "redis://u:p%40w@h2:7001/?protocol=resp3",
                "redis://u:p%40w@[::1]:7002/?protocol=resp3",
            ]
        );
        assert_eq!(
            ClusterUrl::parse("REDISS+CLUSTER://h:1")
                .unwrap()
                .node_urls(),
            ["rediss://h:1"]
        );
        for bad in [
            "redis://h:1",
            "redis+cluster://",
            "redis+cluster://h:1,,h:2",
            "h:1,h:2",
        ] {
            assert!(ClusterUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(is_cluster_url("redis+cluster://h:1"));
        assert!(is_cluster_url("Rediss+Cluster://h:1"));
        assert!(!is_cluster_url("redis://h:1"));
        assert!(!is_cluster_url("redis+unix:///run/redis.sock"));
    }

    #[test]
    fn cluster_nodes_are_read_with_their_urls() {
        let listing = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7001@17001,node-b.example slave a1 0 1 1 connected
c3 ::1:7002@17002 master,fail - 0 1 3 disconnected
d4 :0@0 slave,noaddr c3 0 1 3 disconnected
";
        let url = ClusterUrl::parse("redis+cluster://u:p@h:1/?protocol=resp3").unwrap();
        let nodes = parse_cluster_nodes(listing, |a| url.node_url(a));
        let seen: Vec<(&str, &str, bool)> = nodes
            .iter()
            .map(|n| (n.address.as_str(), n.url.as_str(), n.failing))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "127.0.0.1:7000",
                    "redis://u:p@127.0.0.1:7000/?protocol=resp3",
                    false
                ),
                (
                    "127.0.0.1:7001",
                    "redis://u:p@127.0.0.1:7001/?protocol=resp3",
                    false
                ),
                ("[::1]:7002", "redis://u:p@[::1]:7002/?protocol=resp3", true),
                (":0", "redis://u:p@:0/?protocol=resp3", true),
            ]
        );
    }

    #[test]
    fn a_cluster_url_is_redacted() {
        assert_eq!(
            redact_cluster_url("redis+cluster://u:secret@h1:1,h2:2/0").as_deref(),
            Some("redis+cluster://u:***@h1:1,h2:2/0")
        );
        assert_eq!(
            redact_cluster_url("redis+cluster://:p@ss@h1:1").as_deref(),
            Some("redis+cluster://:***@h1:1")
        );
        assert_eq!(
            redact_cluster_url("redis+cluster://h1:1").as_deref(),
            Some("redis+cluster://h1:1")
        );
        assert_eq!(redact_cluster_url("redis://u:p@h"), None);
    }
}
