//! A test-only command component that imports the `redis` and `config` capabilities and
//! calls them as told on stdin, one call per line, answering one line each. It stands in
//! for the session component so that a plug can be composed (`wac plug`) and run on a
//! real runtime before the rest exists.
//!
//! Lines in (words are split on spaces; `|` separates a batch's commands):
//! - `exec CMD ARG...`: one command
//! - `pipe CMD ARG... | CMD ARG...`: a pipeline
//! - `multi CMD ARG... | CMD ARG...`: a transaction
//! - `ns`: the namespace
//!
//! Lines out: `ok REPLY` or `err KIND: MESSAGE`, replies written as `status(OK)`,
//! `integer(3)`, `bulk("v")`, `nil`, `array[...]`, a batch's as `[r1, r2]`.

use std::io::{BufRead, Write};

wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:plug-probe;

        world probe {
            import redis-sessions:redis/redis@0.1.0;
            import redis-sessions:redis/config@0.1.0;
        }
    "#,
    path: "../../wit",
    // The interfaces are another package's: generate them here.
    generate_all,
});

use redis_sessions::redis::{config, redis};

fn element(e: &redis::Element) -> String {
    match e {
        redis::Element::Nil => "nil".into(),
        redis::Element::Status(s) => format!("status({s})"),
        redis::Element::Integer(n) => format!("integer({n})"),
        redis::Element::Bulk(b) => format!("bulk({:?})", String::from_utf8_lossy(b)),
    }
}

fn reply(r: &redis::Reply) -> String {
    match r {
        redis::Reply::Nil => "nil".into(),
        redis::Reply::Status(s) => format!("status({s})"),
        redis::Reply::Integer(n) => format!("integer({n})"),
        redis::Reply::Bulk(b) => format!("bulk({:?})", String::from_utf8_lossy(b)),
        redis::Reply::Array(items) => {
            let items: Vec<String> = items.iter().map(element).collect();
            format!("array[{}]", items.join(", "))
        }
    }
}

fn error(e: &redis::Error) -> String {
    match e {
        redis::Error::Server(m) => format!("err server: {m}"),
        redis::Error::Unavailable(m) => format!("err unavailable: {m}"),
        redis::Error::Denied(m) => format!("err denied: {m}"),
        redis::Error::UnsupportedReply(m) => format!("err unsupported-reply: {m}"),
    }
}

fn command(words: &str) -> redis::Command {
    words
        .split_whitespace()
        .map(|w| w.as_bytes().to_vec())
        .collect()
}

fn batch(result: Result<Vec<redis::Reply>, redis::Error>) -> String {
    match result {
        Ok(replies) => {
            let replies: Vec<String> = replies.iter().map(reply).collect();
            format!("ok [{}]", replies.join(", "))
        }
        Err(e) => error(&e),
    }
}

fn answer(line: &str) -> String {
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let commands = || rest.split('|').map(command).collect::<Vec<_>>();
    match verb {
        "exec" => match redis::execute(&command(rest)) {
            Ok(r) => format!("ok {}", reply(&r)),
            Err(e) => error(&e),
        },
        "pipe" => batch(redis::pipeline(&commands())),
        "multi" => batch(redis::transaction(&commands())),
        "ns" => format!("ok {}", config::namespace()),
        other => format!("err probe: unknown verb `{other}`"),
    }
}

fn main() {
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut out = stdout.lock();
        // A closed stdout means the driver is gone: stop.
        if writeln!(out, "{}", answer(line))
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
}
