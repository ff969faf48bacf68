//! node's validation as rest-sessions runs it, written plainly from node's `_validate`
//! (redis-sessions 4.0.0, with the id rule this project documents instead of node's
//! exponential regular expression), and random requests checked against it: every request
//! answers node's first error, in node's order of checks, or passes validation.
//!
//! The requests go through [`route`] and [`run`] on a session logic whose Redis is never
//! reachable, so a request that passes every check fails there, as `unavailable`.

use crate::{Call, OpError, route, run};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use redis_sessions_core::{Command, CommandError, Environment, Reply, SessionLogic};
use serde_json::Value;

/// What node answers: passes validation, or its error's name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Valid,
    NotFound,
    Error(&'static str, String),
}

fn missing(item: &str) -> Answer {
    Answer::Error("missingParameter", format!("No {item} supplied"))
}

fn format(item: &str) -> Answer {
    Answer::Error("invalidFormat", format!("Invalid {item} format"))
}

fn invalid(message: &str) -> Answer {
    Answer::Error("invalidValue", message.to_owned())
}

/// JS `String.length`.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// JS `.` in a regular expression without the `u` flag.
fn single_line(s: &str) -> bool {
    !s.contains(['\n', '\r', '\u{2028}', '\u{2029}'])
}

fn app(v: &str) -> Option<Answer> {
    let ok = (3..=20).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match () {
        _ if v.is_empty() => Some(missing("app")),
        _ if !ok => Some(format("app")),
        _ => None,
    }
}

fn id(v: &str) -> Option<Answer> {
    match () {
        _ if v.is_empty() => Some(missing("id")),
        _ if !single_line(v) || utf16_len(v) > 128 => Some(format("id")),
        _ => None,
    }
}

fn ip(v: &str) -> Option<Answer> {
    match () {
        _ if v.is_empty() => Some(missing("ip")),
        _ if !single_line(v) || utf16_len(v) > 39 => Some(format("ip")),
        _ => None,
    }
}

fn token(v: &str) -> Option<Answer> {
    match () {
        _ if v.is_empty() => Some(missing("token")),
        _ if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(format("token"))
        }
        _ => None,
    }
}

/// `parseInt(text, 10)` as a float: NaN when no digit follows the white space and sign.
fn parse_int(text: &str) -> f64 {
    let js_space = |c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{FEFF}';
    let t = text.trim_start_matches(js_space);
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<f64>().map_or(f64::NAN, |n| sign * n)
}

/// `ttl` (`o.ttl ? parseInt(`${o.ttl}`, 10) : 7200`) and `deltaTime`: NaN or < 10 fail.
fn seconds(given: Option<&str>, default: Option<f64>, message: &str) -> Option<Answer> {
    let n = match given.filter(|t| !t.is_empty()) {
        Some(t) => parse_int(t),
        None => default.unwrap_or(f64::NAN),
    };
    (n.is_nan() || n < 10.0).then(|| invalid(message))
}

/// `d`: falsy is missing, then an object, then at least one key, then flat values.
fn d(v: &Value) -> Option<Answer> {
    let falsy = match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if falsy {
        return Some(missing("d"));
    }
    let Value::Object(map) = v else {
        return Some(invalid("d must be an object"));
    };
    if map.is_empty() {
        return Some(invalid("d must containt at least one key."));
    }
    map.iter()
        .find(|(_, v)| v.is_array() || v.is_object())
        .map(|(k, _)| {
            invalid(&format!(
                "d.{k} has a forbidden type. Only strings, numbers, boolean and null are allowed."
            ))
        })
}

/// A random request's parts; `None` for an absent query parameter or body.
#[derive(Debug, Clone)]
struct Request {
    endpoint: &'static str,
    app: String,
    /// The id or the token, as the endpoint takes.
    subject: String,
    ip: Option<String>,
    ttl: Option<String>,
    dt: Option<String>,
    body: Option<String>,
}

/// node's answer to `r`, its checks in its order (`create`: app, id, ip, ttl, d; `set`:
/// app, token, d). Express matches no route with an empty segment.
fn node(r: &Request) -> Answer {
    let takes_subject = !matches!(r.endpoint, "activity" | "soapp" | "killall");
    if r.app.is_empty() || (takes_subject && r.subject.is_empty()) {
        return Answer::NotFound;
    }
    // body-parser: no body (or an empty one) leaves `req.body` as `{}`.
    let body: Option<Value> = r
        .body
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| serde_json::from_str(b).unwrap());
    let has_keys = match &body {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
        None => false,
    };
    let empty_object = Value::Object(Default::default());
    let checks: Vec<Option<Answer>> = match r.endpoint {
        "create" => vec![
            app(&r.app),
            id(&r.subject),
            ip(r.ip.as_deref().unwrap_or_default()),
            seconds(
                r.ttl.as_deref(),
                Some(7200.0),
                "ttl must be a positive integer >= 10",
            ),
            // rest-sessions: a body with at least one key becomes d.
            has_keys
                .then(|| d(body.as_ref().unwrap_or(&empty_object)))
                .flatten(),
        ],
        // rest-sessions: the body, `{}` when there is none.
        "set" => vec![
            app(&r.app),
            token(&r.subject),
            d(body.as_ref().unwrap_or(&empty_object)),
        ],
        "get" | "kill" => vec![app(&r.app), token(&r.subject)],
        "soid" | "killsoid" => vec![app(&r.app), id(&r.subject)],
        "activity" | "soapp" => vec![
            app(&r.app),
            seconds(
                r.dt.as_deref(),
                None,
                "deltaTime must be a positive integer >= 10",
            ),
        ],
        "killall" => vec![app(&r.app)],
        other => unreachable!("{other}"),
    };
    checks.into_iter().flatten().next().unwrap_or(Answer::Valid)
}

