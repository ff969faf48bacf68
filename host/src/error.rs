//! The host library's error, and the one mapping from the WIT's `error` into it.

use crate::bindings::sessions as wit;
use crate::types::SessionError;
use std::time::Duration;

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
    #[error("cannot connect to Redis at {url}: {source}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        source: redis::RedisError,
    },
    /// The call hit its CPU time or memory limit and was stopped; the instance was discarded.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// The builder was given settings that cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The component trapped or could not be instantiated; the instance was discarded.
    #[error("the session component failed: {0}")]
    Component(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Settings of [`crate::SessionsBuilder`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("shards must be 0 (node's layout) to {max}, not {0}", max = redis_sessions_core::keys::MAX_SHARDS)]
    Shards(u16),
    #[error("waiting for replicas needs at least 1 replica and a timeout of at least 1 ms")]
    ReplicaAcks,
    #[error("the embedded store has no replicas to wait for")]
    NoReplicas,
}

/// Which limit stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("the call exceeded its CPU time limit of {} ms", .0.as_millis())]
    CpuTime(Duration),
    #[error("the call exceeded its memory limit of {} MiB", .0 >> 20)]
    Memory(usize),
    #[error("the tenant's instances exceeded their total memory limit of {} MiB", .0 >> 20)]
    TotalMemory(usize),
    #[error("the call exceeded its deadline of {} ms", .0.as_millis())]
    Deadline(Duration),
    #[error("the call exceeded its budget of {0} Redis commands")]
    Commands(u64),
}

impl Error {
    /// A stable name, node-style: `missingParameter`, `invalidFormat`, `invalidValue`,
    /// `storeError`, `redisUnavailable`, `limitExceeded` or `componentError`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Session(e) => e.name(),
            Error::Unavailable(_) | Error::Connect { .. } => "redisUnavailable",
            Error::Limit(_) => "limitExceeded",
            Error::Config(_) => "invalidValue",
            Error::Component(_) => "componentError",
        }
    }

    /// `true` for node's validation errors: the caller's input was wrong.
    pub fn is_validation(&self) -> bool {
        matches!(self, Error::Session(e) if e.is_validation())
    }

    pub(crate) fn component(e: wasmtime::Error) -> Self {
        Error::Component(e.into_boxed_dyn_error())
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::MissingParameter(m) => SessionError::MissingParameter(m).into(),
            wit::Error::InvalidFormat(m) => SessionError::InvalidFormat(m).into(),
            wit::Error::InvalidValue(m) => SessionError::InvalidValue(m).into(),
            wit::Error::Store(m) => SessionError::Store(m).into(),
            wit::Error::Unavailable(m) => Error::Unavailable(m),
        }
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`, for messages and logs (a
/// `redis+cluster://` URL's too). A string that is not a URL is replaced whole: it may be a
/// password put in the wrong place.
pub fn redact_url(url: &str) -> String {
    if let Some(redacted) = crate::capability::cluster_url::redact_cluster_url(url) {
        return redacted;
    }
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact_url("redis://u:pw@h"), "redis://u:***@h");
        assert_eq!(redact_url("redis://u:p%40ss@w@h"), "redis://u:***@h");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact_url("not a url :pw"), "(an invalid URL)");
        assert_eq!(
            redact_url("redis+cluster://u:pw@h1:1,h2:2"),
            "redis+cluster://u:***@h1:1,h2:2"
        );
    }
}
