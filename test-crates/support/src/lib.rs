//! What the workspace's tests share, written once (redis-test's `RedisServer` is the model):
//!
//! - [`RedisServer`]: a `redis-server` of one test on a free loopback port, persistence
//!   off, killed on drop, its log printed when the test failed.
//! - [`Spawned`]: a child process (the project's binary) killed on drop, its stderr kept
//!   in a file and printed when the test failed; [`Spawned::wait_for_http`] (or
//!   [`wait_for_ping`] for any child) to wait for it, [`http_get`] to ask it.
//! - [`cluster::RedisCluster`]: a local Redis Cluster of one test (3 masters, 3 replicas).
//! - [`Resp`]: a blocking RESP2 client that keeps every reply exactly as sent (status vs
//!   bulk, error texts, errors nested in arrays), for comparing replies byte for byte.
//! - [`http::call_json`]: one request to the JSON API, its status and parsed body.
//!
//! ```no_run
//! use test_support::{RedisServer, Reply, cmd};
//!
//! let server = RedisServer::start();
//! let mut redis = server.client();
//! assert_eq!(redis.call(&cmd(&["PING"])), Reply::Status("PONG".into()));
//! ```
//!
//! Everything here panics on failure: it runs inside tests.

#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

// Not re-exported: `cluster` builds on this module's items, and a re-export would make the
// two modules import each other.
pub mod cluster;
pub mod http;

/// How long a server or a spawned binary gets to come up.
const STARTUP: Duration = Duration::from_secs(10);

/// A loopback port that was free a moment ago (the OS picks it; another process could
/// still take it before the caller binds it, which tests accept).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `PING` on a fresh connection to `port`: its answer's first line. Any I/O error is
/// the caller's "not ready yet": until our server listens, the port may be another test's
/// for a moment ([`free_port`] listens on the ports it tries), which resets the connection
/// (seen in CI).
fn ping(port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

/// A command from string arguments.
pub fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A `redis-server` owned by one test: a free loopback port, `--save "" --appendonly no`,
/// its own temporary `--dir`; killed on drop, its log printed to stderr when the test
/// panicked.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// A cluster node's bus port (`--cluster-port`).
    cluster_port: Option<u16>,
    args: Vec<OsString>,
    dir: TempDir,
}

/// How many times a server gets new ports when another process took one between the
/// choice and the bind.
const PORT_ATTEMPTS: usize = 5;

impl RedisServer {
    /// Starts a server and waits until it answers PING.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with extra arguments, e.g. `["--maxmemory", "1mb"]`. A
    /// server started with `--requirepass` counts as up once it answers `NOAUTH`.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_on_free_ports(extra, false)
    }

    /// A Redis Cluster node (`extra` has `--cluster-enabled yes`): its bus port is another
    /// free port, not the client port + 10000, which may be taken or out of range.
    pub fn start_cluster_node(extra: &[&str]) -> Self {
        Self::start_on_free_ports(extra, true)
    }

    fn start_on_free_ports(extra: &[&str], cluster: bool) -> Self {
        let mut server = RedisServer {
            child: None,
            port: 0,
            cluster_port: None,
            args: extra.iter().map(OsString::from).collect(),
            dir: tempfile::Builder::new()
                .prefix("redis-test-")
                .tempdir()
                .unwrap(),
        };
        for attempt in 1..=PORT_ATTEMPTS {
            server.port = free_port();
            server.cluster_port = cluster.then(|| {
                std::iter::repeat_with(free_port)
                    .find(|&p| p != server.port)
                    .unwrap()
            });
            match server.try_spawn() {
                Ok(()) => return server,
                // Free a moment ago, taken since (tests start servers in parallel).
                Err(e) if attempt < PORT_ATTEMPTS && e.contains("Address already in use") => {}
                Err(e) => panic!("{e}"),
            }
        }
        unreachable!("the last attempt panics")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) {
        if let Err(e) = self.try_spawn() {
            panic!("{e}");
        }
    }

    /// Starts the server on its ports and waits until it answers; `Err`: why not, with what
    /// it logged.
    fn try_spawn(&mut self) -> Result<(), String> {
        // Appended to, so a restart keeps the first run's log.
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let logged_before = log.metadata().map_or(0, |m| m.len() as usize);
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path());
        if let Some(bus) = self.cluster_port {
            command.args(["--cluster-port", &bus.to_string()]);
        }
        let child = command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): the tests need Redis 7 \
                     (`apt-get install -y redis-server`)"
                )
            });
        self.child = Some(child);
        self.wait_ready().map_err(|e| {
            let log = self.log();
            format!("{e}:\n{}", log.get(logged_before..).unwrap_or(&log))
        })
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                self.child = None;
                return Err(format!("redis-server exited at startup ({status})"));
            }
            if let Ok(answer) = ping(self.port)
                && (answer == "+PONG" || answer.starts_with("-NOAUTH"))
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server on port {} did not answer PING within {STARTUP:?}",
            self.port
        ))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's `--dir`, removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new raw connection.
    pub fn client(&self) -> Resp {
        Resp::connect(self.port).unwrap()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Kills the server now (to test an unreachable Redis). Its data is lost.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Stops the server and starts an empty one on the same port with the same arguments.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- redis-server log (port {}) ---\n{}",
                self.port,
                self.log()
            );
        }
    }
}

