//! `d` given as JSON, parsed with node's validation and messages into the session logic's
//! own types (which every front converts its bindgen's types from).

use redis_sessions_core::{DataInput, DataValue, OpError};
use serde_json::Value;

fn forbidden(key: &str) -> OpError {
    OpError::InvalidValue(format!(
        "d.{key} has a forbidden type. Only strings, numbers, boolean and null are allowed."
    ))
}

/// Parses `d` given as JSON with node's validation and messages. The component checks
/// the rest (finite numbers, at least one key left after nulls).
pub fn input_from_json(d: &Value) -> Result<DataInput, OpError> {
    // node: `if (!d) throw missingParameter`, so JS-falsy values are "missing".
    let falsy = match d {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    };
    if falsy {
        return Err(OpError::MissingParameter("No d supplied".into()));
    }
    let Value::Object(map) = d else {
        return Err(OpError::InvalidValue("d must be an object".into()));
    };
    if map.is_empty() {
        // node's typo, kept: clients compare messages.
        return Err(OpError::InvalidValue(
            "d must containt at least one key.".into(),
        ));
    }
    let mut input = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            Value::Null => None,
            Value::String(s) => Some(DataValue::Text(s.clone())),
            Value::Bool(b) => Some(DataValue::Boolean(*b)),
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => DataValue::Integer(i),
                // Beyond i64 (or with a fraction or exponent) it is a float, as in JS.
                None => DataValue::Float(n.as_f64().ok_or_else(|| forbidden(key))?),
            }),
            Value::Array(_) | Value::Object(_) => return Err(forbidden(key)),
        };
        input.push((key.clone(), value));
    }
    Ok(input)
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
        assert_eq!(d[0].1, Some(DataValue::Integer(42)));
        assert_eq!(d[1].1, Some(DataValue::Integer(-7)));
        assert_eq!(d[2].1, Some(DataValue::Float(20.212)));
        assert_eq!(d[3].1, Some(DataValue::Float(1e21)));
        assert_eq!(d[4].1, Some(DataValue::Float(18446744073709551615.0)));
        let v: Value = serde_json::from_str(r#"{"a":123456789012345680000}"#).unwrap();
        assert_eq!(
            input_from_json(&v).unwrap()[0].1,
            Some(DataValue::Float(1.2345678901234568e20))
        );
    }
}
