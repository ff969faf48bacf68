//! node's JSON shapes for callers (the CLI and the HTTP service): `d` given as JSON, with
//! node's validation messages, and a session as node returns it. Both are written once,
//! in `redis-sessions-rest` (which the `wasi:http` front shares); here are only the
//! conversions between the WIT's types and that crate's neutral ones.

use crate::bindings::sessions as wit;
use crate::types::{Data, DataInput, Session, SessionError};
use redis_sessions_core as core;
use redis_sessions_rest as rest;
use serde_json::Value;

core::wit_conversions!(wit);

/// `d` as the HTTP layer parsed it, in the WIT's types.
pub fn input_from_rest(d: rest::DataInput) -> DataInput {
    d.into_iter().map(|(k, v)| (k, v.map(Into::into))).collect()
}

/// Parses `d` given as JSON with node's validation and messages. The component checks
/// the rest (at least one key, finite numbers).
pub fn input_from_json(d: &Value) -> Result<DataInput, SessionError> {
    rest::input_from_json(d)
        .map(input_from_rest)
        .map_err(invalid)
}

/// A parameter the session logic's checks refused, as the host's error. Checks never fail
/// the store; if one did, it would read as `store`.
pub fn invalid(e: core::OpError) -> SessionError {
    match e {
        core::OpError::MissingParameter(m) => SessionError::MissingParameter(m),
        core::OpError::InvalidFormat(m) => SessionError::InvalidFormat(m),
        core::OpError::InvalidValue(m) => SessionError::InvalidValue(m),
        core::OpError::Store(m) | core::OpError::Unavailable(m) => SessionError::Store(m),
    }
}

/// `d` as a JSON object.
pub fn data_to_json(d: &Data) -> Value {
    let d: core::Data = d
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    core::data::data_to_json(&d)
}

impl Session {
    /// node's session object: `{id, r, w, ttl, idle, ip[, no_resave: true][, d]}`.
    pub fn to_json(&self) -> Value {
        core::Session::from(self.clone()).to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataValue;
    use serde_json::json;

    // The shapes themselves are tested in redis-sessions-core and -rest; these check the
    // conversions.
    #[test]
    fn conversions_keep_every_value_and_error() {
        let d =
            input_from_json(&json!({"t": "x", "i": -7, "f": 0.5, "b": true, "n": null})).unwrap();
        assert_eq!(
            d,
            vec![
                ("t".into(), Some(DataValue::Text("x".into()))),
                ("i".into(), Some(DataValue::Integer(-7))),
                ("f".into(), Some(DataValue::Float(0.5))),
                ("b".into(), Some(DataValue::Boolean(true))),
                ("n".into(), None),
            ]
        );
        assert_eq!(
            input_from_json(&json!(null)),
            Err(SessionError::MissingParameter("No d supplied".into()))
        );
        assert_eq!(
            input_from_json(&json!([1])),
            Err(SessionError::InvalidValue("d must be an object".into()))
        );
        let d = vec![
            ("a".into(), DataValue::Integer(1)),
            ("c".into(), DataValue::Text("x".into())),
        ];
        // Session::to_json is checked byte for byte by cli/tests/it/api.rs.
        assert_eq!(data_to_json(&d), json!({"a": 1, "c": "x"}));
    }
}
