//! The `wasi:http` front: rest-sessions 2.0.1's HTTP API as a component that exports
//! `wasi:http/incoming-handler` and imports the session API (`redis-sessions:sessions/sessions`).
//!
//! Routing, parsing and rendering are `redis-sessions-rest`'s, the same code the wasmtime
//! host's service runs, so both answer alike; this file only moves bytes between
//! `wasi:http` and that crate, and calls the imported session functions. Composed with
//! the session component and the sockets plug (`scripts/build-wasm`), it runs under
//! `wasmtime serve -S cli -S inherit-network -S config -S config-var=redis_url=...`.
//!
//! Unlike the host, the front has no log a client's failure could point to, so a 503 names
//! the cause the plug reported (an address, never a password); store failures still
//! answer a bare 500 and go to stderr.

#![expect(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export! contain unsafe"
)]

use redis_sessions_rest::{self as rest, Answer, ApiError, BODY_LIMIT, Call, Failure, Outcome};

wit_bindgen::generate!({
    world: "redis-sessions:http-front/front",
    path: ["../../wit", "wit"],
    // The interfaces are other packages': generate them here.
    generate_all,
});

use exports::wasi::http::incoming_handler::Guest;
use redis_sessions::sessions::sessions as store;
use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::streams::StreamError;

/// What one `blocking-write-and-flush` may carry (wasi:io's limit).
const WRITE_CHUNK: usize = 4096;

struct Front;

impl Guest for Front {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let answer = respond(&request);
        send(response_out, &answer);
    }
}

export!(Front);

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

fn respond(request: &IncomingRequest) -> Answer {
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

// --- the session calls: the import's types to the session logic's and back ---

redis_sessions_core::wit_conversions!(store);

fn data(d: rest::DataInput) -> store::DataInput {
    d.into_iter().map(|(k, v)| (k, v.map(Into::into))).collect()
}

fn sessions(list: Vec<store::Session>) -> Vec<rest::Session> {
    list.into_iter().map(Into::into).collect()
}

/// What the client is told. The plug's `unavailable` text names the configuration key or
/// the address and never a password, so it goes into the answer.
fn failure(e: store::Error) -> Failure {
    match rest::OpError::from(e) {
        rest::OpError::Unavailable(m) => {
            eprintln!("Redis unavailable: {m}");
            Failure::Unavailable { detail: Some(m) }
        }
        rest::OpError::Store(m) => {
            eprintln!("session call failed: {m}");
            Failure::Failed { name: "storeError" }
        }
        invalid => Failure::Invalid {
            name: invalid.name(),
            message: invalid.to_string(),
        },
    }
}

fn execute(call: Call) -> Result<Outcome, Failure> {
    Ok(match call {
        Call::Ping => Outcome::Pong(store::ping().map_err(failure)?),
        Call::Create(c) => {
            let options = store::CreateOptions {
                ttl: c.ttl,
                d: c.d.map(data),
                no_resave: c.no_resave,
                max_per_user: c.max_per_user,
                max_age: c.max_age,
            };
            let token = store::create_with(&c.app, &c.id, &c.ip, &options);
            Outcome::Token(token.map_err(failure)?)
        }
        Call::Get { app, token } => {
            Outcome::Session(store::get(&app, &token).map_err(failure)?.map(Into::into))
        }
        Call::Set { app, token, d } => {
            let session = store::set(&app, &token, &data(d)).map_err(failure)?;
            Outcome::Session(session.map(Into::into))
        }
        Call::Kill { app, token } => Outcome::Killed(store::kill(&app, &token).map_err(failure)?),
        Call::Rotate { app, token } => {
            Outcome::Rotated(store::rotate(&app, &token).map_err(failure)?)
        }
        Call::Activity { app, dt } => {
            Outcome::Activity(store::activity(&app, dt).map_err(failure)?)
        }
        Call::Soapp { app, dt } => {
            Outcome::Sessions(sessions(store::soapp(&app, dt).map_err(failure)?))
        }
        Call::Soid { app, id } => {
            Outcome::Sessions(sessions(store::soid(&app, &id).map_err(failure)?))
        }
        Call::Killsoid { app, id } => Outcome::Killed(store::killsoid(&app, &id).map_err(failure)?),
        Call::Killall { app } => Outcome::Killed(store::killall(&app).map_err(failure)?),
    })
}
