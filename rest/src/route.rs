//! rest-sessions 2.0.1's route table, and the parsing of a matched request into a [`Call`]:
//! path segments, query parameters and the JSON body, each failing as the axum service
//! always did (same statuses, names and messages, in the same order).

use crate::answer::ApiError;
use crate::data::input_from_json;
use crate::query::Query;
use percent_encoding::percent_decode_str;
use redis_sessions_core::{DataInput, OpError, validate};
use serde_json::Value;

/// rest-sessions' body limit (`bodyParser.json({limit: 60000})`), in bytes.
pub const BODY_LIMIT: usize = 60_000;

/// One session call, its parameters decoded and checked as far as the HTTP layer checks
/// them (node's own validation runs in the component).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `GET /ping`.
    Ping,
    /// `PUT /{app}/create/{id}?ip=&ttl=&no_resave=true&max_per_user=&max_age=`, body: `d`
    /// (optional).
    Create(Create),
    /// `GET /{app}/get/{token}`.
    Get { app: String, token: String },
    /// `POST /{app}/set/{token}`, body: `d`.
    Set {
        app: String,
        token: String,
        d: DataInput,
    },
    /// `DELETE /{app}/kill/{token}`.
    Kill { app: String, token: String },
    /// `POST /{app}/rotate/{token}` (this project's, not rest-sessions').
    Rotate { app: String, token: String },
    /// `GET /{app}/activity?dt=` (a missing or unparseable `dt` fails node's check).
    Activity { app: String, dt: i64 },
    /// `GET /{app}/soapp?dt=`.
    Soapp { app: String, dt: i64 },
    /// `GET /{app}/soid/{id}`.
    Soid { app: String, id: String },
    /// `DELETE /{app}/killsoid/{id}`.
    Killsoid { app: String, id: String },
    /// `DELETE /{app}/killall`.
    Killall { app: String },
}

/// `create`'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub app: String,
    pub id: String,
    pub ip: String,
    /// `None` when absent or empty (the default); an unparseable value is `i64::MIN`,
    /// which fails node's `>= 10` check with node's message.
    pub ttl: Option<i64>,
    pub d: Option<DataInput>,
    pub no_resave: bool,
    /// `max_per_user=N` (this project's): as `ttl`, `None` when absent or empty, and
    /// `i64::MIN` when unparseable, which fails the `>= 1` check.
    pub max_per_user: Option<i64>,
    /// `max_age=SECONDS` (this project's), parsed as `max_per_user`.
    pub max_age: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Ping,
    Create,
    Get,
    Set,
    Kill,
    Rotate,
    Activity,
    Soapp,
    Soid,
    Killsoid,
    Killall,
}

/// The table: method, pattern (`{name}` matches one non-empty segment), endpoint.
const ROUTES: [(&str, &str, Endpoint); 11] = [
    ("GET", "/ping", Endpoint::Ping),
    ("PUT", "/{app}/create/{id}", Endpoint::Create),
    ("GET", "/{app}/get/{token}", Endpoint::Get),
    ("POST", "/{app}/set/{token}", Endpoint::Set),
    ("DELETE", "/{app}/kill/{token}", Endpoint::Kill),
    ("POST", "/{app}/rotate/{token}", Endpoint::Rotate),
    ("GET", "/{app}/activity", Endpoint::Activity),
    ("GET", "/{app}/soapp", Endpoint::Soapp),
    ("GET", "/{app}/soid/{id}", Endpoint::Soid),
    ("DELETE", "/{app}/killsoid/{id}", Endpoint::Killsoid),
    ("DELETE", "/{app}/killall", Endpoint::Killall),
];

/// A request matched to a route, its body not read yet.
#[derive(Debug, Clone)]
pub struct Route {
    endpoint: Endpoint,
    pattern: &'static str,
    /// The parameters in pattern order, percent-decoded; an error when one is not UTF-8
    /// (reported before the body is looked at, as axum's `Path` was).
    segments: Result<Vec<String>, ApiError>,
    query: Query,
}

/// Express' answer to an unknown route, or a known path with another method:
/// 404 `Cannot GET /nope` (the path as sent, not decoded).
pub fn not_found(method: &str, path: &str) -> ApiError {
    ApiError::new(404, "notFound", format!("Cannot {method} {path}"))
}