/// A Redis that is never there.
struct NoRedis;

impl Environment for NoRedis {
    fn execute(&mut self, _: Command) -> Result<Reply, CommandError> {
        Err(CommandError::Unavailable("no Redis in this test".into()))
    }
    fn pipeline(&mut self, _: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        Err(CommandError::Unavailable("no Redis in this test".into()))
    }
    fn transaction(&mut self, _: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        Err(CommandError::Unavailable("no Redis in this test".into()))
    }
    fn now(&self) -> i64 {
        1_700_000_000
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        buf.fill(7);
        Ok(())
    }
}

/// This project's answer to `r`, through the HTTP route and the session logic.
fn ours(r: &Request) -> Answer {
    let segment = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let (method, path) = match r.endpoint {
        "create" => (
            "PUT",
            format!("/{}/create/{}", segment(&r.app), segment(&r.subject)),
        ),
        "set" => (
            "POST",
            format!("/{}/set/{}", segment(&r.app), segment(&r.subject)),
        ),
        "get" => (
            "GET",
            format!("/{}/get/{}", segment(&r.app), segment(&r.subject)),
        ),
        "kill" => (
            "DELETE",
            format!("/{}/kill/{}", segment(&r.app), segment(&r.subject)),
        ),
        "soid" => (
            "GET",
            format!("/{}/soid/{}", segment(&r.app), segment(&r.subject)),
        ),
        "killsoid" => (
            "DELETE",
            format!("/{}/killsoid/{}", segment(&r.app), segment(&r.subject)),
        ),
        "activity" => ("GET", format!("/{}/activity", segment(&r.app))),
        "soapp" => ("GET", format!("/{}/soapp", segment(&r.app))),
        "killall" => ("DELETE", format!("/{}/killall", segment(&r.app))),
        other => unreachable!("{other}"),
    };
    let query: Vec<String> = [("ip", &r.ip), ("ttl", &r.ttl), ("dt", &r.dt)]
        .into_iter()
        .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name}={}", segment(v))))
        .collect();
    let query = query.join("&");
    let call: Result<Call, _> = route(method, &path, Some(&query))
        .and_then(|matched| matched.call(r.body.as_deref().unwrap_or_default().as_bytes()));
    let call = match call {
        Ok(call) => call,
        Err(e) if e.status == 404 => return Answer::NotFound,
        Err(e) => return Answer::Error(e.name, e.message),
    };
    let mut logic = SessionLogic::new(NoRedis, "rs");
    match run(&mut logic, call) {
        Err(OpError::Unavailable(_)) => Answer::Valid,
        Err(e) => Answer::Error(e.name(), e.message().to_owned()),
        Ok(outcome) => panic!("answered without Redis: {outcome:?}"),
    }
}

fn one_of(values: &[&str]) -> impl Strategy<Value = String> + use<> {
    let owned: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    proptest::sample::select(owned)
}

fn maybe(values: &[&str]) -> impl Strategy<Value = Option<String>> + use<> {
    proptest::option::of(one_of(values))
}

fn request() -> impl Strategy<Value = Request> {
    let endpoints = [
        "create", "set", "get", "kill", "soid", "killsoid", "activity", "soapp", "killall",
    ];
    let long_id = "x".repeat(128);
    let too_long_id = "x".repeat(129);
    let wide_id = "😀".repeat(64);
    let too_wide_id = "😀".repeat(65);
    let token = "aZ09".repeat(16);
    let bad_token = "!".repeat(64);
    let long_token = "a".repeat(65);
    let subjects = [
        "",
        "u1",
        "a:b@c",
        "jöhn",
        "a\nb",
        "x\u{2028}",
        long_id.as_str(),
        too_long_id.as_str(),
        wide_id.as_str(),
        too_wide_id.as_str(),
        token.as_str(),
        bad_token.as_str(),
        long_token.as_str(),
        "short",
    ]
    .map(str::to_owned);
    let ip39 = "1".repeat(39);
    let ip40 = "1".repeat(40);
    (
        proptest::sample::select(endpoints.to_vec()),
        one_of(&[
            "",
            "ab",
            "myapp",
            "my.app",
            "x-y_z",
            "äpp",
            "abcdefghijklmnopqrstu",
        ]),
        proptest::sample::select(subjects.to_vec()),
        maybe(&["", "1", "::1", "a\nb", ip39.as_str(), ip40.as_str()]),
        maybe(&[
            "",
            "0",
            "-0",
            "0x20",
            "1e3",
            " 30",
            "30abc",
            "5",
            "10",
            "abc",
            " ",
            "12.9",
            "99999999999999999999",
        ]),
        maybe(&["", "9", "10", "600", "0x20", "abc", " 600"]),
        maybe(&[
            "",
            "{}",
            "[]",
            "[1]",
            r#"{"a":1}"#,
            r#"{"a":null}"#,
            r#"{"a":"x","b":true,"c":1.5}"#,
            r#"{"o":{"k":1}}"#,
            r#"{"l":[1]}"#,
            r#"{"a":1,"b":{"c":1}}"#,
        ]),
    )
        .prop_map(|(endpoint, app, subject, ip, ttl, dt, body)| Request {
            endpoint,
            app,
            subject,
            ip,
            ttl,
            dt,
            body,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Every random request answers as node does: the same first error, or none.
    #[test]
    fn validation_answers_as_node(r in request()) {
        prop_assert_eq!(ours(&r), node(&r), "{:?}", r);
    }
}
