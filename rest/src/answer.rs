//! Every answer the API gives: a status and a body, always with rest-sessions' JSON
//! content type. Errors are `{"name", "message"}` objects; which status a failure gets is
//! decided here only.

use redis_sessions_core::{OpError, Session};
use serde_json::json;

/// The content type of every answer, `/ping`'s bare `PONG` included (rest-sessions sends
/// it through `res.json`'s headers).
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A rendered answer: the caller sends `status`, `Content-Type:` [`CONTENT_TYPE`] and
/// `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// An error answer: `{"name": name, "message": message}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {name}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }

    /// A malformed request part (JSON, path): the caller's fault.
    pub fn bad_request(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, name, message)
    }

    /// A body over [`crate::BODY_LIMIT`] (body-parser's `limit: 60000`), with the text axum
    /// gives it.
    pub fn payload_too_large() -> Self {
        Self::new(
            413,
            "payloadTooLarge",
            "Failed to buffer the request body: length limit exceeded",
        )
    }

    /// The error as an answer.
    pub fn answer(&self) -> Answer {
        let body = json!({ "name": self.name, "message": self.message });
        Answer {
            status: self.status,
            body: body.to_string(),
        }
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        Self::bad_request(e.name(), e.message())
    }
}

/// Why a session call failed, as much as the API tells the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// node's validation errors: `name` is `missingParameter`, `invalidFormat` or
    /// `invalidValue`, `message` node's text. The caller's fault: 400 (rest-sessions
    /// answers 500, which clients cannot tell from a store failure).
    Invalid { name: &'static str, message: String },
    /// Redis could not be reached: 503, the client may retry. `detail` is appended to the
    /// message when the front has no log to put it in; it must hold no credential.
    Unavailable { detail: Option<String> },
    /// The call hit a CPU or memory limit: 503 `limitExceeded`, the message names the
    /// limit only.
    LimitExceeded(String),
    /// Anything else (`storeError`, `componentError`, ...): 500; the details belong in the
    /// front's log, not in the answer.
    Failed { name: &'static str },
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Invalid { name, message } => Self::bad_request(name, message),
            Failure::Unavailable { detail } => {
                let message = match detail {
                    Some(detail) => format!("Redis is unavailable: {detail}"),
                    None => "Redis is unavailable".to_owned(),
                };
                Self::new(503, "redisUnavailable", message)
            }
            Failure::LimitExceeded(message) => Self::new(503, "limitExceeded", message),
            Failure::Failed { name } => Self::new(500, name, "the session store failed"),
        }
    }
}

/// What a successful call returned, one case per shape of answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `create`: `{"token": ...}`.
    Token(String),
    /// `get`, `set`: the session, or `{}` when it does not exist.
    Session(Option<Session>),
    /// `soid`, `soapp`: `{"sessions": [...]}`.
    Sessions(Vec<Session>),
    /// `rotate`: `{"token": ...}`, or `{}` when the session does not exist.
    Rotated(Option<String>),
    /// `kill`, `killsoid`, `killall`: `{"kill": n}`.
    Killed(u64),
    /// `activity`: `{"activity": n}`.
    Activity(u64),
    /// `ping`: the reply as is (`PONG`), not JSON-quoted.
    Pong(String),
}

