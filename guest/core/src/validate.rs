//! node's `_validate`, in linear time.
//!
//! node checks with regular expressions; its id pattern `/^(.*?){1,128}$/` backtracks
//! exponentially on a line terminator (30 characters and `\n` take 49 s), so the intended
//! rule is implemented directly instead. Lengths are counted in UTF-16 code units, as JS
//! regular expressions without the `u` flag count them.

use crate::error::OpError;

/// The ttl used when `create` is given none (or node's falsy 0).
pub const DEFAULT_TTL: i64 = 7200;
/// The smallest ttl and delta-time node accepts.
pub const MIN_SECONDS: i64 = 10;
/// The longest id, in UTF-16 code units.
pub const MAX_ID_LEN: usize = 128;
/// The longest ip, in UTF-16 code units.
pub const MAX_IP_LEN: usize = 39;
/// A token's length.
pub const TOKEN_LEN: usize = 64;

/// JS `.` matches anything but these.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn present<'a>(item: &str, value: &'a str) -> Result<&'a str, OpError> {
    if value.is_empty() {
        Err(OpError::missing(item))
    } else {
        Ok(value)
    }
}

/// `1..=max` UTF-16 code units and no line terminator: node's `/^.{1,max}$/`.
fn single_line(item: &str, value: &str, max: usize) -> Result<(), OpError> {
    let mut units = 0;
    for c in present(item, value)?.chars() {
        units += c.len_utf16();
        if is_line_terminator(c) || units > max {
            return Err(OpError::format(item));
        }
    }
    Ok(())
}

/// An application name: 3 to 20 of `[A-Za-z0-9_-]`.
pub fn app(value: &str) -> Result<(), OpError> {
    let ok = (3..=20).contains(&present("app", value)?.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(OpError::format("app"))
    }
}

/// A user id: 1 to 128 characters, no line terminator. `:`, `@` and any UTF-8 are fine.
pub fn id(value: &str) -> Result<(), OpError> {
    single_line("id", value, MAX_ID_LEN)
}

/// A client address: 1 to 39 characters, no line terminator (IPv6 and `::ffff:` forms fit).
pub fn ip(value: &str) -> Result<(), OpError> {
    single_line("ip", value, MAX_IP_LEN)
}

/// A token: exactly 64 of `[A-Za-z0-9]`.
pub fn token(value: &str) -> Result<(), OpError> {
    let ok = present("token", value)?.len() == TOKEN_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(OpError::format("token"))
    }
}

/// A session timeout: absent or 0 means [`DEFAULT_TTL`] (node's falsy default), otherwise
/// at least 10 seconds. No upper bound, as in node.
pub fn ttl(value: Option<i64>) -> Result<i64, OpError> {
    match value {
        None | Some(0) => Ok(DEFAULT_TTL),
        Some(t) if t >= MIN_SECONDS => Ok(t),
        Some(_) => Err(OpError::InvalidValue(
            "ttl must be a positive integer >= 10".into(),
        )),
    }
}

/// `create`'s checks before `d`, in node's order: app, id, ip, ttl; the ttl to use. `d`
/// comes next, then this project's `max_age` and `max_per_user`. A front that reads `d`
/// from JSON (where it can be no object at all) reports `d`'s own error only when these
/// pass, as node does.
pub fn create_before_d(app: &str, id: &str, ip: &str, ttl: Option<i64>) -> Result<i64, OpError> {
    self::app(app)?;
    self::id(id)?;
    self::ip(ip)?;
    self::ttl(ttl)
}

/// `set`'s checks before `d`, in node's order: app, token.
pub fn set_before_d(app: &str, token: &str) -> Result<(), OpError> {
    self::app(app)?;
    self::token(token)
}

/// `create`'s absolute lifetime: at least 10 seconds when given.
pub fn max_age(value: Option<i64>) -> Result<Option<i64>, OpError> {
    match value {
        None => Ok(None),
        Some(t) if t >= MIN_SECONDS => Ok(Some(t)),
        Some(_) => Err(OpError::InvalidValue(
            "max_age must be a positive integer >= 10".into(),
        )),
    }
}

