//! A session's custom data `d`: a flat JSON object stored in the hash field `d`.
//!
//! We write `d` byte for byte as node's `JSON.stringify` does (key order, number and string
//! formatting), and read whatever node, its ports or we wrote. Values this API cannot carry
//! (a `null` node writes for NaN, nested values another port may write) are kept verbatim
//! through `set`'s merge and left out of what callers see.

use crate::error::SessionError;
use serde_json::Value;
use std::fmt::Write as _;

/// A value in `d`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    Text(String),
    Integer(i64),
    /// Always finite.
    Float(f64),
    Boolean(bool),
}

/// Data as read: keys in stored order.
pub type Data = Vec<(String, DataValue)>;

/// Data given to `create` or `set`: `None` (JSON null) deletes the key.
pub type DataInput = Vec<(String, Option<DataValue>)>;

/// A stored value: one the API carries, or raw JSON it does not (kept as it was).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    Value(DataValue),
    Raw(String),
}

/// `d` as stored, in stored order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredData(pub Vec<(String, StoredValue)>);

fn forbidden(key: &str) -> SessionError {
    SessionError::InvalidValue(format!(
        "d.{key} has a forbidden type. Only strings, numbers, boolean and null are allowed."
    ))
}

/// Checks `d` given to `create` or `set`, as node does: at least one key, finite numbers.
pub fn validate_input(d: &DataInput) -> Result<(), SessionError> {
    if d.is_empty() {
        return Err(SessionError::InvalidValue(
            "d must containt at least one key.".into(),
        ));
    }
    for (key, value) in d {
        if let Some(DataValue::Float(f)) = value
            && !f.is_finite()
        {
            // node would store NaN and Infinity as null; refuse rather than lose the value.
            return Err(SessionError::InvalidValue(format!(
                "d.{key} must be a finite number"
            )));
        }
    }
    Ok(())
}

/// Parses `d` given as JSON (CLI, HTTP) with node's validation and messages.
pub fn input_from_json(d: &Value) -> Result<DataInput, SessionError> {
    // node: `if (!d) throw missingParameter`, so JS-falsy values are "missing".
    let falsy = match d {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    };
    if falsy {
        return Err(SessionError::missing("d"));
    }
    let Value::Object(map) = d else {
        return Err(SessionError::InvalidValue("d must be an object".into()));
    };
    let mut input = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            Value::Null => None,
            Value::Array(_) | Value::Object(_) => return Err(forbidden(key)),
            scalar => Some(scalar_from_json(scalar).ok_or_else(|| forbidden(key))?),
        };
        input.push((key.clone(), value));
    }
    validate_input(&input)?;
    Ok(input)
}

fn scalar_from_json(value: &Value) -> Option<DataValue> {
    Some(match value {
        Value::String(s) => DataValue::Text(s.clone()),
        Value::Bool(b) => DataValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => DataValue::Integer(i),
            // Beyond i64 (or with a fraction or exponent) it is a float, as in JS.
            None => DataValue::Float(n.as_f64()?),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    })
}

