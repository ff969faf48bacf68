//! rest-sessions 2.0.1's routes, one handler each.

use super::error::ApiError;
use super::extract::{JsonBody, Params, Segments};
use super::response::json_response;
use super::state::TenantSessions;
use crate::json;
use crate::types::{DataInput, Session};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

type Api = Result<Response, ApiError>;

fn ok(body: &Value) -> Api {
    Ok(json_response(StatusCode::OK, body))
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
    Segments((app, id)): Segments<(String, String)>,
    q: Params,
    JsonBody(body): JsonBody,
) -> Api {
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
    let ip = q.get("ip").unwrap_or_default();
    // An unparseable ttl fails node's check; an absent or empty one is the default.
    let ttl = q.int("ttl").map(|parsed| parsed.unwrap_or(i64::MIN));
    let no_resave = q.get("no_resave") == Some("true");
    let token = s.create(&app, &id, ip, ttl, d.as_ref(), no_resave).await?;
    ok(&json!({ "token": token }))
}

pub async fn get(
    TenantSessions(s): TenantSessions,
    Segments((app, token)): Segments<(String, String)>,
) -> Api {
    session_or_empty(s.get(&app, &token).await?)
}

pub async fn set(
    TenantSessions(s): TenantSessions,
    Segments((app, token)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Api {
    let d = json::input_from_json(&body).map_err(crate::Error::from)?;
    session_or_empty(s.set(&app, &token, &d).await?)
}

pub async fn kill(
    TenantSessions(s): TenantSessions,
    Segments((app, token)): Segments<(String, String)>,
) -> Api {
    ok(&json!({ "kill": s.kill(&app, &token).await? }))
}

pub async fn activity(
    TenantSessions(s): TenantSessions,
    Segments(app): Segments<String>,
    q: Params,
) -> Api {
    ok(&json!({ "activity": s.activity(&app, q.seconds("dt")).await? }))
}

pub async fn soapp(
    TenantSessions(s): TenantSessions,
    Segments(app): Segments<String>,
    q: Params,
) -> Api {
    sessions(s.soapp(&app, q.seconds("dt")).await?)
}

pub async fn soid(
    TenantSessions(s): TenantSessions,
    Segments((app, id)): Segments<(String, String)>,
) -> Api {
    sessions(s.soid(&app, &id).await?)
}

pub async fn killsoid(
    TenantSessions(s): TenantSessions,
    Segments((app, id)): Segments<(String, String)>,
) -> Api {
    ok(&json!({ "kill": s.killsoid(&app, &id).await? }))
}

pub async fn killall(TenantSessions(s): TenantSessions, Segments(app): Segments<String>) -> Api {
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