/// `create`'s cap on a user's live sessions: at least 1 when given.
pub fn max_per_user(value: Option<i64>) -> Result<Option<i64>, OpError> {
    match value {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n)),
        Some(_) => Err(OpError::InvalidValue(
            "max_per_user must be a positive integer >= 1".into(),
        )),
    }
}

/// The window of `activity` and `soapp`, at least 10 seconds.
pub fn delta_time(value: i64) -> Result<i64, OpError> {
    if value >= MIN_SECONDS {
        Ok(value)
    } else {
        Err(OpError::InvalidValue(
            "deltaTime must be a positive integer >= 10".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: std::fmt::Debug>(r: Result<T, OpError>) -> (String, &'static str) {
        let e = r.unwrap_err();
        (e.message().to_owned(), e.name())
    }

    #[test]
    fn app_rules() {
        assert!(app("abc").is_ok());
        assert!(app("My_app-20charsxxxxxx").is_ok());
        assert_eq!(
            message(app("")),
            ("No app supplied".into(), "missingParameter")
        );
        for bad in ["ab", "a.b.c", "app:x", "ünïcode", "21charsxxxxxxxxxxxxxx"] {
            assert_eq!(message(app(bad)).0, "Invalid app format", "{bad}");
        }
    }

    #[test]
    fn id_rules() {
        assert!(id("user1").is_ok());
        assert!(id("a:b:c").is_ok());
        assert!(id("jöhn@example.com").is_ok());
        assert!(id(&"x".repeat(128)).is_ok());
        assert_eq!(message(id("")).0, "No id supplied");
        for bad in ["a\nb", "a\rb", "a\u{2028}", "\u{2029}"] {
            assert_eq!(message(id(bad)).0, "Invalid id format");
        }
        assert_eq!(message(id(&"x".repeat(129))).0, "Invalid id format");
        // An emoji is two UTF-16 code units, as JS counts it.
        assert!(id(&"😀".repeat(64)).is_ok());
        assert!(id(&format!("{}x", "😀".repeat(64))).is_err());
    }

    #[test]
    fn id_check_is_linear_on_node_redos_input() {
        let long = format!("{}\n", "x".repeat(100_000));
        assert!(id(&long).is_err());
    }

    #[test]
    fn ip_rules() {
        assert!(ip("127.0.0.1").is_ok());
        assert!(ip("::ffff:192.168.0.1").is_ok());
        assert!(ip("2001:0db8:85a3:0000:0000:8a2e:0370:7334").is_ok());
        assert_eq!(message(ip("")).0, "No ip supplied");
        assert_eq!(message(ip(&"1".repeat(40))).0, "Invalid ip format");
    }

    #[test]
    fn max_per_user_is_at_least_one() {
        assert_eq!(max_per_user(None), Ok(None));
        assert_eq!(max_per_user(Some(1)), Ok(Some(1)));
        for bad in [0, -1, i64::MIN] {
            assert_eq!(
                message(max_per_user(Some(bad))),
                (
                    "max_per_user must be a positive integer >= 1".into(),
                    "invalidValue"
                )
            );
        }
    }

    #[test]
    fn token_rules() {
        assert!(token(&format!("{}x", "aZ9".repeat(21))).is_ok());
        assert_eq!(message(token("")).0, "No token supplied");
        assert_eq!(message(token(&"a".repeat(63))).0, "Invalid token format");
        assert_eq!(message(token(&"a".repeat(65))).0, "Invalid token format");
        assert_eq!(
            message(token(&format!("{}-", "a".repeat(63)))).0,
            "Invalid token format"
        );
    }

    #[test]
    fn ttl_and_delta_time() {
        assert_eq!(ttl(None), Ok(7200));
        assert_eq!(ttl(Some(0)), Ok(7200));
        assert_eq!(ttl(Some(10)), Ok(10));
        assert_eq!(ttl(Some(9_999_999_999)), Ok(9_999_999_999));
        for bad in [9, 1, -5] {
            assert_eq!(
                message(ttl(Some(bad))),
                (
                    "ttl must be a positive integer >= 10".into(),
                    "invalidValue"
                )
            );
        }
        assert_eq!(delta_time(10), Ok(10));
        assert_eq!(
            message(delta_time(9)).0,
            "deltaTime must be a positive integer >= 10"
        );
    }
}
