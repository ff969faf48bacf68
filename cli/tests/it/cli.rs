//! The `redis-sessions` binary: JSON on stdout, node-style JSON errors on stderr.

use crate::common;
use common::RedisServer;
use serde_json::{Value, json};
use std::process::{Command, Output};

struct Cli {
    url: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
            .args(args)
            .env("REDIS_URL", &self.url)
            .env_remove("RS_NAMESPACE")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout as JSON.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its stderr as JSON.
    fn error(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        serde_json::from_str(&stderr).unwrap()
    }
}

#[test]
fn every_command_prints_nodes_json() {
    let server = RedisServer::start();
    let cli = Cli { url: server.url() };
    let out = cli.run(&["ping"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "PONG\n");

    let created = cli.json(&[
        "create",
        "myapp",
        "user1",
        "127.0.0.1",
        "--ttl",
        "3600",
        "--d",
        r#"{"a":1,"c":"x"}"#,
    ]);
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created, json!({ "token": token }));

    let got = cli.json(&["get", "myapp", &token]);
    assert_eq!(got["id"], "user1");
    assert_eq!(
        (got["r"].clone(), got["w"].clone(), got["ttl"].clone()),
        (json!(1), json!(1), json!(3600))
    );
    assert_eq!(got["d"], json!({"a": 1, "c": "x"}));
    let keys: Vec<&str> = got
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "r", "w", "ttl", "idle", "ip", "d"]);

    let set = cli.json(&["set", "myapp", &token, r#"{"a":null,"b":2.5}"#]);
    assert_eq!(
        (set["w"].clone(), set["d"].clone()),
        (json!(2), json!({"c": "x", "b": 2.5}))
    );

    let nr = cli.json(&["create", "myapp", "user2", "::1", "--no-resave"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cli.json(&["get", "myapp", &nr])["no_resave"], json!(true));

    assert_eq!(cli.json(&["activity", "myapp"]), json!({"activity": 2}));
    assert_eq!(
        cli.json(&["activity", "myapp", "--dt", "10"]),
        json!({"activity": 2})
    );
    assert_eq!(
        cli.json(&["soid", "myapp", "user1"])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        cli.json(&["soapp", "myapp", "--dt", "60"])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let rotated = cli.json(&["rotate", "myapp", &token])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cli.json(&["get", "myapp", &token]), Value::Null);
    assert_eq!(cli.json(&["rotate", "myapp", &token]), Value::Null);
    let token = rotated;
    assert_eq!(cli.json(&["kill", "myapp", &token]), json!({"kill": 1}));
    assert_eq!(cli.json(&["get", "myapp", &token]), Value::Null);
    assert_eq!(
        cli.json(&["set", "myapp", &token, r#"{"a":1}"#]),
        Value::Null
    );
    assert_eq!(
        cli.json(&["killsoid", "myapp", "user2"]),
        json!({"kill": 1})
    );
    cli.json(&["create", "myapp", "user3", "::1"]);
    let capped = cli.json(&[
        "create",
        "myapp",
        "user3",
        "::1",
        "--max-per-user",
        "1",
        "--max-age",
        "60",
    ])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // max_age is the whole seconds left; the get is another process, so a second may
    // have ticked since the create (seen in CI: 59).
    let left = cli.json(&["get", "myapp", &capped])["max_age"]
        .as_i64()
        .unwrap();
    assert!(
        (58..=60).contains(&left),
        "max_age {left}, expected 60 or just under"
    );
    assert_eq!(
        cli.json(&["soid", "myapp", "user3"])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the cap deleted the older session"
    );
    assert_eq!(cli.json(&["killall", "myapp"]), json!({"kill": 1}));
    assert_eq!(cli.json(&["wipe"]), json!({"wiped": 0}));
}

#[test]
fn errors_are_one_json_object_with_nodes_name_and_message() {
    let server = RedisServer::start();
    let cli = Cli { url: server.url() };
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["get", "myapp", "short"],
            "invalidFormat",
            "Invalid token format",
        ),
        (
            &["get", "a", "short"],
            "invalidFormat",
            "Invalid app format",
        ),
        (
            &["create", "myapp", "u", "ip", "--ttl", "5"],
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            &["create", "myapp", "u", "ip", "--d", "[1]"],
            "invalidValue",
            "d must be an object",
        ),
        (
            &["create", "myapp", "u", "ip", "--d", "{}"],
            "invalidValue",
            "d must containt at least one key.",
        ),
        (
            &[
                "create",
                "myapp",
                "u",
                "ip",
                "--d",
                r#"{"a":1,"o":{"x":1}}"#,
            ],
            "invalidValue",
            "d.o has a forbidden type. Only strings, numbers, boolean and null are allowed.",
        ),
        (
            &["set", "myapp", &"t".repeat(64), "null"],
            "missingParameter",
            "No d supplied",
        ),
        // Several wrong at once: the first in node's order, `d` last.
        (
            &["set", "myapp", "!!!", "[]"],
            "invalidFormat",
            "Invalid token format",
        ),
        (
            &["create", "my.app", "u", "ip", "--d", r#"{"o":{"x":1}}"#],
            "invalidFormat",
            "Invalid app format",
        ),
        (
            &["create", "myapp", "u", "ip", "--ttl", "5", "--d", "[1]"],
            "invalidValue",
            "ttl must be a positive integer >= 10",
        ),
        (
            &["activity", "myapp", "--dt", "-1"],
            "invalidValue",
            "deltaTime must be a positive integer >= 10",
        ),
    ];
    for (args, name, message) in cases {
        assert_eq!(
            cli.error(args),
            json!({"name": name, "message": message}),
            "{args:?}"
        );
    }
    let err = cli.error(&["create", "myapp", "u", "ip", "--d", "{nope"]);
    assert_eq!(err["name"], "invalidValue");
}

#[test]
fn an_unreachable_redis_is_named_in_one_line() {
    let cli = Cli {
        url: "redis://127.0.0.1:1".into(),
    };
    let err = cli.error(&["ping"]);
    assert_eq!(err["name"], "redisUnavailable");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("redis://127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn namespace_flag_and_env_select_the_key_prefix() {
    let server = RedisServer::start();
    let cli = Cli { url: server.url() };
    let token = cli.json(&["--namespace", "other", "create", "myapp", "u", "ip"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cli.json(&["get", "myapp", &token]), Value::Null);
    let out = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args(["get", "myapp", &token])
        .env("RS_NAMESPACE", "other")
        .env("REDIS_URL", server.url())
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["id"], "u");
    // --redis wins over REDIS_URL.
    let out = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args(["--redis", &server.url(), "ping"])
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "PONG\n");
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let server = RedisServer::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-sessions"))
        .args(["soapp", "myapp"])
        .env("REDIS_URL", server.url())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the command has anything to print (`| head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "not a word on stderr"
    );
}
