//! RESP2: commands out as arrays of bulk strings, replies in as the five RESP2 types.
//!
//! The client never sends `HELLO 3`, so Redis only ever answers with `+`, `-`, `:`, `$` and
//! `*`. Anything else means the peer is not speaking RESP2 (not Redis, or a desynchronized
//! stream) and is a [`ProtocolError`].

use crate::error::Error;

/// One command: its name and arguments, each binary safe.
pub type Command = Vec<Vec<u8>>;

/// The largest reply accepted (a bulk string, or a whole reply being buffered). Session
/// values are small; the cap keeps a wrong server (or a huge `GET`) from exhausting the
/// instance's memory. Redis' own bulk limit is 512 MB.
pub const MAX_REPLY_BYTES: usize = 64 << 20;

/// Arrays nested deeper than this are a protocol error: the parser recurses, and no reply
/// this interface carries goes beyond two levels (a transaction's `EXEC` array of arrays).
const MAX_DEPTH: usize = 32;

/// A RESP2 reply as read, nested to any depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `$-1` or `*-1`.
    Nil,
    /// `+OK`.
    Status(String),
    /// `-ERR ...`: the whole text, code first.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nabc`.
    Bulk(Vec<u8>),
    /// `*2\r\n...`.
    Array(Vec<Value>),
}

/// An element of an array [`Reply`]: the WIT `element`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Nil,
    Status(String),
    Integer(i64),
    Bulk(Vec<u8>),
}

/// A reply the redis capability can carry (arrays nest one level): the WIT `reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Status(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Array(Vec<Element>),
}

/// The peer sent bytes that are not a RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

/// Appends `command` to `out` as a RESP array of bulk strings.
pub fn encode(command: &[Vec<u8>], out: &mut Vec<u8>) {
    out.push(b'*');
    out.extend_from_slice(command.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in command {
        out.push(b'$');
        out.extend_from_slice(arg.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses one reply from the start of `buf`: `Ok(None)` while it is incomplete, else the
/// reply and the number of bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    let mut pos = 0;
    Ok(value(buf, &mut pos, 0)?.map(|v| (v, pos)))
}

/// The line at `buf[*pos..]` without its CRLF, advancing `pos` past it.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = buf.get(*pos..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    *pos += end + 2;
    Some(&rest[..end])
}

fn number(text: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ProtocolError(format!(
                "invalid number {:?}",
                String::from_utf8_lossy(text)
            ))
        })
}

/// A length: -1 for nil, else at most [`MAX_REPLY_BYTES`].
fn length(text: &[u8]) -> Result<Option<usize>, ProtocolError> {
    match number(text)? {
        -1 => Ok(None),
        n => match usize::try_from(n) {
            Ok(n) if n <= MAX_REPLY_BYTES => Ok(Some(n)),
            _ => Err(ProtocolError(format!("length {n} out of range"))),
        },
    }
}

