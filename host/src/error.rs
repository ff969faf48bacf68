//! The host library's error.

use redis_sessions_core::SessionError;

/// Why a session call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What the component reported: node's validation errors (`invalidFormat`, ...) or a
    /// store error.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Redis could not be reached (or stopped answering) during the call.
    #[error("Redis is unavailable: {0}")]
    Unavailable(String),
    /// The first connection to Redis failed.
    #[error("cannot connect to Redis at {url}: {message}")]
    Connect { url: String, message: String },
    /// The call hit its CPU time or memory limit and was stopped; the instance was discarded.
    #[error("{0}")]
    Limit(String),
    /// The component trapped or could not be instantiated; the instance was discarded.
    #[error("the session component failed: {0}")]
    Component(wasmtime::Error),
}

impl Error {
    /// A stable name, node-style: `missingParameter`, `invalidFormat`, `invalidValue`,
    /// `storeError`, `redisUnavailable`, `limitExceeded` or `componentError`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Session(e) => e.name(),
            Error::Unavailable(_) | Error::Connect { .. } => "redisUnavailable",
            Error::Limit(_) => "limitExceeded",
            Error::Component(_) => "componentError",
        }
    }

    /// `true` for node's validation errors: the caller's input was wrong.
    pub fn is_validation(&self) -> bool {
        matches!(self, Error::Session(e) if e.is_validation())
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact_url("redis://u:pw@h"), "redis://u:***@h");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
    }
}
