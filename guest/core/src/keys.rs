//! node redis-sessions' key layout (v1 to v4 are identical on the wire).
//!
//! | key | type | content |
//! |---|---|---|
//! | `NS:APP:TOKEN` | hash | `id r w ip la ttl [d] [no_resave] [exp]` (`exp`: this project's max-age deadline, which node ignores) |
//! | `NS:APP:_sessions` | zset | `TOKEN:ID` scored by last activity (unix seconds) |
//! | `NS:APP:_users` | zset | `ID` scored by last activity |
//! | `NS:APP:us:ID` | set | the user's tokens |
//! | `NS:SESSIONS` | zset | `APP:TOKEN:ID` scored by expiry (`la + ttl`), read by wipe |

use crate::validate::TOKEN_LEN;

/// The hash fields a session is read with: node's `HMGET` order, then `exp` (the absolute
/// deadline of a session created with max-age; node never writes or reads it).
pub const SESSION_FIELDS: [&str; 9] = ["id", "r", "w", "ttl", "d", "la", "ip", "no_resave", "exp"];

/// Builds the keys of one namespace.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// node v4 appends `:` to the namespace, so `""` gives keys starting with `:`.
    pub fn new(namespace: &str) -> Self {
        Self {
            prefix: format!("{namespace}:"),
        }
    }

    /// `NS:`: what every key starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The session hash `NS:APP:TOKEN`.
    pub fn session(&self, app: &str, token: &str) -> String {
        format!("{}{app}:{token}", self.prefix)
    }

    /// `NS:APP:_sessions`.
    pub fn sessions(&self, app: &str) -> String {
        format!("{}{app}:_sessions", self.prefix)
    }

    /// `NS:APP:_users`.
    pub fn users(&self, app: &str) -> String {
        format!("{}{app}:_users", self.prefix)
    }

    /// `NS:APP:us:ID`.
    pub fn user_tokens(&self, app: &str, id: &str) -> String {
        format!("{}{app}:us:{id}", self.prefix)
    }

    /// `NS:SESSIONS`, shared by every app of the namespace.
    pub fn expiries(&self) -> String {
        format!("{}SESSIONS", self.prefix)
    }
}

/// A `_sessions` member: `TOKEN:ID`.
pub fn session_member(token: &str, id: &str) -> String {
    format!("{token}:{id}")
}

/// A `SESSIONS` member: `APP:TOKEN:ID`.
pub fn expiry_member(app: &str, token: &str, id: &str) -> String {
    format!("{app}:{token}:{id}")
}

/// Splits a `SESSIONS` member. node splits on every `:` and so truncates ids holding one;
/// here the app has no `:` and the token is exactly 64 characters, so the id is the rest.
pub fn parse_expiry_member(member: &str) -> Option<(&str, &str, &str)> {
    let (app, rest) = member.split_once(':')?;
    let (token, id) = parse_session_member(rest)?;
    Some((app, token, id))
}

/// Splits a `_sessions` member `TOKEN:ID`, the id possibly holding `:`.
pub fn parse_session_member(member: &str) -> Option<(&str, &str)> {
    let token = member.get(..TOKEN_LEN)?;
    let id = member.get(TOKEN_LEN..)?.strip_prefix(':')?;
    Some((token, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOK: &str = "iAD345vReWQNqodmY6fxrkeMaB8FlpdB0LlCwi3MMKilSX2ilTDcFLhZmwy50ujz";

    #[test]
    fn node_key_names() {
        let k = Keys::new("rs");
        assert_eq!(k.session("myapp", TOK), format!("rs:myapp:{TOK}"));
        assert_eq!(k.sessions("myapp"), "rs:myapp:_sessions");
        assert_eq!(k.users("myapp"), "rs:myapp:_users");
        assert_eq!(k.user_tokens("myapp", "u:1"), "rs:myapp:us:u:1");
        assert_eq!(k.expiries(), "rs:SESSIONS");
        assert_eq!(Keys::new("").expiries(), ":SESSIONS");
        assert_eq!(session_member(TOK, "user1"), format!("{TOK}:user1"));
        assert_eq!(
            expiry_member("myapp", TOK, "user1"),
            format!("myapp:{TOK}:user1")
        );
    }

    #[test]
    fn members_with_colons_in_the_id_parse_whole() {
        let m = expiry_member("app", TOK, "u:colon:x");
        assert_eq!(parse_expiry_member(&m), Some(("app", TOK, "u:colon:x")));
        assert_eq!(
            parse_session_member(&session_member(TOK, "é:1")),
            Some((TOK, "é:1"))
        );
        assert_eq!(parse_expiry_member("app:short:id"), None);
        assert_eq!(parse_session_member(TOK), None);
    }
}