/// The raw segments of `path` bound to the pattern's parameters, when it matches.
fn matches<'p>(pattern: &'static str, path: &'p str) -> Option<Vec<(&'static str, &'p str)>> {
    let mut params = Vec::new();
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    params.push((name, g));
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Matches a request against the table. `path` is the target's path as sent (still
/// percent-encoded), `query` what follows `?`, if anything. `HEAD` is served as `GET`, as
/// axum's `get` routes did. An unknown path or method is 404 `notFound`.
pub fn route(method: &str, path: &str, query: Option<&str>) -> Result<Route, ApiError> {
    let as_method = if method == "HEAD" { "GET" } else { method };
    for (route_method, pattern, endpoint) in ROUTES {
        let Some(params) = matches(pattern, path) else {
            continue;
        };
        if route_method != as_method {
            // Patterns never overlap: no other route can match this path.
            break;
        }
        let segments = params
            .into_iter()
            .map(|(name, raw)| {
                percent_decode_str(raw)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| {
                        ApiError::bad_request(
                            "invalidPath",
                            format!("Invalid URL: Invalid UTF-8 in `{name}`"),
                        )
                    })
            })
            .collect();
        return Ok(Route {
            endpoint,
            pattern,
            segments,
            query: Query::parse(query),
        });
    }
    Err(not_found(method, path))
}

/// The error of a call whose `d` node rejects (`d_error`): node checks `d` after the
/// parameters before it (`earlier`: the session logic's checks of those, in node's order),
/// so theirs comes first.
pub fn d_error_after<T>(earlier: Result<T, OpError>, d_error: OpError) -> OpError {
    earlier.err().unwrap_or(d_error)
}

/// The body as JSON; an empty (or blank) body is `{}`, as body-parser leaves `req.body`.
fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.len() > BODY_LIMIT {
        return Err(ApiError::payload_too_large());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalidJson", format!("Malformed JSON: {e}")))
}

impl Route {
    /// The matched pattern, e.g. `/{app}/get/{token}`: what logs may show (never a token).
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// Whether [`Route::call`] reads the body: the caller then reads at most
    /// [`BODY_LIMIT`]` + 1` bytes (or answers [`ApiError::payload_too_large`] itself).
    /// `false` when the path already failed, so a bad path is reported whatever the body.
    pub fn needs_body(&self) -> bool {
        matches!(self.endpoint, Endpoint::Create | Endpoint::Set) && self.segments.is_ok()
    }

