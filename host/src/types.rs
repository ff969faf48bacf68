//! The session API's types as callers of the host library see them.
//!
//! [`Session`], [`SessionPage`], [`CreateOptions`], [`DataValue`], [`Data`] and
//! [`DataInput`] are the WIT's own types (generated in [`crate::bindings`]); [`SessionError`] is the part of the WIT `error` a caller handles
//! as node does (the WIT's `unavailable` case becomes [`crate::Error::Unavailable`]).

use crate::bindings::sessions as wit;

pub use wit::{CreateOptions, Data, DataInput, DataValue, Session, SessionPage};

/// Why the component refused or failed a call. The validation variants carry node's exact
/// message texts (`No app supplied`, `Invalid token format`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// A required parameter is empty (node's `missingParameter`).
    #[error("{0}")]
    MissingParameter(String),
    /// A parameter does not match its format (node's `invalidFormat`).
    #[error("{0}")]
    InvalidFormat(String),
    /// A parameter's value is out of range or of a forbidden type (node's `invalidValue`).
    #[error("{0}")]
    InvalidValue(String),
    /// The store failed: what Redis or the host's capability said.
    #[error("{0}")]
    Store(String),
}

impl SessionError {
    /// node's `err.name`: `missingParameter`, `invalidFormat`, `invalidValue`, or
    /// `storeError` (the session logic's names: one table of them).
    pub fn name(&self) -> &'static str {
        redis_sessions_core::OpError::from(self.clone()).name()
    }

    /// `true` for the three validation errors (the caller's input was wrong).
    pub fn is_validation(&self) -> bool {
        !matches!(self, Self::Store(_))
    }
}

redis_sessions_core::convert_variants!(
    SessionError,
    redis_sessions_core::OpError,
    MissingParameter,
    InvalidFormat,
    InvalidValue,
    Store
);
