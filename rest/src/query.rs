//! The query string, read as the axum service always read it (`Query<HashMap<..>>`, i.e.
//! `application/x-www-form-urlencoded`): `+` is a space, `%XX` is decoded with invalid
//! UTF-8 replaced, a name without `=` has an empty value, and the last of repeated names
//! wins. Numbers are read with node's `parseInt` semantics.

use percent_encoding::percent_decode;
use std::borrow::Cow;

/// JS white space and line terminators, which `parseInt` skips: Rust's white space but
/// U+0085, and U+FEFF.
fn is_js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{FEFF}'
}

/// node's `parseInt(text, 10)`: leading white space skipped, an optional sign, then the
/// longest run of decimal digits, so `" 30"` and `"30abc"` are 30, `"0x20"` is 0 and `"1e3"`
/// is 1. `None` when there is no digit (NaN). Beyond i64 it saturates: node's float there is
/// as far beyond every limit.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim_start_matches(is_js_space);
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit);
    let mut value: Option<i64> = None;
    for digit in digits {
        let d = i64::from(digit - b'0');
        let v = value.unwrap_or(0).saturating_mul(10);
        value = Some(if negative {
            v.saturating_sub(d)
        } else {
            v.saturating_add(d)
        });
    }
    value
}

/// A query string's parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Query(Vec<(String, String)>);

fn decode(part: &str) -> String {
    let spaced: Cow<'_, str> = if part.contains('+') {
        Cow::Owned(part.replace('+', " "))
    } else {
        Cow::Borrowed(part)
    };
    percent_decode(spaced.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

impl Query {
    /// Parses the part of a request target after `?` (`None`: there was no `?`).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), decode(value))
            })
            .collect();
        Query(pairs)
    }

    /// The value of `name`; the last one when it is repeated.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A number parameter as node reads a given one, [`parse_int`]. `None` (absent or
    /// empty: JS-falsy, so node's default) and `Some(None)` (NaN, which fails node's
    /// validation) differ.
    pub(crate) fn int(&self, name: &str) -> Option<Option<i64>> {
        let raw = self.get(name)?;
        if raw.is_empty() {
            return None;
        }
        Some(parse_int(raw))
    }

    /// node: a missing, empty or unparseable number fails the `>= 10` check with its
    /// message, so it becomes a value that fails it.
    pub(crate) fn seconds(&self, name: &str) -> i64 {
        self.int(name).flatten().unwrap_or(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::Query;

    #[test]
    fn decodes_like_a_form() {
        let q = Query::parse(Some("ip=%3A%3A1&x=a+b%2Bc&flag&&x=last&bad=%FF"));
        assert_eq!(q.get("ip"), Some("::1"));
        assert_eq!(q.get("x"), Some("last"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("bad"), Some("\u{FFFD}"));
        assert_eq!(q.get("missing"), None);
        assert_eq!(Query::parse(None), Query::default());
        assert_eq!(Query::parse(Some("a=b")).get("a"), Some("b"));
        assert_eq!(Query::parse(Some("a+b=1")).get("a b"), Some("1"));
    }

    #[test]
    fn parse_int_reads_as_node() {
        use super::parse_int;
        for (text, node) in [
            ("30", Some(30)),
            (" 30", Some(30)),
            ("\u{FEFF}\u{3000}\n30", Some(30)),
            ("30abc", Some(30)),
            ("0x20", Some(0)),
            ("1e3", Some(1)),
            ("12.9", Some(12)),
            ("-0", Some(0)),
            ("-12", Some(-12)),
            ("+12", Some(12)),
            (" ", None),
            ("\u{85}30", None),
            ("abc", None),
            ("+", None),
            ("- 3", None),
            ("99999999999999999999", Some(i64::MAX)),
            ("-99999999999999999999", Some(i64::MIN)),
        ] {
            assert_eq!(parse_int(text), node, "{text:?}");
        }
    }

    #[test]
    fn numbers_read_as_parse_int() {
        let q = Query::parse(Some(
            "a=600&b=12abc&c=abc&d=&e=+15&f=-3&g=%2020&h=99999999999999999999",
        ));
        assert_eq!(q.int("a"), Some(Some(600)));
        assert_eq!(q.int("b"), Some(Some(12)));
        assert_eq!(q.int("c"), Some(None));
        assert_eq!(q.int("d"), None);
        assert_eq!(q.int("e"), Some(Some(15)));
        assert_eq!(q.int("f"), Some(Some(-3)));
        assert_eq!(q.int("g"), Some(Some(20)));
        assert_eq!(q.int("h"), Some(Some(i64::MAX)));
        assert_eq!(q.int("absent"), None);
        assert_eq!(q.seconds("a"), 600);
        assert_eq!(q.seconds("c"), i64::MIN);
        assert_eq!(q.seconds("absent"), i64::MIN);
    }
}
