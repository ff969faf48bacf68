//! The error every session method returns.

use std::fmt;

/// Why a session call failed. The validation variants carry node's exact message texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// A required parameter is empty (node's `missingParameter`): `No app supplied`.
    MissingParameter(String),
    /// A parameter does not match its format (node's `invalidFormat`): `Invalid token format`.
    InvalidFormat(String),
    /// A parameter's value is out of range or of a forbidden type (node's `invalidValue`).
    InvalidValue(String),
    /// The store failed; the text is what Redis or the host said.
    Store(String),
    /// Redis could not be reached or did not answer in time.
    Unavailable(String),
}

impl OpError {
    pub(crate) fn missing(item: &str) -> Self {
        Self::MissingParameter(format!("No {item} supplied"))
    }

    pub(crate) fn format(item: &str) -> Self {
        Self::InvalidFormat(format!("Invalid {item} format"))
    }

    /// node's `err.name`: `missingParameter`, `invalidFormat`, `invalidValue`, or
    /// `storeError` / `redisUnavailable` for this project's store failures.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MissingParameter(_) => "missingParameter",
            Self::InvalidFormat(_) => "invalidFormat",
            Self::InvalidValue(_) => "invalidValue",
            Self::Store(_) => "storeError",
            Self::Unavailable(_) => "redisUnavailable",
        }
    }

    /// node's `err.message`.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingParameter(m)
            | Self::InvalidFormat(m)
            | Self::InvalidValue(m)
            | Self::Store(m)
            | Self::Unavailable(m) => m,
        }
    }

    /// `true` for the three validation errors (the caller's fault), `false` for store errors.
    pub fn is_validation(&self) -> bool {
        !matches!(self, Self::Store(_) | Self::Unavailable(_))
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for OpError {}
