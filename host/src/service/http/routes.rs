//! rest-sessions 2.0.1's routes, one handler each.

use super::error::ApiError;
use super::response::json_response;
use super::state::TenantSessions;
use crate::json;
use crate::types::{DataInput, Session};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

type Api = Result<Response, ApiError>;
type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn ok(body: &Value) -> Api {
    Ok(json_response(StatusCode::OK, body))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(v)| v)
        .map_err(|r| ApiError::bad_request("invalidPath", r.body_text()))
}

fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|r| ApiError::bad_request("invalidQuery", r.body_text()))
}

fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|r| {
        let name = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "payloadTooLarge"
        } else {
            "invalidBody"
        };
        ApiError::new(r.status(), name, r.body_text())
    })
}

/// The body as JSON; an empty body is `{}`, as body-parser leaves `req.body`.
fn json_body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalidJson", format!("Malformed JSON: {e}")))
}

/// A number parameter the way node's `parseInt` reads it: leading digits, else invalid.
/// `None` (absent) and `Some(None)` (unparseable, which fails node's validation) differ.
fn int_param(params: &HashMap<String, String>, name: &str) -> Option<Option<i64>> {
    let raw = params.get(name)?.trim();
    if raw.is_empty() {
        return None;
    }
    let sign_len = usize::from(raw.starts_with(['-', '+']));
    let digits = raw[sign_len..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    Some(raw[..sign_len + digits].parse().ok())
}

/// node: a missing, empty or unparseable number fails the `>= 10` check with its message.
fn seconds(params: &HashMap<String, String>, name: &str) -> i64 {
    int_param(params, name).flatten().unwrap_or(i64::MIN)
}

fn session_or_empty(s: Option<Session>) -> Api {
    ok(&s.map_or_else(|| json!({}), |s| s.to_json()))
}

fn sessions(list: Vec<Session>) -> Api {
    let list: Vec<Value> = list.iter().map(Session::to_json).collect();
    ok(&json!({ "sessions": list }))
}

pub async fn create(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Params,
    b: Result<Bytes, BytesRejection>,
) -> Api {
    let (app, id) = path(p)?;
    let q = params(q)?;
    let body = json_body(&body(b)?)?;
    // rest-sessions: a body with at least one key becomes d.
    let has_keys = match &body {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    let d: Option<DataInput> = has_keys
        .then(|| json::input_from_json(&body))
        .transpose()
        .map_err(crate::Error::from)?;
    let ip = q.get("ip").map_or("", String::as_str);
    // An unparseable ttl fails node's check; an absent or empty one is the default.
    let ttl = int_param(&q, "ttl").map(|parsed| parsed.unwrap_or(i64::MIN));
    let no_resave = q.get("no_resave").is_some_and(|v| v == "true");
    let token = s.create(&app, &id, ip, ttl, d.as_ref(), no_resave).await?;
    ok(&json!({ "token": token }))
}

pub async fn get(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Api {
    let (app, token) = path(p)?;
    session_or_empty(s.get(&app, &token).await?)
}

pub async fn set(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
    b: Result<Bytes, BytesRejection>,
) -> Api {
    let (app, token) = path(p)?;
    let d = json::input_from_json(&json_body(&body(b)?)?).map_err(crate::Error::from)?;
    session_or_empty(s.set(&app, &token, &d).await?)
}

pub async fn kill(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Api {
    let (app, token) = path(p)?;
    ok(&json!({ "kill": s.kill(&app, &token).await? }))
}

pub async fn activity(
    TenantSessions(s): TenantSessions,
    p: Result<Path<String>, PathRejection>,
    q: Params,
) -> Api {
    let app = path(p)?;
    let dt = seconds(&params(q)?, "dt");
    ok(&json!({ "activity": s.activity(&app, dt).await? }))
}

pub async fn soapp(
    TenantSessions(s): TenantSessions,
    p: Result<Path<String>, PathRejection>,
    q: Params,
) -> Api {
    let app = path(p)?;
    let dt = seconds(&params(q)?, "dt");
    sessions(s.soapp(&app, dt).await?)
}

pub async fn soid(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Api {
    let (app, id) = path(p)?;
    sessions(s.soid(&app, &id).await?)
}

pub async fn killsoid(
    TenantSessions(s): TenantSessions,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Api {
    let (app, id) = path(p)?;
    ok(&json!({ "kill": s.killsoid(&app, &id).await? }))
}

pub async fn killall(
    TenantSessions(s): TenantSessions,
    p: Result<Path<String>, PathRejection>,
) -> Api {
    let app = path(p)?;
    ok(&json!({ "kill": s.killall(&app).await? }))
}

/// `PONG`, not JSON-quoted, with rest-sessions' JSON content type.
pub async fn ping(TenantSessions(s): TenantSessions) -> Api {
    let pong = s.ping().await?;
    let mut response = json_response(StatusCode::OK, &Value::Null);
    *response.body_mut() = pong.into();
    Ok(response)
}

/// Unknown routes (and known paths with another method), like Express: `Cannot GET /nope`.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "notFound",
        format!("Cannot {method} {}", uri.path()),
    )
}