/// `d` as a JSON object, for the CLI and HTTP responses.
pub fn to_json(d: &Data) -> Value {
    let map = d
        .iter()
        .map(|(k, v)| {
            let v = match v {
                DataValue::Text(s) => Value::String(s.clone()),
                DataValue::Integer(i) => Value::from(*i),
                DataValue::Float(f) => Value::from(*f),
                DataValue::Boolean(b) => Value::Bool(*b),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(map)
}

impl StoredData {
    /// Parses the stored field. An empty field is no data, as in node.
    pub fn parse(bytes: &[u8]) -> Result<Self, SessionError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| SessionError::Store(format!("stored d is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(SessionError::Store("stored d is not a JSON object".into()));
        };
        let entries = map
            .into_iter()
            .map(|(k, v)| {
                let stored = match scalar_from_json(&v) {
                    Some(value) => StoredValue::Value(value),
                    None => StoredValue::Raw(v.to_string()),
                };
                (k, stored)
            })
            .collect();
        Ok(Self(entries))
    }

    /// node's merge: `_.extend(_.omit(old, nullkeys), _.omit(new, nullkeys))`. Existing keys
    /// keep their position, new keys are appended, null deletes.
    pub fn merge(&mut self, input: &DataInput) {
        for (key, value) in input {
            let position = self.0.iter().position(|(k, _)| k == key);
            match (value, position) {
                (None, Some(i)) => {
                    self.0.remove(i);
                }
                (None, None) => {}
                (Some(v), Some(i)) => self.0[i].1 = StoredValue::Value(v.clone()),
                (Some(v), None) => self.0.push((key.clone(), StoredValue::Value(v.clone()))),
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values the API carries, in stored order.
    pub fn visible(&self) -> Data {
        self.0
            .iter()
            .filter_map(|(k, v)| match v {
                StoredValue::Value(v) => Some((k.clone(), v.clone())),
                StoredValue::Raw(_) => None,
            })
            .collect()
    }

    /// The field as node's `JSON.stringify` writes it: array-index keys first in numeric
    /// order, then the rest in insertion order; JS number and string formatting.
    pub fn to_js_json(&self) -> String {
        let mut entries: Vec<&(String, StoredValue)> = self.0.iter().collect();
        // Stable sort: index keys ascending, every other key keeps its place after them.
        entries.sort_by_key(|(k, _)| array_index(k).unwrap_or(u64::MAX));
        let mut out = String::with_capacity(64);
        out.push('{');
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_js_string(&mut out, key);
            out.push(':');
            match value {
                StoredValue::Value(DataValue::Text(s)) => write_js_string(&mut out, s),
                StoredValue::Value(DataValue::Integer(n)) => {
                    let _ = write!(out, "{n}");
                }
                StoredValue::Value(DataValue::Float(f)) => {
                    out.push_str(ryu_js::Buffer::new().format(*f));
                }
                StoredValue::Value(DataValue::Boolean(b)) => {
                    out.push_str(if *b { "true" } else { "false" })
                }
                StoredValue::Raw(raw) => out.push_str(raw),
            }
        }
        out.push('}');
        out
    }
}

/// A canonical array index (`0`, `1`, ... up to 2^32 - 2): JS orders these keys first.
fn array_index(key: &str) -> Option<u64> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if !canonical || key.len() > 10 || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u64>().ok().filter(|&n| n < u64::from(u32::MAX))
}

/// JS `JSON.stringify` of a string: escapes only `"`, `\` and control characters.
fn write_js_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(json: &str) -> StoredData {
        StoredData::parse(json.as_bytes()).unwrap()
    }

    fn input(v: Value) -> DataInput {
        input_from_json(&v).unwrap()
    }

    #[test]
    fn node_validation_messages() {
        let msg = |v: Value| input_from_json(&v).unwrap_err().message().to_owned();
        assert_eq!(msg(json!(null)), "No d supplied");
        assert_eq!(msg(json!(false)), "No d supplied");
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
        assert!(input_from_json(&json!({"a": null})).is_ok());
        let nan = vec![("x".to_owned(), Some(DataValue::Float(f64::NAN)))];
        assert_eq!(
            validate_input(&nan).unwrap_err().message(),
            "d.x must be a finite number"
        );
    }

    #[test]
    fn integers_stay_integers_and_floats_floats() {
        let d = input(
            json!({"i": 42, "n": -7, "f": 20.212, "big": 1e21, "u": 18446744073709551615u64}),
        );
        assert_eq!(d[0].1, Some(DataValue::Integer(42)));
        assert_eq!(d[1].1, Some(DataValue::Integer(-7)));
        assert_eq!(d[2].1, Some(DataValue::Float(20.212)));
        assert_eq!(d[3].1, Some(DataValue::Float(1e21)));
        assert_eq!(d[4].1, Some(DataValue::Float(18446744073709551615.0)));
    }

    #[test]
    fn writes_like_js_json_stringify() {
        // Key order, tested against node: {b:1,"2":1,a:1,"1":1,"-1":2,"01":3}.
        let mut d = StoredData::default();
        d.merge(&input(json!({"b":1,"2":1,"a":1,"1":1,"-1":2,"01":3})));
        assert_eq!(d.to_js_json(), r#"{"1":1,"2":1,"b":1,"a":1,"-1":2,"01":3}"#);

        let mut d = StoredData::default();
        d.merge(&vec![
            ("a".into(), Some(DataValue::Float(1e21))),
            ("b".into(), Some(DataValue::Float(1e-7))),
            ("c".into(), Some(DataValue::Float(0.1 + 0.2))),
            ("d".into(), Some(DataValue::Float(-0.0))),
            ("e".into(), Some(DataValue::Float(20.0))),
            ("f".into(), Some(DataValue::Float(0.000001))),
        ]);
        assert_eq!(
            d.to_js_json(),
            r#"{"a":1e+21,"b":1e-7,"c":0.30000000000000004,"d":0,"e":20,"f":0.000001}"#
        );

        let mut d = StoredData::default();
        d.merge(&input(json!({"s": "q\"b\\/\n\t\u{1}\u{1f}ü😀\u{2028}"})));
        assert_eq!(
            d.to_js_json(),
            "{\"s\":\"q\\\"b\\\\/\\n\\t\\u0001\\u001fü😀\u{2028}\"}"
        );
    }

    #[test]
    fn merge_is_nodes_extend_omit() {
        // {c:1,a:2} + {a:null,b:3,c:4} -> {"c":4,"b":3}
        let mut d = stored(r#"{"c":1,"a":2}"#);
        d.merge(&input(json!({"a": null, "b": 3, "c": 4})));
        assert_eq!(d.to_js_json(), r#"{"c":4,"b":3}"#);
        d.merge(&input(json!({"c": null, "b": null})));
        assert!(d.is_empty());
    }

    #[test]
    fn reads_what_node_writes() {
        let d = stored(r#"{"1":1,"x":1e+21,"y":-0,"z":"\u2028","n":null,"o":{"k":[1]},"t":true}"#);
        let visible = d.visible();
        assert_eq!(visible.len(), 5);
        assert_eq!(visible[1], ("x".into(), DataValue::Float(1e21)));
        assert_eq!(visible[2], ("y".into(), DataValue::Float(0.0)));
        assert_eq!(visible[3], ("z".into(), DataValue::Text("\u{2028}".into())));
        assert_eq!(visible[4], ("t".into(), DataValue::Boolean(true)));
        // What the API cannot carry survives a merge verbatim.
        let mut d = d;
        d.merge(&input(json!({"t": false})));
        assert_eq!(
            d.to_js_json(),
            r#"{"1":1,"x":1e+21,"y":0,"z":" ","n":null,"o":{"k":[1]},"t":false}"#
                .replace(' ', "\u{2028}")
        );
        assert!(StoredData::parse(b"").unwrap().is_empty());
        assert!(StoredData::parse(b"{nope").is_err());
    }

    #[test]
    fn json_round_trip_for_callers() {
        let d = stored(r#"{"a":"x","b":2,"c":2.5,"d":false}"#);
        assert_eq!(
            to_json(&d.visible()),
            json!({"a":"x","b":2,"c":2.5,"d":false})
        );
    }
}