/// A child process owned by one test: killed on drop; its stderr goes to a file, printed
/// when the test panicked (a failing test shows what the binary said).
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    stderr: PathBuf,
    _dir: TempDir,
}

impl Spawned {
    /// Spawns `command` as the caller configured it (program, args, env, stdout), with
    /// stdin closed and stderr captured.
    pub fn spawn(command: &mut Command) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("spawned-")
            .tempdir()
            .unwrap();
        let stderr = dir.path().join("stderr");
        let child = command
            .stdin(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {:?}: {e}", command.get_program()));
        Spawned {
            child,
            stderr,
            _dir: dir,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends a signal by name (`"TERM"`, `"KILL"`, `"INT"`) with kill(1): std can only
    /// SIGKILL, and graceful shutdown needs SIGTERM.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} {} failed", self.id());
    }

    /// The exit status once the process ended, or `None` while it runs.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits for the process to end; panics with its stderr after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not exit within {timeout:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the loopback `port` answers HTTP ([`wait_for_ping`]); panics with the
    /// process' stderr if it exits first or after `timeout`.
    pub fn wait_for_http(&mut self, port: u16, timeout: Duration) {
        if let Err(e) = wait_for_ping(port, timeout, || self.try_wait()) {
            panic!("{e}; stderr:\n{}", self.stderr());
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        if std::thread::panicking() {
            eprintln!(
                "--- stderr of process {} ---\n{}",
                self.child.id(),
                self.stderr()
            );
        }
    }
}

/// A plain HTTP/1.1 GET of `http://HOST:PORT/PATH`: the status code and the body. Enough
/// to probe a service without an HTTP client crate (no TLS, no chunked decoding).
pub fn http_get(url: &str) -> std::io::Result<(u16, String)> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("not an http:// URL"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(STARTUP))?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("not an HTTP response"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// Why [`wait_for_ping`] got no answer.
#[derive(Debug)]
pub enum NotAnswered {
    Exited(ExitStatus),
    TimedOut(Duration),
}

impl std::fmt::Display for NotAnswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(status) => write!(f, "the process exited ({status})"),
            Self::TimedOut(timeout) => write!(f, "nothing answered HTTP within {timeout:?}"),
        }
    }
}

