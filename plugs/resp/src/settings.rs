//! Where Redis is and how to log in, from a `redis://` URL.

use crate::codec::Command;
use percent_encoding::percent_decode_str;
use std::fmt;
use url::{Host, Url};

/// The port when the URL names none.
pub const DEFAULT_PORT: u16 = 6379;

/// A parsed `redis://[[user]:password@]host[:port][/db]`.
///
/// `Debug` never shows the password; neither does any error this crate makes.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// A host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The ACL user, percent-decoded; `None` logs in as `default`.
    pub username: Option<String>,
    /// The password, percent-decoded; `None` sends no `AUTH`.
    pub password: Option<String>,
    /// The database `SELECT`ed after connecting (path `/N`; 0 sends no `SELECT`).
    pub db: u32,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .finish()
    }
}

fn decode(part: &str, what: &str) -> Result<String, String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("invalid redis_url: the {what} is not UTF-8 once percent-decoded"))
}

impl Settings {
    /// Parses `url`. Errors are one line, start with `invalid redis_url`, and never quote
    /// the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<Self, String> {
        Self::parse_with(url, false)
    }

    /// [`parse`](Self::parse) for a plug whose runtime makes the connection, TLS included
    /// (Spin): `rediss://` is accepted too.
    pub fn parse_runtime_url(url: &str) -> Result<Self, String> {
        Self::parse_with(url, true)
    }

    fn parse_with(url: &str, tls: bool) -> Result<Self, String> {
        let url = Url::parse(url.trim()).map_err(|e| format!("invalid redis_url: {e}"))?;
        match url.scheme() {
            "redis" => {}
            "rediss" if tls => {}
            "rediss" => {
                return Err(
                    "invalid redis_url: rediss:// needs TLS, which this plug does not have; use redis://"
                        .into(),
                );
            }
            other => {
                return Err(format!(
                    "invalid redis_url: scheme `{other}` is not supported; use redis://"
                ));
            }
        }
        let host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("invalid redis_url: no host".into()),
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(
                "invalid redis_url: query parameters and fragments are not supported".into(),
            );
        }
        let username = match url.username() {
            "" => None,
            name => Some(decode(name, "user name")?),
        };
        let password = url.password().map(|p| decode(p, "password")).transpose()?;
        if username.is_some() && password.is_none() {
            return Err("invalid redis_url: a user name needs a password (user:password@)".into());
        }
        let db = match url.path().trim_start_matches('/') {
            "" => 0,
            path => path.parse().map_err(|_| {
                format!("invalid redis_url: the path must be a database number, not `/{path}`")
            })?,
        };
        Ok(Settings {
            host,
            port: url.port().unwrap_or(DEFAULT_PORT),
            username,
            password,
            db,
        })
    }

    /// `host:port`, with brackets around an IPv6 address: for messages and for connecting.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The commands that set a new connection up: `AUTH` and `SELECT`, as configured.
    pub fn handshake(&self) -> Vec<Command> {
        let mut commands = Vec::new();
        if let Some(password) = &self.password {
            let mut auth = vec![b"AUTH".to_vec()];
            if let Some(user) = &self.username {
                auth.push(user.clone().into_bytes());
            }
            auth.push(password.clone().into_bytes());
            commands.push(auth);
        }
        if self.db != 0 {
            commands.push(vec![b"SELECT".to_vec(), self.db.to_string().into_bytes()]);
        }
        commands
    }

    /// `text` with the password, should it appear, replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "***"),
            _ => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Settings {
        Settings::parse(url).unwrap()
    }

    #[test]
    fn host_alone_means_port_6379_db_0_no_auth() {
        let s = parse("redis://127.0.0.1");
        assert_eq!((s.host.as_str(), s.port, s.db), ("127.0.0.1", 6379, 0));
        assert_eq!((s.username, s.password), (None, None));
        assert!(parse("redis://localhost:7000/").handshake().is_empty());
    }

    #[test]
    fn reads_user_password_port_and_db_percent_decoded() {
        let s = parse("redis://tenant%2Da:p%40ss%3Aw0rd@redis.internal:6380/3");
        assert_eq!(s.host, "redis.internal");
        assert_eq!(s.port, 6380);
        assert_eq!(s.username.as_deref(), Some("tenant-a"));
        assert_eq!(s.password.as_deref(), Some("p@ss:w0rd"));
        assert_eq!(s.db, 3);
        assert_eq!(
            s.handshake(),
            vec![
                vec![
                    b"AUTH".to_vec(),
                    b"tenant-a".to_vec(),
                    b"p@ss:w0rd".to_vec()
                ],
                vec![b"SELECT".to_vec(), b"3".to_vec()],
            ]
        );
    }

    #[test]
    fn a_password_without_user_sends_the_one_argument_auth() {
        let s = parse("redis://:secret@h");
        assert_eq!(
            s.handshake(),
            vec![vec![b"AUTH".to_vec(), b"secret".to_vec()]]
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed_in_the_address() {
        let s = parse("redis://[::1]:6390");
        assert_eq!(s.host, "::1");
        assert_eq!(s.address(), "[::1]:6390");
        assert_eq!(parse("redis://h:1").address(), "h:1");
    }

    #[test]
    fn refuses_rediss_with_a_reason() {
        let e = Settings::parse("rediss://:pw@h:6380").unwrap_err();
        assert!(e.contains("TLS"), "{e}");
        let s = Settings::parse_runtime_url("rediss://:pw@h:6380").unwrap();
        assert_eq!(
            (s.address(), s.password.as_deref()),
            ("h:6380".into(), Some("pw"))
        );
    }

    #[test]
    fn invalid_urls_give_one_line_errors_without_the_password() {
        for url in [
            "http://:hunter2@h",
            "redis://:hunter2@h/notadb",
            "redis://:hunter2@h:99999",
            "redis://:hunter2@h/0?timeout=1",
            "redis:///0",
            "redis://user@h",
            "not a url hunter2",
            "",
        ] {
            let e = Settings::parse(url).unwrap_err();
            assert!(e.starts_with("invalid redis_url"), "{url}: {e}");
            assert!(!e.contains("hunter2") && !e.contains('\n'), "{url}: {e}");
        }
    }

    #[test]
    fn debug_and_redact_hide_the_password() {
        let s = parse("redis://u:hunter2@h");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.redact("ERR bad hunter2 here"), "ERR bad *** here");
        assert_eq!(parse("redis://h").redact("text"), "text");
    }
}
