//! node's JSON shapes: `d` given as JSON (with node's validation messages) and a session as
//! node returns it. Neutral types, so neither the host's `bindgen!` types nor the front's
//! `wit-bindgen` ones leak in: each side converts into them.

use serde_json::{Map, Value};

/// A value of a session's custom data `d` (the WIT's `data-value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    /// A finite float.
    Float(f64),
    Boolean(bool),
}

/// `d` as read: keys in stored order.
pub type Data = Vec<(String, Scalar)>;

/// `d` as given to `create` or `set`: `None` (JSON null) deletes the key on `set`.
pub type DataInput = Vec<(String, Option<Scalar>)>;

/// Why `d` was refused, with node's name and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidData {
    /// node's `missingParameter`: `d` is JS-falsy.
    #[error("{0}")]
    MissingParameter(String),
    /// node's `invalidValue`: not an object, empty, or a value of a forbidden type.
    #[error("{0}")]
    InvalidValue(String),
}

impl InvalidData {
    /// node's `err.name`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MissingParameter(_) => "missingParameter",
            Self::InvalidValue(_) => "invalidValue",
        }
    }

    /// node's `err.message`.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingParameter(m) | Self::InvalidValue(m) => m,
        }
    }
}

fn forbidden(key: &str) -> InvalidData {
    InvalidData::InvalidValue(format!(
        "d.{key} has a forbidden type. Only strings, numbers, boolean and null are allowed."
    ))
}

/// Parses `d` given as JSON with node's validation and messages. The component checks
/// the rest (finite numbers, at least one key left after nulls).
pub fn input_from_json(d: &Value) -> Result<DataInput, InvalidData> {
    // node: `if (!d) throw missingParameter`, so JS-falsy values are "missing".
    let falsy = match d {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    };
    if falsy {
        return Err(InvalidData::MissingParameter("No d supplied".into()));
    }
    let Value::Object(map) = d else {
        return Err(InvalidData::InvalidValue("d must be an object".into()));
    };
    if map.is_empty() {
        // node's typo, kept: clients compare messages.
        return Err(InvalidData::InvalidValue(
            "d must containt at least one key.".into(),
        ));
    }
    let mut input = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            Value::Null => None,
            Value::String(s) => Some(Scalar::Text(s.clone())),
            Value::Bool(b) => Some(Scalar::Boolean(*b)),
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Scalar::Integer(i),
                // Beyond i64 (or with a fraction or exponent) it is a float, as in JS.
                None => Scalar::Float(n.as_f64().ok_or_else(|| forbidden(key))?),
            }),
            Value::Array(_) | Value::Object(_) => return Err(forbidden(key)),
        };
        input.push((key.clone(), value));
    }
    Ok(input)
}

/// `d` as a JSON object, keys in stored order.
pub fn data_to_json(d: &[(String, Scalar)]) -> Value {
    let map = d
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Scalar::Text(s) => Value::String(s.clone()),
                Scalar::Integer(i) => Value::from(*i),
                Scalar::Float(f) => Value::from(*f),
                Scalar::Boolean(b) => Value::Bool(*b),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(map)
}

/// A session as node returns it (the WIT's `session`).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub r: u64,
    pub w: u64,
    pub ttl: i64,
    pub idle: i64,
    pub ip: String,
    pub no_resave: bool,
    pub d: Data,
}

impl Session {
    /// node's session object: `{id, r, w, ttl, idle, ip[, no_resave: true][, d]}`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), self.id.clone().into());
        o.insert("r".into(), self.r.into());
        o.insert("w".into(), self.w.into());
        o.insert("ttl".into(), self.ttl.into());
        o.insert("idle".into(), self.idle.into());
        o.insert("ip".into(), self.ip.clone().into());
        if self.no_resave {
            o.insert("no_resave".into(), true.into());
        }
        if !self.d.is_empty() {
            o.insert("d".into(), data_to_json(&self.d));
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_validation_messages() {
        let msg = |v: Value| input_from_json(&v).unwrap_err().message().to_owned();
        assert_eq!(msg(json!(null)), "No d supplied");
        assert_eq!(msg(json!(false)), "No d supplied");
        assert_eq!(msg(json!(0)), "No d supplied");
        assert_eq!(msg(json!("")), "No d supplied");
        assert_eq!(msg(json!([1])), "d must be an object");
        assert_eq!(msg(json!("x")), "d must be an object");
        assert_eq!(msg(json!({})), "d must containt at least one key.");
        assert_eq!(
            msg(json!({"a": 1, "b": {"c": 1}})),
            "d.b has a forbidden type. Only strings, numbers, boolean and null are allowed."
        );
        assert_eq!(
            msg(json!({"l": [1]})),
            "d.l has a forbidden type. Only strings, numbers, boolean and null are allowed."
        );
        assert_eq!(
            input_from_json(&json!(null)).unwrap_err().name(),
            "missingParameter"
        );
        assert_eq!(
            input_from_json(&json!([])).unwrap_err().name(),
            "invalidValue"
        );
        assert_eq!(
            input_from_json(&json!({"a": null})).unwrap(),
            vec![("a".to_owned(), None)]
        );
    }

    #[test]
    fn integers_stay_integers_and_floats_floats() {
        let d = input_from_json(
            &json!({"i": 42, "n": -7, "f": 20.212, "big": 1e21, "u": 18446744073709551615u64}),
        )
        .unwrap();
        assert_eq!(d[0].1, Some(Scalar::Integer(42)));
        assert_eq!(d[1].1, Some(Scalar::Integer(-7)));
        assert_eq!(d[2].1, Some(Scalar::Float(20.212)));
        assert_eq!(d[3].1, Some(Scalar::Float(1e21)));
        assert_eq!(d[4].1, Some(Scalar::Float(18446744073709551615.0)));
        let v: Value = serde_json::from_str(r#"{"a":123456789012345680000}"#).unwrap();
        assert_eq!(
            input_from_json(&v).unwrap()[0].1,
            Some(Scalar::Float(1.2345678901234568e20))
        );
    }

    #[test]
    fn node_shape_json() {
        let mut s = Session {
            id: "user1".into(),
            r: 3,
            w: 2,
            ttl: 3600,
            idle: 0,
            ip: "::1".into(),
            no_resave: false,
            d: vec![
                ("a".into(), Scalar::Integer(1)),
                ("c".into(), Scalar::Text("x".into())),
                ("f".into(), Scalar::Float(0.5)),
                ("b".into(), Scalar::Boolean(false)),
            ],
        };
        assert_eq!(
            s.to_json().to_string(),
            r#"{"id":"user1","r":3,"w":2,"ttl":3600,"idle":0,"ip":"::1","d":{"a":1,"c":"x","f":0.5,"b":false}}"#
        );
        s.no_resave = true;
        s.d.clear();
        assert_eq!(
            s.to_json().to_string(),
            r#"{"id":"user1","r":3,"w":2,"ttl":3600,"idle":0,"ip":"::1","no_resave":true}"#
        );
    }
}
