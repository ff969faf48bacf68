//! The JSON API over HTTP, as the suites call it: one request, its status and its body.
//!
//! Here rather than in a test crate's own harness so that reqwest is a dependency of a
//! default member: a root `cargo build` then resolves the features reqwest turns on in
//! hyper-util and tower, and `cargo test` reuses axum and the `redis-sessions` binary
//! instead of building them again.

use reqwest::StatusCode;
use serde_json::Value;

/// `METHOD url` with `Authorization: Bearer KEY` when `key` is given and `body` as
/// `application/json`. Every answer of the API is JSON (checked): the body is parsed,
/// or kept as a string when it is not valid JSON.
pub async fn call_json(
    client: &reqwest::Client,
    key: Option<&str>,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8",
        "{url}"
    );
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