fn value(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Value>, ProtocolError> {
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    *pos += 1;
    let Some(text) = line(buf, pos) else {
        return Ok(None);
    };
    let text_string = || String::from_utf8_lossy(text).into_owned();
    Ok(Some(match kind {
        b'+' => Value::Status(text_string()),
        b'-' => Value::Error(text_string()),
        b':' => Value::Integer(number(text)?),
        b'$' => match length(text)? {
            None => Value::Nil,
            Some(len) => {
                let Some(data) = buf.get(*pos..*pos + len + 2) else {
                    return Ok(None);
                };
                if &data[len..] != b"\r\n" {
                    return Err(ProtocolError("bulk string not followed by CRLF".into()));
                }
                *pos += len + 2;
                Value::Bulk(data[..len].to_vec())
            }
        },
        b'*' => match length(text)? {
            None => Value::Nil,
            Some(_) if depth >= MAX_DEPTH => {
                return Err(ProtocolError(format!(
                    "arrays nested deeper than {MAX_DEPTH}"
                )));
            }
            Some(len) => {
                // Each element takes at least 3 bytes: don't trust `len` for the allocation.
                let mut items = Vec::with_capacity(len.min(buf.len() / 3));
                for _ in 0..len {
                    match value(buf, pos, depth + 1)? {
                        Some(item) => items.push(item),
                        None => return Ok(None),
                    }
                }
                Value::Array(items)
            }
        },
        other => {
            return Err(ProtocolError(format!(
                "unexpected reply type byte {:?}",
                char::from(other)
            )));
        }
    }))
}

fn element(v: Value) -> Result<Element, Error> {
    Ok(match v {
        Value::Nil => Element::Nil,
        Value::Status(s) => Element::Status(s),
        Value::Integer(n) => Element::Integer(n),
        Value::Bulk(b) => Element::Bulk(b),
        // An error inside an array (a script's `redis.error_reply` in a table): read as
        // Redis' error, as the host's redis-rs path does.
        Value::Error(e) => return Err(Error::Server(e)),
        Value::Array(_) => {
            return Err(Error::UnsupportedReply(
                "an array nested deeper than one level".into(),
            ));
        }
    })
}

/// The reply as the capability carries it: an error reply is [`Error::Server`], arrays
/// nested more than one level are [`Error::UnsupportedReply`].
pub fn reply(v: Value) -> Result<Reply, Error> {
    Ok(match v {
        Value::Array(items) => {
            Reply::Array(items.into_iter().map(element).collect::<Result<_, _>>()?)
        }
        Value::Nil => Reply::Nil,
        Value::Status(s) => Reply::Status(s),
        Value::Integer(n) => Reply::Integer(n),
        Value::Bulk(b) => Reply::Bulk(b),
        Value::Error(e) => return Err(Error::Server(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Value {
        let (v, used) = parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "consumed all of {bytes:?}");
        v
    }

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn encodes_a_command_as_an_array_of_bulk_strings() {
        let mut out = Vec::new();
        encode(
            &[b"SET".to_vec(), b"k".to_vec(), b"a\r\nb".to_vec()],
            &mut out,
        );
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
    }

    #[test]
    fn encodes_empty_and_binary_arguments() {
        let mut out = Vec::new();
        encode(&[b"SET".to_vec(), Vec::new(), vec![0, 255]], &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$2\r\n\x00\xff\r\n");
    }

    #[test]
    fn parses_each_scalar_type() {
        assert_eq!(parse_all(b"+OK\r\n"), Value::Status("OK".into()));
        assert_eq!(
            parse_all(b"-WRONGTYPE Operation against a key\r\n"),
            Value::Error("WRONGTYPE Operation against a key".into())
        );
        assert_eq!(parse_all(b":-42\r\n"), Value::Integer(-42));
        assert_eq!(parse_all(b"$5\r\nhe\r\no\r\n"), bulk("he\r\no"));
        assert_eq!(parse_all(b"$0\r\n\r\n"), bulk(""));
        assert_eq!(parse_all(b"$-1\r\n"), Value::Nil);
        assert_eq!(parse_all(b"*-1\r\n"), Value::Nil);
        assert_eq!(parse_all(b"*0\r\n"), Value::Array(vec![]));
    }

    #[test]
    fn parses_nested_arrays_with_nil_elements() {
        let v = parse_all(b"*3\r\n$1\r\na\r\n$-1\r\n*2\r\n:1\r\n+x\r\n");
        assert_eq!(
            v,
            Value::Array(vec![
                bulk("a"),
                Value::Nil,
                Value::Array(vec![Value::Integer(1), Value::Status("x".into())]),
            ])
        );
    }

    #[test]
    fn reports_incomplete_input_at_every_cut() {
        let full = b"*2\r\n$3\r\nabc\r\n:7\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(parse(full).unwrap().is_some());
    }

    #[test]
    fn leaves_the_next_reply_in_the_buffer() {
        let (v, used) = parse(b":1\r\n:2\r\n").unwrap().unwrap();
        assert_eq!((v, used), (Value::Integer(1), 4));
    }

    #[test]
    fn rejects_what_is_not_resp2() {
        assert!(parse(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert!(parse(b"%1\r\n").is_err(), "RESP3 map");
        assert!(parse(b":12x\r\n").is_err());
        assert!(parse(b"$3\r\nabcd\r\n").is_err(), "bulk without its CRLF");
        assert!(parse(b"$-2\r\n").is_err());
        assert!(parse(format!("${}\r\n", MAX_REPLY_BYTES + 1).as_bytes()).is_err());
    }

    #[test]
    fn refuses_absurd_nesting_instead_of_recursing() {
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
        let ok = "*1\r\n".repeat(MAX_DEPTH) + ":1\r\n";
        assert!(parse(ok.as_bytes()).unwrap().is_some());
    }

    #[test]
    fn a_huge_announced_array_does_not_allocate_up_front() {
        // 10 million elements announced, three present: incomplete, and cheap.
        assert_eq!(parse(b"*10000000\r\n:1\r\n:2\r\n:3\r\n").unwrap(), None);
    }

    #[test]
    fn maps_replies_to_the_one_level_shape() {
        assert_eq!(reply(Value::Nil).unwrap(), Reply::Nil);
        assert_eq!(reply(bulk("v")).unwrap(), Reply::Bulk(b"v".to_vec()));
        assert_eq!(
            reply(Value::Array(vec![bulk("a"), Value::Nil, Value::Integer(3)])).unwrap(),
            Reply::Array(vec![
                Element::Bulk(b"a".to_vec()),
                Element::Nil,
                Element::Integer(3)
            ])
        );
    }

    #[test]
    fn error_replies_become_server_errors_with_their_code_first() {
        assert_eq!(
            reply(Value::Error("NOSCRIPT No matching script.".into())),
            Err(Error::Server("NOSCRIPT No matching script.".into()))
        );
        assert_eq!(
            reply(Value::Array(vec![
                Value::Integer(1),
                Value::Error("ERR x".into())
            ])),
            Err(Error::Server("ERR x".into()))
        );
    }

    #[test]
    fn arrays_nested_two_levels_are_unsupported() {
        let v = Value::Array(vec![Value::Array(vec![])]);
        assert!(matches!(reply(v), Err(Error::UnsupportedReply(_))));
    }
}
