//! The embedded store through the binary: `serve` with no Redis, `--data` kept across a
//! graceful restart and across a SIGKILL (the journal), and the one-shot `--data` calls.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use test_support::{free_port, wait_for_ping};

const BIN: &str = env!("CARGO_BIN_EXE_redis-sessions");

/// A fresh directory for one test's data file, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rs-embedded-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("sessions.rsdb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("REDIS_URL")
        .env_remove("RUST_LOG")
        .env_remove("RS_REDISHOST")
        .env_remove("RS_REDISPORT")
        .env_remove("RS_PORT");
    cmd
}

/// `serve` on a free port; returns once it answers `/ping`.
fn serve(extra: &[&str]) -> (Child, String) {
    let port = free_port();
    let mut child = command()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, _) = wait_for_ping(port, Duration::from_secs(20), || child.try_wait().unwrap())
        .unwrap_or_else(|e| panic!("serve did not come up: {e}"));
    assert_eq!(status, 200);
    (child, format!("http://127.0.0.1:{port}"))
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn create(client: &reqwest::Client, base: &str, id: &str) -> String {
    let response = client
        .put(format!("{base}/myapp/create/{id}?ip=127.0.0.1&ttl=3600"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"who":"{id}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn get(client: &reqwest::Client, base: &str, token: &str) -> Value {
    let response = client
        .get(format!("{base}/myapp/get/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn create_many(base: &str, prefix: &str, n: usize) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let mut created = Vec::new();
    for i in 0..n {
        let id = format!("{prefix}{i}");
        let token = create(&client, base, &id).await;
        created.push((id, token));
    }
    created
}

async fn assert_all_back(base: &str, sessions: &[(String, String)]) {
    let client = reqwest::Client::new();
    for (id, token) in sessions {
        let session = get(&client, base, token).await;
        assert_eq!(session["id"], id.as_str(), "{session}");
        assert_eq!(session["d"]["who"], id.as_str(), "{session}");
    }
}

fn stderr_of(child: Child) -> (Output, String) {
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, log)
}

/// One log line per request only with `--access-log`: the route pattern, never the token.
#[tokio::test]
async fn the_access_log_is_off_unless_asked_for_and_never_names_a_token() {
    for (extra, lines) in [(&[][..], 0), (&["--access-log"][..], 2)] {
        let (child, base) = serve(extra);
        let client = reqwest::Client::new();
        let token = create(&client, &base, "logged").await;
        assert_eq!(get(&client, &base, &token).await["id"], "logged");
        signal(&child, "-TERM");
        let (out, log) = stderr_of(child);
        assert!(out.status.success(), "{log}");
        let access: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("redis_sessions::access"))
            .collect();
        assert_eq!(access.len(), lines, "{extra:?}: {log}");
        if lines > 0 {
            assert!(
                access[1].contains(r#"route="/{app}/get/{token}" status=200"#),
                "{log}"
            );
        }
        assert!(!log.contains(&token), "{log}");
    }
}

#[tokio::test]
async fn serve_with_no_redis_uses_the_embedded_store_and_a_restart_loses_no_session() {
    let dir = TempDir::new("restart");
    let data = dir.file();
    let data_arg = data.to_str().unwrap();
    // No snapshot tick during the test: only the shutdown snapshot can keep the sessions.
    let (child, base) = serve(&["--data", data_arg, "--snapshot", "0"]);
    let sessions = create_many(&base, "user", 40).await;
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
    let using: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no Redis configured: using the embedded store"))
        .collect();
    assert_eq!(using.len(), 1, "{log}");
    assert!(data.exists());

    let (child, base) = serve(&["--data", data_arg]);
    assert_all_back(&base, &sessions).await;
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
}

#[tokio::test]
async fn every_acknowledged_write_survives_a_sigkill() {
    let dir = TempDir::new("journal");
    let data = dir.file();
    let data_arg = data.to_str().unwrap();
    let (child, base) = serve(&["--data", data_arg, "--snapshot", "1"]);
    let early = create_many(&base, "early", 20).await;
    // A compaction folds them into the snapshot meanwhile...
    let deadline = Instant::now() + Duration::from_secs(10);
    while !data.exists() {
        assert!(Instant::now() < deadline, "no compaction ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...and these are only in the journal when the process is killed, right after the
    // last reply: the OS has every acknowledged write.
    let late = create_many(&base, "late", 20).await;
    let client = reqwest::Client::new();
    let killed = &early[0].1;
    let r = client
        .delete(format!("{base}/myapp/kill/{killed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["kill"], 1);
    signal(&child, "-KILL");
    let _ = stderr_of(child);

    let (child, base) = serve(&["--data", data_arg]);
    assert_all_back(&base, &early[1..]).await;
    assert_all_back(&base, &late).await;
    assert_eq!(get(&client, &base, killed).await, serde_json::json!({}));
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("replayed"),
        "the restart says what it replayed: {log}"
    );
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = command().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
}

#[test]
fn one_shot_calls_with_data_share_the_file() {
    let dir = TempDir::new("cli");
    let data = dir.file();
    let data = data.to_str().unwrap();
    let (code, out, err) = run(&[
        "--data", data, "create", "myapp", "u1", "::1", "--ttl", "600",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let token: Value = serde_json::from_str(&out).unwrap();
    let token = token["token"].as_str().unwrap();
    let (code, out, err) = run(&["--data", data, "get", "myapp", token]);
    assert_eq!(code, Some(0), "{err}");
    let session: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&session["id"], &session["r"]), (&"u1".into(), &1.into()));
    let (code, out, _) = run(&["--data", data, "soid", "myapp", "u1"]);
    assert_eq!(code, Some(0));
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["sessions"][0]["r"], 2, "the get above was saved");
    // A validation error is the usual JSON error.
    let (code, _, err) = run(&["--data", data, "get", "myapp", "short"]);
    assert_eq!(code, Some(1));
    assert!(one_line(&err).contains("invalidFormat"), "{err}");
}

#[tokio::test]
async fn a_file_in_use_by_a_server_is_refused_to_a_second_process() {
    let dir = TempDir::new("held");
    let data = dir.file();
    let data_arg = data.to_str().unwrap();
    let (child, _base) = serve(&["--data", data_arg]);
    let pid = child.id();
    let (code, out, err) = run(&["--data", data_arg, "get", "myapp", &"t".repeat(64)]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    let line: Value = serde_json::from_str(one_line(&err)).unwrap();
    assert_eq!(line["name"], "dataFileError");
    assert_eq!(
        line["message"],
        format!("the data file {data_arg} is in use by another redis-sessions process (pid {pid})")
    );
    let second = command()
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--data", data_arg])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second server started: {log}");
    assert!(
        log.contains("is in use by another redis-sessions process"),
        "{log}"
    );
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
    let (code, _, err) = run(&["--data", data_arg, "get", "myapp", &"t".repeat(64)]);
    assert_eq!(code, Some(0), "free again once the server is gone: {err}");
}

#[test]
fn data_with_a_redis_url_is_a_clear_error() {
    let dir = TempDir::new("conflict");
    let data = dir.file();
    let data = data.to_str().unwrap();
    let (code, _, err) = run(&["--data", data, "--redis", "redis://127.0.0.1:1", "ping"]);
    assert_eq!(code, Some(1));
    assert!(one_line(&err).contains("--data"), "{err}");
    let out = command()
        .args(["serve", "--data", data, "--listen", "127.0.0.1:0"])
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&err).contains("--data"), "{err}");
    assert!(!Path::new(data).exists());
}

#[test]
fn a_corrupt_data_file_is_a_one_line_error_not_a_panic() {
    let dir = TempDir::new("corrupt");
    let data = dir.file();
    std::fs::write(&data, b"RSDB but not really a snapshot").unwrap();
    let data = data.to_str().unwrap();
    let (code, _, err) = run(&["--data", data, "ping"]);
    assert_eq!(code, Some(1));
    assert!(
        one_line(&err).contains("cannot load the data file"),
        "{err}"
    );
    let out = command()
        .args(["serve", "--data", data, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        one_line(&err).contains("cannot load the data file"),
        "{err}"
    );
    // Left as it was, for its owner to look at.
    assert_eq!(
        std::fs::read(data).unwrap(),
        b"RSDB but not really a snapshot"
    );
}

#[test]
fn an_unwritable_data_file_is_an_error_at_start() {
    let out = command()
        .args(["serve", "--data", "/nonexistent-dir/sessions.rsdb"])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line = err.lines().last().unwrap_or_default();
    // The first thing it writes is the lock file beside the data file.
    assert!(
        line.contains("cannot lock the data file /nonexistent-dir/sessions.rsdb")
            && line.contains("No such file or directory"),
        "{err}"
    );
}

#[test]
fn tenants_need_redis() {
    let out = command()
        .args([
            "serve",
            "--tenants",
            "tenants.toml",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&err).contains("--tenants needs Redis"), "{err}");
}

/// A client that sends part of a request's headers and then nothing.
fn dribble(base: &str) -> std::net::TcpStream {
    use std::io::Write as _;
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    stream
}

/// Whether the server has closed `stream` (EOF or reset) within `wait`.
fn closed_within(mut stream: &std::net::TcpStream, wait: Duration) -> bool {
    use std::io::Read as _;
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0; 256];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_excess_connections_refused() {
    let (child, base) = serve(&["--header-timeout", "1", "--max-connections", "25"]);
    let ping = || async {
        let got = reqwest::get(format!("{base}/ping")).await.unwrap();
        got.text().await.unwrap()
    };
    // 20 clients that never finish their headers leave room for others.
    let slow: Vec<_> = (0..20).map(|_| dribble(&base)).collect();
    let start = Instant::now();
    assert_eq!(ping().await, "PONG");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    // Past the limit, connections are closed at once.
    let excess: Vec<_> = (0..10).map(|_| dribble(&base)).collect();
    let refused = excess
        .iter()
        .filter(|s| closed_within(s, Duration::from_millis(500)))
        .count();
    assert!(
        refused >= 5,
        "only {refused} of 10 connections past the limit were closed"
    );
    // The header timeout closes every slow client.
    for s in &slow {
        assert!(
            closed_within(s, Duration::from_secs(3)),
            "a slow client is still connected"
        );
    }
    assert_eq!(ping().await, "PONG");
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
}

#[tokio::test]
async fn sigterm_with_a_half_open_client_stops_within_the_deadline_and_loses_nothing() {
    let dir = TempDir::new("deadline");
    let data = dir.file();
    let data_arg = data.to_str().unwrap();
    let args = [
        "--data",
        data_arg,
        "--snapshot",
        "0",
        "--shutdown-timeout",
        "2",
    ];
    let (mut child, base) = serve(&args);
    let sessions = create_many(&base, "user", 20).await;
    let _half_open = dribble(&base);
    let stop = Instant::now();
    signal(&child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(8);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "still running 8 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped_after = stop.elapsed();
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
    assert!(
        stopped_after < Duration::from_secs(4),
        "stopped after {stopped_after:?}"
    );
    let (child, base) = serve(&["--data", data_arg]);
    assert_all_back(&base, &sessions).await;
    signal(&child, "-TERM");
    let (out, log) = stderr_of(child);
    assert!(out.status.success(), "{log}");
}
