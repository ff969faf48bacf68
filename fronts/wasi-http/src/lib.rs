//! rest-sessions' HTTP API over `wasi:http`: the `incoming-handler` export of every
//! component that answers it. The composed front (`fronts/http`) runs the calls through the
//! session API it imports; a bundle (`bundles/`) runs them on the session logic built into
//! it. Either implements the generated `Guest` with [`handle`] and exports it with this
//! crate's [`export!`]:
//!
//! ```ignore
//! struct Front;
//!
//! impl redis_sessions_wasi_http::Guest for Front {
//!     fn handle(request: IncomingRequest, out: ResponseOutparam) {
//!         redis_sessions_wasi_http::handle(request, out, execute);
//!     }
//! }
//!
//! redis_sessions_wasi_http::export!(Front with_types_in redis_sessions_wasi_http);
//! ```
//!
//! Routing, parsing and rendering are `redis-sessions-rest`'s, the same code the wasmtime
//! host's service runs, so both answer alike; this crate only moves bytes between
//! `wasi:http` and that crate.

use redis_sessions_rest::{self as rest, Answer, ApiError, BODY_LIMIT, Call, Failure, Outcome};

wit_bindgen::generate!({
    world: "redis-sessions:wasi-http/handler",
    path: ["../../wit", "wit"],
    // The interfaces are other packages': generate them here.
    generate_all,
    // The component crate exports the handler with this crate's types.
    pub_export_macro: true,
    default_bindings_module: "redis_sessions_wasi_http",
});

pub use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{Fields, IncomingBody, Method, OutgoingBody, OutgoingResponse};
pub use wasi::http::types::{IncomingRequest, ResponseOutparam};
use wasi::io::streams::StreamError;

/// Answers `request` on `out`: routes it, reads its body, runs the call with `execute`,
/// and sends rest-sessions' answer.
pub fn handle(
    request: IncomingRequest,
    out: ResponseOutparam,
    execute: impl FnOnce(Call) -> Result<Outcome, Failure>,
) {
    let answer = respond(&request, execute);
    send(out, &answer);
}

/// What one `blocking-write-and-flush` may carry (wasi:io's limit).
const WRITE_CHUNK: usize = 4096;

fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
}

fn respond(
    request: &IncomingRequest,
    execute: impl FnOnce(Call) -> Result<Outcome, Failure>,
) -> Answer {
    let method = request.method();
    let target = request.path_with_query().unwrap_or_else(|| "/".to_owned());
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target.as_str(), None),
    };
    let route = match rest::route(method_name(&method), path, query) {
        Ok(route) => route,
        Err(not_found) => return not_found.answer(),
    };
    let body = if route.needs_body() {
        match read_body(request) {
            Ok(body) => body,
            Err(e) => return e.answer(),
        }
    } else {
        Vec::new()
    };
    match route.call(&body) {
        Ok(call) => rest::answer(execute(call)),
        Err(e) => e.answer(),
    }
}

/// The body, read until its end or until it passes [`BODY_LIMIT`] (then the rest is left
/// unread: the answer is 413 whatever follows).
fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let failed = |why: String| {
        ApiError::bad_request(
            "invalidBody",
            format!("Failed to buffer the request body: {why}"),
        )
    };
    // A declared length over the limit is refused before any of the body is awaited.
    let declared = request.headers().get("content-length");
    let declared = declared
        .first()
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ApiError::payload_too_large());
    }
    let body = request
        .consume()
        .map_err(|()| failed("the body was already taken".into()))?;
    let stream = body
        .stream()
        .map_err(|()| failed("the body stream was already taken".into()))?;
    let mut bytes = Vec::new();
    while bytes.len() <= BODY_LIMIT {
        match stream.blocking_read((BODY_LIMIT + 1 - bytes.len()) as u64) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(failed(e.to_debug_string())),
        }
    }
    // The stream is a child of the body: it goes first.
    drop(stream);
    drop(IncomingBody::finish(body));
    if bytes.len() > BODY_LIMIT {
        return Err(ApiError::payload_too_large());
    }
    Ok(bytes)
}

/// Sends the answer with rest-sessions' content type. Past `set`, nothing can tell the
/// client about a failure but the connection, so write errors end the body early.
fn send(out: ResponseOutparam, answer: &Answer) {
    let headers = Fields::new();
    let content_length = answer.body.len().to_string();
    for (name, value) in [
        ("content-type", rest::CONTENT_TYPE.as_bytes()),
        ("content-length", content_length.as_bytes()),
    ] {
        // Both are valid header values: `append` cannot refuse them.
        let _ = headers.append(name, value);
    }
    let response = OutgoingResponse::new(headers);
    // Every status rest renders is a valid one.
    let _ = response.set_status_code(answer.status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = body.write() {
        for chunk in answer.body.as_bytes().chunks(WRITE_CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}
