//! The client's error: the cases of the WIT `redis.error`.

/// Why a call failed: the cases of the WIT `redis.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Redis answered with an error; the text starts with its code.
    #[error("{0}")]
    Server(String),
    /// Redis could not be reached, refused the login, or did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// The command was refused before sending (an empty command).
    #[error("{0}")]
    Denied(String),
    /// A reply the interface cannot carry.
    #[error("{0}")]
    UnsupportedReply(String),
}
