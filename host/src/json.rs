//! node's JSON shapes for callers (the CLI and the HTTP service): `d` given as JSON, with
//! node's validation messages, and a session as node returns it. Both are written once,
//! in `redis-sessions-rest` (which the `wasi:http` front shares); here are only the
//! conversions between the WIT's types and that crate's neutral ones.

use crate::types::{Data, DataInput, DataValue, Session, SessionError};
use redis_sessions_rest as rest;
use serde_json::Value;

impl From<rest::Scalar> for DataValue {
    fn from(v: rest::Scalar) -> Self {
        match v {
            rest::Scalar::Text(s) => DataValue::Text(s),
            rest::Scalar::Integer(i) => DataValue::Integer(i),
            rest::Scalar::Float(f) => DataValue::Float(f),
            rest::Scalar::Boolean(b) => DataValue::Boolean(b),
        }
    }
}

impl From<DataValue> for rest::Scalar {
    fn from(v: DataValue) -> Self {
        match v {
            DataValue::Text(s) => rest::Scalar::Text(s),
            DataValue::Integer(i) => rest::Scalar::Integer(i),
            DataValue::Float(f) => rest::Scalar::Float(f),
            DataValue::Boolean(b) => rest::Scalar::Boolean(b),
        }
    }
}

impl From<Session> for rest::Session {
    fn from(s: Session) -> Self {
        rest::Session {
            id: s.id,
            r: s.r,
            w: s.w,
            ttl: s.ttl,
            idle: s.idle,
            ip: s.ip,
            no_resave: s.no_resave,
            d: s.d.into_iter().map(|(k, v)| (k, v.into())).collect(),
        }
    }
}

impl From<rest::InvalidData> for SessionError {
    fn from(e: rest::InvalidData) -> Self {
        match e {
            rest::InvalidData::MissingParameter(m) => SessionError::MissingParameter(m),
            rest::InvalidData::InvalidValue(m) => SessionError::InvalidValue(m),
        }
    }
}

/// `d` as the HTTP layer parsed it, in the WIT's types.
pub(crate) fn input_from_rest(d: rest::DataInput) -> DataInput {
    d.into_iter()
        .map(|(k, v)| (k, v.map(DataValue::from)))
        .collect()
}

/// Parses `d` given as JSON with node's validation and messages. The component checks
/// the rest (at least one key, finite numbers).
pub fn input_from_json(d: &Value) -> Result<DataInput, SessionError> {
    Ok(input_from_rest(rest::input_from_json(d)?))
}

/// `d` as a JSON object.
pub fn data_to_json(d: &Data) -> Value {
    let d: rest::Data = d
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    rest::data_to_json(&d)
}

impl Session {
    /// node's session object: `{id, r, w, ttl, idle, ip[, no_resave: true][, d]}`.
    pub fn to_json(&self) -> Value {
        rest::Session::from(self.clone()).to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The shapes themselves are tested in redis-sessions-rest; these check the conversions.
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
        let s = Session {
            id: "user1".into(),
            r: 3,
            w: 2,
            ttl: 3600,
            idle: 0,
            ip: "::1".into(),
            no_resave: true,
            d: vec![
                ("a".into(), DataValue::Integer(1)),
                ("c".into(), DataValue::Text("x".into())),
            ],
        };
        assert_eq!(
            s.to_json().to_string(),
            r#"{"id":"user1","r":3,"w":2,"ttl":3600,"idle":0,"ip":"::1","no_resave":true,"d":{"a":1,"c":"x"}}"#
        );
        assert_eq!(data_to_json(&s.d), json!({"a": 1, "c": "x"}));
    }
}
