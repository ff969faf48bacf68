//! A session's custom data `d`: a flat JSON object stored in the hash field `d`.
//!
//! We write `d` byte for byte as node's `JSON.stringify` does (key order, number and string
//! formatting), and read whatever node, its ports or we wrote. Values this API cannot carry
//! (a `null` node writes for NaN, nested values another port may write) are kept verbatim
//! through `set`'s merge and left out of what callers see.

use crate::error::OpError;
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

/// `d` as a JSON object, keys in stored order.
pub fn data_to_json(d: &[(String, DataValue)]) -> Value {
    // String keys only: always serializes.
    serde_json::to_value(DataJson(d)).unwrap_or(Value::Null)
}

/// `d` as a JSON object, keys in order, written straight to text.
pub(crate) struct DataJson<'a>(pub &'a [(String, DataValue)]);

impl serde::Serialize for DataJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut o = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            match v {
                DataValue::Text(s) => o.serialize_entry(k, s)?,
                DataValue::Integer(i) => o.serialize_entry(k, i)?,
                DataValue::Float(f) => o.serialize_entry(k, f)?,
                DataValue::Boolean(b) => o.serialize_entry(k, b)?,
            }
        }
        o.end()
    }
}

/// A stored value: one the API carries, or raw JSON it does not (kept as it was).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    Value(DataValue),
    Raw(String),
    /// A member whose key holds a lone surrogate (no Rust string can): its entry's key is
    /// the key's raw JSON text, quotes included, and this is its raw value. No input key
    /// can name it, so it is only ever kept.
    RawMember(String),
}

/// `d` as stored, in stored order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredData(pub Vec<(String, StoredValue)>);

/// Checks `d` given to `create` or `set`, as node does: at least one key, finite numbers.
pub fn validate_input(d: &DataInput) -> Result<(), OpError> {
    if d.is_empty() {
        return Err(OpError::InvalidValue(
            "d must containt at least one key.".into(),
        ));
    }
    for (key, value) in d {
        if let Some(DataValue::Float(f)) = value
            && !f.is_finite()
        {
            // node would store NaN and Infinity as null; refuse rather than lose the value.
            return Err(OpError::InvalidValue(format!(
                "d.{key} must be a finite number"
            )));
        }
    }
    Ok(())
}

impl StoredData {
    /// Parses the stored field. An empty field is no data, as in node.
    pub fn parse(bytes: &[u8]) -> Result<Self, OpError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(value) => value,
            Err(e) => {
                return Self::parse_with_lone_surrogates(bytes)
                    .ok_or_else(|| OpError::Store(format!("stored d is not valid JSON: {e}")));
            }
        };
        let Value::Object(map) = value else {
            return Err(OpError::Store("stored d is not a JSON object".into()));
        };
        let entries = map
            .into_iter()
            .map(|(k, v)| (k, stored_value(&v)))
            .collect();
        Ok(Self(entries))
    }

    /// JS strings may hold lone surrogates (an emoji cut in half by `slice`), which
    /// `JSON.stringify` writes as `\udXXX` escapes and serde_json refuses. Such a `d` is
    /// node's valid JSON all the same: it is read member by member, and the members holding
    /// a lone surrogate are kept verbatim, like other values the API cannot carry.
    /// `None` when the text is not JSON for another reason.
    fn parse_with_lone_surrogates(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (repaired, lone) = repair_lone_surrogates(text);
        if !lone {
            return None;
        }
        // With them replaced it must be a JSON object; then the members split safely.
        if !serde_json::from_str::<Value>(&repaired).ok()?.is_object() {
            return None;
        }
        let mut data = Self::default();
        for (key, value) in split_members(text)? {
            if repair_lone_surrogates(key).1 {
                data.0
                    .push((key.to_owned(), StoredValue::RawMember(value.to_owned())));
                continue;
            }
            let key: String = serde_json::from_str(key).ok()?;
            let value = if repair_lone_surrogates(value).1 {
                StoredValue::Raw(value.to_owned())
            } else {
                stored_value(&serde_json::from_str(value).ok()?)
            };
            // A repeated key: the last value in the first place, as JSON.parse does.
            match data.position(&key) {
                Some(i) => data.0[i].1 = value,
                None => data.0.push((key, value)),
            }
        }
        Some(data)
    }

    /// Where `key` is; members kept by their raw key never match.
    fn position(&self, key: &str) -> Option<usize> {
        self.0
            .iter()
            .position(|(k, v)| k == key && !matches!(v, StoredValue::RawMember(_)))
    }

    /// node's merge: `_.extend(_.omit(old, nullkeys), _.omit(new, nullkeys))`. Existing keys
    /// keep their position, new keys are appended, null deletes.
    pub fn merge(&mut self, input: &DataInput) {
        for (key, value) in input {
            let position = self.position(key);
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
                StoredValue::Raw(_) | StoredValue::RawMember(_) => None,
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
            match value {
                StoredValue::RawMember(_) => out.push_str(key),
                _ => write_js_string(&mut out, key),
            }
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
                StoredValue::Raw(raw) | StoredValue::RawMember(raw) => out.push_str(raw),
            }
        }
        out.push('}');
        out
    }
}

/// A JSON scalar as a [`DataValue`]; integers stay integers while they fit an `i64`.
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

/// A parsed value as stored: one the API carries, else its JSON text.
fn stored_value(v: &Value) -> StoredValue {
    match scalar_from_json(v) {
        Some(value) => StoredValue::Value(value),
        None => StoredValue::Raw(v.to_string()),
    }
}

