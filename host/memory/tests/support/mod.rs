//! Test support: a real `redis-server` on a free loopback port (killed on drop), a small
//! RESP2 client that keeps every reply exactly (status vs bulk, error texts, errors nested
//! in arrays), and a pair "store + server" that runs each command on both and compares.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(dead_code, reason = "each test binary uses a different subset")]

use redis_sessions_memory::{MemoryStore, ServerError, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` owned by one test, persistence off, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RedisServer {
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("rsm-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (Redis 7 is needed): {e}"));
        let server = RedisServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut c) = Resp::connect(port)
                && c.call(&cmd(&["PING"])).is_ok()
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {port} did not answer PING");
    }

    pub fn client(&self) -> Resp {
        Resp::connect(self.port).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// A blocking RESP2 connection.
pub struct Resp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Resp {
    pub fn connect(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Resp {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

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

    /// One reply; an error at any depth is `Value::Error`.
    pub fn read(&mut self) -> Value {
        let line = self.line();
        let text = String::from_utf8_lossy(&line[1..]).into_owned();
        match line[0] {
            b'+' => Value::Status(text),
            b'-' => Value::Error(text),
            b':' => Value::Int(text.parse().unwrap()),
            b'$' => {
                let n: i64 = text.parse().unwrap();
                if n < 0 {
                    return Value::Nil;
                }
                let mut buf = vec![0; n as usize + 2];
                self.reader.read_exact(&mut buf).unwrap();
                buf.truncate(n as usize);
                Value::Bulk(buf)
            }
            b'*' => {
                let n: i64 = text.parse().unwrap();
                if n < 0 {
                    return Value::Nil;
                }
                Value::Array((0..n).map(|_| self.read()).collect())
            }
            other => panic!("unexpected RESP type {other}"),
        }
    }

    pub fn call(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        self.send(command);
        top(self.read())
    }

    /// MULTI, the commands, EXEC: EXEC's reply as `MemoryStore::transaction` gives it.
    pub fn transaction(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        self.send(&cmd(&["MULTI"]));
        for c in commands {
            self.send(c);
        }
        self.send(&cmd(&["EXEC"]));
        assert_eq!(self.read(), Value::Status("OK".into()));
        for _ in commands {
            self.read(); // QUEUED or the queueing error
        }
        match top(self.read())? {
            Value::Array(items) => Ok(items.into_iter().map(top).collect()),
            other => panic!("EXEC replied {other:?}"),
        }
    }
}

/// A top-level error reply is the command's error.
fn top(v: Value) -> Result<Value, ServerError> {
    match v {
        Value::Error(e) => Err(ServerError(e)),
        other => Ok(other),
    }
}

/// A command from string arguments.
pub fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A command split on spaces (for arguments without spaces).
pub fn c(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

/// Sorts an array reply's elements (for replies in hash-table order).
pub fn sorted(r: Result<Value, ServerError>) -> Result<Value, ServerError> {
    r.map(|v| match v {
        Value::Array(mut items) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Value::Array(items)
        }
        other => other,
    })
}

/// Sorts a flat array of pairs (HGETALL, WITHSCORES) by pair.
pub fn sorted_pairs(r: Result<Value, ServerError>) -> Result<Value, ServerError> {
    r.map(|v| match v {
        Value::Array(items) => {
            let mut pairs: Vec<Vec<Value>> = items.chunks(2).map(<[Value]>::to_vec).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Value::Array(pairs.concat())
        }
        other => other,
    })
}

/// The embedded store and a real Redis, fed the same commands.
pub struct Both {
    pub store: MemoryStore,
    pub redis: Resp,
    pub server: RedisServer,
    pub compared: usize,
}

impl Both {
    pub fn new() -> Self {
        let server = RedisServer::start();
        Both {
            store: MemoryStore::new(),
            redis: server.client(),
            server,
            compared: 0,
        }
    }

    /// Runs `command` on both; their replies must be identical. Returns the reply.
    pub fn check(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let ours = self.store.execute(command);
        let theirs = self.redis.call(command);
        assert_eq!(ours, theirs, "replies differ for {}", show(command));
        self.compared += 1;
        ours
    }

    /// `check` for each line of `lines` split on spaces.
    pub fn lines(&mut self, lines: &str) {
        for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.check(&c(line)).ok();
        }
    }

    /// Like `check`, but an array reply is compared as a multiset.
    pub fn check_unordered(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        let ours = sorted(self.store.execute(command));
        let theirs = sorted(self.redis.call(command));
        assert_eq!(ours, theirs, "replies differ for {}", show(command));
        self.compared += 1;
        ours
    }

    pub fn check_transaction(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        let ours = self.store.transaction(commands);
        let theirs = self.redis.transaction(commands);
        assert_eq!(ours, theirs, "transaction replies differ");
        self.compared += 1;
        ours
    }

    /// Compares every key, its type and its whole content on both sides.
    pub fn check_dump(&mut self) {
        let keys = self.check_unordered(&cmd(&["KEYS", "*"])).unwrap();
        let Value::Array(keys) = keys else { panic!() };
        for key in keys {
            let Value::Bulk(key) = key else { panic!() };
            let k = String::from_utf8(key).unwrap();
            let t = self.check(&cmd(&["TYPE", &k])).unwrap();
            match t {
                Value::Status(t) if t == "string" => self.check(&cmd(&["GET", &k])),
                Value::Status(t) if t == "hash" => {
                    let c = cmd(&["HGETALL", &k]);
                    let ours = sorted_pairs(self.store.execute(&c));
                    assert_eq!(ours, sorted_pairs(self.redis.call(&c)), "HGETALL {k}");
                    ours
                }
                Value::Status(t) if t == "set" => self.check_unordered(&cmd(&["SMEMBERS", &k])),
                Value::Status(t) if t == "zset" => {
                    self.check(&cmd(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]))
                }
                other => panic!("type {other:?}"),
            }
            .unwrap();
        }
    }
}

impl Drop for Both {
    fn drop(&mut self) {
        eprintln!("compared {} replies with redis-server", self.compared);
    }
}

pub fn show(command: &[Vec<u8>]) -> String {
    command
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