impl Outcome {
    fn answer(self) -> Answer {
        let body = match self {
            Outcome::Token(token) => json!({ "token": token }),
            Outcome::Session(Some(s)) => return Answer::ok(to_text(&s)),
            Outcome::Session(None) => json!({}),
            Outcome::Rotated(token) => token.map_or_else(|| json!({}), |t| json!({ "token": t })),
            Outcome::Sessions(list) => {
                // One session's JSON value at a time: with a big app's 250 000 sessions, a
                // value for each at once cost hundreds of MiB on top of the list and text.
                let mut body = String::from(r#"{"sessions":["#);
                for (i, session) in list.into_iter().enumerate() {
                    if i > 0 {
                        body.push(',');
                    }
                    body.push_str(&to_text(&session));
                }
                body.push_str("]}");
                return Answer { status: 200, body };
            }
            Outcome::Killed(n) => json!({ "kill": n }),
            Outcome::Activity(n) => json!({ "activity": n }),
            Outcome::Pong(pong) => {
                return Answer {
                    status: 200,
                    body: pong,
                };
            }
        };
        Answer {
            status: 200,
            body: body.to_string(),
        }
    }
}

impl Answer {
    fn ok(body: String) -> Self {
        Self { status: 200, body }
    }
}

/// A session's JSON text, written straight from the session (no `Value` tree on the way).
fn to_text(session: &Session) -> String {
    // Serializing a session to a String has no failure case: no map keys but strings, no
    // I/O.
    serde_json::to_string(session).unwrap_or_default()
}

/// Renders a call's result.
pub fn answer(result: Result<Outcome, Failure>) -> Answer {
    match result {
        Ok(outcome) => outcome.answer(),
        Err(failure) => ApiError::from(failure).answer(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn pair(a: Answer) -> (u16, String) {
        (a.status, a.body)
    }

    #[test]
    fn failures_map_to_statuses_as_the_service_always_did() {
        let invalid = Failure::Invalid {
            name: "invalidFormat",
            message: "Invalid token format".into(),
        };
        assert_eq!(
            pair(answer(Err(invalid))),
            (
                400,
                r#"{"name":"invalidFormat","message":"Invalid token format"}"#.into()
            )
        );
        assert_eq!(
            pair(answer(Err(Failure::Unavailable { detail: None }))),
            (
                503,
                r#"{"name":"redisUnavailable","message":"Redis is unavailable"}"#.into()
            )
        );
        let detail = Some("Redis at 127.0.0.1:1 refused the connection".into());
        assert_eq!(
            answer(Err(Failure::Unavailable { detail })).body,
            r#"{"name":"redisUnavailable","message":"Redis is unavailable: Redis at 127.0.0.1:1 refused the connection"}"#
        );
        assert_eq!(
            pair(answer(Err(Failure::LimitExceeded("cpu".into())))),
            (503, r#"{"name":"limitExceeded","message":"cpu"}"#.into())
        );
        assert_eq!(
            pair(answer(Err(Failure::Failed { name: "storeError" }))),
            (
                500,
                r#"{"name":"storeError","message":"the session store failed"}"#.into()
            )
        );
    }

    #[test]
    fn outcomes_render_as_rest_sessions() {
        let body = |o| answer(Ok(o)).body;
        assert_eq!(body(Outcome::Token("t".into())), r#"{"token":"t"}"#);
        assert_eq!(body(Outcome::Session(None)), "{}");
        assert_eq!(body(Outcome::Sessions(vec![])), r#"{"sessions":[]}"#);
        let session = |id: &str| Session {
            id: id.into(),
            r: 1,
            w: 2,
            ttl: 30,
            idle: 3,
            ip: "::1".into(),
            no_resave: false,
            d: vec![("a".into(), redis_sessions_core::DataValue::Integer(1))],
            max_age: None,
        };
        let two = vec![session("u1"), session("u2")];
        let values: Vec<Value> = two.iter().map(Session::to_json).collect();
        assert_eq!(
            body(Outcome::Sessions(two)),
            json!({ "sessions": values }).to_string()
        );
        assert_eq!(body(Outcome::Killed(2)), r#"{"kill":2}"#);
        assert_eq!(body(Outcome::Rotated(Some("t".into()))), r#"{"token":"t"}"#);
        assert_eq!(body(Outcome::Rotated(None)), "{}");
        assert_eq!(body(Outcome::Activity(5)), r#"{"activity":5}"#);
        assert_eq!(
            pair(answer(Ok(Outcome::Pong("PONG".into())))),
            (200, "PONG".into())
        );
        assert_eq!(pair(ApiError::payload_too_large().answer()).0, 413);
    }
}