/// Replaces each `\uD800`-`\uDFFF` escape that is not half of a pair with `\ufffd`;
/// says whether there was one. Other escapes (`\\u...` too) are copied as they are.
fn repair_lone_surrogates(text: &str) -> (String, bool) {
    let b = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = b.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(b.len());
    let mut lone = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match unit(i) {
            Some(0xD800..=0xDBFF) if matches!(unit(i + 6), Some(0xDC00..=0xDFFF)) => {
                out.extend_from_slice(&b[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                lone = true;
                i += 6;
            }
            _ => {
                // Any other escape: copy the backslash and the character it escapes.
                out.extend_from_slice(&b[i..(i + 2).min(b.len())]);
                i += 2;
            }
        }
    }
    // Only ASCII was replaced, so the bytes are still UTF-8.
    (String::from_utf8(out).unwrap_or_default(), lone)
}

/// The members of a JSON object already known to be valid: `(key, value)` as raw text.
fn split_members(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let ws = |mut i: usize| {
        while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    };
    let string_end = |i: usize| -> Option<usize> {
        let mut j = i + 1;
        loop {
            match b.get(j)? {
                b'\\' => j += 2,
                b'"' => return Some(j + 1),
                _ => j += 1,
            }
        }
    };
    let value_end = |i: usize| -> Option<usize> {
        match b.get(i)? {
            b'"' => string_end(i),
            b'{' | b'[' => {
                let (mut j, mut depth) = (i, 0usize);
                loop {
                    match b.get(j)? {
                        b'"' => {
                            j = string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let mut j = i;
                while !matches!(
                    b.get(j),
                    None | Some(b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    j += 1;
                }
                Some(j)
            }
        }
    };
    let mut i = ws(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(i + 1);
    let mut members = Vec::new();
    if b.get(i) == Some(&b'}') {
        return Some(members);
    }
    loop {
        let key_start = ws(i);
        let key_end = string_end(key_start)?;
        i = ws(key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_start = ws(i + 1);
        let value_end = value_end(value_start)?;
        members.push((&text[key_start..key_end], &text[value_start..value_end]));
        i = ws(value_end);
        match b.get(i)? {
            b',' => i += 1,
            b'}' => return Some(members),
            _ => return None,
        }
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

    /// A flat JSON object as the component receives it (callers' JSON parsing, with node's
    /// messages, is the host's).
    fn input(v: Value) -> DataInput {
        let Value::Object(map) = v else {
            panic!("not an object: {v}")
        };
        map.into_iter()
            .map(|(k, v)| {
                let v =
                    match v {
                        Value::Null => None,
                        Value::Bool(b) => Some(DataValue::Boolean(b)),
                        Value::String(s) => Some(DataValue::Text(s)),
                        Value::Number(n) => Some(n.as_i64().map_or_else(
                            || DataValue::Float(n.as_f64().unwrap()),
                            DataValue::Integer,
                        )),
                        other => panic!("not a scalar: {other}"),
                    };
                (k, v)
            })
            .collect()
    }

    #[test]
    fn node_validation_messages() {
        let empty = DataInput::new();
        assert_eq!(
            validate_input(&empty).unwrap_err().message(),
            "d must containt at least one key."
        );
        let nan = vec![("x".to_owned(), Some(DataValue::Float(f64::NAN)))];
        assert_eq!(
            validate_input(&nan).unwrap_err().message(),
            "d.x must be a finite number"
        );
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
    fn reads_lone_surrogates_node_writes() {
        // node: JSON.stringify({cut: "😀".slice(0, 1), ok: "fine", n: 1, ...})
        let text = r#"{"cut":"\ud83d","ok":"a\\ud800","n":1,"pair":"\ud83d\ude00","lo":"x\uDC00y","o":{"k":"\ud800"},"\udfff":2,"n":3}"#;
        let mut d = stored(text);
        assert_eq!(
            d.visible(),
            vec![
                ("ok".into(), DataValue::Text("a\\ud800".into())),
                ("n".into(), DataValue::Integer(3)),
                ("pair".into(), DataValue::Text("😀".into())),
            ]
        );
        // Kept verbatim through a merge; the raw-keyed member never matches an input key.
        d.merge(&input(json!({"n": 4, "cut": null, "new": true})));
        assert_eq!(
            d.to_js_json(),
            r#"{"ok":"a\\ud800","n":4,"pair":"😀","lo":"x\uDC00y","o":{"k":"\ud800"},"\udfff":2,"new":true}"#
        );
        // Overwriting a value that had one replaces it.
        d.merge(&input(json!({"lo": "fixed"})));
        assert!(d.to_js_json().contains(r#""lo":"fixed""#));
        // Whitespace as another writer may leave it.
        let d = stored("{ \"a\" : \"\\ud800\" , \"b\" : [1, \"]\"] }");
        assert!(d.visible().is_empty());
        assert_eq!(d.to_js_json(), r#"{"a":"\ud800","b":[1,"]"]}"#);
        // Not JSON for another reason: still an error.
        assert!(StoredData::parse(br#"{"a":"\ud800","b":tru}"#).is_err());
        assert!(StoredData::parse(br#"["\ud800"]"#).is_err());
        assert!(StoredData::parse(br#"{"a":"\ud800"#).is_err());
    }

    #[test]
    fn numbers_read_exactly_as_js() {
        // 1.2345678901234568e20 in JS; a best-effort parser reads the neighbouring double.
        let d = stored(
            r#"{"a":123456789012345680000,"b":9223372036854776000,"c":0.30000000000000004,"e":5e-324}"#,
        );
        assert_eq!(d.visible()[0].1, DataValue::Float(123456789012345680000.0));
        assert_eq!(
            d.to_js_json(),
            r#"{"a":123456789012345680000,"b":9223372036854776000,"c":0.30000000000000004,"e":5e-324}"#
        );
    }
}