/// Polls `GET /ping` on the loopback `port` until it is answered (any status) and returns
/// the answer; gives up when `exited` reports the serving process' exit status, or after
/// `timeout`. An answer, not a connection: until the process listens, the port may be
/// another test's [`free_port`] listener for a moment, which accepts the connection (seen
/// in CI: a test went on and signalled a server that had not yet started).
pub fn wait_for_ping(
    port: u16,
    timeout: Duration,
    mut exited: impl FnMut() -> Option<ExitStatus>,
) -> Result<(u16, String), NotAnswered> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(answer) = http_get(&format!("http://127.0.0.1:{port}/ping")) {
            return Ok(answer);
        }
        if let Some(status) = exited() {
            return Err(NotAnswered::Exited(status));
        }
        if Instant::now() >= deadline {
            return Err(NotAnswered::TimedOut(timeout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A RESP2 reply, kept exactly: an error at any depth is [`Reply::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A nil bulk string or nil array.
    Nil,
    Status(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
    Error(String),
}

/// A blocking RESP2 connection.
#[derive(Debug)]
pub struct Resp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Resp {
    /// Connects to `127.0.0.1:port`; replies may take up to 30 s.
    pub fn connect(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Resp {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends one command without reading its reply (to pipeline).
    pub fn send(&mut self, command: &[Vec<u8>]) {
        let mut out = format!("*{}\r\n", command.len()).into_bytes();
        for arg in command {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out).unwrap();
    }

    fn line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
        assert!(line.ends_with(b"\r\n"), "bad RESP line {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// Reads one reply.
    pub fn read(&mut self) -> Reply {
        let line = self.line();
        let text = String::from_utf8_lossy(&line[1..]).into_owned();
        match line[0] {
            b'+' => Reply::Status(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(text.parse().unwrap()),
            b'$' => match usize::try_from(text.parse::<i64>().unwrap()) {
                Err(_) => Reply::Nil,
                Ok(n) => {
                    let mut buf = vec![0; n + 2];
                    self.reader.read_exact(&mut buf).unwrap();
                    buf.truncate(n);
                    Reply::Bulk(buf)
                }
            },
            b'*' => match usize::try_from(text.parse::<i64>().unwrap()) {
                Err(_) => Reply::Nil,
                Ok(n) => Reply::Array((0..n).map(|_| self.read()).collect()),
            },
            other => panic!("unexpected RESP type {other}"),
        }
    }

    /// Sends one command and reads its reply.
    pub fn call(&mut self, command: &[Vec<u8>]) -> Reply {
        self.send(command);
        self.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_answers_keeps_replies_exact_and_is_gone_after_drop() {
        let server = RedisServer::start();
        let port = server.port();
        assert_eq!(server.url(), format!("redis://127.0.0.1:{port}"));
        let mut redis = server.client();
        assert_eq!(
            redis.call(&cmd(&["SET", "k", "v"])),
            Reply::Status("OK".into())
        );
        assert_eq!(redis.call(&cmd(&["GET", "k"])), Reply::Bulk(b"v".to_vec()));
        assert_eq!(redis.call(&cmd(&["GET", "missing"])), Reply::Nil);
        assert_eq!(redis.call(&cmd(&["INCR", "n"])), Reply::Int(1));
        assert!(
            matches!(redis.call(&cmd(&["INCR", "k"])), Reply::Error(e) if e.starts_with("ERR"))
        );
        assert_eq!(
            redis.call(&cmd(&["EVAL", "return {1, redis.pcall('INCR', 'k')}", "0"])),
            Reply::Array(vec![
                Reply::Int(1),
                Reply::Error("ERR value is not an integer or out of range".into())
            ])
        );
        assert!(server.log().contains("Ready to accept connections"));
        drop(redis);
        drop(server);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn extra_arguments_apply_and_a_restart_keeps_the_port_but_not_the_data() {
        let mut server = RedisServer::start_with(&["--requirepass", "secret"]);
        let mut redis = server.client();
        assert!(
            matches!(redis.call(&cmd(&["GET", "k"])), Reply::Error(e) if e.starts_with("NOAUTH"))
        );
        assert_eq!(
            redis.call(&cmd(&["AUTH", "secret"])),
            Reply::Status("OK".into())
        );
        redis.call(&cmd(&["SET", "k", "v"]));
        let port = server.port();
        server.stop();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
        server.restart();
        assert_eq!(server.port(), port);
        let mut redis = server.client();
        redis.call(&cmd(&["AUTH", "secret"]));
        assert_eq!(redis.call(&cmd(&["EXISTS", "k"])), Reply::Int(0));
    }

    #[test]
    fn a_spawned_process_is_waited_for_and_its_stderr_kept() {
        let port = free_port();
        let listener_script =
            format!("echo starting >&2; exec python3 -m http.server {port} --bind 127.0.0.1");
        let mut child = Spawned::spawn(
            Command::new("sh")
                .args(["-c", &listener_script])
                .stdout(Stdio::null()),
        );
        child.wait_for_http(port, STARTUP);
        let (status, _) = http_get(&format!("http://127.0.0.1:{port}/")).unwrap();
        assert_eq!(status, 200);
        let (status, _) = http_get(&format!("http://127.0.0.1:{port}/missing")).unwrap();
        assert_eq!(status, 404);
        assert!(child.stderr().starts_with("starting\n"));
        child.signal("TERM");
        assert!(!child.wait(STARTUP).success());
    }

    #[test]
    #[should_panic(expected = "the process exited")]
    fn waiting_for_a_process_that_exited_fails_at_once() {
        let mut child = Spawned::spawn(Command::new("sh").args(["-c", "echo bye >&2"]));
        child.wait_for_http(free_port(), Duration::from_secs(60));
    }
}
