//! A session as node returns it, made from its hash fields (node's `_prepareSession`).

use crate::data::{Data, DataInput, StoredData};
use crate::error::OpError;
use serde_json::Value;

/// A live session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    /// Reads, as stored before this read.
    pub r: u64,
    /// Writes.
    pub w: u64,
    /// Timeout in seconds; the remaining time for `no_resave` sessions.
    pub ttl: i64,
    /// Seconds since the last activity.
    pub idle: i64,
    pub ip: String,
    pub no_resave: bool,
    pub d: Data,
    /// Seconds left of the absolute lifetime of a session created with max-age.
    pub max_age: Option<i64>,
}

impl Session {
    /// node's session object: `{id, r, w, ttl, idle, ip[, no_resave: true][, d]}`, and
    /// `max_age` (seconds left) for a session created with one.
    pub fn to_json(&self) -> Value {
        // The shape is defined once, by the `Serialize` impl below; a session has only
        // string keys, so it always serializes.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// node's session object, written straight to text (no `Value` tree), as the HTTP answers
/// use it; [`Session::to_json`] is the same as a `Value`.
impl serde::Serialize for Session {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut o = serializer.serialize_map(None)?;
        o.serialize_entry("id", &self.id)?;
        o.serialize_entry("r", &self.r)?;
        o.serialize_entry("w", &self.w)?;
        o.serialize_entry("ttl", &self.ttl)?;
        o.serialize_entry("idle", &self.idle)?;
        o.serialize_entry("ip", &self.ip)?;
        if self.no_resave {
            o.serialize_entry("no_resave", &true)?;
        }
        if !self.d.is_empty() {
            o.serialize_entry("d", &crate::data::DataJson(&self.d))?;
        }
        if let Some(left) = self.max_age {
            o.serialize_entry("max_age", &left)?;
        }
        o.end()
    }
}

/// The 9 fields of [`crate::keys::SESSION_FIELDS`], as Redis returned them.
pub type Fields = [Option<Vec<u8>>; 9];

/// A session read from Redis, with its `d` as stored (for `set`'s merge).
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub session: Session,
    pub stored: StoredData,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A field as a number, the way Lua's `tonumber` and JS `Number` read decimal strings.
fn number(field: &Option<Vec<u8>>) -> Option<f64> {
    std::str::from_utf8(field.as_deref()?)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

fn counter(field: &Option<Vec<u8>>) -> u64 {
    // Saturating float-to-int cast: a corrupt counter reads as 0, never panics.
    number(field).map_or(0, |n| n as u64)
}

/// Makes the session from its fields at `now`: `None` when it does not exist, lacks its
/// timestamps, or has expired (`ttl < idle`, or past its max-age deadline `exp`; expired
/// sessions stay until wipe or kill).
/// The scripts in [`crate::scripts`] apply the same rule, so the guest and Redis agree.
pub fn prepare(fields: &Fields, now: i64) -> Result<Option<Prepared>, OpError> {
    let [id, r, w, ttl, d, la, ip, no_resave, exp] = fields;
    let (Some(id), Some(ttl), Some(la)) = (id, number(ttl), number(la)) else {
        return Ok(None);
    };
    let idle = now as f64 - la;
    let exp = number(exp);
    if ttl < idle || exp.is_some_and(|exp| now as f64 > exp) {
        return Ok(None);
    }
    let no_resave = no_resave.as_deref() == Some(b"1");
    let stored = StoredData::parse(d.as_deref().unwrap_or_default())?;
    let session = Session {
        id: text(id),
        r: counter(r),
        w: counter(w),
        ttl: if no_resave { ttl - idle } else { ttl } as i64,
        idle: idle as i64,
        ip: text(ip.as_deref().unwrap_or_default()),
        no_resave,
        d: stored.visible(),
        max_age: exp.map(|exp| (exp - now as f64) as i64),
    };
    Ok(Some(Prepared { session, stored }))
}

/// `set`'s write, planned from the fields read at `now` and the caller's `d`: what the
/// compare-and-set script is given besides the keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// The session as read, `d` merged.
    pub read: Prepared,
    /// `"1"` when the hash had a `d` field, else `"0"`.
    pub had_d: &'static str,
    /// The `d` bytes read: the script writes only while they are still there.
    pub old_d: Vec<u8>,
    /// The merged `d` as node's JSON; empty when no key is left.
    pub new_d: String,
}

/// Plans `set`'s write: `None` when the session is missing or expired.
pub fn merge(fields: &Fields, now: i64, d: &DataInput) -> Result<Option<Merge>, OpError> {
    let Some(mut read) = prepare(fields, now)? else {
        return Ok(None);
    };
    read.stored.merge(d);
    let new_d = if read.stored.is_empty() {
        String::new()
    } else {
        read.stored.to_js_json()
    };
    let (had_d, old_d) = match &fields[4] {
        Some(old) => ("1", old.clone()),
        None => ("0", Vec::new()),
    };
    Ok(Some(Merge {
        read,
        had_d,
        old_d,
        new_d,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataValue;

    #[test]
    fn serialized_text_is_the_json_value_as_text() {
        let mut s = Session {
            id: "u:1 \"é\"".into(),
            r: 3,
            w: 2,
            ttl: 600,
            idle: 1,
            ip: "::1".into(),
            no_resave: false,
            d: Vec::new(),
            max_age: None,
        };
        let same = |s: &Session| {
            let value_text: String = s.to_json().to_string();
            serde_json::to_string(s).unwrap() == value_text
        };
        assert!(same(&s));
        s.no_resave = true;
        s.max_age = Some(40);
        s.d = vec![
            ("b".into(), DataValue::Text("x\u{1}\n".into())),
            ("a".into(), DataValue::Integer(-7)),
            ("f".into(), DataValue::Float(12.7)),
            ("big".into(), DataValue::Float(1e21)),
            ("t".into(), DataValue::Boolean(true)),
        ];
        assert!(same(&s), "{}", serde_json::to_string(&s).unwrap());
    }

    fn fields(pairs: &[(usize, &str)]) -> Fields {
        let mut f: Fields = Default::default();
        for (i, v) in pairs {
            f[*i] = Some(v.as_bytes().to_vec());
        }
        f
    }

    fn node_hash(la: i64, ttl: &str, extra: &[(usize, &str)]) -> Fields {
        let la = la.to_string();
        let mut pairs = vec![
            (0, "user1"),
            (1, "3"),
            (2, "2"),
            (3, ttl),
            (5, la.as_str()),
            (6, "::1"),
        ];
        pairs.extend_from_slice(extra);
        fields(&pairs)
    }

    #[test]
    fn missing_or_incomplete_hash_is_none() {
        assert_eq!(prepare(&Default::default(), 100).unwrap(), None);
        assert_eq!(prepare(&fields(&[(0, "u"), (3, "60")]), 100).unwrap(), None);
    }

    #[test]
    fn live_until_idle_exceeds_ttl() {
        let now = 1_000_000;
        let s = prepare(&node_hash(now - 60, "60", &[]), now)
            .unwrap()
            .unwrap()
            .session;
        assert_eq!(
            (s.id.as_str(), s.r, s.w, s.ttl, s.idle),
            ("user1", 3, 2, 60, 60)
        );
        assert_eq!(prepare(&node_hash(now - 61, "60", &[]), now).unwrap(), None);
    }

    #[test]
    fn no_resave_reports_the_remaining_ttl() {
        let now = 1_000_000;
        let s = prepare(&node_hash(now - 25, "100", &[(7, "1")]), now)
            .unwrap()
            .unwrap()
            .session;
        assert!(s.no_resave);
        assert_eq!((s.ttl, s.idle), (75, 25));
    }

    #[test]
    fn node_fields_are_read() {
        let now = 1_000_000;
        let p = prepare(&node_hash(now, "3600", &[(4, r#"{"a":1,"c":"x"}"#)]), now)
            .unwrap()
            .unwrap();
        assert_eq!(
            p.session.d[1],
            ("c".to_owned(), DataValue::Text("x".into()))
        );
        assert_eq!(
            (
                p.session.id.as_str(),
                p.session.ip.as_str(),
                p.session.d.len()
            ),
            ("user1", "::1", 2)
        );
        let p = prepare(&node_hash(now, "3600", &[(7, "1")]), now)
            .unwrap()
            .unwrap();
        assert!(p.session.no_resave);
    }

    #[test]
    fn node_v4_float_ttl_is_read() {
        let now = 1_000;
        let s = prepare(&node_hash(now - 12, "12.7", &[]), now)
            .unwrap()
            .unwrap()
            .session;
        assert_eq!(s.ttl, 12);
    }

    #[test]
    fn max_age_is_the_time_left_and_ends_the_session() {
        let now = 1_000_000;
        let exp = (now + 10).to_string();
        let s = prepare(&node_hash(now - 5, "600", &[(8, &exp)]), now)
            .unwrap()
            .unwrap()
            .session;
        assert_eq!((s.ttl, s.idle, s.max_age), (600, 5, Some(10)));
        assert_eq!(s.to_json()["max_age"], 10);
        let at_deadline = prepare(&node_hash(now - 5, "600", &[(8, &exp)]), now + 10).unwrap();
        assert!(at_deadline.is_some(), "alive at the deadline itself");
        assert_eq!(
            prepare(&node_hash(now - 5, "600", &[(8, &exp)]), now + 11).unwrap(),
            None
        );
    }

    /// A session with every kind of value in `d`.
    fn sample() -> Session {
        Session {
            id: "user1".into(),
            r: 3,
            w: 2,
            ttl: 3600,
            idle: 0,
            ip: "::1".into(),
            no_resave: false,
            max_age: None,
            d: vec![
                ("a".into(), DataValue::Integer(1)),
                ("c".into(), DataValue::Text("x".into())),
                ("f".into(), DataValue::Float(0.5)),
                ("b".into(), DataValue::Boolean(false)),
            ],
        }
    }

    #[test]
    fn node_shape_json() {
        let mut s = sample();
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