    /// The call, from the segments, the query and `body` (ignored unless
    /// [`Route::needs_body`]).
    pub fn call(self, body: &[u8]) -> Result<Call, ApiError> {
        let mut segments = self.segments?.into_iter();
        let mut next = || segments.next().unwrap_or_default();
        let q = &self.query;
        Ok(match self.endpoint {
            Endpoint::Ping => Call::Ping,
            Endpoint::Create => {
                let body = json_body(body)?;
                // rest-sessions: a body with at least one key becomes d.
                let has_keys = match &body {
                    Value::Object(m) => !m.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                };
                let d = has_keys.then(|| input_from_json(&body)).transpose();
                let mut create = Create {
                    app: next(),
                    id: next(),
                    ip: q.get("ip").unwrap_or_default().to_owned(),
                    // node parses a given ttl (a string, so "0" is given): unparseable, or
                    // 0, fails its check. Absent or empty is the default.
                    ttl: q
                        .int("ttl")
                        .map(|parsed| parsed.filter(|&t| t != 0).unwrap_or(i64::MIN)),
                    d: None,
                    no_resave: q.get("no_resave") == Some("true"),
                    max_per_user: q
                        .int("max_per_user")
                        .map(|parsed| parsed.unwrap_or(i64::MIN)),
                    max_age: q.int("max_age").map(|parsed| parsed.unwrap_or(i64::MIN)),
                };
                let c = &create;
                let earlier = || validate::create_before_d(&c.app, &c.id, &c.ip, c.ttl);
                create.d = d.map_err(|e| d_error_after(earlier(), e))?;
                Call::Create(create)
            }
            Endpoint::Set => {
                let d = input_from_json(&json_body(body)?);
                let (app, token) = (next(), next());
                let d = d.map_err(|e| d_error_after(validate::set_before_d(&app, &token), e))?;
                Call::Set { app, token, d }
            }
            Endpoint::Get => Call::Get {
                app: next(),
                token: next(),
            },
            Endpoint::Kill => Call::Kill {
                app: next(),
                token: next(),
            },
            Endpoint::Rotate => Call::Rotate {
                app: next(),
                token: next(),
            },
            Endpoint::Activity => Call::Activity {
                app: next(),
                dt: q.seconds("dt"),
            },
            Endpoint::Soapp => Call::Soapp {
                app: next(),
                dt: q.seconds("dt"),
            },
            Endpoint::Soid => Call::Soid {
                app: next(),
                id: next(),
            },
            Endpoint::Killsoid => Call::Killsoid {
                app: next(),
                id: next(),
            },
            Endpoint::Killall => Call::Killall { app: next() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, target: &str, body: &str) -> Result<Call, ApiError> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        route(method, path, query)?.call(body.as_bytes())
    }

    #[test]
    fn every_route_and_its_parameters() {
        // Each call as its Debug text: the parsed parameters at a glance.
        for (method, target, body, parsed) in [
            ("GET", "/ping", "", "Ping"),
            (
                "PUT",
                "/a/create/u?ip=%3A%3A1&ttl=60x&no_resave=true&max_per_user=3&max_age=600",
                r#"{"k":1}"#,
                r#"Create(Create { app: "a", id: "u", ip: "::1", ttl: Some(60), d: Some([("k", Some(Integer(1)))]), no_resave: true, max_per_user: Some(3), max_age: Some(600) })"#,
            ),
            (
                "PUT",
                "/a/create/u?ttl=abc&max_per_user=x",
                " \n",
                r#"Create(Create { app: "a", id: "u", ip: "", ttl: Some(-9223372036854775808), d: None, no_resave: false, max_per_user: Some(-9223372036854775808), max_age: None })"#,
            ),
            (
                "GET",
                "/a/get/t",
                "ignored",
                r#"Get { app: "a", token: "t" }"#,
            ),
            ("HEAD", "/a/get/t", "", r#"Get { app: "a", token: "t" }"#),
            (
                "POST",
                "/a/set/t",
                r#"{"k":null}"#,
                r#"Set { app: "a", token: "t", d: [("k", None)] }"#,
            ),
            (
                "DELETE",
                "/a/kill/t",
                "",
                r#"Kill { app: "a", token: "t" }"#,
            ),
            (
                "POST",
                "/a/rotate/t",
                "",
                r#"Rotate { app: "a", token: "t" }"#,
            ),
            (
                "GET",
                "/a/activity?dt=600",
                "",
                r#"Activity { app: "a", dt: 600 }"#,
            ),
            (
                "GET",
                "/a/soapp",
                "",
                r#"Soapp { app: "a", dt: -9223372036854775808 }"#,
            ),
            (
                "GET",
                "/a/soid/j%C3%B6hn%2Fx",
                "",
                r#"Soid { app: "a", id: "jöhn/x" }"#,
            ),
            (
                "DELETE",
                "/a/killsoid/u",
                "",
                r#"Killsoid { app: "a", id: "u" }"#,
            ),
            ("DELETE", "/a/killall", "", r#"Killall { app: "a" }"#),
        ] {
            let got = call(method, target, body).unwrap();
            assert_eq!(format!("{got:?}"), parsed, "{method} {target}");
        }
        assert_eq!(
            route("GET", "/a/get/t", None).unwrap().pattern(),
            "/{app}/get/{token}"
        );
    }

    #[test]
    fn unknown_routes_and_methods_are_404_with_the_path_as_sent() {
        let msg = |m, p| route(m, p, None).unwrap_err();
        assert_eq!(msg("GET", "/nope"), not_found("GET", "/nope"));
        assert_eq!(msg("GET", "/nope").message, "Cannot GET /nope");
        assert_eq!(
            msg("GET", "/myapp/create/u").message,
            "Cannot GET /myapp/create/u"
        );
        assert_eq!(msg("POST", "/ping").status, 404);
        for path in [
            "//get/t",
            "/a/get/",
            "/a/get/t/",
            "/ping/",
            "/a/b/get/t",
            "/",
            "",
        ] {
            assert_eq!(msg("GET", path).name, "notFound", "{path}");
        }
        assert_eq!(msg("PATCH", "/a%20b/x").message, "Cannot PATCH /a%20b/x");
    }

    #[test]
    fn request_errors_in_the_order_axum_reported_them() {
        let err = |m, t, b| call(m, t, b).unwrap_err();
        let bad_path = err("PUT", "/a/create/%FF", "{bad");
        assert_eq!(
            (bad_path.status, bad_path.name, bad_path.message.as_str()),
            (400, "invalidPath", "Invalid URL: Invalid UTF-8 in `id`")
        );
        assert!(!route("PUT", "/a/create/%FF", None).unwrap().needs_body());
        assert!(route("PUT", "/a/create/u", None).unwrap().needs_body());
        assert!(!route("GET", "/a/get/t", None).unwrap().needs_body());
        let malformed = err("POST", "/a/set/t", "{bad");
        assert_eq!((malformed.status, malformed.name), (400, "invalidJson"));
        assert!(
            malformed.message.starts_with("Malformed JSON: "),
            "{malformed}"
        );
        let over = "x".repeat(BODY_LIMIT + 1);
        assert_eq!(err("POST", "/a/set/t", &over).status, 413);
        let fits = format!(r#"{{"a":"{}"}}"#, "x".repeat(BODY_LIMIT - 8));
        assert!(call("POST", "/a/set/t", &fits).is_ok());
        let set_path = format!("/app/set/{}", "a".repeat(64));
        let d = err("POST", &set_path, "");
        assert_eq!(
            (d.status, d.name, d.message.as_str()),
            (400, "invalidValue", "d must containt at least one key.")
        );
        assert_eq!(
            err("PUT", "/app/create/u?ip=1", "[1]").message,
            "d must be an object"
        );
        assert_eq!(
            err("PUT", "/app/create/u?ip=1", "false").name,
            "missingParameter"
        );
    }

    #[test]
    fn d_is_checked_after_what_node_checks_before_it() {
        let err = |m, t: &str, b| call(m, t, b).unwrap_err();
        let said = |e: ApiError| (e.name, e.message);
        let nested = r#"{"nested":{"a":1}}"#;
        for (method, target, body, name, message) in [
            (
                "POST",
                "/app/set/!!!",
                "[]",
                "invalidFormat",
                "Invalid token format",
            ),
            (
                "POST",
                "/a/set/!!!",
                "[]",
                "invalidFormat",
                "Invalid app format",
            ),
            (
                "PUT",
                "/app/create/u1",
                nested,
                "missingParameter",
                "No ip supplied",
            ),
            (
                "PUT",
                "/a/create/u1?ip=1",
                "[1]",
                "invalidFormat",
                "Invalid app format",
            ),
            (
                "PUT",
                "/app/create/u1?ip=1&ttl=5",
                nested,
                "invalidValue",
                "ttl must be a positive integer >= 10",
            ),
            (
                "PUT",
                "/app/create/u1?ip=1&ttl=30",
                nested,
                "invalidValue",
                "d.nested has a forbidden type. Only strings, numbers, boolean and null are allowed.",
            ),
        ] {
            assert_eq!(
                said(err(method, target, body)),
                (name, message.to_owned()),
                "{method} {target} {body}"
            );
        }
        let token = "a".repeat(64);
        assert_eq!(
            err("POST", &format!("/app/set/{token}"), "[]").message,
            "d must be an object"
        );
    }

    #[test]
    fn a_given_ttl_is_read_as_node_parses_it() {
        let ttl = |query: &str| match call("PUT", &format!("/app/create/u?{query}"), "") {
            Ok(Call::Create(c)) => c.ttl,
            other => panic!("{query}: {other:?}"),
        };
        // Given, so parsed: 0 and NaN fail node's check.
        assert_eq!(ttl("ttl=0x20"), Some(i64::MIN));
        assert_eq!(ttl("ttl=0"), Some(i64::MIN));
        assert_eq!(ttl("ttl=-0"), Some(i64::MIN));
        assert_eq!(ttl("ttl=%20"), Some(i64::MIN));
        assert_eq!(ttl("ttl=abc"), Some(i64::MIN));
        assert_eq!(ttl("ttl=1e3"), Some(1));
        assert_eq!(ttl("ttl=%2030"), Some(30));
        assert_eq!(ttl("ttl=30abc"), Some(30));
        // Absent or empty (falsy): the default.
        assert_eq!(ttl("ttl="), None);
        assert_eq!(ttl("ip=1"), None);
    }
}
